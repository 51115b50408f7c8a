// 2-D convolution, NHWC input, OHWI weight, NHWC output, stride S, no padding:
// output[n][oh][ow][f] = sum_{kh,kw,c} input[n][oh*S+kh][ow*S+kw][c] * weight[f][kh][kw][c].
// One thread per output element; consecutive threads take consecutive filters f.

__global__ void conv2d_nhwc(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= 1 * 6 * 6 * 64) {
        return;
    }
    int f = idx % 64;
    int ow = (idx / 64) % 6;
    int oh = (idx / (64 * 6)) % 6;
    int n = idx / (64 * 6 * 6);

    float sum = 0.0f;
    for (int kh = 0; kh < 3; ++kh) {
        int ih = oh * 1 + kh;
        for (int kw = 0; kw < 3; ++kw) {
            int iw = ow * 1 + kw;
            const float* in = input + ((n * 8 + ih) * 8 + iw) * 64;
            const float* w = weight + ((f * 3 + kh) * 3 + kw) * 64;
            float partial = 0.0f;   // this kernel tap, over all input channels
            for (int c = 0; c < 64; ++c) {
                partial += in[c] * w[c];
            }
            sum += partial;
        }
    }
    output[idx] = sum;
}

extern "C" void conv2d_nhwc_kernel(const float* input, const float* weight, float* output)
{
    size_t bytes_in = 1 * 8 * 8 * 64 * sizeof(float);
    size_t bytes_w = 64 * 3 * 3 * 64 * sizeof(float);
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
    conv2d_nhwc<<<blocks, threads>>>(d_input, d_weight, d_output);

    cudaMemcpy(output, d_output, bytes_out, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_weight);
    cudaFree(d_output);
}
