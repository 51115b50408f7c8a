package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.CompileOnlyDevice;
import org.xpiler.devices.CompileResult;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.engine.passes.BangTensorize;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * Tensorize turns loop-bind's task-strided scalar BANG loops into NRAM tiles, {@code __memcpy} and
 * {@code __bang_*} vector intrinsics: the result re-parses, passes the compile-only BANG check and computes what
 * the scalar kernel computed on the virtual device; loops it cannot express are refused and left alone.
 */
public class BangTensorizeTest {

	private static TranslationUnit parse(String file, String text) {
		ParsedKernel parsed = new KernelParser().parse(file, text, Dialect.BANG);
		assertFalse(parsed.hasErrors(), () -> parsed.errors() + "\n" + text);
		return parsed.unit();
	}

	private static String kernel(String name, String params, String body, String bound) {
		return "extern \"C\" __mlu_global__ void " + name + "(" + params + ")\n{\n"
				+ "    for (int i = (0) + taskId; i < " + bound + "; i += taskDim) {\n" + body + "\n    }\n}\n";
	}

	/** Tensorizes, checks the text, the compile-only check and the oracle; returns the printed kernel. */
	private static String tensorizeAndVerify(String original, BangTensorize pass, String... expected) {
		return tensorizeAndVerify(original, pass, Map.of(), 0, expected);
	}

	private static String tensorizeAndVerify(String original, BangTensorize pass, Map<String, String> scalars,
			int taskDim, String... expected) {
		TranslationUnit unit = parse("t.mlu", original);
		Optional<String> refusal = pass.refusal(unit, Dialect.BANG, Dialect.BANG);
		assertTrue(refusal.isEmpty(), () -> refusal.get());
		Map<String, String> knobs = pass.apply(unit, Dialect.BANG, Dialect.BANG);
		assertEquals("1", knobs.get("loops"));
		assertEquals(0, Integer.parseInt(knobs.get("tile")) % 32);
		String printed = Dialect.BANG.printer().print(unit);
		assertTrue(printed.contains("__bang_"), printed);
		assertTrue(printed.contains("__memcpy"), printed);
		for (String e : expected) {
			assertTrue(printed.contains(e), () -> "expected " + e + " in\n" + printed);
		}
		parse("b.mlu", printed);
		CompileResult compiled = CompileOnlyDevice.bangCheck().compile(new KernelSource(Path.of("b.mlu"), Dialect.BANG, printed));
		assertTrue(compiled.success(), () -> compiled.diagnostics() + "\n" + compiled.output() + "\n" + printed);
		Oracle.Verdict verdict = new Oracle().verify(new KernelSource(Path.of("a.mlu"), Dialect.BANG, original),
				new KernelSource(Path.of("b.mlu"), Dialect.BANG, printed), new VirtualDevice(), scalars, 3,
				new RunRequest(Optional.empty(), List.of(), null, null, taskDim, Duration.ofSeconds(60)));
		assertTrue(verdict.matches(), () -> verdict + "\n" + printed);
		return printed;
	}

	@Test
	void reluBecomesActiveRelu() {
		String original = kernel("relu_kernel", "const float *input, float *output",
				"        output[i] = fmaxf(input[i], 0.0f);", "49152");
		tensorizeAndVerify(original, new BangTensorize(4096), "__bang_active_relu", "GDRAM2NRAM", "NRAM2GDRAM",
				"__nram__ float");
	}

	@Test
	void addOfTwoArrays() {
		String original = kernel("add_kernel", "const float *a, const float *b, float *c", "        c[i] = a[i] + b[i];",
				"8192");
		tensorizeAndVerify(original, new BangTensorize(1024), "__bang_add(");
	}

	@Test
	void scaleAndAddWithScalarInsideBlockAfterDeclarations() {
		String original = "extern \"C\" __mlu_global__ void axpy_kernel(const float *x, const float *y, float *out, float alpha)\n{\n"
				+ "    const float beta = 0.5f;\n"
				+ "    int n = 4000;\n"
				+ "    if (taskId == 0) {\n        out[0] = 0.0f;\n        out[1] = 0.0f;\n    }\n"
				+ "    {\n"
				+ "        for (int i = 2 + taskId; i < n + 2; i += taskDim) {\n"
				+ "            out[i] = alpha * x[i] + y[i] * beta - 1.0f;\n"
				+ "        }\n"
				+ "    }\n"
				+ "}\n";
		// alpha is a kernel argument: the oracle supplies it; the loop covers out[2 .. n + 2)
		tensorizeAndVerify(original, new BangTensorize(1024), Map.of("alpha", "1.75"), 0, "__bang_mul_scalar",
				"__bang_add(", "__bang_sub_scalar");
	}

	@Test
	void oddSizeWithTailAndActivations() {
		String original = kernel("mix_kernel", "const float *x, float *y, float *z",
				"        y[i] = expf(x[i]) * 2.0f;\n        z[i] = 1.0f / (1.0f + expf(-x[i])) + y[i];", "1000");
		// 1000 = 3 tasks of 333/333/334 elements, each a 256-element tile and a tail padded to 96 or 128
		String printed = tensorizeAndVerify(original, new BangTensorize(256), Map.of(), 3, "__bang_active_exp",
				"__bang_active_sigmoid", "__bang_write_zero");
		assertTrue(printed.contains("[256]"), printed);
	}

	@Test
	void scalarMinusAndDivideByVector() {
		String original = kernel("inv_kernel", "const float *x, float *y",
				"        y[i] = 3.0f - x[i] / (fabsf(x[i]) + 1.0f);", "1000");
		tensorizeAndVerify(original, new BangTensorize(4096), "__bang_div(", "__bang_active_abs");
	}

	@Test
	void dependenceIsRefused() {
		String original = kernel("scan_kernel", "const float *x, float *y", "        y[i] = y[i - 1] + x[i];", "1000");
		TranslationUnit unit = parse("t.mlu", original);
		Optional<String> refusal = new BangTensorize(1024).refusal(unit, Dialect.BANG, Dialect.BANG);
		assertTrue(refusal.isPresent());
		assertTrue(refusal.get().startsWith("no element-wise loop to tensorize"), refusal.get());
		assertTrue(refusal.get().contains("dependence"), refusal.get());
	}

	@Test
	void unsupportedCallIsRefusedAndLeftAlone() {
		String original = kernel("erf_kernel", "const float *x, float *y", "        y[i] = erff(x[i]);", "1000");
		TranslationUnit unit = parse("t.mlu", original);
		BangTensorize pass = new BangTensorize(1024);
		Optional<String> refusal = pass.refusal(unit, Dialect.BANG, Dialect.BANG);
		assertTrue(refusal.isPresent());
		assertTrue(refusal.get().contains("no element-wise loop to tensorize"), refusal.get());
		assertTrue(refusal.get().contains("erff"), refusal.get());
		String before = Dialect.BANG.printer().print(unit);
		assertEquals("0", pass.apply(unit, Dialect.BANG, Dialect.BANG).get("loops"));
		assertEquals(before, Dialect.BANG.printer().print(unit));
	}

	@Test
	void otherDialectsAreRefused() {
		String cuda = "__global__ void k(const float *x, float *y) { int i = threadIdx.x; y[i] = x[i]; }\n";
		TranslationUnit unit = new KernelParser().parse("k.cu", cuda, Dialect.CUDA).unit();
		assertTrue(new BangTensorize(1024).refusal(unit, Dialect.CUDA, Dialect.BANG).isPresent());
		TranslationUnit bang = parse("t.mlu", kernel("relu_kernel", "const float *input, float *output",
				"        output[i] = fmaxf(input[i], 0.0f);", "49152"));
		assertTrue(new BangTensorize(1024).refusal(bang, Dialect.BANG, Dialect.VNNI).isPresent());
	}

	@Test
	void optionsAreMultiplesOf32() {
		assertFalse(BangTensorize.options().isEmpty());
		assertEquals("tensorize", BangTensorize.options().get(0).name());
	}
}
