// output = max(input, 0), elementwise over R x C floats. One thread per element.

__global__ void relu(const float* __restrict__ input, float* __restrict__ output)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < ${R} * ${C}) {
        output[i] = fmaxf(input[i], 0.0f);
    }
}

extern "C" void relu_kernel(const float* input, float* output)
{
    size_t bytes = ${R} * ${C} * sizeof(float);

    float* d_input;
    float* d_output;
    hipMalloc((void**)&d_input, bytes);
    hipMalloc((void**)&d_output, bytes);

    hipMemcpy(d_input, input, bytes, hipMemcpyHostToDevice);

    int threads = 256;
    int blocks = (${R} * ${C} + threads - 1) / threads;
    relu<<<blocks, threads>>>(d_input, d_output);

    hipMemcpy(output, d_output, bytes, hipMemcpyDeviceToHost);

    hipFree(d_input);
    hipFree(d_output);
}
