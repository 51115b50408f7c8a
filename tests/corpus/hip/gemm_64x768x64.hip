// C[M][N] = A[M][K] * B[K][N], float, row-major.
// Shared-memory tiled matrix multiply: each 16x16 thread block computes one
// 16x16 tile of C, staging 16x16 tiles of A and B through shared memory.

__global__ void gemm(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    __shared__ float As[16][16];
    __shared__ float Bs[16][16];

    int tx = threadIdx.x;
    int ty = threadIdx.y;
    int row = blockIdx.y * 16 + ty;
    int col = blockIdx.x * 16 + tx;

    float sum = 0.0f;
    for (int t = 0; t < (768 + 15) / 16; ++t) {
        int a_col = t * 16 + tx;
        int b_row = t * 16 + ty;
        As[ty][tx] = (row < 64 && a_col < 768) ? A[row * 768 + a_col] : 0.0f;
        Bs[ty][tx] = (b_row < 768 && col < 64) ? B[b_row * 64 + col] : 0.0f;
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

    if (row < 64 && col < 64) {
        C[row * 64 + col] = sum;
    }
}

extern "C" void gemm_kernel(const float* A, const float* B, float* C)
{
    size_t bytes_a = 64 * 768 * sizeof(float);
    size_t bytes_b = 768 * 64 * sizeof(float);
    size_t bytes_c = 64 * 64 * sizeof(float);

    float* d_A;
    float* d_B;
    float* d_C;
    hipMalloc((void**)&d_A, bytes_a);
    hipMalloc((void**)&d_B, bytes_b);
    hipMalloc((void**)&d_C, bytes_c);

    hipMemcpy(d_A, A, bytes_a, hipMemcpyHostToDevice);
    hipMemcpy(d_B, B, bytes_b, hipMemcpyHostToDevice);

    dim3 block(16, 16);
    dim3 grid((64 + 15) / 16, (64 + 15) / 16);
    gemm<<<grid, block>>>(d_A, d_B, d_C);

    hipMemcpy(C, d_C, bytes_c, hipMemcpyDeviceToHost);

    hipFree(d_A);
    hipFree(d_B);
    hipFree(d_C);
}
