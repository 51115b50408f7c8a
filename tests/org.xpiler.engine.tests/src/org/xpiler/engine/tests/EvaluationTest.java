package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xpiler.engine.pipeline.Evaluation;
import org.xpiler.engine.pipeline.Evaluation.KernelResult;
import org.xpiler.engine.pipeline.Evaluation.Report;
import org.xpiler.engine.pipeline.Evaluation.Summary;
import org.xpiler.lang.dialect.Dialect;

/**
 * The accuracy threshold of every direction over the corpus: every output compiles with the target's real
 * toolchain (where it is installed), at least 95% of the kernels translate to verified outputs, and every
 * verified C++ output agrees with its source when run natively (where g++ and AVX-512 VNNI are available).
 * The figures of each direction are printed, Table-6 style, to the test log.
 */
public class EvaluationTest {
	private static final Path CORPUS = Path.of(System.getProperty("xpiler.corpus", "../corpus"));

	private static final double MINIMUM_COMPUTATION_ACCURACY = 95.0;

	private static final List<Dialect> DIALECTS = List.of(Dialect.CUDA, Dialect.HIP, Dialect.BANG, Dialect.VNNI);

	/** {@code -Dxpiler.evaluation.directions=cuda:vnni,bang:hip} runs only those directions (all 12 by default). */
	private static final String ONLY = System.getProperty("xpiler.evaluation.directions", "");

	static Stream<Arguments> directions() {
		List<String> only = Stream.of(ONLY.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
		List<Arguments> directions = new ArrayList<>();
		for (Dialect from : DIALECTS) {
			for (Dialect to : DIALECTS) {
				if (from != to && (only.isEmpty() || only.contains(from.id() + ":" + to.id()))) {
					directions.add(Arguments.of(from, to));
				}
			}
		}
		return directions.stream();
	}

	@ParameterizedTest(name = "{0} -> {1}")
	@MethodSource("directions")
	public void everyDirectionMeetsTheAccuracyThresholds(Dialect from, Dialect to) throws IOException {
		Report report = Evaluation.run(CORPUS.resolve(from.id()), from, to, 2, 3, kernel -> {
		});
		Summary summary = report.summary();
		System.out.println(summary.line());
		System.out.print(summary.table());
		assertTrue(summary.evaluated() > 0, () -> "no kernel of " + from.id() + " ran: " + failing(report, k -> true));

		assertNotNull(summary.computationAccuracy());
		assertTrue(summary.computationAccuracy() >= MINIMUM_COMPUTATION_ACCURACY,
				() -> String.format(Locale.ROOT, "%s: computation accuracy %.1f%% (%d/%d) is below %.0f%%; not verified:%n%s",
						summary.direction(), summary.computationAccuracy(), summary.verified(), summary.evaluated(),
						MINIMUM_COMPUTATION_ACCURACY, failing(report, k -> !k.verified())));

		boolean compilerAvailable = summary.compilerUnavailable() == null;
		if (compilerAvailable) {
			assertEquals(summary.evaluated(), summary.compiled(),
					() -> String.format(Locale.ROOT, "%s: compilation accuracy %.1f%% (%d/%d, %s); not compiled:%n%s",
							summary.direction(), summary.compilationAccuracy(), summary.compiled(), summary.evaluated(),
							summary.compiler(), failing(report, k -> k.evaluated() && !Boolean.TRUE.equals(k.compiled()))));
		}

		if (to == Dialect.VNNI && summary.nativeAgreement() != null) {
			assertEquals(summary.verified(), summary.nativeChecked(), "every verified C++ output is run natively");
			assertEquals(summary.nativeChecked(), summary.nativeAgreed(),
					() -> summary.direction() + ": native runs disagree with the source:\n" + report.kernels().stream()
							.filter(k -> Boolean.FALSE.equals(k.nativeAgrees()))
							.map(k -> "  " + k.file() + ": " + k.nativeMessage()).collect(Collectors.joining("\n")));
		}

		// last, so that a missing compiler skips only the compilation figure, after everything else was checked
		Assumptions.assumeTrue(compilerAvailable,
				() -> summary.compiler() + " is not available here, compilation not checked: "
						+ summary.compilerUnavailable());
	}

	@Test
	public void intrinsicUseIsACallOfATensorCategoryOfTheTargetCatalog() {
		String bang = """
				__mlu_global__ void k(float *x) {
				    __nram__ float a[64];
				    // __bang_mul(a, a, a, 64);
				    __memcpy(a, x + taskId * 64, 256, GDRAM2NRAM);
				    __bang_add (a, a, a, 64);
				    a[0] = expf(a[0]);
				    __sync_all();
				}
				""";
		assertEquals(List.of("__memcpy", "__bang_add"), Evaluation.intrinsicCalls(bang, Dialect.BANG));
		assertEquals(Boolean.TRUE, Evaluation.usesParallelIndex(bang, Dialect.BANG));
		String cuda = """
				__global__ void k(half *a, float *c) {
				    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
				    nvcuda::wmma::fill_fragment(acc, 0.0f);
				    wmma::mma_sync(acc, fa, fb, acc);
				    __syncthreads();
				    c[0] = __half2float(a[0]) + __ldg(c);
				    printf("threadIdx");
				}
				""";
		assertEquals(List.of("wmma::fill_fragment", "wmma::mma_sync"), Evaluation.intrinsicCalls(cuda, Dialect.CUDA));
		assertEquals(Boolean.FALSE, Evaluation.usesParallelIndex(cuda, Dialect.CUDA), "a string is not a use");
		assertEquals(List.of("__builtin_amdgcn_mfma_f32_16x16x4f32"), Evaluation.intrinsicCalls(
				"d = __builtin_amdgcn_mfma_f32_16x16x4f32(a, b, d, 0, 0, 0); x = expf(y);", Dialect.HIP));
		assertEquals(List.of("_mm512_loadu_si512", "_mm512_dpbusd_epi32"), Evaluation.intrinsicCalls(
				"__m512i v = _mm512_loadu_si512(p); acc = _mm512_dpbusd_epi32(acc, v, w); f = fmaxf(f, 0.0f);",
				Dialect.VNNI));
		assertEquals(null, Evaluation.usesParallelIndex("void f() {}", Dialect.VNNI), "C++ has no parallel index");
	}

	private static String failing(Report report, Predicate<KernelResult> which) {
		return report.kernels().stream().filter(which)
				.map(k -> "  " + k.file() + ": " + (k.problem() == null ? k.status() : k.problem()))
				.collect(Collectors.joining("\n"));
	}
}
