// deformable_attention: single-level multi-scale deformable attention core (Deformable DETR;
// grid_sample with align_corners=False and zero padding).
// value[H*W][M][D], sampling_locations[Q][M][P][2] (x, y in [0, 1]), attention_weights[Q][M][P],
// output[Q][M][D]. For each query q and head m, every point p is sampled bilinearly at
// (x, y) = (lx*W - 0.5, ly*H - 0.5); corners outside the H x W map contribute 0, and each in-range
// corner adds attention_weight * bilinear_weight * value[yy][xx][m][0..D-1] to the accumulator.
// The corner coordinates are scalar (floorf); the D-long accumulation is AVX-512 (scalar tail D % 16).

static inline void axpy_row(float* __restrict__ acc, const float* __restrict__ v, float w, int n)
{
    const __m512 wv = _mm512_set1_ps(w);
    int d = 0;
    for (; d + 16 <= n; d += 16) {
        _mm512_storeu_ps(acc + d, _mm512_fmadd_ps(wv, _mm512_loadu_ps(v + d), _mm512_loadu_ps(acc + d)));
    }
    for (; d < n; d++) {
        acc[d] += w * v[d];
    }
}

extern "C" void deformable_attention_kernel(const float* __restrict__ value, const float* __restrict__ sampling_locations,
                                            const float* __restrict__ attention_weights, float* __restrict__ output)
{
    const int Q = 32;
    const int H = 8;
    const int W = 8;
    const int M = 4;
    const int D = 16;
    const int P = 4;
    float acc[16];
    for (int q = 0; q < Q; q++) {
        for (int m = 0; m < M; m++) {
            for (int d = 0; d < D; d++) {
                acc[d] = 0.0f;
            }
            for (int p = 0; p < P; p++) {
                const int qmp = (q * M + m) * P + p;
                const float a = attention_weights[qmp];
                const float x = sampling_locations[qmp * 2] * (float)W - 0.5f;
                const float y = sampling_locations[qmp * 2 + 1] * (float)H - 0.5f;
                const float x0f = floorf(x);
                const float y0f = floorf(y);
                const int x0 = (int)x0f;
                const int y0 = (int)y0f;
                const float fx = x - x0f;
                const float fy = y - y0f;
                const float corner_w[4] = { (1.0f - fy) * (1.0f - fx), (1.0f - fy) * fx, fy * (1.0f - fx), fy * fx };
                for (int corner = 0; corner < 4; corner++) {
                    const int yy = y0 + corner / 2;
                    const int xx = x0 + corner % 2;
                    if (yy >= 0 && yy < H && xx >= 0 && xx < W) {
                        axpy_row(acc, value + ((yy * W + xx) * M + m) * D, a * corner_w[corner], D);
                    }
                }
            }
            float* out = output + (q * M + m) * D;
            for (int d = 0; d < D; d++) {
                out[d] = acc[d];
            }
        }
    }
}
