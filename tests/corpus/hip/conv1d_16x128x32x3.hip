// 1-D convolution, stride 1, no padding:
// output[co][l] = sum_ci sum_k input[ci][l + k] * weight[co][ci][k],  l < OL = L - K + 1.
// One thread per output element.

__global__ void conv1d(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= 32 * 126) {
        return;
    }
    int co = idx / 126;
    int l = idx % 126;

    float sum = 0.0f;
    for (int ci = 0; ci < 16; ++ci) {
        const float* in = input + ci * 128 + l;
        const float* w = weight + (co * 16 + ci) * 3;
        for (int k = 0; k < 3; ++k) {
            sum += in[k] * w[k];
        }
    }
    output[idx] = sum;
}

extern "C" void conv1d_kernel(const float* input, const float* weight, float* output)
{
    size_t bytes_in = 16 * 128 * sizeof(float);
    size_t bytes_w = 32 * 16 * 3 * sizeof(float);
    size_t bytes_out = 32 * 126 * sizeof(float);

    float* d_input;
    float* d_weight;
    float* d_output;
    hipMalloc((void**)&d_input, bytes_in);
    hipMalloc((void**)&d_weight, bytes_w);
    hipMalloc((void**)&d_output, bytes_out);

    hipMemcpy(d_input, input, bytes_in, hipMemcpyHostToDevice);
    hipMemcpy(d_weight, weight, bytes_w, hipMemcpyHostToDevice);

    int threads = 256;
    int blocks = (32 * 126 + threads - 1) / threads;
    conv1d<<<blocks, threads>>>(d_input, d_weight, d_output);

    hipMemcpy(output, d_output, bytes_out, hipMemcpyDeviceToHost);

    hipFree(d_input);
    hipFree(d_weight);
    hipFree(d_output);
}
