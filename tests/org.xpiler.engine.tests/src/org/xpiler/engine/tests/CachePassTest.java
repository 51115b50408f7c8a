package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.xpiler.engine.passes.Cache;
import org.xpiler.engine.passes.Cache.Scope;
import org.xpiler.engine.passes.PassRefusal;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Cache stages a re-read operand into a local or NRAM buffer before the loop that reuses it: the rewritten
 * text, the oracle accepting it against the source, the refusals (too large, written, not affine) with their
 * lines, and the knob enumeration per dialect.
 */
public class CachePassTest {

	/** x[0..128) is re-read for every row i (line 3); the row A[i*128 ..) is read once per i (line 4). */
	private static final String GEMV = """
			extern "C" void gemv_kernel(const float* A, const float* x, float* y)
			{
			    for (int i = 0; i < 64; ++i) {
			        float acc = 0.0f;
			        for (int k = 0; k < 128; ++k) {
			            acc += A[i * 128 + k] * x[k];
			        }
			        y[i] = acc;
			    }
			}
			""";

	/** What loop bind writes for a GEMV on BANG: the rows spread over the tasks. */
	private static final String BANG_GEMV = """
			extern "C" __mlu_global__ void gemv_kernel(const float *A, const float *x, float *y)
			{
			    for (int i = taskId; i < 256; i += taskDim) {
			        float acc = 0.0f;
			        for (int k = 0; k < 256; ++k) {
			            acc += A[i * 256 + k] * x[k];
			        }
			        y[i] = acc;
			    }
			}
			""";

	/** A shifted window: each row reads x[i % 4 + 2 .. i % 4 + 34) from two loops that overlap. */
	private static final String WINDOW = """
			extern "C" void window_kernel(const float* x, float* y)
			{
			    for (int i = 0; i < 32; ++i) {
			        float s = 0.0f;
			        for (int k = 2; k < 18; ++k) {
			            s += x[i % 4 + k];
			        }
			        for (int k = 16; k < 34; ++k) {
			            s -= 0.5f * x[k + i % 4];
			        }
			        y[i] = s;
			    }
			}
			""";

	private static TranslationUnit parse(String text, Dialect dialect) {
		return PassTesting.parse(text, dialect);
	}

	/** Applies the pass, checks the expected text and the oracle; returns the knobs. */
	private static Map<String, String> stageAndVerify(String source, Dialect dialect, Cache pass, String... expected) {
		TranslationUnit unit = parse(source, dialect);
		Optional<String> refusal = pass.refusal(unit, dialect, dialect);
		assertTrue(refusal.isEmpty(), () -> refusal.get());
		Map<String, String> knobs = pass.apply(unit, dialect, dialect);
		String output = dialect.printer().print(unit);
		for (String e : expected) {
			assertTrue(output.contains(e), () -> "expected " + e + " in\n" + output);
		}
		PassTesting.assertVerifies(source, dialect, output, dialect);
		return knobs;
	}

	@Test
	void theVectorOfASequentialGemvGoesIntoALocalBufferBeforeTheRowLoop() {
		Map<String, String> knobs = stageAndVerify(GEMV, Dialect.VNNI, new Cache(Scope.LOCAL),
				"    float x_cache[128];\n    for (int x_cache_i = 0; x_cache_i < 128; ++x_cache_i) {\n"
						+ "        x_cache[x_cache_i] = x[x_cache_i];\n    }\n    for (int i = 0; i < 64; ++i) {",
				"acc += A[i * 128 + k] * x_cache[k];");
		assertEquals(Map.of("scope", "local", "operand", "x@line 3", "elements", "128"), knobs);
	}

	@Test
	void theRowOfTheMatrixIsStagedAtTheStartOfEachRow() {
		Map<String, String> knobs = stageAndVerify(GEMV, Dialect.VNNI, new Cache(Scope.LOCAL, "A@line 4"),
				"for (int i = 0; i < 64; ++i) {\n        float A_cache[128];",
				"A_cache[A_cache_i] = A[i * 128 + A_cache_i];", "acc += A_cache[k] * x[k];");
		assertEquals("A@line 4", knobs.get("operand"));
	}

	@Test
	void readsFromTwoLoopsAtAnOffsetShareOneBuffer() {
		Map<String, String> knobs = stageAndVerify(WINDOW, Dialect.VNNI, new Cache(Scope.LOCAL),
				"x_cache[x_cache_i] = x[i % 4 + 2 + x_cache_i];", "s += x_cache[k - 2];",
				"s -= 0.5f * x_cache[k - 2];");
		assertEquals(Map.of("scope", "local", "operand", "x@line 4", "elements", "32"), knobs);
	}

	@Test
	void aBangKernelStagesTheVectorIntoNramOncePerTask() {
		Map<String, String> knobs = stageAndVerify(BANG_GEMV, Dialect.BANG, new Cache(Scope.NRAM),
				"    __nram__ float x_nram[256];\n    if (taskId < 256) {\n"
						+ "        __memcpy(x_nram, x, 256 * sizeof(float), GDRAM2NRAM);\n    }\n"
						+ "    for (int i = taskId; i < 256; i += taskDim) {",
				"acc += A[i * 256 + k] * x_nram[k];");
		assertEquals(Map.of("scope", "nram", "operand", "x@line 3", "elements", "256"), knobs);
	}

	@Test
	void aBangKernelStagesEachRowIntoNramWithItsOffset() {
		stageAndVerify(BANG_GEMV, Dialect.BANG, new Cache(Scope.NRAM, "A@line 4"), "__nram__ float A_nram[256];",
				"        __memcpy(A_nram, A + i * 256, 256 * sizeof(float), GDRAM2NRAM);\n        float acc = 0.0f;",
				"acc += A_nram[k] * x[k];");
	}

	@Test
	void anOperandTooLargeForNramIsRefusedWithTheSizes() {
		String big = BANG_GEMV.replace("256", "262144").replace("i < 262144", "i < 4");
		TranslationUnit unit = parse(big, Dialect.BANG);
		Optional<String> nram = new Cache(Scope.NRAM, "x@line 3").refusal(unit, Dialect.BANG, Dialect.BANG);
		assertEquals(Optional.of("x@line 3: 262144 float elements (1048576 bytes) do not fit the NRAM: the mlu370 "
				+ "leaves 655360 bytes for __nram__ arrays and 0 are taken"), nram);
		Optional<String> local = new Cache(Scope.LOCAL, "x@line 3").refusal(unit, Dialect.BANG, Dialect.BANG);
		assertTrue(local.orElseThrow().contains("1048576 bytes) exceed the 16384 bytes"), local.toString());
	}

	@Test
	void nramAlreadyTakenCountsAgainstTheBuffer() {
		String crowded = "__nram__ float tiles[163840];\n\n" + BANG_GEMV;
		TranslationUnit unit = parse(crowded, Dialect.BANG);
		Optional<String> refusal = new Cache(Scope.NRAM).refusal(unit, Dialect.BANG, Dialect.BANG);
		assertTrue(refusal.orElseThrow().contains("x@line 5: 256 float elements (1024 bytes) do not fit the NRAM"),
				refusal.get());
		assertTrue(refusal.get().contains("655360 are taken"), refusal.get());
	}

	@Test
	void aWrittenPointerIsRefusedWithItsLine() {
		String inPlace = """
				extern "C" void decay_kernel(float* y)
				{
				    for (int r = 0; r < 4; ++r) {
				        for (int k = 0; k < 64; ++k) {
				            y[k] = y[k] * 0.5f;
				        }
				    }
				}
				""";
		TranslationUnit unit = parse(inPlace, Dialect.VNNI);
		Optional<String> refusal = new Cache(Scope.LOCAL).refusal(unit, Dialect.VNNI, Dialect.VNNI);
		assertEquals(Optional.of("no read-only pointer operand with loop-invariant contiguous reuse and a constant "
				+ "extent (line 5: y is written)"), refusal);
		Optional<String> named = new Cache(Scope.LOCAL, "y@line 3").refusal(parse(GEMV, Dialect.VNNI), Dialect.VNNI,
				Dialect.VNNI);
		assertEquals(Optional.of("no operand y@line 3 to stage (line 8: y is written); candidates: x@line 3, A@line 4"),
				named);
		assertThrows(PassRefusal.class, () -> new Cache(Scope.LOCAL).apply(unit, Dialect.VNNI, Dialect.VNNI));
	}

	@Test
	void aReadThatIsNotBasePlusALoopVariableIsRefused() {
		String strided = """
				extern "C" void strided_kernel(const float* x, float* y)
				{
				    for (int i = 0; i < 16; ++i) {
				        float acc = 0.0f;
				        for (int k = 0; k < 32; ++k) {
				            acc += x[k * 2];
				        }
				        y[i] = acc;
				    }
				}
				""";
		Optional<String> refusal = new Cache(Scope.LOCAL).refusal(parse(strided, Dialect.VNNI), Dialect.VNNI,
				Dialect.VNNI);
		assertTrue(refusal.orElseThrow().contains("line 6: x[k * 2] is not indexed as k or base + k"), refusal.get());
	}

	@Test
	void aConditionalReadIsNotStaged() {
		String guarded = GEMV.replace("acc += A[i * 128 + k] * x[k];", "if (k < 100) { acc += A[i * 128 + k] * x[k]; }");
		Optional<String> refusal = new Cache(Scope.LOCAL).refusal(parse(guarded, Dialect.VNNI), Dialect.VNNI,
				Dialect.VNNI);
		assertTrue(refusal.orElseThrow().contains("line 6: the read runs only under the condition at line 6"),
				refusal.get());
	}

	@Test
	void nramIsForBangKernelsOnly() {
		assertEquals(Optional.of("nram buffers exist in BANG C only"),
				new Cache(Scope.NRAM).refusal(parse(GEMV, Dialect.VNNI), Dialect.VNNI, Dialect.VNNI));
		assertEquals(Optional.of("stages operands within one dialect"),
				new Cache(Scope.LOCAL).refusal(parse(GEMV, Dialect.VNNI), Dialect.VNNI, Dialect.BANG));
	}

	@Test
	void optionsPerDialect() {
		assertEquals(List.of("nram", "local"), knobs(Cache.options(Dialect.BANG, Dialect.BANG), Dialect.BANG, BANG_GEMV));
		assertEquals(List.of("local"), knobs(Cache.options(Dialect.VNNI, Dialect.VNNI), Dialect.VNNI, GEMV));
		assertEquals(1, Cache.options(Dialect.CUDA, Dialect.CUDA).size());
		assertTrue(Cache.options(Dialect.VNNI, Dialect.BANG).isEmpty());
		List<Cache> all = Cache.options(parse(BANG_GEMV, Dialect.BANG), Dialect.BANG, Dialect.BANG);
		assertEquals(List.of("nram x@line 3", "nram A@line 4", "local x@line 3", "local A@line 4"),
				all.stream().map(c -> {
					Map<String, String> k = c.apply(parse(BANG_GEMV, Dialect.BANG), Dialect.BANG, Dialect.BANG);
					return k.get("scope") + " " + k.get("operand");
				}).toList());
	}

	private static List<String> knobs(List<Cache> options, Dialect dialect, String source) {
		return options.stream().map(c -> c.apply(parse(source, dialect), dialect, dialect).get("scope")).toList();
	}
}
