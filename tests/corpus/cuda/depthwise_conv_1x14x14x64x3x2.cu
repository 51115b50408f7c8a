// Depthwise 2-D convolution, NHWC input, weight[K][K][C], NHWC output, stride S, no padding:
// output[n][oh][ow][c] = sum_{kh,kw} input[n][oh*S+kh][ow*S+kw][c] * weight[kh][kw][c].
// One thread per output element; consecutive threads take consecutive channels.

__global__ void depthwise_conv(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= 1 * 6 * 6 * 64) {
        return;
    }
    int c = idx % 64;
    int ow = (idx / 64) % 6;
    int oh = (idx / (64 * 6)) % 6;
    int n = idx / (64 * 6 * 6);

    float sum = 0.0f;
    for (int kh = 0; kh < 3; ++kh) {
        int ih = oh * 2 + kh;
        for (int kw = 0; kw < 3; ++kw) {
            int iw = ow * 2 + kw;
            sum += input[((n * 14 + ih) * 14 + iw) * 64 + c] * weight[(kh * 3 + kw) * 64 + c];
        }
    }
    output[idx] = sum;
}

extern "C" void depthwise_conv_kernel(const float* input, const float* weight, float* output)
{
    size_t bytes_in = 1 * 14 * 14 * 64 * sizeof(float);
    size_t bytes_w = 3 * 3 * 64 * sizeof(float);
    size_t bytes_out = 1 * 6 * 6 * 64 * sizeof(float);

    float* d_input;
    float* d_weight;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes_in);
    cudaMalloc((void**)&d_weight, bytes_w);
    cudaMalloc((void**)&d_output, bytes_out);

    cudaMemcpy(d_input, input, bytes_in, cudaMemcpyHostToDevice);
    cudaMemcpy(d_weight, weight, bytes_w, cudaMemcpyHostToDevice);

    int threads = 256;
    int blocks = (1 * 6 * 6 * 64 + threads - 1) / threads;
    depthwise_conv<<<blocks, threads>>>(d_input, d_weight, d_output);

    cudaMemcpy(output, d_output, bytes_out, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_weight);
    cudaFree(d_output);
}
