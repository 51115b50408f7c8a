#define HALF (24 * 1024)
__global__ void stage(const float *in, float *out) {
    float first[HALF];
    float second[HALF];
    first[threadIdx.x] = in[threadIdx.x];
    second[threadIdx.x] = first[threadIdx.x] * 2.0f;
    out[threadIdx.x] = second[threadIdx.x];
}
extern "C" void stage_host(const float *in, float *out) {
    float staging[4 * HALF];
    staging[0] = in[0];
    out[0] = staging[0];
}
// expect 4:11 error: the local arrays of 'stage' reach 192 KiB per thread with 'second', more than the 194180 bytes (189.6 KiB) the sm_80 can reserve for each of its 108 x 2048 resident threads; the launch would fail. Keep such buffers in shared or global memory
