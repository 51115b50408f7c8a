// C = A + B, elementwise over R x C floats.
// 2-D launch: blockIdx.y is the row, the x dimension covers the columns.

__global__ void add(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    int row = blockIdx.y;
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col < 512) {
        int i = row * 512 + col;
        C[i] = A[i] + B[i];
    }
}

extern "C" void add_kernel(const float* A, const float* B, float* C)
{
    size_t bytes = 128 * 512 * sizeof(float);

    float* d_A;
    float* d_B;
    float* d_C;
    hipMalloc((void**)&d_A, bytes);
    hipMalloc((void**)&d_B, bytes);
    hipMalloc((void**)&d_C, bytes);

    hipMemcpy(d_A, A, bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_B, B, bytes, hipMemcpyHostToDevice);

    dim3 block(256);
    dim3 grid((512 + 255) / 256, 128);
    add<<<grid, block>>>(d_A, d_B, d_C);

    hipMemcpy(C, d_C, bytes, hipMemcpyDeviceToHost);

    hipFree(d_A);
    hipFree(d_B);
    hipFree(d_C);
}
