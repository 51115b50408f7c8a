// minpool: NHWC input, NHWC output, K x K window, stride S, no padding;
// output[n][oh][ow][c] = min over the K x K window at (oh*S, ow*S).
// One thread per output element; consecutive threads take consecutive channels.

__global__ void minpool(const float* __restrict__ input, float* __restrict__ output)
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
    // start from the window's first element
    float result = input[base];
    for (int kh = 0; kh < ${K}; ++kh) {
        for (int kw = 0; kw < ${K}; ++kw) {
            float v = input[base + (kh * ${W} + kw) * ${C}];
            result = fminf(result, v);
        }
    }
    output[idx] = result;
}

extern "C" void minpool_kernel(const float* input, float* output)
{
    size_t bytes_in = ${N} * ${H} * ${W} * ${C} * sizeof(float);
    size_t bytes_out = ${N} * ${OH} * ${OW} * ${C} * sizeof(float);

    float* d_input;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes_in);
    cudaMalloc((void**)&d_output, bytes_out);

    cudaMemcpy(d_input, input, bytes_in, cudaMemcpyHostToDevice);

    int threads = 256;
    int blocks = (${N} * ${OH} * ${OW} * ${C} + threads - 1) / threads;
    minpool<<<blocks, threads>>>(d_input, d_output);

    cudaMemcpy(output, d_output, bytes_out, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_output);
}
