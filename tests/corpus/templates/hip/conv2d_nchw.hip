// 2-D convolution, NCHW input, OIHW weight, NCHW output, stride S, no padding:
// output[n][f][oh][ow] = sum_{c,kh,kw} input[n][c][oh*S+kh][ow*S+kw] * weight[f][c][kh][kw].
// 2-D thread blocks tile the output plane; blockIdx.z enumerates (n, f).

__global__ void conv2d_nchw(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    int ow = blockIdx.x * blockDim.x + threadIdx.x;
    int oh = blockIdx.y * blockDim.y + threadIdx.y;
    int n = blockIdx.z / ${F};
    int f = blockIdx.z % ${F};
    if (oh >= ${OH} || ow >= ${OW}) {
        return;
    }

    float sum = 0.0f;
    for (int c = 0; c < ${C}; ++c) {
        const float* in = input + (n * ${C} + c) * ${H} * ${W};
        const float* w = weight + (f * ${C} + c) * ${K} * ${K};
        float partial = 0.0f;   // this input channel's K x K window
        for (int kh = 0; kh < ${K}; ++kh) {
            for (int kw = 0; kw < ${K}; ++kw) {
                partial += in[(oh * ${S} + kh) * ${W} + ow * ${S} + kw] * w[kh * ${K} + kw];
            }
        }
        sum += partial;
    }
    output[((n * ${F} + f) * ${OH} + oh) * ${OW} + ow] = sum;
}

extern "C" void conv2d_nchw_kernel(const float* input, const float* weight, float* output)
{
    size_t bytes_in = ${N} * ${C} * ${H} * ${W} * sizeof(float);
    size_t bytes_w = ${F} * ${C} * ${K} * ${K} * sizeof(float);
    size_t bytes_out = ${N} * ${F} * ${OH} * ${OW} * sizeof(float);

    float* d_input;
    float* d_weight;
    float* d_output;
    hipMalloc((void**)&d_input, bytes_in);
    hipMalloc((void**)&d_weight, bytes_w);
    hipMalloc((void**)&d_output, bytes_out);

    hipMemcpy(d_input, input, bytes_in, hipMemcpyHostToDevice);
    hipMemcpy(d_weight, weight, bytes_w, hipMemcpyHostToDevice);

    dim3 block(16, 16);
    dim3 grid((${OW} + 15) / 16, (${OH} + 15) / 16, ${N} * ${F});
    conv2d_nchw<<<grid, block>>>(d_input, d_weight, d_output);

    hipMemcpy(output, d_output, bytes_out, hipMemcpyDeviceToHost);

    hipFree(d_input);
    hipFree(d_weight);
    hipFree(d_output);
}
