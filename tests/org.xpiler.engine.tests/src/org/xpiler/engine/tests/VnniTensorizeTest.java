package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.Device;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.NativeCpuDevice;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.engine.passes.VnniTensorize;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * Tensorize turns element-wise float loops of sequential C++ into AVX-512 loops with a scalar tail: the
 * intrinsics appear (all of them in the VNNI catalog), the output reads back without errors, and the oracle
 * finds it computing what the source computes, on the virtual device and natively. Loops with calls that have
 * no vector instruction, with a dependence between iterations, or in another dialect are left alone.
 */
public class VnniTensorizeTest {
	private static final Pattern INTRINSIC = Pattern.compile("\\b(_mm512_\\w+|_CMP_\\w+)");

	private static final String RELU = """
			extern "C" void relu_kernel(const float* x, float* y)
			{
			    for (int i = 0; i < 1024; i++) {
			        y[i] = fmaxf(x[i], 0.0f);
			    }
			}
			""";

	/** Two arrays, a scalar scale, a compound assignment and an offset c + i, over rows. */
	private static final String SCALED_ADD = """
			extern "C" void scaled_add_kernel(const float* a, const float* b, float* c)
			{
			    const float scale = 0.5f;
			    const int cols = 96;
			    for (int r = 0; r < 8; r++) {
			        for (int j = 0; j < cols; ++j) {
			            c[r * cols + j] = a[r * cols + j] * scale + b[j + r * cols];
			            c[r * cols + j] -= fabsf(a[r * cols + j]) / 4.0f;
			        }
			    }
			}
			""";

	/**
	 * 1000 is no multiple of 16: 62 vectors and a tail of 8; the bounds are expressions. (The loop starts at 0:
	 * the oracle reports elements that a source leaves unwritten in front of what it writes as differences, even
	 * against the source itself.)
	 */
	private static final String TAIL = """
			extern "C" void tail_kernel(const float* x, float* y)
			{
			    int start = 0;
			    int n = 997;
			    for (int i = start; i < n + 3; i += 1)
			        y[i] = -sqrtf(fabsf(x[i])) + fminf(x[i], 1.5f) * 2;
			}
			""";

	/** sign(x) and a leaky relu: comparisons become a mask and a blend. */
	private static final String SIGN = """
			extern "C" void sign_kernel(const float* x, float* y)
			{
			    for (int i = 0; i < 1000; i++) {
			        y[i] = x[i] > 0.0f ? 1.0f : (x[i] < 0.0f ? -1.0f : 0.0f);
			    }
			    for (int i = 0; i < 1000; i++) {
			        y[i + 1000] = x[i] >= 0.0f ? x[i] : 0.01f * x[i];
			    }
			}
			""";

	private static final String EXP = """
			extern "C" void exp_kernel(const float* x, float* y)
			{
			    for (int i = 0; i < 1024; i++) {
			        y[i] = expf(x[i]);
			    }
			}
			""";

	private static final String SCAN = """
			extern "C" void scan_kernel(const float* x, float* y)
			{
			    y[0] = x[0];
			    for (int i = 1; i < 1024; i++) {
			        y[i] = y[i - 1] + x[i];
			    }
			    for (int i = 0; i < 1024; i++) {
			        y[i] = y[i] * 2.0f;
			    }
			}
			""";

	private static final String MIXED = """
			extern "C" void mixed_kernel(const float* x, float* y, int* k)
			{
			    for (int i = 0; i < 64; i++) {
			        k[i] = (int)x[i];
			    }
			    for (int i = 0; i < 64; i++) {
			        y[i] = x[i] * 0.5;
			    }
			    for (int i = 0; i < 64; i++) {
			        y[i] = x[i] + k[i];
			    }
			}
			""";

	private record Tensorized(String output, Map<String, String> knobs) {
	}

	private static TranslationUnit parse(String name, String source) {
		ParsedKernel parsed = new KernelParser().parse(name, source, Dialect.VNNI);
		assertFalse(parsed.hasErrors(), () -> parsed.errors().toString());
		return parsed.unit();
	}

	private static Tensorized tensorize(String name, String source) {
		TranslationUnit unit = parse(name, source);
		VnniTensorize pass = new VnniTensorize();
		assertEquals("", pass.refusal(unit, Dialect.VNNI, Dialect.VNNI).orElse(""));
		Map<String, String> knobs = pass.apply(unit, Dialect.VNNI, Dialect.VNNI);
		String output = Dialect.VNNI.printer().print(unit);
		ParsedKernel reread = new KernelParser().parse(name, output, Dialect.VNNI);
		assertFalse(reread.hasErrors(), () -> reread.errors() + "\n" + output);
		assertTrue(output.contains("#include <immintrin.h>"), output);
		Matcher m = INTRINSIC.matcher(output);
		while (m.find()) {
			String intrinsic = m.group(1);
			assertTrue(Dialect.VNNI.catalog().knows(intrinsic), () -> intrinsic + " is not in the catalog\n" + output);
		}
		return new Tensorized(output, knobs);
	}

	private static void assertVerifies(String source, String output, Device device) {
		Oracle.Verdict verdict = new Oracle().verify(new KernelSource(Path.of("a.cpp"), Dialect.VNNI, source),
				new KernelSource(Path.of("b.cpp"), Dialect.VNNI, output), device, Map.of(), 3,
				RunRequest.of(List.of()));
		assertTrue(verdict.matches(), () -> verdict.summary() + "\n" + output);
	}

	private static void assertVerifiesEverywhere(String source, String output) {
		assertVerifies(source, output, new VirtualDevice());
		NativeCpuDevice device = new NativeCpuDevice();
		assumeTrue(device.unavailableReason().isEmpty(), () -> device.unavailableReason().orElse(""));
		assertVerifies(source, output, device);
	}

	@Test
	public void aReluLoopBecomesMaxOfVectors() {
		Tensorized result = tensorize("relu.cpp", RELU);
		assertEquals(Map.of("vectorized", "1 loop", "width", "16"), result.knobs());
		String out = result.output();
		assertTrue(out.contains("_mm512_storeu_ps(y + i, _mm512_max_ps(_mm512_loadu_ps(x + i), _mm512_set1_ps(0.0f)))"),
				out);
		assertTrue(out.contains("i + 16 <= 1024"), out);
		assertTrue(out.contains("i += 16"), out);
		assertVerifiesEverywhere(RELU, out);
	}

	@Test
	public void aScaledAddOfTwoArraysVectorizesTheInnerLoopOnly() {
		Tensorized result = tensorize("add.cpp", SCALED_ADD);
		assertEquals("1 loop", result.knobs().get("vectorized"));
		String out = result.output();
		assertTrue(out.contains("_mm512_mul_ps(_mm512_loadu_ps(a + (r * cols + j)), _mm512_set1_ps(scale))"), out);
		assertTrue(out.contains("_mm512_loadu_ps(b + (j + r * cols))"), out);
		assertTrue(out.contains("_mm512_sub_ps(_mm512_loadu_ps(c + (r * cols + j))"), out);
		assertTrue(out.contains("_mm512_abs_ps"), out);
		assertTrue(out.contains("for (int r = 0; r < 8; r++)"), out);
		assertVerifiesEverywhere(SCALED_ADD, out);
	}

	@Test
	public void aTripCountThatIsNoMultipleOfSixteenLeavesAScalarTail() {
		Tensorized result = tensorize("tail.cpp", TAIL);
		String out = result.output();
		assertTrue(out.contains("i + 16 <= n + 3"), out);
		assertTrue(out.contains("_mm512_sqrt_ps"), out);
		assertTrue(out.contains("_mm512_min_ps"), out);
		assertTrue(out.contains("_mm512_set1_ps(-1.0f)"), out);
		assertTrue(out.contains("y[i] = -sqrtf(fabsf(x[i])) + fminf(x[i], 1.5f) * 2;"), out);
		assertVerifiesEverywhere(TAIL, out);
	}

	@Test
	public void comparisonsBecomeMaskBlends() {
		Tensorized result = tensorize("sign.cpp", SIGN);
		assertEquals("2 loops", result.knobs().get("vectorized"));
		String out = result.output();
		assertTrue(out.contains("_mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), _mm512_set1_ps(0.0f), _CMP_GT_OQ)"), out);
		assertTrue(out.contains("_mm512_mask_blend_ps"), out);
		assertTrue(out.contains("_mm512_storeu_ps(y + (i + 1000)"), out);
		assertVerifiesEverywhere(SIGN, out);
	}

	@Test
	public void anIncludeThatIsThereIsNotRepeated() {
		String source = "#include <immintrin.h>\n" + RELU;
		String out = tensorize("relu.cpp", source).output();
		assertEquals(out.indexOf("immintrin.h"), out.lastIndexOf("immintrin.h"), out);
	}

	@Test
	public void aCallWithoutAVectorInstructionIsLeftAlone() {
		TranslationUnit unit = parse("exp.cpp", EXP);
		assertEquals("no element-wise float loop to vectorize",
				new VnniTensorize().refusal(unit, Dialect.VNNI, Dialect.VNNI).orElse(""));
	}

	@Test
	public void aDependenceBetweenIterationsIsLeftAlone() {
		Tensorized result = tensorize("scan.cpp", SCAN);
		assertEquals("1 loop", result.knobs().get("vectorized"));
		String out = result.output();
		assertTrue(out.contains("for (int i = 1; i < 1024; i++)"), out);
		assertTrue(out.contains("y[i] = y[i - 1] + x[i];"), out);
		assertTrue(out.contains("_mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), _mm512_set1_ps(2.0f)))"),
				out);
		assertVerifiesEverywhere(SCAN, out);
		TranslationUnit alone = parse("scan.cpp", """
				extern "C" void scan_kernel(const float* x, float* y)
				{
				    for (int i = 1; i < 1024; i++) {
				        y[i] = y[i - 1] + x[i];
				    }
				}
				""");
		assertEquals("no element-wise float loop to vectorize",
				new VnniTensorize().refusal(alone, Dialect.VNNI, Dialect.VNNI).orElse(""));
	}

	@Test
	public void integersAndDoublesAreLeftAlone() {
		TranslationUnit unit = parse("mixed.cpp", MIXED);
		assertEquals("no element-wise float loop to vectorize",
				new VnniTensorize().refusal(unit, Dialect.VNNI, Dialect.VNNI).orElse(""));
	}

	@Test
	public void otherDialectsAreRefused() {
		TranslationUnit unit = parse("relu.cpp", RELU);
		VnniTensorize pass = new VnniTensorize();
		assertTrue(pass.refusal(unit, Dialect.CUDA, Dialect.VNNI).isPresent());
		assertTrue(pass.refusal(unit, Dialect.VNNI, Dialect.BANG).isPresent());
		assertEquals("", pass.refusal(unit, Dialect.VNNI, Dialect.VNNI).orElse(""));
	}
}
