// 2-D convolution, NHWC input, OHWI weight, NHWC output, stride S, no padding:
// output[n][oh][ow][f] = sum_{kh,kw,c} input[n][oh*S+kh][ow*S+kw][c] * weight[f][kh][kw][c].
// One thread per output element; consecutive threads take consecutive filters f.

__global__ void conv2d_nhwc(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= 1 * 7 * 7 * 32) {
        return;
    }
    int f = idx % 32;
    int ow = (idx / 32) % 7;
    int oh = (idx / (32 * 7)) % 7;
    int n = idx / (32 * 7 * 7);

    float sum = 0.0f;
    for (int kh = 0; kh < 3; ++kh) {
        int ih = oh * 2 + kh;
        for (int kw = 0; kw < 3; ++kw) {
            int iw = ow * 2 + kw;
            const float* in = input + ((n * 16 + ih) * 16 + iw) * 32;
            const float* w = weight + ((f * 3 + kh) * 3 + kw) * 32;
            float partial = 0.0f;   // this kernel tap, over all input channels
            for (int c = 0; c < 32; ++c) {
                partial += in[c] * w[c];
            }
            sum += partial;
        }
    }
    output[idx] = sum;
}

extern "C" void conv2d_nhwc_kernel(const float* input, const float* weight, float* output)
{
    size_t bytes_in = 1 * 16 * 16 * 32 * sizeof(float);
    size_t bytes_w = 32 * 3 * 3 * 32 * sizeof(float);
    size_t bytes_out = 1 * 7 * 7 * 32 * sizeof(float);

    float* d_input;
    float* d_weight;
    float* d_output;
    hipMalloc((void**)&d_input, bytes_in);
    hipMalloc((void**)&d_weight, bytes_w);
    hipMalloc((void**)&d_output, bytes_out);

    hipMemcpy(d_input, input, bytes_in, hipMemcpyHostToDevice);
    hipMemcpy(d_weight, weight, bytes_w, hipMemcpyHostToDevice);

    int threads = 256;
    int blocks = (1 * 7 * 7 * 32 + threads - 1) / threads;
    conv2d_nhwc<<<blocks, threads>>>(d_input, d_weight, d_output);

    hipMemcpy(output, d_output, bytes_out, hipMemcpyDeviceToHost);

    hipFree(d_input);
    hipFree(d_weight);
    hipFree(d_output);
}
