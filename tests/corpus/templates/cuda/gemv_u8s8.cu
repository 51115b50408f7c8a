// y[M] = A[M][K] * x[K] with int8 A, uint8 x and exact int32 accumulation.
// One warp per row, lanes stride over the row, warp-shuffle reduction.

__global__ void gemv_u8s8(const int8_t* __restrict__ A, const uint8_t* __restrict__ x, int32_t* __restrict__ y)
{
    int lane = threadIdx.x % 32;
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (row >= ${M}) {
        return;   // the whole warp leaves together
    }

    const int8_t* a = A + row * ${K};
    int32_t acc = 0;
    for (int k = lane; k < ${K}; k += 32) {
        acc += (int32_t)a[k] * (int32_t)x[k];
    }

    for (int offset = 16; offset > 0; offset /= 2) {
        acc += __shfl_down_sync(0xffffffff, acc, offset);
    }

    if (lane == 0) {
        y[row] = acc;
    }
}

extern "C" void gemv_u8s8_kernel(const int8_t* A, const uint8_t* x, int32_t* y)
{
    size_t bytes_a = ${M} * ${K} * sizeof(int8_t);
    size_t bytes_x = ${K} * sizeof(uint8_t);
    size_t bytes_y = ${M} * sizeof(int32_t);

    int8_t* d_A;
    uint8_t* d_x;
    int32_t* d_y;
    cudaMalloc((void**)&d_A, bytes_a);
    cudaMalloc((void**)&d_x, bytes_x);
    cudaMalloc((void**)&d_y, bytes_y);

    cudaMemcpy(d_A, A, bytes_a, cudaMemcpyHostToDevice);
    cudaMemcpy(d_x, x, bytes_x, cudaMemcpyHostToDevice);

    int threads = 128;                  // 4 warps, one row each
    int rows_per_block = threads / 32;
    int blocks = (${M} + rows_per_block - 1) / rows_per_block;
    gemv_u8s8<<<blocks, threads>>>(d_A, d_x, d_y);

    cudaMemcpy(y, d_y, bytes_y, cudaMemcpyDeviceToHost);

    cudaFree(d_A);
    cudaFree(d_x);
    cudaFree(d_y);
}
