// y[M] = A[M][K] * x[K], float.
// One 64-lane wavefront per row: the lanes stride over the row, then combine their
// partial sums with wavefront shuffles. A 256-thread block handles 4 rows.

__global__ void gemv(const float* __restrict__ A, const float* __restrict__ x, float* __restrict__ y)
{
    int lane = threadIdx.x % 64;
    int row = blockIdx.x * (blockDim.x / 64) + threadIdx.x / 64;
    if (row >= 1024) {
        return;   // the whole wavefront leaves together
    }

    const float* a = A + row * 256;
    float sum = 0.0f;
    for (int k = lane; k < 256; k += 64) {
        sum += a[k] * x[k];
    }

    for (int offset = 32; offset > 0; offset /= 2) {
        sum += __shfl_down(sum, offset, 64);
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
    hipMalloc((void**)&d_A, bytes_a);
    hipMalloc((void**)&d_x, bytes_x);
    hipMalloc((void**)&d_y, bytes_y);

    hipMemcpy(d_A, A, bytes_a, hipMemcpyHostToDevice);
    hipMemcpy(d_x, x, bytes_x, hipMemcpyHostToDevice);

    int threads = 256;                  // 4 wavefronts, one row each
    int rows_per_block = threads / 64;
    int blocks = (1024 + rows_per_block - 1) / rows_per_block;
    gemv<<<blocks, threads>>>(d_A, d_x, d_y);

    hipMemcpy(y, d_y, bytes_y, hipMemcpyDeviceToHost);

    hipFree(d_A);
    hipFree(d_x);
    hipFree(d_y);
}
