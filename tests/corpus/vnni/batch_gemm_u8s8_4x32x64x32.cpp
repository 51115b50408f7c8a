// batch_gemm_u8s8: C[b] = A[b] * B[b] for every batch b, uint8 A[B][M][K], int8 B[B][K][N],
// exact int32 C[B][M][N] (AVX-512 VNNI).
// Per batch, B[b] is repacked into the VNNI layout Bp[K/4][N][4] (four consecutive k of one column
// side by side, zero-padded), A[b][m] is read as 32-bit words of four consecutive k, and
// _mm512_dpbusd_epi32 accumulates the four u8*s8 products into each of 16 int32 column lanes.

static inline void matmul_one_u8s8(const uint8_t* __restrict__ a, const int8_t* __restrict__ b, int32_t* __restrict__ c)
{
    const int M = 32;
    const int K = 64;
    const int N = 32;
    const int K4 = (K + 3) / 4;
    int8_t bp[((64 + 3) / 4) * 32 * 4];
    for (int k4 = 0; k4 < K4; k4++) {
        for (int n = 0; n < N; n++) {
            for (int j = 0; j < 4; j++) {
                const int k = k4 * 4 + j;
                bp[(k4 * N + n) * 4 + j] = (k < K) ? b[k * N + n] : (int8_t)0;
            }
        }
    }
    for (int m = 0; m < M; m++) {
        const uint8_t* a_row = a + m * K;
        int32_t* c_row = c + m * N;
        int32_t a4[(64 + 3) / 4];
        for (int k4 = 0; k4 < K4; k4++) {
            int32_t word = 0;
            for (int j = 0; j < 4; j++) {
                const int k = k4 * 4 + j;
                const int32_t byte = (k < K) ? (int32_t)a_row[k] : 0;
                word = word | (byte << (8 * j));
            }
            a4[k4] = word;
        }
        int n = 0;
        for (; n + 16 <= N; n += 16) {
            __m512i acc = _mm512_setzero_si512();
            for (int k4 = 0; k4 < K4; k4++) {
                acc = _mm512_dpbusd_epi32(acc, _mm512_set1_epi32(a4[k4]),
                                          _mm512_loadu_si512((const void*)(bp + (k4 * N + n) * 4)));
            }
            _mm512_storeu_si512((void*)(c_row + n), acc);
        }
        // scalar tail: the last N % 16 columns
        for (; n < N; n++) {
            int32_t acc = 0;
            for (int k = 0; k < K; k++) {
                acc += (int32_t)a_row[k] * (int32_t)b[k * N + n];
            }
            c_row[n] = acc;
        }
    }
}

extern "C" void batch_gemm_u8s8_kernel(const uint8_t* __restrict__ A, const int8_t* __restrict__ B, int32_t* __restrict__ C)
{
    for (int batch = 0; batch < 4; batch++) {
        matmul_one_u8s8(A + batch * 32 * 64, B + batch * 64 * 32, C + batch * 32 * 32);
    }
}
