// rmsnorm: per row of input[R][C], output = x / sqrt(mean(x^2) + 1e-6) * gamma; float32, AVX-512.
// One pass accumulates x*x with _mm512_fmadd_ps (two accumulators), one pass scales by the
// reciprocal RMS and gamma; scalar tails for the last C % 16 (or % 32) elements.
extern "C" void rmsnorm_kernel(const float* __restrict__ input, const float* __restrict__ gamma, float* __restrict__ output)
{
    const int R = ${R};
    const int C = ${C};
    const float eps = 1e-6f;
    for (int r = 0; r < R; r++) {
        const float* x = input + r * C;
        float* y = output + r * C;

        __m512 acc0 = _mm512_setzero_ps();
        __m512 acc1 = _mm512_setzero_ps();
        int i = 0;
        for (; i + 32 <= C; i += 32) {
            const __m512 a = _mm512_loadu_ps(x + i);
            const __m512 b = _mm512_loadu_ps(x + i + 16);
            acc0 = _mm512_fmadd_ps(a, a, acc0);
            acc1 = _mm512_fmadd_ps(b, b, acc1);
        }
        float sq = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
        for (; i < C; i++) {
            sq += x[i] * x[i];
        }
        const float inv_rms = 1.0f / sqrtf(sq / (float)C + eps);

        const __m512 vinv = _mm512_set1_ps(inv_rms);
        i = 0;
        for (; i + 16 <= C; i += 16) {
            _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), vinv), _mm512_loadu_ps(gamma + i)));
        }
        for (; i < C; i++) {
            y[i] = x[i] * inv_rms * gamma[i];
        }
    }
}
