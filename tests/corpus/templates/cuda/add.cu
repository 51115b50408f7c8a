// C = A + B, elementwise over R x C floats.
// 2-D launch: blockIdx.y is the row, the x dimension covers the columns.

__global__ void add(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    int row = blockIdx.y;
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col < ${C}) {
        int i = row * ${C} + col;
        C[i] = A[i] + B[i];
    }
}

extern "C" void add_kernel(const float* A, const float* B, float* C)
{
    size_t bytes = ${R} * ${C} * sizeof(float);

    float* d_A;
    float* d_B;
    float* d_C;
    cudaMalloc((void**)&d_A, bytes);
    cudaMalloc((void**)&d_B, bytes);
    cudaMalloc((void**)&d_C, bytes);

    cudaMemcpy(d_A, A, bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(d_B, B, bytes, cudaMemcpyHostToDevice);

    dim3 block(256);
    dim3 grid((${C} + 255) / 256, ${R});
    add<<<grid, block>>>(d_A, d_B, d_C);

    cudaMemcpy(C, d_C, bytes, cudaMemcpyDeviceToHost);

    cudaFree(d_A);
    cudaFree(d_B);
    cudaFree(d_C);
}
