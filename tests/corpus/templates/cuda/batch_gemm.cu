// For every batch b: C[b] = A[b] * B[b], with A[b] MxK, B[b] KxN, C[b] MxN (float, row-major).
// Shared-memory tiled matrix multiply; blockIdx.z selects the batch.

__global__ void batch_gemm(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    __shared__ float As[16][16];
    __shared__ float Bs[16][16];

    int batch = blockIdx.z;
    const float* a = A + batch * ${M} * ${K};
    const float* b = B + batch * ${K} * ${N};
    float* c = C + batch * ${M} * ${N};

    int tx = threadIdx.x;
    int ty = threadIdx.y;
    int row = blockIdx.y * 16 + ty;
    int col = blockIdx.x * 16 + tx;

    float sum = 0.0f;
    for (int t = 0; t < (${K} + 15) / 16; ++t) {
        int a_col = t * 16 + tx;
        int b_row = t * 16 + ty;
        As[ty][tx] = (row < ${M} && a_col < ${K}) ? a[row * ${K} + a_col] : 0.0f;
        Bs[ty][tx] = (b_row < ${K} && col < ${N}) ? b[b_row * ${N} + col] : 0.0f;
        __syncthreads();

        // sum the tile's 16 products first, then add them to the running total:
        // shorter float accumulation chains for long K
        float partial = 0.0f;
#pragma unroll
        for (int k = 0; k < 16; ++k) {
            partial += As[ty][k] * Bs[k][tx];
        }
        sum += partial;
        __syncthreads();
    }

    if (row < ${M} && col < ${N}) {
        c[row * ${N} + col] = sum;
    }
}

extern "C" void batch_gemm_kernel(const float* A, const float* B, float* C)
{
    size_t bytes_a = ${B} * ${M} * ${K} * sizeof(float);
    size_t bytes_b = ${B} * ${K} * ${N} * sizeof(float);
    size_t bytes_c = ${B} * ${M} * ${N} * sizeof(float);

    float* d_A;
    float* d_B;
    float* d_C;
    cudaMalloc((void**)&d_A, bytes_a);
    cudaMalloc((void**)&d_B, bytes_b);
    cudaMalloc((void**)&d_C, bytes_c);

    cudaMemcpy(d_A, A, bytes_a, cudaMemcpyHostToDevice);
    cudaMemcpy(d_B, B, bytes_b, cudaMemcpyHostToDevice);

    dim3 block(16, 16);
    dim3 grid((${N} + 15) / 16, (${M} + 15) / 16, ${B});
    batch_gemm<<<grid, block>>>(d_A, d_B, d_C);

    cudaMemcpy(C, d_C, bytes_c, cudaMemcpyDeviceToHost);

    cudaFree(d_A);
    cudaFree(d_B);
    cudaFree(d_C);
}
