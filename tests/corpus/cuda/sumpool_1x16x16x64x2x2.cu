// sumpool: NHWC input, NHWC output, K x K window, stride S, no padding;
// output[n][oh][ow][c] = sum over the K x K window at (oh*S, ow*S).
// One thread per output element; consecutive threads take consecutive channels.

__global__ void sumpool(const float* __restrict__ input, float* __restrict__ output)
{
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= 1 * 8 * 8 * 64) {
        return;
    }
    int c = idx % 64;
    int ow = (idx / 64) % 8;
    int oh = (idx / (64 * 8)) % 8;
    int n = idx / (64 * 8 * 8);

    int base = ((n * 16 + oh * 2) * 16 + ow * 2) * 64 + c;
    float sum = 0.0f;
    for (int kh = 0; kh < 2; ++kh) {
        for (int kw = 0; kw < 2; ++kw) {
            float v = input[base + (kh * 16 + kw) * 64];
            sum += v;
        }
    }
    output[idx] = sum;
}

extern "C" void sumpool_kernel(const float* input, float* output)
{
    size_t bytes_in = 1 * 16 * 16 * 64 * sizeof(float);
    size_t bytes_out = 1 * 8 * 8 * 64 * sizeof(float);

    float* d_input;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes_in);
    cudaMalloc((void**)&d_output, bytes_out);

    cudaMemcpy(d_input, input, bytes_in, cudaMemcpyHostToDevice);

    int threads = 256;
    int blocks = (1 * 8 * 8 * 64 + threads - 1) / threads;
    sumpool<<<blocks, threads>>>(d_input, d_output);

    cudaMemcpy(output, d_output, bytes_out, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_output);
}
