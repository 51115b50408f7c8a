// Self-attention without mask, per head h (Q, K, V, output are H x S x D floats):
// output[h] = softmax(Q[h] * K[h]^T / sqrt(D)) * V[h], softmax over the key index.
// One 64-thread block per (head, query row): the scores of the row live in shared
// memory, and shared-memory tree reductions give their maximum and sum.

__device__ float block_reduce_max(float* sdata, float value)
{
    int tid = threadIdx.x;
    sdata[tid] = value;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s) {
            sdata[tid] = fmaxf(sdata[tid], sdata[tid + s]);
        }
        __syncthreads();
    }
    float result = sdata[0];
    __syncthreads();
    return result;
}

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
    float result = sdata[0];
    __syncthreads();
    return result;
}

__global__ void self_attention(const float* __restrict__ Q, const float* __restrict__ K,
                               const float* __restrict__ V, float* __restrict__ output)
{
    __shared__ float q[64];
    __shared__ float scores[64];
    __shared__ float sdata[64];

    int tid = threadIdx.x;
    int h = blockIdx.x / 64;
    int i = blockIdx.x % 64;
    const float* Kh = K + h * 64 * 64;
    const float* Vh = V + h * 64 * 64;

    for (int d = tid; d < 64; d += blockDim.x) {
        q[d] = Q[(h * 64 + i) * 64 + d];
    }
    __syncthreads();

    // scores[j] = q . K[h][j] / sqrt(D)
    float scale = 1.0f / sqrtf((float)64);
    for (int j = tid; j < 64; j += blockDim.x) {
        const float* k = Kh + j * 64;
        float dot = 0.0f;
        for (int d = 0; d < 64; ++d) {
            dot += q[d] * k[d];
        }
        scores[j] = dot * scale;
    }
    __syncthreads();

    // numerically stable softmax over the S scores
    float local_max = scores[0];
    for (int j = tid; j < 64; j += blockDim.x) {
        local_max = fmaxf(local_max, scores[j]);
    }
    float row_max = block_reduce_max(sdata, local_max);

    float local_sum = 0.0f;
    for (int j = tid; j < 64; j += blockDim.x) {
        float e = expf(scores[j] - row_max);
        scores[j] = e;
        local_sum += e;
    }
    float inv_sum = 1.0f / block_reduce_sum(sdata, local_sum);   // also orders the scores[] writes

    // output[h][i][d] = sum_j p[j] * V[h][j][d]
    float* out = output + (h * 64 + i) * 64;
    for (int d = tid; d < 64; d += blockDim.x) {
        float acc = 0.0f;
        for (int j = 0; j < 64; ++j) {
            acc += scores[j] * Vh[j * 64 + d];
        }
        out[d] = acc * inv_sum;
    }
}

extern "C" void self_attention_kernel(const float* Q, const float* K, const float* V, float* output)
{
    size_t bytes = 4 * 64 * 64 * sizeof(float);

    float* d_Q;
    float* d_K;
    float* d_V;
    float* d_output;
    cudaMalloc((void**)&d_Q, bytes);
    cudaMalloc((void**)&d_K, bytes);
    cudaMalloc((void**)&d_V, bytes);
    cudaMalloc((void**)&d_output, bytes);

    cudaMemcpy(d_Q, Q, bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(d_K, K, bytes, cudaMemcpyHostToDevice);
    cudaMemcpy(d_V, V, bytes, cudaMemcpyHostToDevice);

    int blocks = 4 * 64;   // one block per (head, query row)
    int threads = 64;
    self_attention<<<blocks, threads>>>(d_Q, d_K, d_V, d_output);

    cudaMemcpy(output, d_output, bytes, cudaMemcpyDeviceToHost);

    cudaFree(d_Q);
    cudaFree(d_K);
    cudaFree(d_V);
    cudaFree(d_output);
}
