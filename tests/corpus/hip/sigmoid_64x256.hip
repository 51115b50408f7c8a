// output = 1 / (1 + exp(-x)), elementwise over R x C floats. One thread per element.

__device__ __forceinline__ float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

__global__ void sigmoid(const float* __restrict__ input, float* __restrict__ output)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < 64 * 256) {
        output[i] = sigmoidf(input[i]);
    }
}

extern "C" void sigmoid_kernel(const float* input, float* output)
{
    size_t bytes = 64 * 256 * sizeof(float);

    float* d_input;
    float* d_output;
    hipMalloc((void**)&d_input, bytes);
    hipMalloc((void**)&d_output, bytes);

    hipMemcpy(d_input, input, bytes, hipMemcpyHostToDevice);

    int threads = 256;
    int blocks = (64 * 256 + threads - 1) / threads;
    sigmoid<<<blocks, threads>>>(d_input, d_output);

    hipMemcpy(output, d_output, bytes, hipMemcpyDeviceToHost);

    hipFree(d_input);
    hipFree(d_output);
}
