package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.xpiler.engine.passes.LoopExpansion;
import org.xpiler.engine.passes.PassRefusal;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Loop expansion splits a loop into one loop per group of statements: independent element-wise statements go
 * apart, a local used by a later statement becomes an array, a reduction stays with its readers, and a
 * statement that needs what an earlier one writes at a later iteration keeps the loop whole.
 */
public class LoopExpansionTest {

	private static TranslationUnit parse(String text) {
		return PassTesting.parse(text, Dialect.VNNI);
	}

	private record Expanded(String output, Map<String, String> knobs) {
	}

	private static Expanded expand(String source, int loop) {
		TranslationUnit unit = parse(source);
		LoopExpansion pass = new LoopExpansion(loop);
		assertEquals(Optional.empty(), pass.refusal(unit, Dialect.VNNI, Dialect.VNNI));
		Map<String, String> knobs = pass.apply(unit, Dialect.VNNI, Dialect.VNNI);
		String output = Dialect.VNNI.printer().print(unit);
		PassTesting.assertVerifies(source, Dialect.VNNI, output, Dialect.VNNI);
		return new Expanded(output, knobs);
	}

	private static String refusal(String source, int loop) {
		TranslationUnit unit = parse(source);
		LoopExpansion pass = new LoopExpansion(loop);
		String reason = pass.refusal(unit, Dialect.VNNI, Dialect.VNNI).orElseThrow();
		PassRefusal thrown = assertThrows(PassRefusal.class, () -> pass.apply(unit, Dialect.VNNI, Dialect.VNNI));
		assertEquals(reason, thrown.getMessage());
		return reason;
	}

	@Test
	public void twoElementWiseStatementsBecomeTwoLoops() {
		String source = """
				extern "C" void add_double_kernel(const float* a, const float* b, float* y, float* z)
				{
				    for (int i = 0; i < 1024; i++) {
				        y[i] = a[i] + b[i];
				        z[i] = y[i] * 2.0f;
				    }
				}
				""";
		Expanded result = expand(source, 0);
		assertEquals(Map.of("loop", "0", "pieces", "2"), result.knobs());
		assertTrue(result.output().contains("""
				    for (int i = 0; i < 1024; i++) {
				        y[i] = a[i] + b[i];
				    }
				    for (int i = 0; i < 1024; i++) {
				        z[i] = y[i] * 2.0f;
				    }
				"""), result.output());
	}

	@Test
	public void withoutScalarExpansionALocalKeepsItsStatementsTogether() {
		String source = """
				extern "C" void local_kernel(const float* a, const float* b, float* y, float* z)
				{
				    for (int i = 0; i < 256; i++) {
				        float t = a[i] * b[i];
				        y[i] = t + 1.0f;
				        z[i] = a[i] - b[i];
				    }
				}
				""";
		TranslationUnit unit = parse(source);
		LoopExpansion pass = new LoopExpansion(0, false);
		assertEquals(Map.of("loop", "0", "pieces", "2", "expand-scalars", "false"),
				pass.apply(unit, Dialect.VNNI, Dialect.VNNI));
		String output = Dialect.VNNI.printer().print(unit);
		assertFalse(output.contains("t_per_i"), output);
		PassTesting.assertVerifies(source, Dialect.VNNI, output, Dialect.VNNI);
		assertEquals(1, LoopExpansion.options(parse(source), false).size());
	}

	@Test
	public void aLocalUsedByALaterStatementBecomesAnArrayIndexedByTheLoopVariable() {
		String source = """
				extern "C" void local_kernel(const float* a, const float* b, float* y, float* z)
				{
				    for (int i = 0; i < 256; i++) {
				        float t = a[i] * b[i];
				        y[i] = t + 1.0f;
				        z[i] = a[i] - b[i];
				    }
				}
				""";
		Expanded result = expand(source, 0);
		assertEquals(Map.of("loop", "0", "pieces", "3", "expanded", "t_per_i"), result.knobs());
		assertTrue(result.output().contains("""
				    float t_per_i[256];
				    for (int i = 0; i < 256; i++) {
				        t_per_i[i] = a[i] * b[i];
				    }
				    for (int i = 0; i < 256; i++) {
				        y[i] = t_per_i[i] + 1.0f;
				    }
				    for (int i = 0; i < 256; i++) {
				        z[i] = a[i] - b[i];
				    }
				"""), result.output());
	}

	@Test
	public void aReductionStaysWithTheStatementsThatReadItsVariable() {
		String source = """
				extern "C" void prefix_kernel(const float* x, float* y, float* z, float* total)
				{
				    float s = 0.0f;
				    for (int i = 0; i < 512; i++) {
				        s += x[i];
				        y[i] = s;
				        z[i] = x[i] * 2.0f;
				    }
				    total[0] = s;
				}
				""";
		Expanded result = expand(source, 0);
		assertEquals("2", result.knobs().get("pieces"));
		assertTrue(result.output().contains("""
				    for (int i = 0; i < 512; i++) {
				        s += x[i];
				        y[i] = s;
				    }
				    for (int i = 0; i < 512; i++) {
				        z[i] = x[i] * 2.0f;
				    }
				"""), result.output());
	}

	@Test
	public void aRowLoopSplitsAroundItsInnerLoopsWithThePerRowScalarExpanded() {
		String source = """
				extern "C" void center_kernel(const float* x, float* y)
				{
				    for (int r = 0; r < 8; r++) {
				        float m = 0.0f;
				        for (int j = 0; j < 64; j++) {
				            m += x[r * 64 + j];
				        }
				        m = m / 64.0f;
				        for (int j = 0; j < 64; j++) {
				            y[r * 64 + j] = x[r * 64 + j] - m;
				        }
				    }
				}
				""";
		Expanded result = expand(source, 0);
		assertEquals(Map.of("loop", "0", "pieces", "4", "expanded", "m_per_r"), result.knobs());
		assertTrue(result.output().contains("float m_per_r[8];"), result.output());
		assertTrue(result.output().contains("m_per_r[r] += x[r * 64 + j];"), result.output());
		assertTrue(result.output().contains("y[r * 64 + j] = x[r * 64 + j] - m_per_r[r];"), result.output());
	}

	@Test
	public void readingAheadOfWhatAnEarlierStatementWritesIsRefusedWithTheLines() {
		String source = """
				extern "C" void shifted_kernel(const float* x, float* y, float* z)
				{
				    for (int i = 0; i < 255; i++) {
				        y[i] = x[i] * 2.0f;
				        z[i] = y[i + 1];
				    }
				}
				""";
		assertEquals("line 3: the statements of the loop over i must stay together: line 5 touches y[i + 1], which "
				+ "y[i] (line 4) may touch at a later iteration", refusal(source, 0));
	}

	@Test
	public void readingBehindIsSplitButOverwritingWhatAnEarlierStatementStillNeedsIsNot() {
		String behind = """
				extern "C" void behind_kernel(const float* x, float* y, float* z)
				{
				    y[0] = 0.0f;
				    z[0] = 0.0f;
				    for (int i = 1; i < 256; i++) {
				        y[i] = x[i] * 2.0f;
				        z[i] = y[i - 1];
				    }
				}
				""";
		assertEquals("2", expand(behind, 0).knobs().get("pieces"));
		String overwrite = """
				extern "C" void overwrite_kernel(const float* x, float* y, float* z)
				{
				    for (int i = 1; i < 256; i++) {
				        z[i] = y[i - 1];
				        y[i] = x[i];
				    }
				}
				""";
		assertTrue(refusal(overwrite, 0).contains("line 5 touches y[i], which y[i - 1] (line 4) may touch at a later "
				+ "iteration"), refusal(overwrite, 0));
	}

	@Test
	public void theSameElementInEveryIterationIsNoPerIterationDependence() {
		String source = """
				extern "C" void scratch_kernel(const float* x, float* y)
				{
				    float t[1];
				    for (int i = 0; i < 64; i++) {
				        t[0] = x[i] * 3.0f;
				        y[i] = t[0] + 1.0f;
				    }
				}
				""";
		assertTrue(refusal(source, 0).startsWith("line 4: the statements of the loop over i must stay together: line 6"),
				refusal(source, 0));
	}

	@Test
	public void jumpsOutOfTheLoopAndOtherDialectsAreRefused() {
		String source = """
				extern "C" void early_kernel(const float* x, float* y, float* z)
				{
				    for (int i = 0; i < 64; i++) {
				        y[i] = x[i];
				        if (x[i] < 0.0f)
				            break;
				        z[i] = x[i];
				    }
				}
				""";
		assertEquals("line 6: break leaves the loop", refusal(source, 0));
		assertEquals(Optional.of("expands loops of sequential C++ only"),
				new LoopExpansion(0).refusal(parse(source), Dialect.VNNI, Dialect.BANG));
		assertEquals("line 3: the loop over i holds a single statement",
				refusal(source.replace("y[i] = x[i];", "").replace("z[i] = x[i];", ""), 0));
	}

	@Test
	public void optionsAreTheLoopsThatSplitOutermostFirst() {
		String source = """
				extern "C" void mixed_kernel(const float* x, float* y, float* z, float* w, float* v)
				{
				    for (int r = 0; r < 4; r++) {
				        for (int j = 0; j < 64; j++) {
				            y[r * 64 + j] = x[r * 64 + j] + 1.0f;
				            z[r * 64 + j] = x[r * 64 + j] - 1.0f;
				        }
				    }
				    float s = 0.0f;
				    for (int i = 0; i < 256; i++) {
				        s += x[i];
				        w[i] = s;
				    }
				    for (int i = 0; i < 256; i++) {
				        v[i] = x[i] * 0.5f;
				        v[i] = v[i] + w[i];
				    }
				}
				""";
		TranslationUnit unit = parse(source);
		List<LoopExpansion> options = LoopExpansion.options(unit);
		assertEquals(List.of("3", "1"),
				options.stream().map(o -> o.apply(parse(source), Dialect.VNNI, Dialect.VNNI).get("loop")).toList());
		assertEquals("2", expand(source, 1).knobs().get("pieces"));
		assertEquals("2", expand(source, 3).knobs().get("pieces"));
	}
}
