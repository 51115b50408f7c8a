// conv1d: output[CO][OL] with output[co][l] = sum_ci sum_k input[ci][l+k] * weight[co][ci][k],
// stride 1, no padding, OL = L - K + 1; float32, AVX-512.
// 16 consecutive output positions l are computed together: the weight w[co][ci][k] is broadcast and
// FMA-ed with the input segment input[ci][l+k .. l+k+15]. Scalar tail for the last OL % 16 positions.
extern "C" void conv1d_kernel(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    const int CI = 16;
    const int L = 128;
    const int CO = 32;
    const int K = 3;
    const int OL = 126;
    for (int co = 0; co < CO; co++) {
        const float* w_co = weight + co * CI * K;
        float* out_row = output + co * OL;
        int l = 0;
        for (; l + 16 <= OL; l += 16) {
            __m512 acc = _mm512_setzero_ps();
            for (int ci = 0; ci < CI; ci++) {
                const float* in_row = input + ci * L + l;
                for (int k = 0; k < K; k++) {
                    acc = _mm512_fmadd_ps(_mm512_set1_ps(w_co[ci * K + k]), _mm512_loadu_ps(in_row + k), acc);
                }
            }
            _mm512_storeu_ps(out_row + l, acc);
        }
        for (; l < OL; l++) {
            float acc = 0.0f;
            for (int ci = 0; ci < CI; ci++) {
                for (int k = 0; k < K; k++) {
                    acc += input[ci * L + l + k] * w_co[ci * K + k];
                }
            }
            out_row[l] = acc;
        }
    }
}
