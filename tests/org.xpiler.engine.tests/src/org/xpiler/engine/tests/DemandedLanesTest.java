package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.engine.passes.BangDetensorize;
import org.xpiler.engine.pipeline.Translator;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * Detensorize gives BANG C's element-wise intrinsics the count of elements whose results are read, so that a
 * ragged tail computed on a padded count lifts to scalar code that reads no never-written element; where that
 * cannot be shown the count stays, and the lifted program's reads of garbage are caught on the virtual device.
 */
public class DemandedLanesTest {
	/**
	 * 16 tasks: 8 of 300 floats, whose tail padded to 32 floats (line 21) reads never-written elements, and 8 of
	 * 1500, one chunk and a tail.
	 */
	private static final String TAIL = """
			#define CHUNK 1024
			#define ALIGN 32
			__nram__ char buffer[CHUNK * sizeof(float)];

			extern "C" __mlu_global__ void abs_kernel(const float *input, float *output) {
			    float *x = (float *)buffer;
			    int small = taskId < 8;
			    int mine = small ? 300 : 1500;
			    int first = small ? taskId * 300 : 2400 + (taskId - 8) * 1500;
			    const float *src = input + first;
			    float *dst = output + first;
			    int repeat = mine / CHUNK;
			    int tail = mine % CHUNK;
			    for (int i = 0; i < repeat; ++i) {
			        __memcpy(x, src + i * CHUNK, CHUNK * sizeof(float), GDRAM2NRAM);
			        __bang_active_abs(x, x, CHUNK);
			        __memcpy(dst + i * CHUNK, x, CHUNK * sizeof(float), NRAM2GDRAM);
			    }
			    int tail_align = (tail + ALIGN - 1) / ALIGN * ALIGN;
			    __memcpy(x, src + repeat * CHUNK, tail * sizeof(float), GDRAM2NRAM);
			    __bang_active_abs(x, x, tail_align);
			    __memcpy(dst + repeat * CHUNK, x, tail * sizeof(float), NRAM2GDRAM);
			}
			""";

	/** Out of place through three buffers, the padding rounded up with a mask (lines 12 to 14). */
	private static final String CHAIN = """
			__nram__ float a[256];
			__nram__ float b[256];
			__nram__ float c[256];

			extern "C" __mlu_global__ void chain_kernel(const float *x, const float *y, float *out) {
			    int per = 3000 / taskDim;
			    int start = taskId * per;
			    int len = taskId == taskDim - 1 ? 3000 - start : per;
			    int len_pad = (len + 31) & ~31;
			    __memcpy(a, x + start, len * sizeof(float), GDRAM2NRAM);
			    __memcpy(b, y + start, len * sizeof(float), GDRAM2NRAM);
			    __bang_mul(c, a, b, len_pad);
			    __bang_add_scalar(a, c, 1.0f, len_pad);
			    __bang_active_tanh(b, a, len_pad);
			    __memcpy(out + start, b, len * sizeof(float), NRAM2GDRAM);
			}
			""";

	private static TranslationUnit parse(String text) {
		ParsedKernel parsed = new KernelParser().parse("k.mlu", text, Dialect.BANG);
		assertFalse(parsed.hasErrors(), () -> parsed.errors() + "\n" + text);
		return parsed.unit();
	}

	/** Detensorizes {@code text}, checks the result against it on the virtual device, and returns the knobs and text. */
	private static Map.Entry<Map<String, String>, String> detensorize(String text) {
		TranslationUnit unit = parse(text);
		Map<String, String> knobs = new BangDetensorize().apply(unit, Dialect.BANG, Dialect.BANG);
		String printed = Dialect.BANG.printer().print(unit);
		Oracle.Verdict verdict = new Oracle().verify(new KernelSource(Path.of("a.mlu"), Dialect.BANG, text),
				new KernelSource(Path.of("b.mlu"), Dialect.BANG, printed), new VirtualDevice(), Map.of(), 3,
				RunRequest.of(List.of()));
		assertTrue(verdict.matches(), () -> verdict.summary() + "\n" + printed);
		return Map.entry(knobs, printed);
	}

	@Test
	void aPaddedTailIsComputedOverTheElementsItStores() {
		Map.Entry<Map<String, String>, String> result = detensorize(TAIL);
		assertTrue(result.getValue().contains("bang_active_abs(x, x, tail);"), result.getValue());
		assertTrue(result.getValue().contains("bang_active_abs(x, x, CHUNK);"), result.getValue());
		assertEquals("line 21: tail", result.getKey().get("restricted"));
	}

	@Test
	void aChainThroughSeveralBuffersIsRestrictedThroughout() {
		Map.Entry<Map<String, String>, String> result = detensorize(CHAIN);
		assertTrue(result.getValue().contains("bang_mul(c, a, b, len);"), result.getValue());
		assertTrue(result.getValue().contains("bang_add_scalar(a, c, 1.0f, len);"), result.getValue());
		assertTrue(result.getValue().contains("bang_active_tanh(b, a, len);"), result.getValue());
		assertEquals("line 14: len, line 13: len, line 12: len", result.getKey().get("restricted"));
	}

	@Test
	void aCountNotKnownToBeLargerBecomesTheSmallerOfTheTwo() {
		String kernel = TAIL.replace("int tail_align = (tail + ALIGN - 1) / ALIGN * ALIGN;",
				"int tail_align = tail > 96 ? 128 : 96;");
		Map.Entry<Map<String, String>, String> result = detensorize(kernel);
		assertTrue(result.getValue().contains("bang_active_abs(x, x, (tail < tail_align ? tail : tail_align));"),
				result.getValue());
	}

	@Test
	void aBufferReadOutsideIntrinsicsKeepsItsCounts() {
		String kernel = TAIL.replace("    __memcpy(dst + repeat * CHUNK, x, tail * sizeof(float), NRAM2GDRAM);\n",
				"    __memcpy(dst + repeat * CHUNK, x, tail * sizeof(float), NRAM2GDRAM);\n    dst[0] = x[0];\n");
		TranslationUnit unit = parse(kernel);
		Map<String, String> knobs = new BangDetensorize().apply(unit, Dialect.BANG, Dialect.BANG);
		assertFalse(knobs.containsKey("restricted"), knobs.toString());
		assertTrue(Dialect.BANG.printer().print(unit).contains("bang_active_abs(x, x, tail_align);"));
	}

	@Test
	void aPaddedTailThatKeepsItsCountFailsItsTranslationAtTheRead() {
		// the scalar read makes the buffer's padding possibly live: the lifted helper then reads garbage
		String kernel = TAIL.replace("    __memcpy(dst + repeat * CHUNK, x, tail * sizeof(float), NRAM2GDRAM);\n",
				"    __memcpy(dst + repeat * CHUNK, x, tail * sizeof(float), NRAM2GDRAM);\n    dst[0] = x[0];\n");
		Translator.Result result = new Translator().translate(new KernelSource(Path.of("abs.mlu"), Dialect.BANG, kernel),
				Dialect.VNNI, 3);
		assertFalse(result.record().verified());
		assertTrue(result.record().reason().contains("detensorize")
				&& result.record().reason().contains("read of uninitialized memory"), result.record().reason());
	}

	@Test
	void aBufferReadBeforeItIsWrittenInARunKeepsItsCounts() {
		// the tail reads what the loop's last chunk left in the padding: the buffer carries data between runs
		String kernel = TAIL.replace("    __memcpy(x, src + repeat * CHUNK, tail * sizeof(float), GDRAM2NRAM);\n", "");
		TranslationUnit unit = parse(kernel);
		Map<String, String> knobs = new BangDetensorize().apply(unit, Dialect.BANG, Dialect.BANG);
		assertFalse(knobs.containsKey("restricted"), knobs.toString());
	}

	@ParameterizedTest
	@ValueSource(strings = { "cuda", "hip", "vnni" })
	void aPaddedTailTranslatesAndVerifies(String target) {
		Translator.Result result = new Translator().translate(new KernelSource(Path.of("abs.mlu"), Dialect.BANG, TAIL),
				Dialect.fromId(target).orElseThrow(), 3);
		assertTrue(result.record().verified(), result.record().reason());
	}
}
