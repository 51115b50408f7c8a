// For every batch b: C[b] = A[b] * B[b] with uint8 A, int8 B and exact int32 accumulation.
// Shared-memory tiled matrix multiply; blockIdx.z selects the batch.

__global__ void batch_gemm_u8s8(const uint8_t* __restrict__ A, const int8_t* __restrict__ B, int32_t* __restrict__ C)
{
    __shared__ int32_t As[16][16];
    __shared__ int32_t Bs[16][16];

    int batch = blockIdx.z;
    const uint8_t* a = A + batch * 32 * 64;
    const int8_t* b = B + batch * 64 * 32;
    int32_t* c = C + batch * 32 * 32;

    int tx = threadIdx.x;
    int ty = threadIdx.y;
    int row = blockIdx.y * 16 + ty;
    int col = blockIdx.x * 16 + tx;

    int32_t acc = 0;
    for (int t = 0; t < (64 + 15) / 16; ++t) {
        int a_col = t * 16 + tx;
        int b_row = t * 16 + ty;
        As[ty][tx] = (row < 32 && a_col < 64) ? (int32_t)a[row * 64 + a_col] : 0;
        Bs[ty][tx] = (b_row < 64 && col < 32) ? (int32_t)b[b_row * 32 + col] : 0;
        __syncthreads();

#pragma unroll
        for (int k = 0; k < 16; ++k) {
            acc += As[ty][k] * Bs[k][tx];
        }
        __syncthreads();
    }

    if (row < 32 && col < 32) {
        c[row * 32 + col] = acc;
    }
}

extern "C" void batch_gemm_u8s8_kernel(const uint8_t* A, const int8_t* B, int32_t* C)
{
    size_t bytes_a = 4 * 32 * 64 * sizeof(uint8_t);
    size_t bytes_b = 4 * 64 * 32 * sizeof(int8_t);
    size_t bytes_c = 4 * 32 * 32 * sizeof(int32_t);

    uint8_t* d_A;
    int8_t* d_B;
    int32_t* d_C;
    cudaMalloc((void**)&d_A, bytes_a);
    cudaMalloc((void**)&d_B, bytes_b);
    cudaMalloc((void**)&d_C, bytes_c);

    cudaMemcpy(d_A, A, bytes_a, cudaMemcpyHostToDevice);
    cudaMemcpy(d_B, B, bytes_b, cudaMemcpyHostToDevice);

    dim3 block(16, 16);
    dim3 grid((32 + 15) / 16, (32 + 15) / 16, 4);
    batch_gemm_u8s8<<<grid, block>>>(d_A, d_B, d_C);

    cudaMemcpy(C, d_C, bytes_c, cudaMemcpyDeviceToHost);

    cudaFree(d_A);
    cudaFree(d_B);
    cudaFree(d_C);
}
