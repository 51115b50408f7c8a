// gemv_u8s8: y[M] = A[M][K] * x[K] with int8 A, uint8 x and exact int32 y (AVX-512 VNNI).
// 64 bytes of x (unsigned) and 64 bytes of the row A[m] (signed) go into _mm512_dpbusd_epi32, which
// adds four u8*s8 products into each of the 16 int32 lanes; the lanes are then summed with a
// 512 -> 256 -> 128-bit horizontal reduction. The last K % 64 elements are done in scalar code.

static inline int32_t hsum_epi32(__m512i v)
{
    const __m256i s8 = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
    return _mm_cvtsi128_si32(s4);
}

extern "C" void gemv_u8s8_kernel(const int8_t* __restrict__ A, const uint8_t* __restrict__ x, int32_t* __restrict__ y)
{
    const int M = 256;
    const int K = 512;
    for (int m = 0; m < M; m++) {
        const int8_t* a_row = A + m * K;
        __m512i acc = _mm512_setzero_si512();
        int k = 0;
        for (; k + 64 <= K; k += 64) {
            const __m512i xv = _mm512_loadu_si512((const void*)(x + k));
            const __m512i av = _mm512_loadu_si512((const void*)(a_row + k));
            acc = _mm512_dpbusd_epi32(acc, xv, av);
        }
        int32_t sum = hsum_epi32(acc);
        for (; k < K; k++) {
            sum += (int32_t)a_row[k] * (int32_t)x[k];
        }
        y[m] = sum;
    }
}
