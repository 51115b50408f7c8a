// Single-level multi-scale deformable attention core (Deformable DETR; grid_sample with
// align_corners=False and zero padding).
//   value[H*W][M][D], sampling_locations[Q][M][P][2] (normalized x, y),
//   attention_weights[Q][M][P], output[Q][M][D].
// For each query q, head m and channel d: bilinearly sample value at every point p
// (corners outside the H x W map contribute 0) and sum, weighted by attention_weights.
// One thread per output element.

// value[yy][xx][m][d], or 0 outside the map
__device__ float corner_value(const float* __restrict__ value, int yy, int xx, int m, int d)
{
    if (yy < 0 || yy >= 16 || xx < 0 || xx >= 16) {
        return 0.0f;
    }
    return value[((yy * 16 + xx) * 8 + m) * 32 + d];
}

__global__ void deformable_attention(const float* __restrict__ value, const float* __restrict__ sampling_locations,
                                     const float* __restrict__ attention_weights, float* __restrict__ output)
{
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= 64 * 8 * 32) {
        return;
    }
    int d = idx % 32;
    int m = (idx / 32) % 8;
    int q = idx / (32 * 8);

    float acc = 0.0f;
    for (int p = 0; p < 4; ++p) {
        int qmp = (q * 8 + m) * 4 + p;
        float lx = sampling_locations[qmp * 2];
        float ly = sampling_locations[qmp * 2 + 1];
        float a = attention_weights[qmp];

        // pixel coordinates (align_corners = False)
        float x = lx * 16 - 0.5f;
        float y = ly * 16 - 0.5f;
        float x0f = floorf(x);
        float y0f = floorf(y);
        int x0 = (int)x0f;
        int y0 = (int)y0f;
        float fx = x - x0f;
        float fy = y - y0f;

        float sample = (1.0f - fy) * (1.0f - fx) * corner_value(value, y0, x0, m, d)
                     + (1.0f - fy) * fx * corner_value(value, y0, x0 + 1, m, d)
                     + fy * (1.0f - fx) * corner_value(value, y0 + 1, x0, m, d)
                     + fy * fx * corner_value(value, y0 + 1, x0 + 1, m, d);
        acc += a * sample;
    }
    output[idx] = acc;
}

extern "C" void deformable_attention_kernel(const float* value, const float* sampling_locations,
                                            const float* attention_weights, float* output)
{
    size_t bytes_value = 16 * 16 * 8 * 32 * sizeof(float);
    size_t bytes_loc = 64 * 8 * 4 * 2 * sizeof(float);
    size_t bytes_attn = 64 * 8 * 4 * sizeof(float);
    size_t bytes_out = 64 * 8 * 32 * sizeof(float);

    float* d_value;
    float* d_loc;
    float* d_attn;
    float* d_output;
    cudaMalloc((void**)&d_value, bytes_value);
    cudaMalloc((void**)&d_loc, bytes_loc);
    cudaMalloc((void**)&d_attn, bytes_attn);
    cudaMalloc((void**)&d_output, bytes_out);

    cudaMemcpy(d_value, value, bytes_value, cudaMemcpyHostToDevice);
    cudaMemcpy(d_loc, sampling_locations, bytes_loc, cudaMemcpyHostToDevice);
    cudaMemcpy(d_attn, attention_weights, bytes_attn, cudaMemcpyHostToDevice);

    int threads = 256;
    int blocks = (64 * 8 * 32 + threads - 1) / threads;
    deformable_attention<<<blocks, threads>>>(d_value, d_loc, d_attn, d_output);

    cudaMemcpy(output, d_output, bytes_out, cudaMemcpyDeviceToHost);

    cudaFree(d_value);
    cudaFree(d_loc);
    cudaFree(d_attn);
    cudaFree(d_output);
}
