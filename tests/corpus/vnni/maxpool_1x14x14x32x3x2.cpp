// maxpool: input[N][H][W][C] -> output[N][OH][OW][C] (NHWC), the maximum over the KxK window at (oh*S, ow*S), no padding.
// Channels are contiguous, so 16 channels are pooled at once with AVX-512; scalar tail for C % 16.
extern "C" void maxpool_kernel(const float* __restrict__ input, float* __restrict__ output)
{
    const int N = 1;
    const int H = 14;
    const int W = 14;
    const int C = 32;
    const int K = 3;
    const int S = 2;
    const int OH = 6;
    const int OW = 6;
    for (int n = 0; n < N; n++) {
        for (int oh = 0; oh < OH; oh++) {
            for (int ow = 0; ow < OW; ow++) {
                const float* corner = input + ((n * H + oh * S) * W + ow * S) * C;
                float* out_pixel = output + ((n * OH + oh) * OW + ow) * C;
                int c = 0;
                for (; c + 16 <= C; c += 16) {
                    __m512 acc = _mm512_loadu_ps(corner + c);
                    for (int kh = 0; kh < K; kh++) {
                        for (int kw = 0; kw < K; kw++) {
                            acc = _mm512_max_ps(acc, _mm512_loadu_ps(corner + (kh * W + kw) * C + c));
                        }
                    }
                    _mm512_storeu_ps(out_pixel + c, acc);
                }
                for (; c < C; c++) {
                    float acc = corner[c];
                    for (int kh = 0; kh < K; kh++) {
                        for (int kw = 0; kw < K; kw++) {
                            const float v = corner[(kh * W + kw) * C + c];
                            acc = v > acc ? v : acc;
                        }
                    }
                    out_pixel[c] = acc;
                }
            }
        }
    }
}
