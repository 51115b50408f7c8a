__global__ void scale(float *a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        a[i] = a[i] * factor;
    }
}
// expect 4:23 error: unknown identifier 'factor'
