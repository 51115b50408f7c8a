// y[M] = A[M][K] * x[K], float.
// One warp per row: the 32 lanes stride over the row, then combine their
// partial sums with warp shuffles. A 256-thread block handles 8 rows.

__global__ void gemv(const float* __restrict__ A, const float* __restrict__ x, float* __restrict__ y)
{
    int lane = threadIdx.x % 32;
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (row >= 1024) {
        return;   // the whole warp leaves together
    }

    const float* a = A + row * 256;
    float sum = 0.0f;
    for (int k = lane; k < 256; k += 32) {
        sum += a[k] * x[k];
    }

    for (int offset = 16; offset > 0; offset /= 2) {
        sum += __shfl_down_sync(0xffffffff, sum, offset);
    }

    if (lane == 0) {
        y[row] = sum;
    }
}

extern "C" void gemv_kernel(const float* A, const float* x, float* y)
{
    size_t bytes_a = 1024 * 256 * sizeof(float);
    size_t bytes_x = 256 * sizeof(float);
    size_t bytes_y = 1024 * sizeof(float);

    float* d_A;
    float* d_x;
    float* d_y;
    cudaMalloc((void**)&d_A, bytes_a);
    cudaMalloc((void**)&d_x, bytes_x);
    cudaMalloc((void**)&d_y, bytes_y);

    cudaMemcpy(d_A, A, bytes_a, cudaMemcpyHostToDevice);
    cudaMemcpy(d_x, x, bytes_x, cudaMemcpyHostToDevice);

    int threads = 256;                  // 8 warps, one row each
    int rows_per_block = threads / 32;
    int blocks = (1024 + rows_per_block - 1) / rows_per_block;
    gemv<<<blocks, threads>>>(d_A, d_x, d_y);

    cudaMemcpy(y, d_y, bytes_y, cudaMemcpyDeviceToHost);

    cudaFree(d_A);
    cudaFree(d_x);
    cudaFree(d_y);
}
