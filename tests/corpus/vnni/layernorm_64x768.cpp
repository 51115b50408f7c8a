// layernorm: per row of input[R][C], output = (x - mean) / sqrt(var + 1e-5) * gamma + beta,
// var the biased (population) variance; float32, AVX-512.
// Two reduction passes per row (sum for the mean, then sum of squared deviations) and one
// normalising pass with _mm512_fmadd_ps(x_hat, gamma, beta); scalar tails for C % 16.
extern "C" void layernorm_kernel(const float* __restrict__ input, const float* __restrict__ gamma,
                                 const float* __restrict__ beta, float* __restrict__ output)
{
    const int R = 64;
    const int C = 768;
    const float eps = 1e-5f;
    for (int r = 0; r < R; r++) {
        const float* x = input + r * C;
        float* y = output + r * C;

        __m512 vsum = _mm512_setzero_ps();
        float sum = 0.0f;
        int i = 0;
        for (; i + 16 <= C; i += 16) {
            vsum = _mm512_add_ps(vsum, _mm512_loadu_ps(x + i));
        }
        for (; i < C; i++) {
            sum += x[i];
        }
        const float mean = (sum + _mm512_reduce_add_ps(vsum)) / (float)C;

        const __m512 vmean = _mm512_set1_ps(mean);
        __m512 vsq = _mm512_setzero_ps();
        float sq = 0.0f;
        i = 0;
        for (; i + 16 <= C; i += 16) {
            const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i), vmean);
            vsq = _mm512_fmadd_ps(d, d, vsq);
        }
        for (; i < C; i++) {
            const float d = x[i] - mean;
            sq += d * d;
        }
        const float var = (sq + _mm512_reduce_add_ps(vsq)) / (float)C;
        const float rstd = 1.0f / sqrtf(var + eps);

        const __m512 vrstd = _mm512_set1_ps(rstd);
        i = 0;
        for (; i + 16 <= C; i += 16) {
            const __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vmean), vrstd);
            _mm512_storeu_ps(y + i, _mm512_fmadd_ps(xhat, _mm512_loadu_ps(gamma + i), _mm512_loadu_ps(beta + i)));
        }
        for (; i < C; i++) {
            y[i] = (x[i] - mean) * rstd * gamma[i] + beta[i];
        }
    }
}
