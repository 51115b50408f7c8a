package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.xpiler.engine.passes.LoopReorder;
import org.xpiler.engine.passes.PassRefusal;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Loop reorder on small programs: the GEMM interchange i,j,k to i,k,j that puts the unit-stride loop inside
 * (bit-identical, the oracle accepts it), a transpose, the orders it enumerates best first, and its refusals
 * (a triangular nest, a scalar reduction, an iteration reading what another writes, an accumulation whose
 * order would change, an imperfect nest, escaping control flow, a bound that reads memory, a call that gets a
 * pointer) with their lines.
 */
public class LoopReorderTest {
	/** C is zeroed by its own loop (the first loop over i), then accumulated by the nest (i#2). */
	private static final String GEMM = """
			extern "C" void gemm_kernel(const float* A, const float* B, float* C)
			{
			    for (int i = 0; i < 16 * 32; ++i) {
			        C[i] = 0.0f;
			    }
			    for (int i = 0; i < 16; ++i) {
			        for (int j = 0; j < 32; ++j) {
			            for (int k = 0; k < 8; ++k) {
			                C[i * 32 + j] += A[i * 8 + k] * B[k * 32 + j];
			            }
			        }
			    }
			}
			""";

	private static final String TRANSPOSE = """
			extern "C" void transpose_kernel(const float* x, float* y)
			{
			    for (int i = 0; i < 24; i++)
			        for (int j = 0; j < 40; j++)
			            y[j * 24 + i] = x[i * 40 + j];
			}
			""";

	/** The lower triangle of x into y, with the rest of y zeroed first. */
	private static final String TRIANGLE = """
			extern "C" void lower_kernel(const float* x, float* y)
			{
			    for (int e = 0; e < 256; ++e) y[e] = 0.0f;
			    for (int i = 0; i < 16; ++i) {
			        for (int j = 0; j < i + 1; ++j) {
			            y[i * 16 + j] = x[i * 16 + j];
			        }
			    }
			}
			""";

	/** Row sums over j, then k: y[i] sees its iterations in j,k order. */
	private static final String ROW_SUM = """
			extern "C" void row_sum_kernel(const float* x, float* y)
			{
			    for (int e = 0; e < 4; ++e) y[e] = 0.0f;
			    for (int i = 0; i < 4; ++i)
			        for (int j = 0; j < 8; ++j)
			            for (int k = 0; k < 16; ++k)
			                y[i] += x[i * 128 + j * 16 + k];
			}
			""";

	private static TranslationUnit parse(String source) {
		return PassTesting.parse(source, Dialect.VNNI);
	}

	/** Applies {@code pass}, checks that its output reads back and that the oracle accepts it; returns it. */
	private static String reorder(String source, LoopReorder pass) {
		TranslationUnit unit = parse(source);
		assertEquals("", pass.refusal(unit, Dialect.VNNI, Dialect.VNNI).orElse(""));
		assertEquals(pass.knobs(), pass.apply(unit, Dialect.VNNI, Dialect.VNNI));
		String output = Dialect.VNNI.printer().print(unit);
		PassTesting.assertVerifies(source, Dialect.VNNI, output, Dialect.VNNI);
		return output;
	}

	private static String refusal(String source, LoopReorder pass) {
		return pass.refusal(parse(source), Dialect.VNNI, Dialect.VNNI).orElse("");
	}

	private static List<String> orders(String source) {
		return LoopReorder.options(parse(source)).stream()
				.map(o -> o.knobs().get("function") + " " + o.knobs().get("nest") + " " + o.knobs().get("order"))
				.toList();
	}

	@Test
	public void theGemmNestRunsIKJWithTheUnitStrideLoopInside() {
		String out = reorder(GEMM, new LoopReorder("gemm_kernel", "i#2", List.of("i", "k", "j")));
		assertTrue(out.contains("""
				    for (int i = 0; i < 16; ++i) {
				        for (int k = 0; k < 8; ++k) {
				            for (int j = 0; j < 32; ++j) {
				                C[i * 32 + j] += A[i * 8 + k] * B[k * 32 + j];
				            }
				        }
				    }
				"""), out);
		assertTrue(out.contains("for (int i = 0; i < 16 * 32; ++i)"), out); // the zeroing loop stays
	}

	@Test
	public void gemmOrdersPutTheUnitStrideLoopInsideFirst() {
		assertEquals(List.of("gemm_kernel i#2 i,k,j", "gemm_kernel i#2 k,i,j", "gemm_kernel i#2 j,i,k",
				"gemm_kernel i#2 j,k,i", "gemm_kernel i#2 k,j,i"), orders(GEMM));
	}

	@Test
	public void everyGemmOrderIsAccepted() {
		for (LoopReorder option : LoopReorder.options(parse(GEMM))) {
			reorder(GEMM, option);
		}
	}

	@Test
	public void aTransposeRunsWithEitherLoopInside() {
		assertEquals(List.of("transpose_kernel i j,i"), orders(TRANSPOSE));
		String out = reorder(TRANSPOSE, new LoopReorder("transpose_kernel", "i", List.of("j", "i")));
		assertTrue(out.contains("""
				    for (int j = 0; j < 40; j++)
				        for (int i = 0; i < 24; i++)
				            y[j * 24 + i] = x[i * 40 + j];
				"""), out);
	}

	@Test
	public void aTriangularNestIsRefusedWithTheLine() {
		assertEquals("line 5: the bound of the loop over j depends on i: the loops cannot be interchanged"
				+ " (a triangular nest)", refusal(TRIANGLE, new LoopReorder("lower_kernel", "i", List.of("j", "i"))));
		assertEquals(List.of(), orders(TRIANGLE));
	}

	@Test
	public void anAccumulationKeepsTheOrderOfItsOwnLoops() {
		assertEquals("line 7: y[i] is updated over j,k in this order; the order i,k,j would change it",
				refusal(ROW_SUM, new LoopReorder("row_sum_kernel", "i", List.of("i", "k", "j"))));
		assertEquals(List.of("row_sum_kernel i j,i,k", "row_sum_kernel i j,k,i"), orders(ROW_SUM));
		String out = reorder(ROW_SUM, new LoopReorder("row_sum_kernel", "i", List.of("j", "k", "i")));
		assertTrue(out.contains("""
				    for (int j = 0; j < 8; ++j)
				        for (int k = 0; k < 16; ++k)
				            for (int i = 0; i < 4; ++i)
				                y[i] += x[i * 128 + j * 16 + k];
				"""), out);
	}

	@Test
	public void aScalarReductionIsRefused() {
		String source = """
				extern "C" void total_kernel(const float* x, float* y)
				{
				    float s = 0.0f;
				    for (int i = 0; i < 8; ++i)
				        for (int j = 0; j < 8; ++j)
				            s += x[i * 8 + j];
				    y[0] = s;
				}
				""";
		assertEquals("line 6: the nest writes the scalar s, declared outside it, so iterations depend on each other",
				refusal(source, new LoopReorder("total_kernel", "i", List.of("j", "i"))));
		assertEquals(List.of(), orders(source));
	}

	@Test
	public void anIterationReadingWhatAnotherWritesIsRefused() {
		String source = TRANSPOSE.replace("y[j * 24 + i] = x[i * 40 + j];", "y[i * 40 + j] = y[i * 40 + j + 1] + x[j];");
		assertEquals("line 5: the nest writes y[i * 40 + j] and reads y[i * 40 + j + 1]: an iteration may read what"
				+ " another writes", refusal(source, new LoopReorder("transpose_kernel", "i", List.of("j", "i"))));
		String alias = TRANSPOSE.replace("y[j * 24 + i] = x[i * 40 + j];",
				"{ const float* next = y + 1; y[i * 40 + j] = next[i * 40 + j] + x[j]; }");
		assertEquals("line 5: the nest writes y[i * 40 + j] and uses y unsubscripted: the reorder cannot follow the"
				+ " accesses through it", refusal(alias, new LoopReorder("transpose_kernel", "i", List.of("j", "i"))));
	}

	@Test
	public void aBoundThatReadsMemoryIsRefused() {
		String source = TRANSPOSE.replace("j < 40", "j < (int) x[0]");
		assertEquals("line 4: the bound of the loop over j is more than arithmetic on names and constants: x[0]",
				refusal(source, new LoopReorder("transpose_kernel", "i", List.of("j", "i"))));
	}

	@Test
	public void anImperfectNestAndABadOrderAreRefused() {
		String imperfect = TRANSPOSE.replace("for (int j = 0; j < 40; j++)", "{ y[i] = 0.0f; for (int j = 0; j < 40; j++)")
				.replace("x[i * 40 + j];", "x[i * 40 + j]; }");
		assertEquals("line 3: the loop over i holds more than a single canonical loop: no perfect nest of 2 loops starts"
				+ " at the loop over i", refusal(imperfect, new LoopReorder("transpose_kernel", "i", List.of("j", "i"))));
		assertEquals("line 3: the order j,k is not a permutation of the nest's loops i,j",
				refusal(TRANSPOSE, new LoopReorder("transpose_kernel", "i", List.of("j", "k"))));
		assertEquals("line 3: the order i,j is the nest's own",
				refusal(TRANSPOSE, new LoopReorder("transpose_kernel", "i", List.of("i", "j"))));
		assertEquals("line 1: transpose_kernel has no canonical loop k (for (int v = a; v < b; ++v) over k)",
				refusal(TRANSPOSE, new LoopReorder("transpose_kernel", "k", List.of("k", "i"))));
	}

	@Test
	public void escapingControlFlowAndOtherDialectsAreRefused() {
		String exit = TRANSPOSE.replace("y[j * 24 + i] = x[i * 40 + j];",
				"{ if (x[j] < 0.0f) return; y[j * 24 + i] = x[j]; }");
		assertEquals("line 5: return leaves the nest i,j in the middle",
				refusal(exit, new LoopReorder("transpose_kernel", "i", List.of("j", "i"))));
		String leave = exit.replace("return;", "break;");
		assertEquals("line 5: break leaves the nest i,j; in another order it would skip other iterations",
				refusal(leave, new LoopReorder("transpose_kernel", "i", List.of("j", "i"))));
		PassRefusal refused = assertThrows(PassRefusal.class, () -> new LoopReorder("transpose_kernel", "i",
				List.of("j", "i")).apply(parse(TRANSPOSE), Dialect.BANG, Dialect.VNNI));
		assertEquals("reorders loops of sequential C++ only (VNNI to VNNI), not BANG to VNNI", refused.getMessage());
	}

	@Test
	public void aStoreIntrinsicReceivingAPointerIsRefused() {
		String source = TRANSPOSE.replace("y[j * 24 + i] = x[i * 40 + j];", "_mm512_storeu_ps(y + i, _mm512_setzero_ps());");
		assertEquals("line 5: a call receives y unsubscripted; the reorder cannot see what it writes",
				refusal(source, new LoopReorder("transpose_kernel", "i", List.of("j", "i"))));
	}
}
