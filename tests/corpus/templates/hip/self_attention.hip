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
    __shared__ float q[${D}];
    __shared__ float scores[${S}];
    __shared__ float sdata[64];

    int tid = threadIdx.x;
    int h = blockIdx.x / ${S};
    int i = blockIdx.x % ${S};
    const float* Kh = K + h * ${S} * ${D};
    const float* Vh = V + h * ${S} * ${D};

    for (int d = tid; d < ${D}; d += blockDim.x) {
        q[d] = Q[(h * ${S} + i) * ${D} + d];
    }
    __syncthreads();

    // scores[j] = q . K[h][j] / sqrt(D)
    float scale = 1.0f / sqrtf((float)${D});
    for (int j = tid; j < ${S}; j += blockDim.x) {
        const float* k = Kh + j * ${D};
        float dot = 0.0f;
        for (int d = 0; d < ${D}; ++d) {
            dot += q[d] * k[d];
        }
        scores[j] = dot * scale;
    }
    __syncthreads();

    // numerically stable softmax over the S scores
    float local_max = scores[0];
    for (int j = tid; j < ${S}; j += blockDim.x) {
        local_max = fmaxf(local_max, scores[j]);
    }
    float row_max = block_reduce_max(sdata, local_max);

    float local_sum = 0.0f;
    for (int j = tid; j < ${S}; j += blockDim.x) {
        float e = expf(scores[j] - row_max);
        scores[j] = e;
        local_sum += e;
    }
    float inv_sum = 1.0f / block_reduce_sum(sdata, local_sum);   // also orders the scores[] writes

    // output[h][i][d] = sum_j p[j] * V[h][j][d]
    float* out = output + (h * ${S} + i) * ${D};
    for (int d = tid; d < ${D}; d += blockDim.x) {
        float acc = 0.0f;
        for (int j = 0; j < ${S}; ++j) {
            acc += scores[j] * Vh[j * ${D} + d];
        }
        out[d] = acc * inv_sum;
    }
}

extern "C" void self_attention_kernel(const float* Q, const float* K, const float* V, float* output)
{
    size_t bytes = ${H} * ${S} * ${D} * sizeof(float);

    float* d_Q;
    float* d_K;
    float* d_V;
    float* d_output;
    hipMalloc((void**)&d_Q, bytes);
    hipMalloc((void**)&d_K, bytes);
    hipMalloc((void**)&d_V, bytes);
    hipMalloc((void**)&d_output, bytes);

    hipMemcpy(d_Q, Q, bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_K, K, bytes, hipMemcpyHostToDevice);
    hipMemcpy(d_V, V, bytes, hipMemcpyHostToDevice);

    int blocks = ${H} * ${S};   // one block per (head, query row)
    int threads = 64;
    self_attention<<<blocks, threads>>>(d_Q, d_K, d_V, d_output);

    hipMemcpy(output, d_output, bytes, hipMemcpyDeviceToHost);

    hipFree(d_Q);
    hipFree(d_K);
    hipFree(d_V);
    hipFree(d_output);
}
