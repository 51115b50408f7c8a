// 2-D convolution, NCHW input, OIHW weight, NCHW output, stride S, no padding:
// output[n][f][oh][ow] = sum_{c,kh,kw} input[n][c][oh*S+kh][ow*S+kw] * weight[f][c][kh][kw].
// 2-D thread blocks tile the output plane; blockIdx.z enumerates (n, f).

__global__ void conv2d_nchw(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    int ow = blockIdx.x * blockDim.x + threadIdx.x;
    int oh = blockIdx.y * blockDim.y + threadIdx.y;
    int n = blockIdx.z / 64;
    int f = blockIdx.z % 64;
    if (oh >= 6 || ow >= 6) {
        return;
    }

    float sum = 0.0f;
    for (int c = 0; c < 64; ++c) {
        const float* in = input + (n * 64 + c) * 8 * 8;
        const float* w = weight + (f * 64 + c) * 3 * 3;
        float partial = 0.0f;   // this input channel's K x K window
        for (int kh = 0; kh < 3; ++kh) {
            for (int kw = 0; kw < 3; ++kw) {
                partial += in[(oh * 1 + kh) * 8 + ow * 1 + kw] * w[kh * 3 + kw];
            }
        }
        sum += partial;
    }
    output[((n * 64 + f) * 6 + oh) * 6 + ow] = sum;
}

extern "C" void conv2d_nchw_kernel(const float* input, const float* weight, float* output)
{
    size_t bytes_in = 1 * 64 * 8 * 8 * sizeof(float);
    size_t bytes_w = 64 * 64 * 3 * 3 * sizeof(float);
    size_t bytes_out = 1 * 64 * 6 * 6 * sizeof(float);

    float* d_input;
    float* d_weight;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes_in);
    cudaMalloc((void**)&d_weight, bytes_w);
    cudaMalloc((void**)&d_output, bytes_out);

    cudaMemcpy(d_input, input, bytes_in, cudaMemcpyHostToDevice);
    cudaMemcpy(d_weight, weight, bytes_w, cudaMemcpyHostToDevice);

    dim3 block(16, 16);
    dim3 grid((6 + 15) / 16, (6 + 15) / 16, 1 * 64);
    conv2d_nchw<<<grid, block>>>(d_input, d_weight, d_output);

    cudaMemcpy(output, d_output, bytes_out, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_weight);
    cudaFree(d_output);
}
