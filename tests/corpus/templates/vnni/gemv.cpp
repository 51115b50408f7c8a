// gemv: y[M] = A[M][K] * x[K], float32, AVX-512.
// Each y[m] is a dot product of the row A[m] with x: two 16-lane FMA accumulators over K,
// a horizontal _mm512_reduce_add_ps, and a scalar tail for the last K % 32 elements.
extern "C" void gemv_kernel(const float* __restrict__ A, const float* __restrict__ x, float* __restrict__ y)
{
    const int M = ${M};
    const int K = ${K};
    for (int m = 0; m < M; m++) {
        const float* a_row = A + m * K;
        __m512 acc0 = _mm512_setzero_ps();
        __m512 acc1 = _mm512_setzero_ps();
        int k = 0;
        for (; k + 32 <= K; k += 32) {
            acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a_row + k), _mm512_loadu_ps(x + k), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a_row + k + 16), _mm512_loadu_ps(x + k + 16), acc1);
        }
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
        for (; k < K; k++) {
            sum += a_row[k] * x[k];
        }
        y[m] = sum;
    }
}
