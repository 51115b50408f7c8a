// conv2d_nhwc: input[N][H][W][C], weight[F][K][K][C] (OHWI), output[N][OH][OW][F], stride S, no padding;
// output[n][oh][ow][f] = sum_{kh,kw,c} input[n][oh*S+kh][ow*S+kw][c] * weight[f][kh][kw][c]; float32, AVX-512.
// For a fixed kh the input patch row input[n][oh*S+kh][ow*S .. ow*S+K-1][0..C-1] is K*C contiguous floats,
// and so is weight[f][kh][0..K-1][0..C-1]: each output is K dot products of length K*C, done with
// 16-lane FMAs (scalar tail for K*C % 16) and one horizontal reduction.
extern "C" void conv2d_nhwc_kernel(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    const int N = 1;
    const int H = 16;
    const int W = 16;
    const int C = 32;
    const int F = 32;
    const int K = 3;
    const int S = 2;
    const int OH = 7;
    const int OW = 7;
    const int KC = K * C;
    for (int n = 0; n < N; n++) {
        for (int oh = 0; oh < OH; oh++) {
            for (int ow = 0; ow < OW; ow++) {
                float* out_pixel = output + ((n * OH + oh) * OW + ow) * F;
                for (int f = 0; f < F; f++) {
                    __m512 acc = _mm512_setzero_ps();
                    float tail = 0.0f;
                    for (int kh = 0; kh < K; kh++) {
                        const float* in_row = input + ((n * H + oh * S + kh) * W + ow * S) * C;
                        const float* w_row = weight + (f * K + kh) * KC;
                        int i = 0;
                        for (; i + 16 <= KC; i += 16) {
                            acc = _mm512_fmadd_ps(_mm512_loadu_ps(in_row + i), _mm512_loadu_ps(w_row + i), acc);
                        }
                        for (; i < KC; i++) {
                            tail += in_row[i] * w_row[i];
                        }
                    }
                    out_pixel[f] = _mm512_reduce_add_ps(acc) + tail;
                }
            }
        }
    }
}
