package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.xpiler.devices.tests.NativeAgreement.assertBits;
import static org.xpiler.devices.tests.NativeAgreement.floatBits;
import static org.xpiler.devices.tests.NativeAgreement.ints;
import static org.xpiler.devices.tests.NativeAgreement.intsOf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.xpiler.core.vm.Argument;
import org.xpiler.core.vm.ElementType;

/**
 * The AVX-512 intrinsics the C++ catalog gained from field kernels (bitwise operations and casts, gathers,
 * valignd, half conversions with their rounding controls, roundscale, integer lane operations) compute on the
 * virtual device, from their catalog references, the bits Intel defines: every result is compared bit for
 * bit with values computed here in Java, and, where g++ and an AVX-512 CPU are available, with the same
 * kernel run natively.
 */
public class Avx512CatalogTest {
	private final NativeAgreement devices = new NativeAgreement();

	private static Argument.Buffer halves(String name, int count) {
		return new Argument.Buffer(name, ElementType.U16, new byte[count * 2]);
	}

	private static int[] halvesOf(Argument.Buffer buffer) {
		ByteBuffer bytes = ByteBuffer.wrap(buffer.contents()).order(ByteOrder.LITTLE_ENDIAN);
		int[] values = new int[buffer.contents().length / 2];
		for (int i = 0; i < values.length; i++) {
			values[i] = bytes.getShort(i * 2) & 0xFFFF;
		}
		return values;
	}

	/** Float bit patterns that matter: signed zeros, infinities, quiet and signalling NaNs, subnormals, extremes. */
	private static final int[] SPECIAL = { 0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001,
			0xFF812345, 0x7FBFFFFF, 0x00000001, 0x807FFFFF, 0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000, 0xBF000000,
			0x4B000001, 0xCB7FFFFF };

	@Test
	public void castsAndBitwiseOperationsMoveBitsWithoutConverting() {
		String kernel = """
				extern "C" void bits_kernel(const int32_t* a, const int32_t* b, int32_t* out)
				{
				    for (int i = 0; i < 32; i += 16) {
				        __m512i x = _mm512_loadu_si512(a + i);
				        __m512i y = _mm512_loadu_si512(b + i);
				        __m512 fx = _mm512_castsi512_ps(x);
				        __m512 fy = _mm512_castsi512_ps(y);
				        _mm512_storeu_si512(out + i, _mm512_and_si512(x, y));
				        _mm512_storeu_si512(out + 32 + i, _mm512_or_si512(x, y));
				        _mm512_storeu_si512(out + 64 + i, _mm512_xor_epi32(x, y));
				        _mm512_storeu_si512(out + 96 + i, _mm512_andnot_epi32(x, y));
				        _mm512_storeu_si512(out + 128 + i, _mm512_castps_si512(_mm512_and_ps(fx, fy)));
				        _mm512_storeu_si512(out + 160 + i, _mm512_castps_si512(_mm512_xor_ps(fx, _mm512_set1_ps(-0.0f))));
				        _mm512_storeu_si512(out + 192 + i, _mm512_castps_si512(_mm512_andnot_ps(_mm512_set1_ps(-0.0f), fx)));
				        _mm512_storeu_si512(out + 224 + i, _mm512_castps_si512(_mm512_or_ps(fx, fy)));
				        _mm512_storeu_si512(out + 256 + i, _mm512_castps_si512(fx));
				    }
				}
				""";
		int[] a = new int[32];
		int[] b = new int[32];
		Random random = new Random(7);
		for (int i = 0; i < 32; i++) {
			a[i] = i < 16 ? SPECIAL[i] : random.nextInt();
			b[i] = random.nextInt();
		}
		int[] out = intsOf(devices.run("bits.cpp", kernel, ints("a", a), ints("b", b), ints("out", new int[288])).get(2));
		int[] expected = new int[288];
		for (int i = 0; i < 32; i++) {
			expected[i] = a[i] & b[i];
			expected[32 + i] = a[i] | b[i];
			expected[64 + i] = a[i] ^ b[i];
			expected[96 + i] = ~a[i] & b[i];
			expected[128 + i] = a[i] & b[i];
			expected[160 + i] = a[i] ^ 0x80000000;
			expected[192 + i] = a[i] & 0x7FFFFFFF;
			expected[224 + i] = a[i] | b[i];
			expected[256 + i] = a[i];
		}
		assertBits(expected, out, "bitwise results, signalling NaNs included, keep every bit");
	}

	@Test
	public void gathersReadTheIndexedElementsAndMaskedGathersOnlyTheSelectedOnes() {
		String kernel = """
				extern "C" void gather_kernel(const float* x, const int32_t* idx, const int32_t* w, int32_t* out)
				{
				    for (int i = 0; i < 64; i += 16) {
				        __m512i v = _mm512_loadu_si512(idx + i);
				        _mm512_storeu_si512(out + i, _mm512_castps_si512(_mm512_i32gather_ps(v, x, 4)));
				        _mm512_storeu_si512(out + 64 + i, _mm512_i32gather_epi32(_mm512_slli_epi32(v, 2), x, 1));
				        _mm512_storeu_si512(out + 128 + i, _mm512_i32gather_epi32(_mm512_srli_epi32(v, 1), (const int*)x, 8));
				        __m512i wild = _mm512_loadu_si512(w + i);
				        __m512 src = _mm512_set1_ps(-7.0f);
				        _mm512_storeu_si512(out + 192 + i, _mm512_castps_si512(_mm512_mask_i32gather_ps(src, 0xF0F0, wild, x, 4)));
				        _mm512_storeu_si512(out + 256 + i, _mm512_mask_i32gather_epi32(v, 0xF0F0, wild, x + 16, 2));
				    }
				}
				""";
		Random random = new Random(11);
		int[] x = new int[64];
		int[] idx = new int[64];
		int[] wild = new int[64];
		for (int i = 0; i < 64; i++) {
			x[i] = Float.floatToRawIntBits(random.nextFloat() * 2 - 1);
			idx[i] = i % 16 == 0 ? 63 : random.nextInt(64);
			// the lanes the masks leave out index far outside the buffer: they must not be read
			wild[i] = (0xF0F0 >> i % 16 & 1) != 0 ? idx[i] : 1_000_000 - 2_000_000 * (i % 2);
		}
		x[5] = 0x7F800001; // a signalling NaN is gathered bit for bit
		idx[1] = 5;
		idx[2] = 0;
		List<Argument.Buffer> buffers = new ArrayList<>();
		buffers.add(floatBits("x", x));
		buffers.add(ints("idx", idx));
		buffers.add(ints("w", wild));
		buffers.add(ints("out", new int[320]));
		int[] out = intsOf(devices.run("gather.cpp", kernel, buffers.toArray(Argument.Buffer[]::new)).get(3));
		int[] expected = new int[320];
		for (int i = 0; i < 64; i++) {
			int lane = i % 16;
			boolean selected = (0xF0F0 >> lane & 1) != 0;
			expected[i] = x[idx[i]];
			expected[64 + i] = x[idx[i]];
			expected[128 + i] = x[2 * (idx[i] >>> 1)];
			expected[192 + i] = selected ? x[idx[i]] : Float.floatToRawIntBits(-7.0f);
			expected[256 + i] = selected ? halfWord(x, 32 + idx[i]) : idx[i];
		}
		assertBits(expected, out, "gathered lanes; masked-off lanes hold indices far outside the buffer");
	}

	/** The 32-bit value at 16-bit offset {@code h} of the little-endian words {@code x}. */
	private static int halfWord(int[] x, int h) {
		int lo = h % 2 == 0 ? x[h / 2] & 0xFFFF : x[h / 2] >>> 16;
		int hi = h % 2 == 0 ? x[h / 2] >>> 16 : x[h / 2 + 1] & 0xFFFF;
		return lo | hi << 16;
	}

	@Test
	public void alignrShiftsTheConcatenationByWholeLanesModuloSixteen() {
		int[] imms = { 0, 1, 5, 15, 16, 19, 255 };
		StringBuilder kernel = new StringBuilder("""
				extern "C" void align_kernel(const int32_t* a, const int32_t* b, int32_t* out)
				{
				    __m512i va = _mm512_loadu_si512(a);
				    __m512i vb = _mm512_loadu_si512(b);
				""");
		for (int k = 0; k < imms.length; k++) {
			kernel.append("    _mm512_storeu_si512(out + " + 16 * k + ", _mm512_alignr_epi32(va, vb, " + imms[k] + "));\n");
		}
		kernel.append("}\n");
		int[] a = new int[16];
		int[] b = new int[16];
		for (int i = 0; i < 16; i++) {
			a[i] = 100 + i;
			b[i] = -1 - i;
		}
		int[] out = intsOf(devices.run("align.cpp", kernel.toString(), ints("a", a), ints("b", b),
				ints("out", new int[16 * imms.length])).get(2));
		int[] expected = new int[16 * imms.length];
		for (int k = 0; k < imms.length; k++) {
			int s = imms[k] & 15;
			for (int i = 0; i < 16; i++) {
				expected[16 * k + i] = i + s < 16 ? b[i + s] : a[i + s - 16];
			}
		}
		assertBits(expected, out, "valignd: lane i of the result is lane i + (imm8 & 15) of a:b");
	}

	@Test
	public void cvtphPsWidensEveryHalfExactly() {
		String kernel = """
				extern "C" void widen_kernel(const uint16_t* h, int32_t* out)
				{
				    for (int i = 0; i < 65536; i += 16)
				        _mm512_storeu_si512(out + i, _mm512_castps_si512(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(h + i)))));
				}
				""";
		ByteBuffer all = ByteBuffer.allocate(2 * 65536).order(ByteOrder.LITTLE_ENDIAN);
		for (int h = 0; h < 65536; h++) {
			all.putShort((short) h);
		}
		int[] out = intsOf(devices.run("widen.cpp", kernel, new Argument.Buffer("h", ElementType.U16, all.array()),
				ints("out", new int[65536])).get(1));
		int[] expected = new int[65536];
		for (int h = 0; h < 65536; h++) {
			boolean nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
			expected[h] = nan ? (h & 0x8000) << 16 | 0x7FC00000 | (h & 0x3FF) << 13
					: Float.floatToRawIntBits(Float.float16ToFloat((short) h));
		}
		assertBits(expected, out, "vcvtph2ps of every half (signalling NaNs become quiet)");
	}

	private static final int NEAREST = 0;
	private static final int DOWN = 1;
	private static final int UP = 2;
	private static final int ZERO = 3;

	/** vcvtps2ph in Java: the nearest half from Float.floatToFloat16, stepped once where the direction asks. */
	private static int toHalf(int bits, int mode) {
		float x = Float.intBitsToFloat(bits);
		if (Float.isNaN(x)) {
			return (bits >>> 16 & 0x8000) | 0x7E00 | (bits >>> 13 & 0x3FF);
		}
		int h = Float.floatToFloat16(x) & 0xFFFF;
		float back = Float.float16ToFloat((short) h);
		boolean negative = (h & 0x8000) != 0;
		if (mode == DOWN && back > x || mode == UP && back < x) {
			boolean magnitudeUp = (mode == DOWN) == negative;
			h = magnitudeUp ? h + 1 : h - 1;
		} else if (mode == ZERO && Math.abs(back) > Math.abs(x)) {
			h = h - 1;
		}
		return h;
	}

	@Test
	public void cvtpsPhRoundsAsItsRoundingControlSays() {
		int[] modes = { NEAREST, DOWN, UP, ZERO, NEAREST };
		String[] controls = { "_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC", "_MM_FROUND_TO_NEG_INF",
				"_MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC", "_MM_FROUND_TO_ZERO", "_MM_FROUND_CUR_DIRECTION" };
		int[] mantissas = { 0, 1, 0xFFF, 0x1000, 0x1001, 0x1FFF, 0x2000, 0x3000, 0x5000, 0x7FE000, 0x7FF000, 0x7FEFFF,
				0x7FF001, 0x7FFFFF, 0x400000, 0x123456 };
		int count = 2 * 256 * mantissas.length;
		int[] in = new int[count];
		int n = 0;
		for (int sign = 0; sign < 2; sign++) {
			for (int e = 0; e < 256; e++) {
				for (int m : mantissas) {
					in[n++] = sign << 31 | e << 23 | m;
				}
			}
		}
		StringBuilder kernel = new StringBuilder("""
				extern "C" void narrow_kernel(const float* x, uint16_t* out)
				{
				    for (int i = 0; i < %d; i += 16) {
				        __m512 v = _mm512_loadu_ps(x + i);
				""".formatted(count));
		for (int k = 0; k < controls.length; k++) {
			kernel.append("        _mm256_storeu_si256((__m256i*)(out + " + k * count + " + i), _mm512_cvtps_ph(v, "
					+ controls[k] + "));\n");
		}
		kernel.append("    }\n}\n");
		int[] out = halvesOf(devices.run("narrow.cpp", kernel.toString(), floatBits("x", in),
				halves("out", controls.length * count)).get(1));
		int[] expected = new int[controls.length * count];
		for (int k = 0; k < controls.length; k++) {
			for (int i = 0; i < count; i++) {
				expected[k * count + i] = toHalf(in[i], modes[k]);
			}
		}
		assertBits(expected, out, "vcvtps2ph over every exponent, rounding boundaries, overflow and subnormals");
	}

	@Test
	public void roundscaleKeepsImm8FractionBitsRoundedInTheChosenDirection() {
		int[] imms = { 0x01, 0x02, 0x03, 0x00, 0x04, 0x0C, 0x09, 0x10, 0x13, 0x21, 0x22, 0x44, 0xF0, 0xF3 };
		Random random = new Random(3);
		int[] in = new int[64];
		System.arraycopy(SPECIAL, 0, in, 0, SPECIAL.length);
		float[] ties = { 0.5f, -0.5f, 1.5f, -2.5f, -0.3f, 0.3f, 1.25f, -1.375f, 2.5e-8f, 3e38f, -3e38f, 8388609f,
				-8388607.5f, 0.0625f, -0.03125f, 1.0e7f + 0.5f };
		for (int i = 0; i < 16; i++) {
			in[16 + i] = Float.floatToRawIntBits(ties[i]);
		}
		for (int i = 32; i < 64; i++) {
			in[i] = Float.floatToRawIntBits((random.nextInt(400) - 200) / 32.0f + (i < 48 ? 0.0f : random.nextFloat()));
		}
		StringBuilder kernel = new StringBuilder("""
				extern "C" void round_kernel(const float* x, int32_t* out)
				{
				    for (int i = 0; i < 64; i += 16) {
				        __m512 v = _mm512_loadu_ps(x + i);
				""");
		for (int k = 0; k < imms.length; k++) {
			kernel.append("        _mm512_storeu_si512(out + " + 64 * k + " + i, _mm512_castps_si512(_mm512_roundscale_ps(v, "
					+ imms[k] + ")));\n");
		}
		kernel.append("    }\n}\n");
		int[] out = intsOf(devices.run("round.cpp", kernel.toString(), floatBits("x", in), ints("out", new int[64 * imms.length]))
				.get(1));
		int[] expected = new int[64 * imms.length];
		for (int k = 0; k < imms.length; k++) {
			for (int i = 0; i < 64; i++) {
				expected[64 * k + i] = roundscale(in[i], imms[k]);
			}
		}
		assertBits(expected, out, "vrndscaleps");
	}

	/** Intel's RoundScaleFP32 in Java: round(x * 2^M) / 2^M; infinite scaling returns x, NaNs become quiet. */
	private static int roundscale(int bits, int imm) {
		float x = Float.intBitsToFloat(bits);
		if (Float.isNaN(x)) {
			return bits | 0x00400000;
		}
		int m = imm >> 4 & 15;
		int mode = (imm & 4) != 0 ? NEAREST : imm & 3;
		double t = (double) x * (1 << m);
		if (Float.isInfinite((float) t)) {
			return bits;
		}
		double r = switch (mode) {
		case NEAREST -> Math.rint(t);
		case DOWN -> Math.floor(t);
		case UP -> Math.ceil(t);
		default -> t < 0 ? Math.ceil(t) : Math.floor(t);
		};
		return Float.floatToRawIntBits((float) (r / (1 << m)));
	}

	@Test
	public void integerLaneOperationsWrapAndShiftAsAvx512Does() {
		String kernel = """
				extern "C" void lanes_kernel(const int32_t* a, const int32_t* b, const int32_t* counts, int32_t* out, float* prod)
				{
				    __m512i x = _mm512_loadu_si512(a);
				    __m512i y = _mm512_loadu_si512(b);
				    _mm512_storeu_si512(out, _mm512_max_epi32(x, y));
				    _mm512_storeu_si512(out + 16, _mm512_min_epi32(x, y));
				    _mm512_storeu_si512(out + 32, _mm512_mullo_epi32(x, y));
				    for (int c = 0; c < 6; ++c) {
				        unsigned int n = (unsigned int)counts[c];
				        _mm512_storeu_si512(out + 48 + 48 * c, _mm512_slli_epi32(x, n));
				        _mm512_storeu_si512(out + 64 + 48 * c, _mm512_srli_epi32(x, n));
				        _mm512_storeu_si512(out + 80 + 48 * c, _mm512_srai_epi32(x, n));
				    }
				    _mm512_storeu_si512(out + 336, _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, a[0]));
				    _mm512_storeu_si512(out + 352, _mm512_setr_epi32(a[1], 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
				    for (int i = 0; i < 16; i += 8)
				        _mm256_storeu_ps(prod + i, _mm256_mul_ps(_mm512_castps512_ps256(_mm512_cvtepi32_ps(x)), _mm256_set1_ps(0.1f)));
				}
				""";
		int[] a = { Integer.MIN_VALUE, Integer.MAX_VALUE, -1, 0, 1, -123456789, 987654321, 65536, -65536, 7, -7,
				0x40000000, 0x12345678, 0x87654321, 3, -3 };
		int[] b = { 0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 1, 31, -31, 65536, 65537, -8, 8, 4, 0x7FFF, -0x7FFF,
				-3, 3 };
		int[] counts = { 0, 1, 13, 31, 32, 100 };
		List<Argument.Buffer> result = devices.run("lanes.cpp", kernel, ints("a", a), ints("b", b), ints("counts", counts),
				ints("out", new int[368]), FloatBuffers.floats("prod", new float[16]));
		int[] out = intsOf(result.get(3));
		int[] expected = new int[368];
		for (int i = 0; i < 16; i++) {
			expected[i] = Math.max(a[i], b[i]);
			expected[16 + i] = Math.min(a[i], b[i]);
			expected[32 + i] = a[i] * b[i];
			for (int c = 0; c < counts.length; c++) {
				int n = counts[c];
				expected[48 + 48 * c + i] = n > 31 ? 0 : a[i] << n;
				expected[64 + 48 * c + i] = n > 31 ? 0 : a[i] >>> n;
				expected[80 + 48 * c + i] = a[i] >> Math.min(n, 31);
			}
			expected[336 + i] = i == 0 ? a[0] : i;
			expected[352 + i] = i == 0 ? a[1] : i;
		}
		assertBits(expected, out, "integer lanes");
		float[] prod = FloatBuffers.floatsOf(result.get(4));
		for (int i = 0; i < 16; i++) {
			assertEquals((float) a[i % 8] * 0.1f, prod[i], "_mm256_mul_ps lane " + i % 8);
		}
	}
}
