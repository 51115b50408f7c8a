package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.KernelSource;
import org.xpiler.engine.pipeline.Translator;
import org.xpiler.lang.dialect.Dialect;

/**
 * Kernels calling CUDA's and HIP's integer, conversion and cache-hinted load device functions translate and
 * verify: to C++ they become portable C (saturating conversions, widened multiplies) and GCC's bit builtins,
 * between CUDA and HIP they stay where the target's headers declare them. A function C++ has no expression
 * for (the bit casts, {@code __brev}) makes the translation fail rather than leave a call g++ rejects.
 */
public class DeviceBuiltinsTranslationTest {
	private static Translator.Result translate(String name, String text, Dialect to) {
		Path path = Path.of(name);
		return new Translator().translate(new KernelSource(path, Dialect.fromFile(path).orElseThrow(), text), to, 3);
	}

	/** The translated text, asserted verified. */
	private static String verified(String name, String text, Dialect to) {
		Translator.Result result = translate(name, text, to);
		assertTrue(result.record().verified(), () -> result.record().reason());
		return result.output().orElseThrow();
	}

	/** A CUDA file whose kernel stores {@code expression} of {@code float v} and {@code unsigned int u}. */
	private static String cuda(String expression) {
		return """
				__global__ void k(const float* x, float* y) {
				    float v = x[threadIdx.x] * 40.0f;
				    unsigned int u = threadIdx.x * 2654435761u;
				    y[threadIdx.x] = (float) (%s);
				}
				extern "C" void k_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, 64 * sizeof(float));
				    cudaMalloc(&dy, 64 * sizeof(float));
				    cudaMemcpy(dx, x, 64 * sizeof(float), cudaMemcpyHostToDevice);
				    k<<<1, 64>>>(dx, dy);
				    cudaMemcpy(y, dy, 64 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""".formatted(expression);
	}

	private static String hip(String expression) {
		return cuda(expression).replace("cuda", "hip").replace("k<<<1, 64>>>(dx, dy);",
				"hipLaunchKernelGGL(k, dim3(1), dim3(64), 0, 0, dx, dy);");
	}

	private static final String CONVERSIONS = "__float2int_rn(v) + __float2int_rz(v) + __float2int_rd(v) + __float2int_ru(v)"
			+ " + (int) __float2uint_rn(v) + (int) __float2uint_rz(v) + lrintf(v) + llrintf(v) + lroundf(v) + rintf(v)"
			+ " + nearbyintf(v) + copysignf(1.0f, v) + hypotf(v, 2.0f) + fdividef(v, 3.0f) + __exp10f(v / 64.0f)"
			+ " + __frsqrt_rn(fabsf(v) + 1.0f) + __ldcs(x + threadIdx.x) + __ldcg(x + threadIdx.x)"
			+ " + __ldca(x + threadIdx.x) + __ldlu(x + threadIdx.x)";

	private static final String INTEGERS = "__popc(u) + __popcll((unsigned long long) u << 9) + __clz((int) u)"
			+ " + __clzll((long long) u) + __ffs((int) (u & 0xFFF0u)) + __ffsll((long long) (u & 0xFF00u) << 30)"
			+ " + (__umulhi(u, 0x9E3779B9u) >> 20) + (__mulhi((int) u, 77777) >> 12) + __mul24((int) u, 3)"
			+ " + __umul24(u, 5u) % 1000u + __sad((int) u, 100000, 1u) % 1000u + __usad(u, 7u, 1u) % 1000u"
			+ " + umin(u, 1000u) + umax(u, 5u) % 1000u + llabs((long long) v)";

	@Test
	public void conversionsAndMathTranslateToCppAndHip() {
		String cpp = verified("conversions.cu", cuda(CONVERSIONS), Dialect.VNNI);
		for (String gone : new String[] { "__float2int", "__float2uint", "fdividef", "__exp10f", "__frsqrt_rn", "__ldc",
				"__ldlu" }) {
			assertFalse(cpp.contains(gone), () -> gone + " is left in\n" + cpp);
		}
		assertTrue(cpp.contains("2147483647") && cpp.contains("4294967295u"), cpp); // the conversions saturate
		String hip = verified("conversions.cu", cuda(CONVERSIONS), Dialect.HIP);
		assertTrue(hip.contains("__float2int_rn") && hip.contains("fdividef"), hip); // HIP's headers declare these
		assertFalse(hip.contains("__ldcs") || hip.contains("__ldlu"), hip); // HIP's are for __half only, or absent
	}

	/**
	 * The C++ conversions saturate and round half to even as CUDA's do: the kernel's inputs include half-way
	 * values, values beyond int's range and NaN, which the verification runs through both versions.
	 */
	@Test
	public void conversionEdgeCasesVerifyInCpp() {
		// summed as floats: the saturated ints would overflow an int sum
		String edges = cuda("(float) __float2int_rn(w) + (float) __float2int_rz(w) + (float) __float2int_rd(w)"
				+ " + (float) __float2int_ru(w) + (float) __float2uint_rn(w) + (float) __float2uint_rz(w)").replace(
						"float v = x[threadIdx.x] * 40.0f;",
						"float w = threadIdx.x % 4 == 0 ? ((float) threadIdx.x - 31.0f) * 0.5f"
								+ " : threadIdx.x % 4 == 1 ? x[threadIdx.x] * 1e10f : threadIdx.x == 2 ? 0.0f / 0.0f : x[threadIdx.x];");
		String cpp = verified("edges.cu", edges, Dialect.VNNI);
		assertFalse(cpp.contains("__float2"), cpp);
	}

	@Test
	public void integerIntrinsicsTranslateToCppAndHip() {
		String cpp = verified("integers.cu", cuda(INTEGERS), Dialect.VNNI);
		for (String gone : new String[] { "__popc", "__clz", "__ffs", "__umulhi", "__mulhi", "__mul24", "__umul24",
				"__sad", "__usad", "umin", "umax" }) {
			assertFalse(cpp.matches("(?s).*\\b" + gone + "\\(.*"), () -> gone + " is left in\n" + cpp);
		}
		assertTrue(cpp.contains("__builtin_popcount(") && cpp.contains("__builtin_ffsll("), cpp);
		String hip = verified("integers.cu", cuda(INTEGERS), Dialect.HIP);
		assertTrue(hip.contains("__popc(") && hip.contains("__umulhi("), hip);
		assertFalse(hip.contains("umin("), hip); // CUDA's, not HIP's
	}

	@Test
	public void hipDeviceFunctionsTranslateToCudaAndCpp() {
		String expression = "__popcll((unsigned long long) u << 3) + __ffsll((long long) u) + __clzll((long long) u)"
				+ " + __float2int_rd(v) + __sad((int) u, 9, 2u) % 100u";
		String cuda = verified("hip_bits.hip", hip(expression), Dialect.CUDA);
		assertTrue(cuda.contains("__popcll(") && cuda.contains("__float2int_rd("), cuda);
		String cpp = verified("hip_bits.hip", hip(expression), Dialect.VNNI);
		assertTrue(cpp.contains("__builtin_popcountll(") && !cpp.contains("__float2int_rd"), cpp);
	}

	@Test
	public void functionsCppCannotExpressAreNotTranslatedToIt() {
		for (String expression : new String[] { "__brev(u)", "__int_as_float(__float_as_int(v) & 0x7fffffff)" }) {
			Translator.Result result = translate("unportable.cu", cuda(expression), Dialect.VNNI);
			assertFalse(result.record().verified(), () -> expression + ":\n" + result.output().orElse(""));
			verified("unportable.cu", cuda(expression), Dialect.HIP); // HIP has them
		}
	}
}
