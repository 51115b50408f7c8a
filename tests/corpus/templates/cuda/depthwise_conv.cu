// Depthwise 2-D convolution, NHWC input, weight[K][K][C], NHWC output, stride S, no padding:
// output[n][oh][ow][c] = sum_{kh,kw} input[n][oh*S+kh][ow*S+kw][c] * weight[kh][kw][c].
// One thread per output element; consecutive threads take consecutive channels.

__global__ void depthwise_conv(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= ${N} * ${OH} * ${OW} * ${C}) {
        return;
    }
    int c = idx % ${C};
    int ow = (idx / ${C}) % ${OW};
    int oh = (idx / (${C} * ${OW})) % ${OH};
    int n = idx / (${C} * ${OW} * ${OH});

    float sum = 0.0f;
    for (int kh = 0; kh < ${K}; ++kh) {
        int ih = oh * ${S} + kh;
        for (int kw = 0; kw < ${K}; ++kw) {
            int iw = ow * ${S} + kw;
            sum += input[((n * ${H} + ih) * ${W} + iw) * ${C} + c] * weight[(kh * ${K} + kw) * ${C} + c];
        }
    }
    output[idx] = sum;
}

extern "C" void depthwise_conv_kernel(const float* input, const float* weight, float* output)
{
    size_t bytes_in = ${N} * ${H} * ${W} * ${C} * sizeof(float);
    size_t bytes_w = ${K} * ${K} * ${C} * sizeof(float);
    size_t bytes_out = ${N} * ${OH} * ${OW} * ${C} * sizeof(float);

    float* d_input;
    float* d_weight;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes_in);
    cudaMalloc((void**)&d_weight, bytes_w);
    cudaMalloc((void**)&d_output, bytes_out);

    cudaMemcpy(d_input, input, bytes_in, cudaMemcpyHostToDevice);
    cudaMemcpy(d_weight, weight, bytes_w, cudaMemcpyHostToDevice);

    int threads = 256;
    int blocks = (${N} * ${OH} * ${OW} * ${C} + threads - 1) / threads;
    depthwise_conv<<<blocks, threads>>>(d_input, d_weight, d_output);

    cudaMemcpy(output, d_output, bytes_out, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_weight);
    cudaFree(d_output);
}
