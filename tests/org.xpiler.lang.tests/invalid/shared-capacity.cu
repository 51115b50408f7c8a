__global__ void tile(const float *a, float *b) {
    __shared__ float tile[128][128];
    tile[threadIdx.y][threadIdx.x] = a[threadIdx.x];
    __syncthreads();
    b[threadIdx.x] = tile[threadIdx.x][threadIdx.y];
}
// expect 2:22 error: __shared__ arrays reach 64 KiB with 'tile' (in 'tile', counting the file-scope arrays), more than the 48 KiB of shared memory the sm_80 has for them
