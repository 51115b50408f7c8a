// output = 0.5 * x * (1 + erf(x / sqrt(2))), the exact GELU, elementwise over R x C floats.
// Grid-stride loop: a fixed-size grid walks over the whole buffer.

__global__ void gelu(const float* __restrict__ input, float* __restrict__ output)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < ${R} * ${C}; i += blockDim.x * gridDim.x) {
        float x = input[i];
        output[i] = 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    }
}

extern "C" void gelu_kernel(const float* input, float* output)
{
    size_t bytes = ${R} * ${C} * sizeof(float);

    float* d_input;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes);
    cudaMalloc((void**)&d_output, bytes);

    cudaMemcpy(d_input, input, bytes, cudaMemcpyHostToDevice);

    int threads = 256;
    int blocks = 64;
    gelu<<<blocks, threads>>>(d_input, d_output);

    cudaMemcpy(output, d_output, bytes, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_output);
}
