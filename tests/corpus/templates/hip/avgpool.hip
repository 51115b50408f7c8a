// avgpool: NHWC input, NHWC output, K x K window, stride S, no padding;
// output[n][oh][ow][c] = average over the K x K window (sum / (K * K)) at (oh*S, ow*S).
// One thread per output element; consecutive threads take consecutive channels.

__global__ void avgpool(const float* __restrict__ input, float* __restrict__ output)
{
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= ${N} * ${OH} * ${OW} * ${C}) {
        return;
    }
    int c = idx % ${C};
    int ow = (idx / ${C}) % ${OW};
    int oh = (idx / (${C} * ${OW})) % ${OH};
    int n = idx / (${C} * ${OW} * ${OH});

    int base = ((n * ${H} + oh * ${S}) * ${W} + ow * ${S}) * ${C} + c;
    float sum = 0.0f;
    for (int kh = 0; kh < ${K}; ++kh) {
        for (int kw = 0; kw < ${K}; ++kw) {
            float v = input[base + (kh * ${W} + kw) * ${C}];
            sum += v;
        }
    }
    output[idx] = sum / (float)(${K} * ${K});
}

extern "C" void avgpool_kernel(const float* input, float* output)
{
    size_t bytes_in = ${N} * ${H} * ${W} * ${C} * sizeof(float);
    size_t bytes_out = ${N} * ${OH} * ${OW} * ${C} * sizeof(float);

    float* d_input;
    float* d_output;
    hipMalloc((void**)&d_input, bytes_in);
    hipMalloc((void**)&d_output, bytes_out);

    hipMemcpy(d_input, input, bytes_in, hipMemcpyHostToDevice);

    int threads = 256;
    int blocks = (${N} * ${OH} * ${OW} * ${C} + threads - 1) / threads;
    avgpool<<<blocks, threads>>>(d_input, d_output);

    hipMemcpy(output, d_output, bytes_out, hipMemcpyDeviceToHost);

    hipFree(d_input);
    hipFree(d_output);
}
