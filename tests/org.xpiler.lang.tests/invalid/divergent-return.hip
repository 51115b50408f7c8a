__global__ void scale(float *a, int n) {
    __shared__ float cache[64];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    cache[threadIdx.x] = a[i];
    __syncthreads();
    a[i] = cache[63 - threadIdx.x];
}
// expect 8:5 warning: '__syncthreads()' comes after a return that only some threads take (line 5): the threads that returned never reach the barrier
