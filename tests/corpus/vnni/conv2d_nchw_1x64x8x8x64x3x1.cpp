// conv2d_nchw: input[N][C][H][W], weight[F][C][K][K] (OIHW), output[N][F][OH][OW], stride S, no padding;
// output[n][f][oh][ow] = sum_{c,kh,kw} input[n][c][oh*S+kh][ow*S+kw] * weight[f][c][kh][kw]; float32, AVX-512.
// im2col per output pixel: the C*K*K input patch is gathered into a contiguous column in (c, kh, kw)
// order, which is exactly the layout of one OIHW filter weight[f], so every output is a dot product
// of length C*K*K done with 16-lane FMAs, a horizontal reduction and a scalar tail.
extern "C" void conv2d_nchw_kernel(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    const int N = 1;
    const int C = 64;
    const int H = 8;
    const int W = 8;
    const int F = 64;
    const int K = 3;
    const int S = 1;
    const int OH = 6;
    const int OW = 6;
    const int CKK = C * K * K;
    float col[64 * 3 * 3];
    for (int n = 0; n < N; n++) {
        for (int oh = 0; oh < OH; oh++) {
            for (int ow = 0; ow < OW; ow++) {
                for (int c = 0; c < C; c++) {
                    for (int kh = 0; kh < K; kh++) {
                        const float* in_row = input + ((n * C + c) * H + oh * S + kh) * W + ow * S;
                        for (int kw = 0; kw < K; kw++) {
                            col[(c * K + kh) * K + kw] = in_row[kw];
                        }
                    }
                }
                for (int f = 0; f < F; f++) {
                    const float* w_f = weight + f * CKK;
                    __m512 acc = _mm512_setzero_ps();
                    int i = 0;
                    for (; i + 16 <= CKK; i += 16) {
                        acc = _mm512_fmadd_ps(_mm512_loadu_ps(col + i), _mm512_loadu_ps(w_f + i), acc);
                    }
                    float sum = _mm512_reduce_add_ps(acc);
                    for (; i < CKK; i++) {
                        sum += col[i] * w_f[i];
                    }
                    output[((n * F + f) * OH + oh) * OW + ow] = sum;
                }
            }
        }
    }
}
