package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xpiler.engine.passes.LoopSplit;
import org.xpiler.engine.passes.PassRefusal;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Loop split on small programs: the strips it writes, the remainder loop when the factor does not divide the
 * trip count, a lower bound other than 0, the oracle accepting every split, the factors it enumerates (aligned
 * ones first, outermost loops only) and its refusals with their lines.
 */
public class LoopSplitTest {
	private static final String SCALE = """
			extern "C" void scale_kernel(const float* x, float* y)
			{
			    for (int i = 0; i < 1024; ++i) {
			        y[i] = x[i] * 2.0f + 1.0f;
			    }
			}
			""";

	/** The bound is a const integer; 1000 is no multiple of 64. */
	private static final String CONST_BOUND = """
			extern "C" void shift_kernel(const float* x, float* y)
			{
			    const int n = 1000;
			    for (int i = 0; i < n; i++)
			        y[i] = x[i] - 3.0f;
			}
			""";

	/** The second loop over i starts at 4. */
	private static final String OFFSET = """
			extern "C" void offset_kernel(const float* x, float* y)
			{
			    for (int i = 0; i < 4; ++i) {
			        y[i] = 0.0f;
			    }
			    for (int i = 4; i < 100; ++i) {
			        y[i] = x[i] * x[i];
			    }
			}
			""";

	private static final String ROWS = """
			extern "C" void rows_kernel(const float* a, const float* b, float* c)
			{
			    for (int r = 0; r < 8; r++) {
			        for (int j = 0; j < 96; ++j) {
			            c[r * 96 + j] = a[r * 96 + j] + b[j];
			        }
			    }
			}
			""";

	private static TranslationUnit parse(String source) {
		return PassTesting.parse(source, Dialect.VNNI);
	}

	/** Applies {@code pass}, checks that its output reads back and that the oracle accepts it; returns it. */
	private static String split(String source, LoopSplit pass, Map<String, String> knobs) {
		TranslationUnit unit = parse(source);
		assertEquals("", pass.refusal(unit, Dialect.VNNI, Dialect.VNNI).orElse(""));
		assertEquals(knobs, pass.apply(unit, Dialect.VNNI, Dialect.VNNI));
		String output = Dialect.VNNI.printer().print(unit);
		PassTesting.assertVerifies(source, Dialect.VNNI, output, Dialect.VNNI);
		return output;
	}

	private static String refusal(String source, LoopSplit pass) {
		return pass.refusal(parse(source), Dialect.VNNI, Dialect.VNNI).orElse("");
	}

	@Test
	public void aDivisorMakesStripsThatReadTheOriginalIndex() {
		String out = split(SCALE, new LoopSplit("scale_kernel", "i", 64),
				Map.of("function", "scale_kernel", "loop", "i", "factor", "64"));
		assertTrue(out.contains("""
				    for (int i_o = 0; i_o < 16; ++i_o) {
				        for (int i_i = 0; i_i < 64; ++i_i) {
				            const int i = i_o * 64 + i_i;
				            y[i] = x[i] * 2.0f + 1.0f;
				        }
				    }
				"""), out);
		assertFalse(out.contains("i < 1024"), out); // no remainder loop
	}

	@Test
	public void aFactorThatDoesNotDivideLeavesARemainderLoop() {
		String out = split(CONST_BOUND, new LoopSplit("shift_kernel", "i", 64),
				Map.of("function", "shift_kernel", "loop", "i", "factor", "64"));
		assertTrue(out.contains("for (int i_o = 0; i_o < 15; ++i_o)"), out);
		assertTrue(out.contains("const int i = i_o * 64 + i_i;"), out);
		assertTrue(out.contains("for (int i = 960; i < n; ++i)"), out);
	}

	@Test
	public void aLowerBoundIsCarriedIntoTheIndexAndTheSecondLoopOverIIsNamedIHash2() {
		String out = split(OFFSET, new LoopSplit("offset_kernel", "i#2", 32),
				Map.of("function", "offset_kernel", "loop", "i#2", "factor", "32"));
		assertTrue(out.contains("for (int i_o = 0; i_o < 3; ++i_o)"), out);
		assertTrue(out.contains("const int i = 4 + i_o * 32 + i_i;"), out);
		assertTrue(out.contains("for (int i = 0; i < 4; ++i)"), out); // the first loop is left alone
	}

	@Test
	public void anInnerLoopSplitsToo() {
		String out = split(ROWS, new LoopSplit("rows_kernel", "j", 32),
				Map.of("function", "rows_kernel", "loop", "j", "factor", "32"));
		assertTrue(out.contains("for (int j_o = 0; j_o < 3; ++j_o)"), out);
		assertTrue(out.contains("const int j = j_o * 32 + j_i;"), out);
	}

	@Test
	public void newVariablesDoNotClashWithExistingNames() {
		String source = SCALE.replace("y[i] = x[i] * 2.0f + 1.0f;", "float i_o = x[i];\n        y[i] = i_o * 2.0f;");
		String out = split(source, new LoopSplit("scale_kernel", "i", 256),
				Map.of("function", "scale_kernel", "loop", "i", "factor", "256"));
		assertTrue(out.contains("for (int i_o_2 = 0; i_o_2 < 4; ++i_o_2)"), out);
		assertTrue(out.contains("const int i = i_o_2 * 256 + i_i;"), out);
	}

	@Test
	public void optionsAreTheDivisorsAlignedOnesFirst() {
		List<LoopSplit> options = LoopSplit.options(parse(SCALE));
		assertEquals(List.of("64", "128", "256", "512", "32", "16", "8", "4", "2"),
				options.stream().map(o -> o.knobs().get("factor")).toList());
	}

	@Test
	public void optionsSplitOnlyTheOutermostLoops() {
		List<Map<String, String>> knobs = LoopSplit.options(parse(ROWS)).stream().map(LoopSplit::knobs).toList();
		assertEquals(List.of(Map.of("function", "rows_kernel", "loop", "r", "factor", "4"),
				Map.of("function", "rows_kernel", "loop", "r", "factor", "2")), knobs);
	}

	@Test
	public void optionsFindConstBoundsAndNothingWithoutAConstantTripCount() {
		assertEquals(Map.of("function", "shift_kernel", "loop", "i", "factor", "8"),
				LoopSplit.options(parse(CONST_BOUND)).get(0).knobs());
		assertEquals(List.of(), LoopSplit.options(parse(CONST_BOUND.replace("const int n", "int n"))));
	}

	@Test
	public void refusesAFactorOutsideTwoToNMinusOneWithTheLine() {
		assertEquals("line 3: the factor 1 is not in 2..1023 for the 1024 iterations of the loop over i",
				refusal(SCALE, new LoopSplit("scale_kernel", "i", 1)));
		assertEquals("line 3: the factor 1024 is not in 2..1023 for the 1024 iterations of the loop over i",
				refusal(SCALE, new LoopSplit("scale_kernel", "i", 1024)));
	}

	@Test
	public void refusesAMissingLoopAndABoundThatIsNotConstant() {
		assertEquals("line 1: scale_kernel has no canonical loop i#2 (for (int v = a; v < b; ++v) over i)",
				refusal(SCALE, new LoopSplit("scale_kernel", "i#2", 4)));
		assertEquals("the file defines no function relu_kernel", refusal(SCALE, new LoopSplit("relu_kernel", "i", 4)));
		assertEquals("line 4: the loop over i has no constant trip count",
				refusal(CONST_BOUND.replace("const int n", "int n"), new LoopSplit("shift_kernel", "i", 8)));
	}

	@Test
	public void refusesABreakThatWouldLeaveOnlyTheStripAndOtherDialects() {
		String source = SCALE.replace("y[i] = x[i] * 2.0f + 1.0f;", "if (x[i] < 0.0f) break;\n        y[i] = x[i];");
		assertEquals("line 4: break leaves the loop over i; after the split it would leave only the strip",
				refusal(source, new LoopSplit("scale_kernel", "i", 4)));
		PassRefusal refused = assertThrows(PassRefusal.class,
				() -> new LoopSplit("scale_kernel", "i", 4).apply(parse(SCALE), Dialect.VNNI, Dialect.CUDA));
		assertEquals("splits loops of sequential C++ only (VNNI to VNNI), not VNNI to CUDA", refused.getMessage());
	}
}
