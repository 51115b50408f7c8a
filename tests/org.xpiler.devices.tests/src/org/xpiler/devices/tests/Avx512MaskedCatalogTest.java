package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.xpiler.devices.tests.NativeAgreement.assertBits;
import static org.xpiler.devices.tests.NativeAgreement.floatBits;
import static org.xpiler.devices.tests.NativeAgreement.ints;
import static org.xpiler.devices.tests.NativeAgreement.intsOf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.function.IntBinaryOperator;

import org.junit.jupiter.api.Test;

/**
 * The masked AVX-512 intrinsics of the C++ catalog (merge- and zero-masked arithmetic and fused multiply-add,
 * blends, moves and expands, integer compares into masks, mask logic and conversions, masked reductions) and
 * the layout, rounding, scaling, shift and narrowing intrinsics that hand-written kernels use beside them compute on
 * the virtual device, from their catalog references, the bits Intel defines: every result is compared bit for
 * bit with values computed here in Java and, where g++ and an AVX-512 CPU are available, with the same kernel
 * run natively.
 */
public class Avx512MaskedCatalogTest {
	private final NativeAgreement devices = new NativeAgreement();

	private static int bits(float f) {
		return Float.floatToRawIntBits(f);
	}

	private static float f(int bits) {
		return Float.intBitsToFloat(bits);
	}

	private static boolean nan(int bits) {
		return (bits & 0x7FFFFFFF) > 0x7F800000;
	}

	/**
	 * An SSE float operation in Java, NaN bits included: a NaN operand comes back quieted (the first one when
	 * both are), an invalid operation gives the x86 default NaN 0xFFC00000.
	 */
	private static int sse(int x, int y, IntBinaryOperator op) {
		if (nan(x)) {
			return x | 0x00400000;
		}
		if (nan(y)) {
			return y | 0x00400000;
		}
		int r = op.applyAsInt(x, y);
		return nan(r) ? 0xFFC00000 : r;
	}

	private static int fma(int a, int b, int c) {
		int r = bits(Math.fma(f(a), f(b), f(c)));
		return nan(r) ? 0xFFC00000 : r;
	}

	/**
	 * Float bit patterns that matter: signed zeros, infinities, NaNs with payloads, subnormals, extremes. The NaNs
	 * are quiet ones: the virtual device quiets a signalling NaN whenever it copies a float value (even a plain
	 * load and store), which g++ does not, so signalling NaNs would only test that.
	 */
	private static final int[] SPECIAL = { 0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7FC00001,
			0xFFC12345, 0x7FFFFFFF, 0x00000001, 0x807FFFFF, 0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000, 0xBF000000,
			0x4B000001, 0xCB7FFFFF };

	private static final int[] MASKS = { 0x0000, 0xFFFF, 0xA5C3, 0x8001 };

	/** 64 floats: specials in the first 16 lanes, finite random values after them. */
	private static int[] specialsThenRandom(long seed) {
		Random random = new Random(seed);
		int[] x = new int[64];
		for (int i = 0; i < 64; i++) {
			x[i] = i < 16 ? SPECIAL[i] : bits((random.nextFloat() * 2 - 1) * (1 << random.nextInt(12)));
		}
		return x;
	}

	@Test
	public void maskedArithmeticMergesOrZeroesTheUnselectedLanes() {
		String kernel = """
				extern "C" void masked_kernel(const float* a, const float* b, const float* c, const int32_t* masks, int32_t* out)
				{
				    for (int i = 0; i < 64; i += 16) {
				        __mmask16 k = (__mmask16)masks[i / 16];
				        __m512 x = _mm512_loadu_ps(a + i);
				        __m512 y = _mm512_loadu_ps(b + i);
				        __m512 z = _mm512_loadu_ps(c + i);
				        __m512 s = _mm512_set1_ps(-7.0f);
				        _mm512_storeu_ps((float*)out + i, _mm512_maskz_add_ps(k, x, y));
				        _mm512_storeu_ps((float*)out + 64 + i, _mm512_maskz_sub_ps(k, x, y));
				        _mm512_storeu_ps((float*)out + 128 + i, _mm512_maskz_mul_ps(k, x, y));
				        _mm512_storeu_ps((float*)out + 192 + i, _mm512_maskz_div_ps(k, x, y));
				        _mm512_storeu_ps((float*)out + 256 + i, _mm512_mask_add_ps(s, k, x, y));
				        _mm512_storeu_ps((float*)out + 320 + i, _mm512_mask_sub_ps(s, k, x, y));
				        _mm512_storeu_ps((float*)out + 384 + i, _mm512_mask_mul_ps(s, k, x, y));
				        _mm512_storeu_ps((float*)out + 448 + i, _mm512_mask_div_ps(s, k, x, y));
				        _mm512_storeu_ps((float*)out + 512 + i, _mm512_mask_fmadd_ps(y, k, z, x));
				        _mm512_storeu_ps((float*)out + 576 + i, _mm512_maskz_fmadd_ps(k, y, z, x));
				        _mm512_storeu_ps((float*)out + 640 + i, _mm512_mask3_fmadd_ps(y, z, x, k));
				        _mm512_storeu_ps((float*)out + 704 + i, _mm512_mask_mov_ps(s, k, x));
				        _mm512_storeu_ps((float*)out + 768 + i, _mm512_maskz_mov_ps(k, x));
				        _mm512_storeu_ps((float*)out + 832 + i, _mm512_mask_expand_ps(s, k, x));
				        _mm512_storeu_ps((float*)out + 896 + i, _mm512_maskz_expand_ps(k, x));
				        __m512i xi = _mm512_castps_si512(x);
				        __m512i si = _mm512_set1_epi32(-9);
				        _mm512_storeu_si512(out + 960 + i, _mm512_mask_blend_epi32(k, xi, _mm512_castps_si512(y)));
				        _mm512_storeu_si512(out + 1024 + i, _mm512_mask_mov_epi32(si, k, xi));
				        _mm512_storeu_si512(out + 1088 + i, _mm512_maskz_mov_epi32(k, xi));
				    }
				}
				""";
		int[] a = specialsThenRandom(5);
		int[] b = specialsThenRandom(6);
		int[] c = specialsThenRandom(7);
		// a second block with b special and a finite: each lane has at most one NaN, whose bits x86 returns
		for (int i = 0; i < 16; i++) {
			b[16 + i] = SPECIAL[(i + 5) % 16];
			c[i] = a[16 + i];
			c[16 + i] = SPECIAL[i];
		}
		b[0] = 0; // 0 / 0 and a few invalid operations give the default NaN
		b[2] = 0xFF800000;
		int[] out = intsOf(devices.run("masked.cpp", kernel, floatBits("a", a), floatBits("b", b), floatBits("c", c),
				ints("masks", MASKS), ints("out", new int[1152])).get(4));
		int[] expected = new int[1152];
		int s = bits(-7.0f);
		for (int blk = 0; blk < 4; blk++) {
			int k = MASKS[blk];
			int m = 0;
			for (int l = 0; l < 16; l++) {
				int i = 16 * blk + l;
				boolean on = (k >> l & 1) != 0;
				int x = a[i];
				int y = b[i];
				int z = c[i];
				int add = sse(x, y, (p, q) -> bits(f(p) + f(q)));
				int sub = sse(x, y, (p, q) -> bits(f(p) - f(q)));
				int mul = sse(x, y, (p, q) -> bits(f(p) * f(q)));
				int div = sse(x, y, (p, q) -> bits(f(p) / f(q)));
				expected[i] = on ? add : 0;
				expected[64 + i] = on ? sub : 0;
				expected[128 + i] = on ? mul : 0;
				expected[192 + i] = on ? div : 0;
				expected[256 + i] = on ? add : s;
				expected[320 + i] = on ? sub : s;
				expected[384 + i] = on ? mul : s;
				expected[448 + i] = on ? div : s;
				if (on && (nan(x) || nan(y) || nan(z))) {
					// which NaN an FMA returns depends on the instruction form the compiler picks: only natively checked
					expected[512 + i] = out[512 + i];
					expected[576 + i] = out[576 + i];
					expected[640 + i] = out[640 + i];
				} else {
					int fma = fma(y, z, x);
					expected[512 + i] = on ? fma : y;
					expected[576 + i] = on ? fma : 0;
					expected[640 + i] = on ? fma : x;
				}
				expected[704 + i] = on ? x : s;
				expected[768 + i] = on ? x : 0;
				expected[832 + i] = on ? a[16 * blk + m] : s;
				expected[896 + i] = on ? a[16 * blk + m] : 0;
				if (on) {
					m++;
				}
				expected[960 + i] = on ? y : x;
				expected[1024 + i] = on ? x : -9;
				expected[1088 + i] = on ? x : 0;
			}
		}
		assertBits(expected, out, "masked arithmetic, moves, expands and blends");
	}

	@Test
	public void integerComparesAndMaskLogicProduceTheIntelBits() {
		String kernel = """
				extern "C" void compare_kernel(const int32_t* a, const int32_t* b, const int32_t* masks, int32_t* out)
				{
				    for (int r = 0; r < 2; ++r) {
				        __m512i x = _mm512_loadu_si512(a + 16 * r);
				        __m512i y = _mm512_loadu_si512(b + 16 * r);
				        int32_t* o = out + 32 * r;
				        o[0] = _mm512_cmpeq_epi32_mask(x, y);
				        o[1] = _mm512_cmpneq_epi32_mask(x, y);
				        o[2] = _mm512_cmplt_epi32_mask(x, y);
				        o[3] = _mm512_cmple_epi32_mask(x, y);
				        o[4] = _mm512_cmpgt_epi32_mask(x, y);
				        o[5] = _mm512_cmpge_epi32_mask(x, y);
				        o[6] = _mm512_cmp_epi32_mask(x, y, _MM_CMPINT_EQ);
				        o[7] = _mm512_cmp_epi32_mask(x, y, _MM_CMPINT_LT);
				        o[8] = _mm512_cmp_epi32_mask(x, y, _MM_CMPINT_LE);
				        o[9] = _mm512_cmp_epi32_mask(x, y, 3);
				        o[10] = _mm512_cmp_epi32_mask(x, y, _MM_CMPINT_NE);
				        o[11] = _mm512_cmp_epi32_mask(x, y, _MM_CMPINT_NLT);
				        o[12] = _mm512_cmp_epi32_mask(x, y, _MM_CMPINT_NLE);
				        o[13] = _mm512_cmp_epi32_mask(x, y, 7);
				        o[14] = _mm512_cmp_epi32_mask(x, y, _MM_CMPINT_GE);
				        o[15] = _mm512_cmp_epi32_mask(x, y, _MM_CMPINT_GT);
				        __mmask16 p = _cvtu32_mask16((unsigned int)masks[2 * r]);
				        __mmask16 q = _cvtu32_mask16((unsigned int)masks[2 * r + 1]);
				        o[16] = _cvtmask16_u32(_mm512_kand(p, q));
				        o[17] = _cvtmask16_u32(_mm512_kor(p, q));
				        o[18] = _cvtmask16_u32(_mm512_kxor(p, q));
				        o[19] = _cvtmask16_u32(_mm512_kandn(p, q));
				        o[20] = _cvtmask16_u32(_mm512_knot(p));
				        o[21] = _cvtmask16_u32(p);
				        o[22] = _cvtmask16_u32(_mm512_kand(_mm512_cmpgt_epi32_mask(x, y), _mm512_knot(q)));
				    }
				}
				""";
		int[] a = { Integer.MIN_VALUE, Integer.MAX_VALUE, -1, 0, 1, 5, -5, 7, 7, -123456, 0x40000000, 3, 3, -3, 0, 100,
				9, -9, 0x7FFFFFFE, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
		int[] b = { Integer.MAX_VALUE, Integer.MIN_VALUE, 0, -1, 1, 5, -4, 7, 8, -123456, -0x40000000, 3, 4, -3, 0, -100,
				9, 9, 0x7FFFFFFF, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
		int[] masks = { 0xF0F0, 0x3C3C, 0x12345, 0xFFFF0001 };
		int[] out = intsOf(devices.run("compare.cpp", kernel, ints("a", a), ints("b", b), ints("masks", masks),
				ints("out", new int[64])).get(3));
		int[] expected = new int[64];
		for (int r = 0; r < 2; r++) {
			int[] cmp = new int[8];
			for (int l = 0; l < 16; l++) {
				int x = a[16 * r + l];
				int y = b[16 * r + l];
				boolean[] holds = { x == y, x < y, x <= y, false, x != y, x >= y, x > y, true };
				for (int p = 0; p < 8; p++) {
					cmp[p] |= holds[p] ? 1 << l : 0;
				}
			}
			int o = 32 * r;
			int[] named = { cmp[0], cmp[4], cmp[1], cmp[2], cmp[6], cmp[5] };
			System.arraycopy(named, 0, expected, o, 6);
			System.arraycopy(cmp, 0, expected, o + 6, 8);
			expected[o + 14] = cmp[5];
			expected[o + 15] = cmp[6];
			int p = masks[2 * r] & 0xFFFF;
			int q = masks[2 * r + 1] & 0xFFFF;
			expected[o + 16] = p & q;
			expected[o + 17] = p | q;
			expected[o + 18] = p ^ q;
			expected[o + 19] = ~p & q & 0xFFFF;
			expected[o + 20] = ~p & 0xFFFF;
			expected[o + 21] = p;
			expected[o + 22] = cmp[6] & ~q & 0xFFFF;
		}
		assertBits(expected, out, "compare masks and mask logic");
	}

	/** The reduction tree of GCC's _mm512_reduce_*_ps: i + 8 with i, i + 4 with i, i with i + 2, then the pair. */
	private static float tree(float[] t, java.util.function.BinaryOperator<Float> op) {
		float[] s = new float[8];
		for (int j = 0; j < 8; j++) {
			s[j] = op.apply(t[j + 8], t[j]);
		}
		for (int j = 0; j < 4; j++) {
			s[j] = op.apply(s[j + 4], s[j]);
		}
		for (int j = 0; j < 2; j++) {
			s[j] = op.apply(s[j], s[j + 2]);
		}
		return op.apply(s[0], s[1]);
	}

	@Test
	public void maskedReductionsFillTheUnselectedLanesWithTheIdentity() {
		int[] masks = { 0x0000, 0xFFFF, 0x0001, 0x8000, 0xA5C3, 0x0FF0, 0x7FFE, 0x1248 };
		String kernel = """
				extern "C" void reduce_kernel(const float* a, const int32_t* masks, float* out)
				{
				    for (int r = 0; r < 4; ++r) {
				        __m512 x = _mm512_loadu_ps(a + 16 * r);
				        for (int j = 0; j < 8; ++j) {
				            __mmask16 k = (__mmask16)masks[j];
				            out[3 * (8 * r + j)] = _mm512_mask_reduce_add_ps(k, x);
				            out[3 * (8 * r + j) + 1] = _mm512_mask_reduce_max_ps(k, x);
				            out[3 * (8 * r + j) + 2] = _mm512_mask_reduce_min_ps(k, x);
				        }
				    }
				}
				""";
		Random random = new Random(9);
		int[] a = new int[64];
		for (int i = 0; i < 64; i++) {
			a[i] = bits((random.nextFloat() - 0.5f) * (1 << random.nextInt(20)));
		}
		// signed zeros decide max and min ties; rounding makes the order of the additions visible
		int[] zeros = { 0x80000000, 0x00000000, 0x80000000, 0x80000000, 0x00000000, 0x80000000, 0x00000000, 0x00000000,
				0x80000000, 0x80000000, 0x00000000, 0x80000000, 0x00000000, 0x00000000, 0x80000000, 0x80000000 };
		System.arraycopy(zeros, 0, a, 16, 16);
		a[32] = bits(1.0e8f);
		a[40] = bits(-1.0e8f);
		a[33] = bits(3.0f);
		a[48] = 0x7F800000;
		a[50] = 0xFF800000;
		int[] out = intsOf(devices.run("reduce.cpp", kernel, floatBits("a", a), ints("masks", masks),
				FloatBuffers.floats("out", new float[96])).get(2));
		int[] expected = new int[96];
		for (int r = 0; r < 4; r++) {
			for (int j = 0; j < 8; j++) {
				float[] sum = new float[16];
				float[] max = new float[16];
				float[] min = new float[16];
				for (int l = 0; l < 16; l++) {
					boolean on = (masks[j] >> l & 1) != 0;
					sum[l] = on ? f(a[16 * r + l]) : 0.0f;
					max[l] = on ? f(a[16 * r + l]) : Float.NEGATIVE_INFINITY;
					min[l] = on ? f(a[16 * r + l]) : Float.POSITIVE_INFINITY;
				}
				int o = 3 * (8 * r + j);
				expected[o] = bits(tree(sum, (p, q) -> p + q));
				expected[o + 1] = bits(tree(max, (p, q) -> p > q ? p : q));
				expected[o + 2] = bits(tree(min, (p, q) -> p < q ? p : q));
			}
		}
		assertBits(expected, out, "masked reductions (add, max, min) for each mask");
	}

	@Test
	public void layoutIntrinsicsPlaceEveryLane() {
		String kernel = """
				extern "C" void layout_kernel(const float* a, const float* b, float* out)
				{
				    __m512 x = _mm512_loadu_ps(a);
				    __m256 h = _mm256_loadu_ps(b);
				    __m128 q = _mm_loadu_ps(b + 8);
				    _mm512_storeu_ps(out, _mm512_set_ps(a[0], 1.5f, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, -0.0f, a[1]));
				    _mm512_storeu_ps(out + 16, _mm512_setr_ps(a[0], 1.5f, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, -0.0f, a[1]));
				    _mm256_storeu_ps(out + 32, _mm512_castps512_ps256(_mm512_castps256_ps512(h)));
				    _mm512_storeu_ps(out + 40, _mm512_zextps256_ps512(h));
				    _mm512_storeu_ps(out + 56, _mm512_insertf32x8(x, h, 0));
				    _mm512_storeu_ps(out + 72, _mm512_insertf32x8(x, h, 1));
				    _mm512_storeu_ps(out + 88, _mm512_broadcast_f32x4(q));
				    _mm512_storeu_ps(out + 104, _mm512_broadcast_f32x8(h));
				    _mm256_storeu_ps(out + 120, _mm512_extractf32x8_ps(_mm512_insertf32x8(x, _mm256_set1_ps(2.5f), 1), 1));
				    _mm256_storeu_ps(out + 128, _mm512_extractf32x8_ps(x, 0));
				    _mm512_storeu_ps(out + 136, _mm512_movehdup_ps(x));
				    _mm512_storeu_ps(out + 152, _mm512_moveldup_ps(x));
				}
				""";
		int[] a = specialsThenRandom(13);
		int[] b = specialsThenRandom(14);
		int[] aa = java.util.Arrays.copyOf(a, 16);
		int[] bb = java.util.Arrays.copyOfRange(b, 16, 32);
		System.arraycopy(SPECIAL, 8, bb, 0, 4); // keeps the signalling NaNs out of scalar float arguments
		int[] out = intsOf(devices.run("layout.cpp", kernel, floatBits("a", aa), floatBits("b", bb),
				FloatBuffers.floats("out", new float[168])).get(2));
		int[] expected = new int[168];
		float[] set = { f(aa[0]), 1.5f, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, -0.0f, f(aa[1]) };
		for (int i = 0; i < 16; i++) {
			expected[i] = bits(set[15 - i]);
			expected[16 + i] = bits(set[i]);
			expected[40 + i] = i < 8 ? bb[i] : 0;
			expected[56 + i] = i < 8 ? bb[i] : aa[i];
			expected[72 + i] = i < 8 ? aa[i] : bb[i - 8];
			expected[88 + i] = bb[8 + (i & 3)];
			expected[104 + i] = bb[i & 7];
			expected[136 + i] = aa[i | 1];
			expected[152 + i] = aa[i & ~1];
		}
		for (int j = 0; j < 8; j++) {
			expected[32 + j] = bb[j];
			expected[120 + j] = bits(2.5f);
			expected[128 + j] = aa[j];
		}
		assertBits(expected, out, "sets, casts, inserts, extracts, broadcasts and duplicates");
	}

	@Test
	public void roundingShiftsAndNarrowingFollowIntel() {
		String kernel = """
				extern "C" void misc_kernel(const float* a, const float* b, const int32_t* v, const int32_t* counts, int32_t* out)
				{
				    for (int i = 0; i < 64; i += 16) {
				        __m512 x = _mm512_loadu_ps(a + i);
				        __m512 y = _mm512_loadu_ps(b + i);
				        _mm512_storeu_ps((float*)out + i, _mm512_floor_ps(x));
				        _mm512_storeu_ps((float*)out + 64 + i, _mm512_ceil_ps(x));
				        _mm512_storeu_ps((float*)out + 128 + i, _mm512_fmaddsub_ps(y, y, x));
				        _mm512_storeu_ps((float*)out + 192 + i, _mm512_fmsubadd_ps(y, y, x));
				        _mm512_storeu_ps((float*)out + 366 + i, _mm512_fmsub_ps(y, y, x));
				        _mm512_storeu_ps((float*)out + 430 + i, _mm512_fnmadd_ps(x, y, y));
				    }
				    for (int c = 0; c < 2; ++c) {
				        __m512i w = _mm512_loadu_si512(v);
				        __m512i n = _mm512_loadu_si512(counts + 16 * c);
				        _mm512_storeu_si512(out + 256 + 48 * c, _mm512_sllv_epi32(w, n));
				        _mm512_storeu_si512(out + 272 + 48 * c, _mm512_srlv_epi32(w, n));
				        _mm512_storeu_si512(out + 288 + 48 * c, _mm512_srav_epi32(w, n));
				    }
				    __m512i w = _mm512_loadu_si512(v);
				    _mm_storeu_si128((__m128i*)(out + 352), _mm512_cvtepi32_epi8(w));
				    _mm_storeu_si128((__m128i*)(out + 356), _mm512_cvtsepi32_epi8(w));
				    _mm_storeu_si128((__m128i*)(out + 360), _mm512_cvtusepi32_epi8(w));
				    out[364] = _mm_cvtsi128_si32(_mm512_cvtsepi32_epi8(w));
				    out[365] = _mm_cvtsi128_si32(_mm512_cvtepi32_epi8(_mm512_srav_epi32(w, _mm512_set1_epi32(1))));
				}
				""";
		int[] a = specialsThenRandom(21);
		float[] ties = { 0.5f, -0.5f, 1.5f, -2.5f, -0.3f, 0.3f, 1.25f, -1.375f, 2.5e-8f, -2.5e-8f, 3e38f, 8388609f,
				-8388607.5f, 0.99999994f, -0.99999994f, -1.0f };
		for (int i = 0; i < 16; i++) {
			a[16 + i] = bits(ties[i]);
		}
		int[] b = specialsThenRandom(22);
		for (int i = 0; i < 16; i++) {
			b[i] = b[32 + i]; // the fused forms get NaNs only from their addend
		}
		int[] v = { Integer.MIN_VALUE, Integer.MAX_VALUE, -1, 0, 1, 127, 128, -128, -129, 255, 256, -255, 0x12345678,
				0x87654321, 300, -300 };
		int[] counts = { 0, 1, 2, 7, 8, 15, 16, 30, 31, 32, 33, 100, -1, Integer.MIN_VALUE, 5, 63, 31, 1, 0, 33, 4, 3,
				2, 1, 0, 31, 30, 29, 28, 27, 26, 25 };
		int[] out = intsOf(devices.run("misc.cpp", kernel, floatBits("a", a), floatBits("b", b), ints("v", v),
				ints("counts", counts), ints("out", new int[494])).get(4));
		int[] expected = new int[494];
		for (int i = 0; i < 64; i++) {
			float x = f(a[i]);
			expected[i] = nan(a[i]) ? a[i] | 0x00400000 : bits((float) Math.floor(x));
			expected[64 + i] = nan(a[i]) ? a[i] | 0x00400000 : bits((float) Math.ceil(x));
			boolean odd = (i & 1) != 0;
			// a NaN addend comes back as it is, not negated by the subtracting lanes
			expected[128 + i] = nan(a[i]) ? a[i] | 0x00400000 : fma(b[i], b[i], odd ? a[i] : a[i] ^ 0x80000000);
			expected[192 + i] = nan(a[i]) ? a[i] | 0x00400000 : fma(b[i], b[i], odd ? a[i] ^ 0x80000000 : a[i]);
			// the same holds for the negated operand of fmsub and fnmadd
			expected[366 + i] = nan(a[i]) ? a[i] | 0x00400000 : fma(b[i], b[i], a[i] ^ 0x80000000);
			expected[430 + i] = nan(a[i]) ? a[i] | 0x00400000 : fma(a[i] ^ 0x80000000, b[i], b[i]);
		}
		for (int c = 0; c < 2; c++) {
			for (int l = 0; l < 16; l++) {
				long n = counts[16 * c + l] & 0xFFFFFFFFL;
				expected[256 + 48 * c + l] = n > 31 ? 0 : v[l] << n;
				expected[272 + 48 * c + l] = n > 31 ? 0 : v[l] >>> n;
				expected[288 + 48 * c + l] = v[l] >> Math.min(n, 31);
			}
		}
		byte[] trunc = new byte[16];
		byte[] sat = new byte[16];
		byte[] usat = new byte[16];
		for (int l = 0; l < 16; l++) {
			trunc[l] = (byte) v[l];
			sat[l] = (byte) Math.max(-128, Math.min(127, v[l]));
			usat[l] = (byte) Math.min(255L, v[l] & 0xFFFFFFFFL);
		}
		int[][] packed = { packed(trunc), packed(sat), packed(usat) };
		for (int p = 0; p < 3; p++) {
			System.arraycopy(packed[p], 0, expected, 352 + 4 * p, 4);
		}
		expected[364] = packed[1][0];
		byte[] halves = new byte[4];
		for (int l = 0; l < 4; l++) {
			halves[l] = (byte) (v[l] >> 1);
		}
		expected[365] = packed(halves)[0];
		assertBits(expected, out, "floor, ceil, fmaddsub, fmsubadd, variable shifts, narrowing, fmsub and fnmadd");
	}

	@Test
	public void scalefFollowsIntelsSpecialCases() {
		int[] values = { 0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC12345, 0x00000001, 0x807FFFFF,
				0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000, 0xBF000000, 0x4B000001, 0xCB7FFFFF, 0x00400000, 0x3FC00000, 0x40490FDB,
				0xC2F60000, 0x3EFFFFFF, 0x43160000, 0xC3160000, 0x42FE0000, 0xC2FE0000, 0xC3200000, 0x3F7FFFFF, 0xBFC00000,
				0x41200000, 0xC1A00000, 0x4E6E6B28, 0xCE6E6B28, 0x00800000, 0x80000001 };
		int n = values.length;
		int[] a = new int[n * n];
		int[] b = new int[n * n];
		for (int i = 0; i < n; i++) {
			for (int j = 0; j < n; j++) {
				a[n * i + j] = values[i];
				b[n * i + j] = values[j];
			}
		}
		String kernel = """
				extern "C" void scalef_kernel(const float* a, const float* b, int32_t* out)
				{
				    for (int i = 0; i < %d; i += 16) {
				        __m512 x = _mm512_loadu_ps(a + i);
				        _mm512_storeu_ps((float*)out + i, _mm512_scalef_ps(x, _mm512_loadu_ps(b + i)));
				    }
				}
				""".formatted(n * n);
		int[] out = intsOf(devices.run("scalef.cpp", kernel, floatBits("a", a), floatBits("b", b), ints("out", new int[n * n]))
				.get(2));
		int[] expected = new int[n * n];
		for (int i = 0; i < n * n; i++) {
			expected[i] = scalef(a[i], b[i]);
		}
		assertBits(expected, out, "vscalefps over all pairs of special and rounding-sensitive values");
	}

	/** Intel's vscalefps: a * 2^floor(b) rounded once, with the special cases of its table (quiet NaNs only). */
	private static int scalef(int a, int b) {
		float x = f(a);
		float y = f(b);
		if (nan(a)) {
			return Float.isInfinite(y) ? (y > 0 ? 0x7F800000 : 0) : a | 0x00400000;
		}
		if (nan(b)) {
			return b | 0x00400000;
		}
		if (x == 0 || Float.isInfinite(x)) {
			return Float.isInfinite(y) && (x == 0) == (y > 0) ? 0xFFC00000 : a;
		}
		if (Float.isInfinite(y)) {
			return bits(Math.copySign(y > 0 ? Float.POSITIVE_INFINITY : 0.0f, x));
		}
		int k = (int) Math.max(-400, Math.min(400, Math.floor(y)));
		return bits((float) Math.scalb((double) x, k));
	}

	private static int[] packed(byte[] bytes) {
		ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
		int[] words = new int[bytes.length / 4];
		for (int i = 0; i < words.length; i++) {
			words[i] = b.getInt(4 * i);
		}
		return words;
	}
}
