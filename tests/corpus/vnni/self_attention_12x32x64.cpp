// self_attention: per head h, output_h = softmax(Q_h * K_h^T / sqrt(D)) * V_h, softmax over the key
// index, no mask; Q, K, V, output are [H][S][D] float32; AVX-512.
// For each query row: S scores as 16-lane dot products over D (horizontal reduction, scalar tail),
// a scalar softmax (expf), then the weighted sum of V rows with broadcast-FMAs over 16 columns of D.

static inline float dot(const float* __restrict__ a, const float* __restrict__ b, int n)
{
    __m512 acc = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
    }
    float sum = _mm512_reduce_add_ps(acc);
    for (; i < n; i++) {
        sum += a[i] * b[i];
    }
    return sum;
}

extern "C" void self_attention_kernel(const float* __restrict__ Q, const float* __restrict__ K,
                                      const float* __restrict__ V, float* __restrict__ output)
{
    const int H = 12;
    const int S = 32;
    const int D = 64;
    const float scale = 1.0f / sqrtf((float)D);
    float p[32];
    for (int h = 0; h < H; h++) {
        const float* q_h = Q + h * S * D;
        const float* k_h = K + h * S * D;
        const float* v_h = V + h * S * D;
        float* o_h = output + h * S * D;
        for (int i = 0; i < S; i++) {
            float row_max = 0.0f;
            for (int j = 0; j < S; j++) {
                p[j] = dot(q_h + i * D, k_h + j * D, D) * scale;
                row_max = (j == 0 || p[j] > row_max) ? p[j] : row_max;
            }
            float sum = 0.0f;
            for (int j = 0; j < S; j++) {
                p[j] = expf(p[j] - row_max);
                sum += p[j];
            }
            const float inv_sum = 1.0f / sum;

            float* o_row = o_h + i * D;
            const __m512 vinv = _mm512_set1_ps(inv_sum);
            int d = 0;
            for (; d + 16 <= D; d += 16) {
                __m512 acc = _mm512_setzero_ps();
                for (int j = 0; j < S; j++) {
                    acc = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), _mm512_loadu_ps(v_h + j * D + d), acc);
                }
                _mm512_storeu_ps(o_row + d, _mm512_mul_ps(acc, vinv));
            }
            for (; d < D; d++) {
                float acc = 0.0f;
                for (int j = 0; j < S; j++) {
                    acc += p[j] * v_h[j * D + d];
                }
                o_row[d] = acc * inv_sum;
            }
        }
    }
}
