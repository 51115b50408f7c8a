// batch_gemm: C[b] = A[b] * B[b] for every batch b; A[B][M][K], B[B][K][N], C[B][M][N], float32, AVX-512.
// One matrix product per batch; each row of C[b] is produced 16 columns at a time by broadcasting
// A[b][m][k] and FMA-ing it with the row segment B[b][k][n..n+15].

static inline void matmul_one(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c)
{
    const int M = 32;
    const int K = 64;
    const int N = 32;
    for (int m = 0; m < M; m++) {
        const float* a_row = a + m * K;
        int n = 0;
        for (; n + 16 <= N; n += 16) {
            __m512 acc = _mm512_setzero_ps();
            for (int k = 0; k < K; k++) {
                acc = _mm512_fmadd_ps(_mm512_set1_ps(a_row[k]), _mm512_loadu_ps(b + k * N + n), acc);
            }
            _mm512_storeu_ps(c + m * N + n, acc);
        }
        // scalar tail: the last N % 16 columns
        for (; n < N; n++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++) {
                acc += a_row[k] * b[k * N + n];
            }
            c[m * N + n] = acc;
        }
    }
}

extern "C" void batch_gemm_kernel(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    for (int batch = 0; batch < 4; batch++) {
        matmul_one(A + batch * 32 * 64, B + batch * 64 * 32, C + batch * 32 * 32);
    }
}
