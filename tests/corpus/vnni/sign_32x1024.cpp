// sign: output = 1 if x > 0, -1 if x < 0, 0 if x == 0, over R*C floats.
// AVX-512: two compares give the lane masks of positive and negative inputs, and masked blends
// select 1 or -1 over a zero vector. Scalar tail for the last R*C % 16 elements.
extern "C" void sign_kernel(const float* __restrict__ input, float* __restrict__ output)
{
    const int total = 32 * 1024;
    const __m512 zero = _mm512_setzero_ps();
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 minus_one = _mm512_set1_ps(-1.0f);
    int i = 0;
    for (; i + 16 <= total; i += 16) {
        const __m512 x = _mm512_loadu_ps(input + i);
        __m512 r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ), zero, one);
        r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ), r, minus_one);
        _mm512_storeu_ps(output + i, r);
    }
    for (; i < total; i++) {
        const float x = input[i];
        output[i] = x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
    }
}
