// softmax: per row of input[R][C], output = exp(x - max_row) / sum(exp(x - max_row)).
// Three passes per row: a vector max (_mm512_max_ps + _mm512_reduce_max_ps), a scalar expf pass that
// writes exp(x - max) into the output row while a vector accumulator sums it, and a vector divide.
extern "C" void softmax_kernel(const float* __restrict__ input, float* __restrict__ output)
{
    const int R = 64;
    const int C = 128;
    for (int r = 0; r < R; r++) {
        const float* x = input + r * C;
        float* y = output + r * C;

        float row_max = x[0];
        int i = 0;
        if (C >= 16) {
            __m512 vmax = _mm512_loadu_ps(x);
            for (i = 16; i + 16 <= C; i += 16) {
                vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(x + i));
            }
            row_max = _mm512_reduce_max_ps(vmax);
        }
        for (; i < C; i++) {
            row_max = x[i] > row_max ? x[i] : row_max;
        }

        __m512 vsum = _mm512_setzero_ps();
        float sum = 0.0f;
        i = 0;
        for (; i + 16 <= C; i += 16) {
            for (int j = 0; j < 16; j++) {
                y[i + j] = expf(x[i + j] - row_max);
            }
            vsum = _mm512_add_ps(vsum, _mm512_loadu_ps(y + i));
        }
        for (; i < C; i++) {
            y[i] = expf(x[i] - row_max);
            sum += y[i];
        }
        sum += _mm512_reduce_add_ps(vsum);

        const __m512 vden = _mm512_set1_ps(sum);
        i = 0;
        for (; i + 16 <= C; i += 16) {
            _mm512_storeu_ps(y + i, _mm512_div_ps(_mm512_loadu_ps(y + i), vden));
        }
        for (; i < C; i++) {
            y[i] = y[i] / sum;
        }
    }
}
