// output = 1 if x > 0, -1 if x < 0, 0 if x == 0; elementwise over R x C floats.
// One thread per element.

__global__ void sign(const float* __restrict__ input, float* __restrict__ output)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < 32 * 1024) {
        float x = input[i];
        float s = 0.0f;
        if (x > 0.0f) {
            s = 1.0f;
        } else if (x < 0.0f) {
            s = -1.0f;
        }
        output[i] = s;
    }
}

extern "C" void sign_kernel(const float* input, float* output)
{
    size_t bytes = 32 * 1024 * sizeof(float);

    float* d_input;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes);
    cudaMalloc((void**)&d_output, bytes);

    cudaMemcpy(d_input, input, bytes, cudaMemcpyHostToDevice);

    int threads = 256;
    int blocks = (32 * 1024 + threads - 1) / threads;
    sign<<<blocks, threads>>>(d_input, d_output);

    cudaMemcpy(output, d_output, bytes, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_output);
}
