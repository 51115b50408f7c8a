extern "C" void copy_kernel(const float *in, float *out) {
    float16 v = in[0];
    out[0] = v;
}
// expect 2:5 error: unknown type 'float16'
