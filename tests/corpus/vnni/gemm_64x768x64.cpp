// gemm: C[M][N] = A[M][K] * B[K][N], float32, AVX-512.
// Each row of C is produced 16 columns at a time: broadcast A[m][k] and FMA it with the
// row segment B[k][n..n+15]. K is walked in blocks of KB; every block is summed from zero in a
// register and then added to the running total, which keeps the float summation chains short.
extern "C" void gemm_kernel(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    const int M = 64;
    const int K = 768;
    const int N = 64;
    const int KB = 64;
    for (int m = 0; m < M; m++) {
        const float* a_row = A + m * K;
        float* c_row = C + m * N;
        int n = 0;
        for (; n + 16 <= N; n += 16) {
            __m512 total = _mm512_setzero_ps();
            for (int k0 = 0; k0 < K; k0 += KB) {
                const int k1 = (k0 + KB < K) ? k0 + KB : K;
                __m512 acc = _mm512_setzero_ps();
                for (int k = k0; k < k1; k++) {
                    acc = _mm512_fmadd_ps(_mm512_set1_ps(a_row[k]), _mm512_loadu_ps(B + k * N + n), acc);
                }
                total = _mm512_add_ps(total, acc);
            }
            _mm512_storeu_ps(c_row + n, total);
        }
        // scalar tail: the last N % 16 columns
        for (; n < N; n++) {
            float total = 0.0f;
            for (int k0 = 0; k0 < K; k0 += KB) {
                const int k1 = (k0 + KB < K) ? k0 + KB : K;
                float acc = 0.0f;
                for (int k = k0; k < k1; k++) {
                    acc += a_row[k] * B[k * N + n];
                }
                total += acc;
            }
            c_row[n] = total;
        }
    }
}
