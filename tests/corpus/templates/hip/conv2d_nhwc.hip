// 2-D convolution, NHWC input, OHWI weight, NHWC output, stride S, no padding:
// output[n][oh][ow][f] = sum_{kh,kw,c} input[n][oh*S+kh][ow*S+kw][c] * weight[f][kh][kw][c].
// One thread per output element; consecutive threads take consecutive filters f.

__global__ void conv2d_nhwc(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= ${N} * ${OH} * ${OW} * ${F}) {
        return;
    }
    int f = idx % ${F};
    int ow = (idx / ${F}) % ${OW};
    int oh = (idx / (${F} * ${OW})) % ${OH};
    int n = idx / (${F} * ${OW} * ${OH});

    float sum = 0.0f;
    for (int kh = 0; kh < ${K}; ++kh) {
        int ih = oh * ${S} + kh;
        for (int kw = 0; kw < ${K}; ++kw) {
            int iw = ow * ${S} + kw;
            const float* in = input + ((n * ${H} + ih) * ${W} + iw) * ${C};
            const float* w = weight + ((f * ${K} + kh) * ${K} + kw) * ${C};
            float partial = 0.0f;   // this kernel tap, over all input channels
            for (int c = 0; c < ${C}; ++c) {
                partial += in[c] * w[c];
            }
            sum += partial;
        }
    }
    output[idx] = sum;
}

extern "C" void conv2d_nhwc_kernel(const float* input, const float* weight, float* output)
{
    size_t bytes_in = ${N} * ${H} * ${W} * ${C} * sizeof(float);
    size_t bytes_w = ${F} * ${K} * ${K} * ${C} * sizeof(float);
    size_t bytes_out = ${N} * ${OH} * ${OW} * ${F} * sizeof(float);

    float* d_input;
    float* d_weight;
    float* d_output;
    hipMalloc((void**)&d_input, bytes_in);
    hipMalloc((void**)&d_weight, bytes_w);
    hipMalloc((void**)&d_output, bytes_out);

    hipMemcpy(d_input, input, bytes_in, hipMemcpyHostToDevice);
    hipMemcpy(d_weight, weight, bytes_w, hipMemcpyHostToDevice);

    int threads = 256;
    int blocks = (${N} * ${OH} * ${OW} * ${F} + threads - 1) / threads;
    conv2d_nhwc<<<blocks, threads>>>(d_input, d_weight, d_output);

    hipMemcpy(output, d_output, bytes_out, hipMemcpyDeviceToHost);

    hipFree(d_input);
    hipFree(d_weight);
    hipFree(d_output);
}
