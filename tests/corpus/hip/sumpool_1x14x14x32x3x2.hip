// sumpool: NHWC input, NHWC output, K x K window, stride S, no padding;
// output[n][oh][ow][c] = sum over the K x K window at (oh*S, ow*S).
// One thread per output element; consecutive threads take consecutive channels.

__global__ void sumpool(const float* __restrict__ input, float* __restrict__ output)
{
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= 1 * 6 * 6 * 32) {
        return;
    }
    int c = idx % 32;
    int ow = (idx / 32) % 6;
    int oh = (idx / (32 * 6)) % 6;
    int n = idx / (32 * 6 * 6);

    int base = ((n * 14 + oh * 2) * 14 + ow * 2) * 32 + c;
    float sum = 0.0f;
    for (int kh = 0; kh < 3; ++kh) {
        for (int kw = 0; kw < 3; ++kw) {
            float v = input[base + (kh * 14 + kw) * 32];
            sum += v;
        }
    }
    output[idx] = sum;
}

extern "C" void sumpool_kernel(const float* input, float* output)
{
    size_t bytes_in = 1 * 14 * 14 * 32 * sizeof(float);
    size_t bytes_out = 1 * 6 * 6 * 32 * sizeof(float);

    float* d_input;
    float* d_output;
    hipMalloc((void**)&d_input, bytes_in);
    hipMalloc((void**)&d_output, bytes_out);

    hipMemcpy(d_input, input, bytes_in, hipMemcpyHostToDevice);

    int threads = 256;
    int blocks = (1 * 6 * 6 * 32 + threads - 1) / threads;
    sumpool<<<blocks, threads>>>(d_input, d_output);

    hipMemcpy(output, d_output, bytes_out, hipMemcpyDeviceToHost);

    hipFree(d_input);
    hipFree(d_output);
}
