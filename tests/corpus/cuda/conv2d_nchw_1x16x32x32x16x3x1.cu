// 2-D convolution, NCHW input, OIHW weight, NCHW output, stride S, no padding:
// output[n][f][oh][ow] = sum_{c,kh,kw} input[n][c][oh*S+kh][ow*S+kw] * weight[f][c][kh][kw].
// 2-D thread blocks tile the output plane; blockIdx.z enumerates (n, f).

__global__ void conv2d_nchw(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    int ow = blockIdx.x * blockDim.x + threadIdx.x;
    int oh = blockIdx.y * blockDim.y + threadIdx.y;
    int n = blockIdx.z / 16;
    int f = blockIdx.z % 16;
    if (oh >= 30 || ow >= 30) {
        return;
    }

    float sum = 0.0f;
    for (int c = 0; c < 16; ++c) {
        const float* in = input + (n * 16 + c) * 32 * 32;
        const float* w = weight + (f * 16 + c) * 3 * 3;
        float partial = 0.0f;   // this input channel's K x K window
        for (int kh = 0; kh < 3; ++kh) {
            for (int kw = 0; kw < 3; ++kw) {
                partial += in[(oh * 1 + kh) * 32 + ow * 1 + kw] * w[kh * 3 + kw];
            }
        }
        sum += partial;
    }
    output[((n * 16 + f) * 30 + oh) * 30 + ow] = sum;
}

extern "C" void conv2d_nchw_kernel(const float* input, const float* weight, float* output)
{
    size_t bytes_in = 1 * 16 * 32 * 32 * sizeof(float);
    size_t bytes_w = 16 * 16 * 3 * 3 * sizeof(float);
    size_t bytes_out = 1 * 16 * 30 * 30 * sizeof(float);

    float* d_input;
    float* d_weight;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes_in);
    cudaMalloc((void**)&d_weight, bytes_w);
    cudaMalloc((void**)&d_output, bytes_out);

    cudaMemcpy(d_input, input, bytes_in, cudaMemcpyHostToDevice);
    cudaMemcpy(d_weight, weight, bytes_w, cudaMemcpyHostToDevice);

    dim3 block(16, 16);
    dim3 grid((30 + 15) / 16, (30 + 15) / 16, 1 * 16);
    conv2d_nchw<<<grid, block>>>(d_input, d_weight, d_output);

    cudaMemcpy(output, d_output, bytes_out, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_weight);
    cudaFree(d_output);
}
