package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xpiler.devices.tests.FloatBuffers.floats;
import static org.xpiler.devices.tests.FloatBuffers.floatsOf;
import static org.xpiler.devices.tests.NativeAgreement.ints;
import static org.xpiler.devices.tests.NativeAgreement.intsOf;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntBinaryOperator;

import org.junit.jupiter.api.Test;
import org.xpiler.core.vm.Argument;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelRuns;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.RunResult;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.lang.dialect.Dialect;

/**
 * The virtual device runs CUDA's and HIP's integer, conversion and bit-cast device functions, the cache-hinted
 * loads and the C math functions real kernels call, with CUDA's documented results: each thread applies them to
 * one input, and the results are compared with references computed here another way (BigDecimal rounding for
 * the conversions, bit loops for the bit functions), edge cases included.
 */
public class DeviceBuiltinsTest {
	private final VirtualDevice device = new VirtualDevice();

	private static KernelSource source(String name, String text) {
		return new KernelSource(Path.of(name), Dialect.fromFile(Path.of(name)).orElseThrow(), text);
	}

	/** {@code kernel}, one thread per input, its {@code COUNT} being {@code count}, the number of inputs. */
	private static KernelSource source(String name, String kernel, int count) {
		return source(name, kernel.replace("COUNT", String.valueOf(count)));
	}

	private RunResult launch(KernelSource kernel, int threads, Argument.Buffer... buffers) {
		return device.run(kernel, new RunRequest(Optional.empty(), List.of(buffers), new int[] { 1, 1, 1 },
				new int[] { threads, 1, 1 }, 0, Duration.ofSeconds(10)));
	}

	/** CUDA's saturating conversion of {@code x} rounded by {@code mode} into [min, max]; NaN is 0. */
	private static long converted(float x, RoundingMode mode, long min, long max) {
		if (Float.isNaN(x)) {
			return 0;
		}
		if (Float.isInfinite(x)) {
			return x > 0 ? max : min;
		}
		BigDecimal rounded = new BigDecimal(x).setScale(0, mode);
		return rounded.max(BigDecimal.valueOf(min)).min(BigDecimal.valueOf(max)).longValueExact();
	}

	private static final float[] CONVERSION_INPUTS = { 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.7f, -2.7f, 3e9f,
			-3e9f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 2147483520f, -2147483648f, 4294967040f,
			-0.0f, 0.49999997f, 1e-30f, 123456.5f };

	@Test
	public void floatToIntegerConversionsRoundInTheirModeAndSaturate() {
		int n = CONVERSION_INPUTS.length;
		RunResult result = launch(source("convert.cu", """
				__global__ void convert(const float* in, int* out) {
				    const int n = COUNT;
				    int i = threadIdx.x;
				    float x = in[i];
				    out[0 * n + i] = __float2int_rn(x);
				    out[1 * n + i] = __float2int_rz(x);
				    out[2 * n + i] = __float2int_rd(x);
				    out[3 * n + i] = __float2int_ru(x);
				    out[4 * n + i] = (int) __float2uint_rn(x);
				    out[5 * n + i] = (int) __float2uint_rz(x);
				    out[6 * n + i] = __float_as_int(x);
				    out[7 * n + i] = (int) __float_as_uint(x);
				}
				""", n), n, floats("in", CONVERSION_INPUTS), ints("out", new int[8 * n]));
		int[] out = intsOf(result.buffers().get(1));
		RoundingMode[] modes = { RoundingMode.HALF_EVEN, RoundingMode.DOWN, RoundingMode.FLOOR, RoundingMode.CEILING };
		for (int i = 0; i < n; i++) {
			float x = CONVERSION_INPUTS[i];
			for (int m = 0; m < modes.length; m++) {
				assertEquals((int) converted(x, modes[m], Integer.MIN_VALUE, Integer.MAX_VALUE), out[m * n + i],
						"__float2int " + modes[m] + " of " + x);
			}
			assertEquals((int) converted(x, RoundingMode.HALF_EVEN, 0, 0xFFFFFFFFL), out[4 * n + i], "__float2uint_rn of " + x);
			assertEquals((int) converted(x, RoundingMode.DOWN, 0, 0xFFFFFFFFL), out[5 * n + i], "__float2uint_rz of " + x);
			assertEquals(Float.floatToRawIntBits(x), out[6 * n + i], "__float_as_int of " + x);
			assertEquals(Float.floatToRawIntBits(x), out[7 * n + i], "__float_as_uint of " + x);
		}
		// the documented cases, spelled out
		assertEquals(2, out[2]); // 2.5 rounds half to even
		assertEquals(-2, out[5]);
		assertEquals(Integer.MAX_VALUE, out[8]); // 3e9 saturates
		assertEquals(Integer.MIN_VALUE, out[9]);
		assertEquals(0, out[10]); // NaN
		assertEquals(0, out[4 * n + 3]); // negative to unsigned saturates at 0
		assertEquals((int) 3000000000L, out[4 * n + 8]); // 3e9 fits in unsigned int
	}

	private static final int[] INTEGER_INPUTS = { 0, 1, -1, 0x80000000, 0x00F0F000, 12345678, 0x7FFFFFFF, -123456,
			0x00800001, 0x12345678 };

	/** ffs: the 1-based position of the lowest set bit, found by a loop; 0 for 0. */
	private static int firstSet(long x, int width) {
		for (int bit = 0; bit < width; bit++) {
			if ((x >>> bit & 1) != 0) {
				return bit + 1;
			}
		}
		return 0;
	}

	private static int leadingZeros(long x, int width) {
		int count = 0;
		for (int bit = width - 1; bit >= 0 && (x >>> bit & 1) == 0; bit--) {
			count++;
		}
		return count;
	}

	private static int reversed(int x) {
		int r = 0;
		for (int bit = 0; bit < 32; bit++) {
			r |= (x >>> bit & 1) << (31 - bit);
		}
		return r;
	}

	@Test
	public void integerIntrinsicsMatchTheirDefinitions() {
		int n = INTEGER_INPUTS.length;
		RunResult result = launch(source("bits.cu", """
				__global__ void bits(const int* in, int* out) {
				    const int n = COUNT;
				    int i = threadIdx.x;
				    int x = in[i];
				    unsigned int u = (unsigned int) x;
				    long long wide = (long long) x << 20;
				    out[0 * n + i] = __popc(u);
				    out[1 * n + i] = __clz(x);
				    out[2 * n + i] = __ffs(x);
				    out[3 * n + i] = (int) __brev(u);
				    out[4 * n + i] = (int) __umulhi(u, 0x9E3779B9u);
				    out[5 * n + i] = __mulhi(x, -7777777);
				    out[6 * n + i] = __mul24(x, 0x00800003);
				    out[7 * n + i] = (int) __umul24(u, 0x01000003u);
				    out[8 * n + i] = (int) __sad(x, 5, 7u);
				    out[9 * n + i] = (int) __usad(u, 5u, 7u);
				    out[10 * n + i] = (int) umin(u, 1000u);
				    out[11 * n + i] = (int) umax(u, 1000u);
				    out[12 * n + i] = __popcll((unsigned long long) wide);
				    out[13 * n + i] = __clzll(wide);
				    out[14 * n + i] = __ffsll(wide);
				    out[15 * n + i] = (int) (llabs(wide) >> 20);
				}
				""", n), n, ints("in", INTEGER_INPUTS), ints("out", new int[16 * n]));
		int[] out = intsOf(result.buffers().get(1));
		IntBinaryOperator sad = (a, b) -> (int) Math.abs((long) a - b) + 7;
		for (int i = 0; i < n; i++) {
			int x = INTEGER_INPUTS[i];
			long u = Integer.toUnsignedLong(x);
			long wide = (long) x << 20;
			String at = " of " + x;
			assertEquals(Long.toBinaryString(u).replace("0", "").length(), out[i], "__popc" + at);
			assertEquals(leadingZeros(u, 32), out[n + i], "__clz" + at);
			assertEquals(firstSet(u, 32), out[2 * n + i], "__ffs" + at);
			assertEquals(reversed(x), out[3 * n + i], "__brev" + at);
			assertEquals((int) (u * 0x9E3779B9L >>> 32), out[4 * n + i], "__umulhi" + at);
			assertEquals((int) ((long) x * -7777777 >> 32), out[5 * n + i], "__mulhi" + at);
			int low24 = (x << 8) >> 8; // 0x00800003's low 24 bits are negative too
			assertEquals(low24 * ((0x00800003 << 8) >> 8), out[6 * n + i], "__mul24" + at);
			assertEquals((int) ((u & 0xFFFFFF) * 3), out[7 * n + i], "__umul24" + at);
			assertEquals(sad.applyAsInt(x, 5), out[8 * n + i], "__sad" + at);
			assertEquals((int) (Math.abs(u - 5) + 7), out[9 * n + i], "__usad" + at);
			assertEquals((int) Math.min(u, 1000), out[10 * n + i], "umin" + at);
			assertEquals((int) Math.max(u, 1000), out[11 * n + i], "umax" + at);
			assertEquals(Long.toBinaryString(wide).replace("0", "").length(), out[12 * n + i], "__popcll" + at);
			assertEquals(leadingZeros(wide, 64), out[13 * n + i], "__clzll" + at);
			assertEquals(firstSet(wide, 64), out[14 * n + i], "__ffsll" + at);
			assertEquals((int) (Math.abs(wide) >> 20), out[15 * n + i], "llabs" + at);
		}
		assertEquals(32, out[n]); // __clz(0)
		assertEquals(0, out[2 * n]); // __ffs(0)
		assertEquals(0, out[n + 2]); // __clz(-1)
	}

	private static final float[] MATH_INPUTS = { 0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 3.7f, -3.7f, 0.0f, -0.0f, 1e-3f,
			12.25f, -7.5f, 100.5f, 2.0f, -1e20f, Float.MIN_VALUE };

	@Test
	public void bitCastsLoadsAndCMathHaveTheirResults() {
		int n = MATH_INPUTS.length;
		RunResult result = launch(source("math.cu", """
				__global__ void math(const float* in, float* out) {
				    const int n = COUNT;
				    int i = threadIdx.x;
				    float x = in[i];
				    out[0 * n + i] = __int_as_float(__float_as_int(x) ^ (int) 0x80000000);
				    out[1 * n + i] = __uint_as_float(__float_as_uint(x) & 0x7fffffffu);
				    out[2 * n + i] = copysignf(2.0f, x);
				    out[3 * n + i] = hypotf(x, 3.0f);
				    out[4 * n + i] = rintf(x);
				    out[5 * n + i] = nearbyintf(x);
				    out[6 * n + i] = (float) (lrintf(x) % 1000000);
				    out[7 * n + i] = (float) (llrintf(x) % 1000000);
				    out[8 * n + i] = (float) (lroundf(x) % 1000000);
				    out[9 * n + i] = __ldcs(in + i) + __ldcg(in + i) + __ldca(in + i) + __ldlu(in + i);
				    out[10 * n + i] = fdividef(x, 4.0f);
				    out[11 * n + i] = __exp10f(x / 64.0f);
				    out[12 * n + i] = __frsqrt_rn(fabsf(x) + 1.0f);
				}
				""", n), n, floats("in", MATH_INPUTS), floats("out", new float[13 * n]));
		float[] out = floatsOf(result.buffers().get(1));
		for (int i = 0; i < n; i++) {
			float x = MATH_INPUTS[i];
			String at = " of " + x;
			assertEquals(-x, out[i], "sign flip through the bits" + at);
			assertEquals(Math.abs(x), out[n + i], "sign cleared through the bits" + at);
			assertEquals(Math.copySign(2.0f, x), out[2 * n + i], "copysignf" + at);
			assertEquals((float) Math.sqrt((double) x * x + 9), out[3 * n + i], "hypotf" + at);
			float even = new BigDecimal(x).setScale(0, RoundingMode.HALF_EVEN).floatValue();
			assertEquals(x < 0 || Float.floatToRawIntBits(x) < 0 ? -Math.abs(even) : even, out[4 * n + i], "rintf" + at);
			assertEquals(out[4 * n + i], out[5 * n + i], "nearbyintf" + at);
			long evenLong = new BigDecimal(x).setScale(0, RoundingMode.HALF_EVEN).max(BigDecimal.valueOf(Long.MIN_VALUE))
					.longValue();
			assertEquals((float) (evenLong % 1000000), out[6 * n + i], "lrintf" + at);
			assertEquals((float) (evenLong % 1000000), out[7 * n + i], "llrintf" + at);
			long away = new BigDecimal(x).setScale(0, RoundingMode.HALF_UP).max(BigDecimal.valueOf(Long.MIN_VALUE)).longValue();
			assertEquals((float) (away % 1000000), out[8 * n + i], "lroundf" + at);
			assertEquals(x * 4, out[9 * n + i], "cache-hinted loads" + at);
			assertEquals(x / 4, out[10 * n + i], "fdividef" + at);
			assertEquals((float) Math.pow(10, x / 64.0f), out[11 * n + i], "__exp10f" + at);
			assertEquals((float) (1 / Math.sqrt(Math.abs(x) + 1.0f)), out[12 * n + i], "__frsqrt_rn" + at);
		}
		assertEquals(2.0f, out[4 * n + 2]); // rintf(2.5) is even
		assertEquals(-3.0f, out[8 * n + 4]); // lroundf(-2.5) rounds away from zero
	}

	@Test
	public void clangBitBuiltinsRunInCppAndCudaDeviceFunctionsDoNot() {
		// Xpiler does not read <string.h>, so names it does not know are warnings (the header may declare them);
		// the C++ that translations write includes it
		String builtins = """
				#include <string.h>
				extern "C" void bits_kernel(const float* x, float* y) {
				    for (int i = 0; i < 64; ++i) {
				        unsigned int u = (unsigned int) (i * 2654435761u);
				        y[i] = (float) (__builtin_popcount(u) + 100 * __builtin_clz(u | 1u) + 10000 * __builtin_ctz(u | 0x80000000u)
				                + 1000000 * __builtin_ffs((int) u));
				    }
				}
				""";
		KernelRuns.Report report = new KernelRuns().run(device, source("bits.cpp", builtins), Map.of(), 1,
				RunRequest.of(List.of()));
		float[] y = floatsOf(report.buffers().get(1).buffer());
		for (int i = 0; i < 64; i++) {
			int u = i * (int) 2654435761L;
			float expected = Integer.bitCount(u) + 100 * Integer.numberOfLeadingZeros(u | 1)
					+ 10000 * Integer.numberOfTrailingZeros(u | 0x80000000) + 1000000 * firstSet(Integer.toUnsignedLong(u), 32);
			assertEquals(expected, y[i], "i = " + i);
		}
		// a C++ translation left calling CUDA's __popc would not compile, so it must not run either
		Exception refused = assertThrows(DeviceException.class, () -> new KernelRuns().run(device, source("popc.cpp",
				builtins.replace("__builtin_popcount(u)", "__popc(u)")), Map.of(), 1, RunRequest.of(List.of())));
		assertTrue(refused.getMessage().contains("__popc"), refused.getMessage());
	}
}
