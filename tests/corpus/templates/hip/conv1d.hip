// 1-D convolution, stride 1, no padding:
// output[co][l] = sum_ci sum_k input[ci][l + k] * weight[co][ci][k],  l < OL = L - K + 1.
// One thread per output element.

__global__ void conv1d(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= ${CO} * ${OL}) {
        return;
    }
    int co = idx / ${OL};
    int l = idx % ${OL};

    float sum = 0.0f;
    for (int ci = 0; ci < ${CI}; ++ci) {
        const float* in = input + ci * ${L} + l;
        const float* w = weight + (co * ${CI} + ci) * ${K};
        for (int k = 0; k < ${K}; ++k) {
            sum += in[k] * w[k];
        }
    }
    output[idx] = sum;
}

extern "C" void conv1d_kernel(const float* input, const float* weight, float* output)
{
    size_t bytes_in = ${CI} * ${L} * sizeof(float);
    size_t bytes_w = ${CO} * ${CI} * ${K} * sizeof(float);
    size_t bytes_out = ${CO} * ${OL} * sizeof(float);

    float* d_input;
    float* d_weight;
    float* d_output;
    hipMalloc((void**)&d_input, bytes_in);
    hipMalloc((void**)&d_weight, bytes_w);
    hipMalloc((void**)&d_output, bytes_out);

    hipMemcpy(d_input, input, bytes_in, hipMemcpyHostToDevice);
    hipMemcpy(d_weight, weight, bytes_w, hipMemcpyHostToDevice);

    int threads = 256;
    int blocks = (${CO} * ${OL} + threads - 1) / threads;
    conv1d<<<blocks, threads>>>(d_input, d_weight, d_output);

    hipMemcpy(output, d_output, bytes_out, hipMemcpyDeviceToHost);

    hipFree(d_input);
    hipFree(d_weight);
    hipFree(d_output);
}
