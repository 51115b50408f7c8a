// Row-wise layer normalization over an R x C float matrix:
// output[r][c] = (x[r][c] - mean_r) / sqrt(var_r + 1e-5) * gamma[c] + beta[c],
// var_r the biased (population) variance. One 256-thread block per row,
// shared-memory tree reductions for the mean and the variance.

// Sums `value` over the thread block; every thread gets the total.
// `sdata` holds blockDim.x floats; blockDim.x is a power of two.
__device__ float block_reduce_sum(float* sdata, float value)
{
    int tid = threadIdx.x;
    sdata[tid] = value;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s) {
            sdata[tid] += sdata[tid + s];
        }
        __syncthreads();
    }
    float total = sdata[0];
    __syncthreads();   // sdata may be reused by the caller
    return total;
}

__global__ void layernorm(const float* __restrict__ input, const float* __restrict__ gamma,
                          const float* __restrict__ beta, float* __restrict__ output)
{
    __shared__ float sdata[256];

    int tid = threadIdx.x;
    const float* x = input + blockIdx.x * 1024;
    float* y = output + blockIdx.x * 1024;

    float local_sum = 0.0f;
    for (int c = tid; c < 1024; c += blockDim.x) {
        local_sum += x[c];
    }
    float mean = block_reduce_sum(sdata, local_sum) / 1024;

    float local_sq = 0.0f;
    for (int c = tid; c < 1024; c += blockDim.x) {
        float d = x[c] - mean;
        local_sq += d * d;
    }
    float variance = block_reduce_sum(sdata, local_sq) / 1024;
    float rstd = rsqrtf(variance + 1e-5f);

    for (int c = tid; c < 1024; c += blockDim.x) {
        y[c] = (x[c] - mean) * rstd * gamma[c] + beta[c];
    }
}

extern "C" void layernorm_kernel(const float* input, const float* gamma, const float* beta, float* output)
{
    size_t bytes = 32 * 1024 * sizeof(float);
    size_t bytes_param = 1024 * sizeof(float);

    float* d_input;
    float* d_gamma;
    float* d_beta;
    float* d_output;
    cudaMalloc((void**)&d_input, bytes);
    cudaMalloc((void**)&d_gamma, bytes_param);
    cudaMalloc((void**)&d_beta, bytes_param);
    cudaMalloc((void**)&d_output, bytes);

    cudaMemcpy(d_input, input, bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(d_gamma, gamma, bytes_param, cudaMemcpyHostToDevice);
    cudaMemcpy(d_beta, beta, bytes_param, cudaMemcpyHostToDevice);

    layernorm<<<32, 256>>>(d_input, d_gamma, d_beta, d_output);

    cudaMemcpy(output, d_output, bytes, cudaMemcpyDeviceToHost);

    cudaFree(d_input);
    cudaFree(d_gamma);
    cudaFree(d_beta);
    cudaFree(d_output);
}
