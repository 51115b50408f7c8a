// gemm_u8s8: C[M][N] = A[M][K] * B[K][N] with uint8 A, int8 B and exact int32 results (AVX-512 VNNI).
// B is first repacked into the VNNI layout Bp[K/4][N][4] (four consecutive k of one column n side by
// side, zero-padded when K is not a multiple of 4), so that one 64-byte load gives 16 columns x 4 k.
// _mm512_dpbusd_epi32 then multiplies those with 4 consecutive bytes of A[m] (broadcast to every
// 32-bit lane) and adds the four u8*s8 products to each int32 lane.
extern "C" void gemm_u8s8_kernel(const uint8_t* __restrict__ A, const int8_t* __restrict__ B, int32_t* __restrict__ C)
{
    const int M = ${M};
    const int K = ${K};
    const int N = ${N};
    const int K4 = (K + 3) / 4;
    int8_t Bp[((${K} + 3) / 4) * ${N} * 4];
    for (int k4 = 0; k4 < K4; k4++) {
        for (int n = 0; n < N; n++) {
            for (int j = 0; j < 4; j++) {
                const int k = k4 * 4 + j;
                Bp[(k4 * N + n) * 4 + j] = (k < K) ? B[k * N + n] : (int8_t)0;
            }
        }
    }
    for (int m = 0; m < M; m++) {
        const uint8_t* a_row = A + m * K;
        int32_t* c_row = C + m * N;
        // a4[k4]: the bytes A[m][4*k4 .. 4*k4+3] as one little-endian 32-bit word (zero-padded)
        int32_t a4[(${K} + 3) / 4];
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
                const __m512i a = _mm512_set1_epi32(a4[k4]);
                const __m512i b = _mm512_loadu_si512((const void*)(Bp + (k4 * N + n) * 4));
                acc = _mm512_dpbusd_epi32(acc, a, b);
            }
            _mm512_storeu_si512((void*)(c_row + n), acc);
        }
        // scalar tail: the last N % 16 columns
        for (; n < N; n++) {
            int32_t acc = 0;
            for (int k = 0; k < K; k++) {
                acc += (int32_t)a_row[k] * (int32_t)B[k * N + n];
            }
            c_row[n] = acc;
        }
    }
}
