__global__ void reduce(const float *in, float *out) {
    __shared__ float partial[256];
    int tid = threadIdx.x;
    partial[tid] = in[blockIdx.x * 256 + tid];
    __syncthreads();
    for (int s = 128; s > 0; s >>= 1) {
        if (tid < s) {
            partial[tid] += partial[tid + s];
            __syncthreads();
        }
    }
    if (tid == 0) {
        out[blockIdx.x] = partial[0];
    }
}
// expect 9:13 warning: '__syncthreads()' is reached under 'tid < s' (line 7), which depends on the thread through 'tid': threads that skip the barrier make the others wait forever or race
