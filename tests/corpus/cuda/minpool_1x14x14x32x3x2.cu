// minpool: NHWC input, NHWC output, K x K window, stride S, no padding;
// output[n][oh][ow][c] = min over the K x K window at (oh*S, ow*S).
// One thread per output element; consecutive threads take consecutive channels.

__global__ void minpool(const float* __restrict__ input, float* __restrict__ output)
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
    // start from the window's first element
    float result = input[base];
    for (int kh = 0; kh < 3; ++kh) {
        for (int kw = 0; kw < 3; ++kw) {
            float v = input[base + (kh * 14 + kw) * 32];
            result = fminf(result, v);
        }
    }
    output[idx] = result;
}

extern "C" void minpool_kernel(const float* input, float* output)
{
    size_t bytes_in = 1 * 14 * 14 * 32 * sizeof(float);
    size_t bytes_out = 1 * 6 * 6 * 32 * sizeof(float);

    float* d_input;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes_in);
    cudaMalloc((void**)&d_output, bytes_out);

    cudaMemcpy(d_input, input, bytes_in, cudaMemcpyHostToDevice);

    int threads = 256;
    int blocks = (1 * 6 * 6 * 32 + threads - 1) / threads;
    minpool<<<blocks, threads>>>(d_input, d_output);

    cudaMemcpy(output, d_output, bytes_out, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_output);
}
