package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.Device;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.NativeCpuDevice;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.engine.passes.VnniDotTensorize;
import org.xpiler.engine.passes.VnniDotTensorize.Lanes;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Dot-product tensorize on small programs: float matrix products over 16 outputs with FMA, unsigned-by-signed
 * byte products with VNNI dpbusd on a packed operand, signed byte products with dpwssd, matrix-vector products
 * over the reduction; each output checked on the virtual device and natively, and the refusals.
 */
public class VnniDotTensorizeTest {
	/** 40 columns: two vectors of 16 and 8 scalar outputs. */
	private static final String GEMM = """
			extern "C" void gemm_kernel(const float* A, const float* B, float* C)
			{
			    const int M = 6, N = 40, K = 24;
			    for (int i = 0; i < M; ++i) {
			        for (int j = 0; j < N; ++j) {
			            float acc = 0.0f;
			            for (int k = 0; k < K; ++k) {
			                acc += A[i * K + k] * B[k * N + j];
			            }
			            C[i * N + j] = acc;
			        }
			    }
			}
			""";

	private static final String GEMM_U8S8 = """
			extern "C" void gemm_u8s8_kernel(const uint8_t* A, const int8_t* B, int32_t* C)
			{
			    for (int i = 0; i < 5; ++i) {
			        for (int j = 0; j < 32; ++j) {
			            int32_t acc = 0;
			            for (int k = 0; k < 20; ++k) {
			                acc += (int32_t)A[i * 20 + k] * (int32_t)B[k * 32 + j];
			            }
			            C[i * 32 + j] = acc;
			        }
			    }
			}
			""";

	private static final String GEMV = """
			extern "C" void gemv_kernel(const float* A, const float* x, float* y)
			{
			    for (int i = 0; i < 12; ++i) {
			        float sum = 0.0f;
			        for (int k = 0; k < 100; ++k) {
			            sum += A[i * 100 + k] * x[k];
			        }
			        y[i] = sum;
			    }
			}
			""";

	private static TranslationUnit parse(String source) {
		return PassTesting.parse(source, Dialect.VNNI);
	}

	/** Applies the pass, checks the knobs it reports and that the output computes what the source does. */
	private static String tensorize(String source, Lanes lanes, Map<String, String> knobs) {
		TranslationUnit unit = parse(source);
		VnniDotTensorize pass = new VnniDotTensorize(lanes);
		assertEquals("", pass.refusal(unit, Dialect.VNNI, Dialect.VNNI).orElse(""));
		assertEquals(knobs, pass.apply(unit, Dialect.VNNI, Dialect.VNNI));
		String output = Dialect.VNNI.printer().print(unit);
		assertVerifies(source, output, new VirtualDevice());
		NativeCpuDevice device = new NativeCpuDevice();
		assumeTrue(device.unavailableReason().isEmpty(), () -> device.unavailableReason().orElse(""));
		assertVerifies(source, output, device);
		return output;
	}

	private static void assertVerifies(String source, String output, Device device) {
		Oracle.Verdict verdict = new Oracle().verify(new KernelSource(Path.of("a.cpp"), Dialect.VNNI, source),
				new KernelSource(Path.of("b.cpp"), Dialect.VNNI, output), device, Map.of(), 3, RunRequest.of(List.of()));
		assertTrue(verdict.matches(), () -> verdict.summary() + "\n" + output);
	}

	private static String refusal(String source, Lanes lanes) {
		return new VnniDotTensorize(lanes).refusal(parse(source), Dialect.VNNI, Dialect.VNNI).orElse("");
	}

	@Test
	public void aFloatMatrixProductComputesSixteenOutputsPerFmaAndKeepsAScalarTail() {
		String out = tensorize(GEMM, Lanes.OUTPUTS, Map.of("lanes", "outputs", "nests", "1", "intrinsics",
				"_mm512_setzero_ps, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_loadu_ps, _mm512_storeu_ps"));
		assertTrue(out.contains("acc_v = _mm512_fmadd_ps(_mm512_set1_ps(A[i * K + k]), _mm512_loadu_ps(B + (k * N + j)), acc_v);"), out);
		assertTrue(out.contains("for (; j + 16 <= N; j += 16)"), out);
		assertTrue(out.contains("_mm512_storeu_ps(C + (i * N + j), acc_v);"), out);
		assertTrue(out.contains("for (; j < N; ++j)"), out); // 40 = 2 * 16 + 8
		assertTrue(out.startsWith("#include <immintrin.h>"), out);
	}

	@Test
	public void unsignedBySignedBytesUseDpbusdOnBPackedOnceBeforeTheRows() {
		String out = tensorize(GEMM_U8S8, Lanes.OUTPUTS, Map.of("lanes", "outputs", "nests", "1", "intrinsics",
				"_mm512_setzero_si512, _mm512_dpbusd_epi32, _mm512_set1_epi32, _mm512_loadu_si512, _mm512_storeu_si512"));
		int packing = out.indexOf("int32_t B_packed[160];");
		assertTrue(packing >= 0 && packing < out.indexOf("for (int i = 0; i < 5; ++i)"), out);
		assertTrue(out.contains("B_packed[k / 4 * 32 + j] = (int32_t)((uint32_t)(uint8_t)B[k * 32 + j] | "
				+ "((uint32_t)(uint8_t)B[(k + 1) * 32 + j] << 8)"), out);
		// A's four bytes broadcast as the unsigned operand, B's packed words as the signed one
		assertTrue(out.contains("acc_v = _mm512_dpbusd_epi32(acc_v, _mm512_set1_epi32((int32_t)((uint32_t)(uint8_t)A[i * 20 + k] | "), out);
		assertTrue(out.contains("_mm512_loadu_si512((const void *)(B_packed + k / 4 * 32 + j))"), out);
		assertTrue(out.contains("for (int k = 0; k < 20; k += 4)"), out);
	}

	@Test
	public void signedBytesOnBothSidesUseDpwssdOnPairs() {
		String source = GEMM_U8S8.replace("const uint8_t* A", "const int8_t* A").replace("gemm_u8s8", "gemm_s8s8");
		String out = tensorize(source, Lanes.OUTPUTS, Map.of("lanes", "outputs", "nests", "1", "intrinsics",
				"_mm512_setzero_si512, _mm512_dpwssd_epi32, _mm512_set1_epi32, _mm512_loadu_si512, _mm512_storeu_si512"));
		assertTrue(out.contains("(uint32_t)(uint16_t)(int16_t)B[(k + 1) * 32 + j] << 16"), out);
		assertTrue(out.contains("for (int k = 0; k < 20; k += 2)"), out);
	}

	@Test
	public void aMatrixVectorProductRunsOverTheReductionAndSumsTheLanes() {
		String out = tensorize(GEMV, Lanes.OUTPUTS, Map.of("lanes", "outputs", "nests", "1", "intrinsics",
				"_mm512_setzero_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_reduce_add_ps"));
		assertTrue(out.contains("sum_v = _mm512_fmadd_ps(_mm512_loadu_ps(A + (i * 100 + k)), _mm512_loadu_ps(x + (k)), sum_v);"), out);
		assertTrue(out.contains("sum += _mm512_reduce_add_ps(sum_v);"), out);
		assertTrue(out.contains("for (; k < 100; ++k)"), out); // 100 = 6 * 16 + 4
	}

	@Test
	public void aLinearLayerWithBiasAndReluKeepsItsFinishAndSumsOverTheReduction() {
		// the sum starts at the bias and goes through an activation: no plain store, so lanes over outputs do not fit
		String source = """
				extern "C" void linear_kernel(const float* W, const float* x, const float* bias, float* y)
				{
				    for (int o = 0; o < 10; ++o) {
				        float s = bias[o];
				        for (int k = 0; k < 64; ++k) {
				            s += W[o * 64 + k] * x[k];
				        }
				        y[o] = fmaxf(s, 0.0f);
				    }
				}
				""";
		String out = tensorize(source, Lanes.OUTPUTS, Map.of("lanes", "outputs", "nests", "1", "intrinsics",
				"_mm512_setzero_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_reduce_add_ps"));
		assertTrue(out.contains("float s = bias[o];"), out);
		assertTrue(out.contains("s += _mm512_reduce_add_ps(s_v);"), out);
		assertTrue(out.contains("y[o] = fmaxf(s, 0.0f);"), out);
	}

	@Test
	public void bytesOverTheReductionUseDpbusdSixtyFourAtATime() {
		String source = """
				extern "C" void dot_kernel(const int8_t* w, const uint8_t* x, int32_t* y)
				{
				    for (int r = 0; r < 3; ++r) {
				        int32_t s = 0;
				        for (int k = 0; k < 150; ++k) {
				            s += (int32_t)w[r * 150 + k] * (int32_t)x[k];
				        }
				        y[r] = s;
				    }
				}
				""";
		String out = tensorize(source, Lanes.REDUCTION, Map.of("lanes", "reduction", "nests", "1", "intrinsics",
				"_mm512_setzero_si512, _mm512_dpbusd_epi32, _mm512_loadu_si512, _mm512_reduce_add_epi32"));
		// x holds the unsigned bytes, so it is dpbusd's first operand
		assertTrue(out.contains("_mm512_dpbusd_epi32(s_v, _mm512_loadu_si512((const void *)(x + (k))), "
				+ "_mm512_loadu_si512((const void *)(w + (r * 150 + k))))"), out);
		assertTrue(out.contains("for (; k + 64 <= 150; k += 64)"), out);
	}

	@Test
	public void theReductionPreferenceAppliesToMatrixProductsToo() {
		String source = GEMM.replace("B[k * N + j]", "B[j * K + k]");
		String out = tensorize(source, Lanes.REDUCTION, Map.of("lanes", "reduction", "nests", "1", "intrinsics",
				"_mm512_setzero_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_reduce_add_ps"));
		assertTrue(out.contains("_mm512_loadu_ps(B + (j * K + k))"), out);
		// with B's rows transposed, no 16 outputs are contiguous in B: outputs falls back to the reduction
		assertEquals(out, tensorize(source, Lanes.OUTPUTS, Map.of("lanes", "outputs", "nests", "1", "intrinsics",
				"_mm512_setzero_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_reduce_add_ps")));
	}

	@Test
	public void refusesWithoutANestAndWhenTheBytesCannotBePacked() {
		assertEquals("no dot-product nest (acc = 0; for k: acc += x[..] * y[..]; out[..] = acc) to tensorize",
				refusal("""
						extern "C" void relu_kernel(const float* x, float* y)
						{
						    for (int i = 0; i < 64; ++i) { y[i] = x[i] > 0.0f ? x[i] : 0.0f; }
						}
						""", Lanes.OUTPUTS));
		// 21 reduction steps are no multiple of 4, and B is contiguous in neither loop for the reduction form
		String odd = GEMM_U8S8.replace("k < 20", "k < 21").replace("A[i * 20 + k]", "A[i * 21 + k]");
		assertEquals("no dot-product nest with float or 8/16-bit integer factors laid out for vector lanes",
				refusal(odd, Lanes.OUTPUTS));
		assertEquals("tensorizes sequential C++ (VNNI to VNNI) only", new VnniDotTensorize(Lanes.OUTPUTS)
				.refusal(parse(GEMM), Dialect.VNNI, Dialect.BANG).orElse(""));
	}

	@Test
	public void optionsTryOutputsFirst() {
		assertEquals(List.of("outputs", "reduction"), VnniDotTensorize.options().stream()
				.map(p -> p.apply(parse(GEMV), Dialect.VNNI, Dialect.VNNI).get("lanes")).toList());
	}
}
