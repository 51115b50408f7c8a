extern "C" void relu_kernel(const float *in, float *out) {
    for (int i = 0; i < 1024; ++i) {
        out[i] = in[i] > 0.0f ? in[i] 0.0f;
    }
}
// expect 3:39 error: missing ':' at '0.0f'
