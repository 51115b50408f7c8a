// Row-wise softmax over an R x C float matrix:
// output[r][c] = exp(x[r][c] - max_r) / sum_c' exp(x[r][c'] - max_r).
// One 256-thread block per row; threads stride over the row and combine their
// partial results with a shared-memory tree reduction.

__global__ void softmax(const float* __restrict__ input, float* __restrict__ output)
{
    __shared__ float sdata[256];

    int tid = threadIdx.x;
    const float* x = input + blockIdx.x * 1024;
    float* y = output + blockIdx.x * 1024;

    // 1. Row maximum. Every thread starts from x[0], an element of the row,
    //    so threads without elements of their own do not disturb the result.
    float local_max = x[0];
    for (int c = tid; c < 1024; c += blockDim.x) {
        local_max = fmaxf(local_max, x[c]);
    }
    sdata[tid] = local_max;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s) {
            sdata[tid] = fmaxf(sdata[tid], sdata[tid + s]);
        }
        __syncthreads();
    }
    float row_max = sdata[0];
    __syncthreads();   // everyone has read sdata[0] before it is reused

    // 2. exp(x - max), kept in the output, and the row sum.
    float local_sum = 0.0f;
    for (int c = tid; c < 1024; c += blockDim.x) {
        float e = expf(x[c] - row_max);
        y[c] = e;
        local_sum += e;
    }
    sdata[tid] = local_sum;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s) {
            sdata[tid] += sdata[tid + s];
        }
        __syncthreads();
    }
    float inv_sum = 1.0f / sdata[0];

    // 3. Normalize (each thread rescales the elements it wrote itself).
    for (int c = tid; c < 1024; c += blockDim.x) {
        y[c] *= inv_sum;
    }
}

extern "C" void softmax_kernel(const float* input, float* output)
{
    size_t bytes = 12 * 1024 * sizeof(float);

    float* d_input;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes);
    cudaMalloc((void**)&d_output, bytes);

    cudaMemcpy(d_input, input, bytes, cudaMemcpyHostToDevice);

    softmax<<<12, 256>>>(d_input, d_output);

    cudaMemcpy(output, d_output, bytes, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_output);
}
