// depthwise_conv: input[N][H][W][C], weight[K][K][C], output[N][OH][OW][C], stride S, no padding;
// output[n][oh][ow][c] = sum_{kh,kw} input[n][oh*S+kh][ow*S+kw][c] * weight[kh][kw][c]; float32, AVX-512.
// Channels are contiguous in both input and weight (NHWC), so 16 channels are computed at once with
// FMAs over the K*K window; scalar tail for the last C % 16 channels.
extern "C" void depthwise_conv_kernel(const float* __restrict__ input, const float* __restrict__ weight, float* __restrict__ output)
{
    const int N = ${N};
    const int H = ${H};
    const int W = ${W};
    const int C = ${C};
    const int K = ${K};
    const int S = ${S};
    const int OH = ${OH};
    const int OW = ${OW};
    for (int n = 0; n < N; n++) {
        for (int oh = 0; oh < OH; oh++) {
            for (int ow = 0; ow < OW; ow++) {
                float* out_pixel = output + ((n * OH + oh) * OW + ow) * C;
                int c = 0;
                for (; c + 16 <= C; c += 16) {
                    __m512 acc = _mm512_setzero_ps();
                    for (int kh = 0; kh < K; kh++) {
                        for (int kw = 0; kw < K; kw++) {
                            const float* in_pixel = input + ((n * H + oh * S + kh) * W + ow * S + kw) * C;
                            const float* w_pixel = weight + (kh * K + kw) * C;
                            acc = _mm512_fmadd_ps(_mm512_loadu_ps(in_pixel + c), _mm512_loadu_ps(w_pixel + c), acc);
                        }
                    }
                    _mm512_storeu_ps(out_pixel + c, acc);
                }
                for (; c < C; c++) {
                    float acc = 0.0f;
                    for (int kh = 0; kh < K; kh++) {
                        for (int kw = 0; kw < K; kw++) {
                            acc += input[((n * H + oh * S + kh) * W + ow * S + kw) * C + c] * weight[(kh * K + kw) * C + c];
                        }
                    }
                    out_pixel[c] = acc;
                }
            }
        }
    }
}
