package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.KernelSource;
import org.xpiler.engine.passes.LoopFuse;
import org.xpiler.engine.passes.LoopRecovery;
import org.xpiler.engine.passes.PassRefusal;
import org.xpiler.engine.passes.ProgramAnnotation;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Program annotation names what each loop nest computes and the target's candidate intrinsics: one small
 * sequential program per operation (classified from its subscripts and operators, checked for two targets),
 * programs that differ from each other only where the classification must differ, lifted corpus kernels, and
 * the comment itself: just before the nest, read back unchanged in behaviour by the oracle, not duplicated by a
 * second run.
 */
public class ProgramAnnotationTest {
	private static final Path CORPUS = Path.of(System.getProperty("xpiler.corpus", "../corpus"));
	private static final Pattern CANDIDATES = Pattern.compile("candidates: ([^;]+)");

	private static final String GEMM = """
			extern "C" void gemm_kernel(const float* A, const float* B, float* C)
			{
			    for (int i = 0; i < 16; i++) {
			        for (int j = 0; j < 32; j++) {
			            float acc = 0.0f;
			            for (int k = 0; k < 64; k++) {
			                acc += A[i * 64 + k] * B[k * 32 + j];
			            }
			            C[i * 32 + j] = acc;
			        }
			    }
			}
			""";

	/** uint8 times int8 with an int32 accumulator, written straight into the output. */
	private static final String GEMV_U8S8 = """
			extern "C" void gemv_u8s8_kernel(const int8_t* A, const uint8_t* x, int32_t* y)
			{
			    for (int m = 0; m < 64; m++) {
			        y[m] = 0;
			        for (int k = 0; k < 128; k++) {
			            y[m] += (int32_t)A[m * 128 + k] * (int32_t)x[k];
			        }
			    }
			}
			""";

	private static final String CONV2D = """
			extern "C" void conv2d_kernel(const float* x, const float* w, float* y)
			{
			    for (int oh = 0; oh < 6; oh++) {
			        for (int ow = 0; ow < 6; ow++) {
			            float acc = 0.0f;
			            for (int kh = 0; kh < 3; kh++) {
			                for (int kw = 0; kw < 3; kw++) {
			                    acc += x[(oh + kh) * 8 + ow + kw] * w[kh * 3 + kw];
			                }
			            }
			            y[oh * 6 + ow] = acc;
			        }
			    }
			}
			""";

	/** 2 x 2 windows with stride 2 (they do not overlap), the maximum kept by an if. */
	private static final String MAXPOOL = """
			extern "C" void maxpool_kernel(const float* x, float* y)
			{
			    for (int oh = 0; oh < 4; oh++) {
			        for (int ow = 0; ow < 4; ow++) {
			            int base = oh * 2 * 8 + ow * 2;
			            float m = x[base];
			            for (int kh = 0; kh < 2; kh++) {
			                for (int kw = 0; kw < 2; kw++) {
			                    float v = x[base + kh * 8 + kw];
			                    if (v > m) {
			                        m = v;
			                    }
			                }
			            }
			            y[oh * 4 + ow] = m;
			        }
			    }
			}
			""";

	private static final String ROW_SUM = """
			extern "C" void row_sum_kernel(const float* x, float* y)
			{
			    for (int r = 0; r < 8; r++) {
			        float s = 0.0f;
			        for (int c = 0; c < 64; c++) {
			            s += x[r * 64 + c];
			        }
			        y[r] = s;
			    }
			}
			""";

	/** The row sum's shape with one change: the summed element slides with the output index (i + k). */
	private static final String WINDOW_SUM = """
			extern "C" void window_sum_kernel(const float* x, float* y)
			{
			    for (int i = 0; i < 8; i++) {
			        float s = 0.0f;
			        for (int k = 0; k < 4; k++) {
			            s += x[i + k];
			        }
			        y[i] = s;
			    }
			    for (int i = 8; i < 11; i++) {
			        y[i] = x[i];
			    }
			}
			""";

	/** The GEMM's shape with one change: both operands indexed by the reduction alone, a dot product. */
	private static final String DOT = """
			extern "C" void dot_kernel(const float* a, const float* b, float* out)
			{
			    float s = 0.0f;
			    for (int k = 0; k < 64; k++) {
			        s = s + a[k] * b[k];
			    }
			    out[0] = s;
			}
			""";

	private static final String RELU = """
			extern "C" void relu_kernel(const float* x, float* y)
			{
			    for (int i = 0; i < 256; i++) {
			        y[i] = fmaxf(x[i], 0.0f);
			    }
			}
			""";

	private static final String EXP = """
			extern "C" void exp_kernel(const float* x, float* y)
			{
			    for (int i = 0; i < 256; i++) {
			        float v = x[i];
			        y[i] = expf(v);
			    }
			}
			""";

	private static final String COPY = """
			extern "C" void copy_kernel(const float* x, float* y)
			{
			    for (int i = 0; i < 256; ++i)
			        y[i] = x[i];
			}
			""";

	private static final String NO_LOOP = """
			extern "C" void scale_kernel(const float* x, float* y)
			{
			    y[0] = x[0] * 2.0f;
			}
			""";

	private static TranslationUnit parse(String text, Dialect dialect) {
		return PassTesting.parse(text, dialect);
	}

	/** The pass's record and the printed output, for sequential C++ annotated for {@code to}. */
	private record Annotated(Map<String, String> record, String output) {
		String first() {
			return record.entrySet().stream().filter(e -> e.getKey().matches("line \\d+")).findFirst().orElseThrow()
					.getValue();
		}
	}

	private static Annotated annotate(String source, Dialect to) {
		TranslationUnit unit = parse(source, Dialect.VNNI);
		ProgramAnnotation pass = new ProgramAnnotation();
		assertEquals(Optional.empty(), pass.refusal(unit, Dialect.VNNI, to));
		Map<String, String> record = pass.apply(unit, Dialect.VNNI, to);
		return new Annotated(record, Dialect.VNNI.printer().print(unit));
	}

	/** The candidates an annotation lists, each checked to be in the target's catalog. */
	private static List<String> candidates(String annotation, Dialect to) {
		Matcher m = CANDIDATES.matcher(annotation);
		assertTrue(m.find(), annotation);
		List<String> names = m.group(1).equals("none") ? List.of() : List.of(m.group(1).split(", "));
		names.forEach(n -> assertTrue(to.catalog().knows(n), n + " is not in the " + to.id() + " catalog"));
		return names;
	}

	private static void assertClass(String source, String operation, List<String> bang, List<String> vnni) {
		String forBang = annotate(source, Dialect.BANG).first();
		String forVnni = annotate(source, Dialect.VNNI).first();
		assertTrue(forBang.startsWith(operation + " "), forBang);
		assertEquals(bang, candidates(forBang, Dialect.BANG), forBang);
		assertEquals(vnni, candidates(forVnni, Dialect.VNNI), forVnni);
	}

	private static void assertUnchanged(String source, String output) {
		PassTesting.assertVerifies(source, Dialect.VNNI, output, Dialect.VNNI);
	}

	@Test
	public void aNaiveGemmIsAMatmulWithItsLoopsAndTheCommentSitsBeforeTheNest() {
		Annotated result = annotate(GEMM, Dialect.BANG);
		String expected = "matmul acc += A[i * 64 + k] * B[k * 32 + j] over i<16, j<32, k<64 reducing k, float;"
				+ " BANG candidates: __bang_matmul; also copy";
		assertEquals(Map.of("line 3", expected, "line 3 candidates",
				"cuda: fmaf; hip: __builtin_amdgcn_mfma_f32_16x16x4f32, fmaf; bang: __bang_matmul;"
						+ " vnni: _mm512_fmadd_ps",
				"nests", "1"), result.record());
		assertTrue(result.output().contains("{\n    // xpiler: " + expected + "\n    for (int i = 0; i < 16; i++) {"),
				result.output());
		assertEquals(GEMM.replace("\n", "").replace(" ", ""),
				result.output().replaceAll("\\s*// xpiler: [^\n]*", "").replace("\n", "").replace(" ", ""));
	}

	@Test
	public void aTranslationAnnotatesItsSequentialCodeWithTheFinalTargetsCandidates() {
		TranslationUnit unit = parse(GEMM, Dialect.VNNI);
		Map<String, String> record = new ProgramAnnotation(Dialect.BANG).apply(unit, Dialect.VNNI, Dialect.VNNI);
		assertTrue(record.get("line 3").endsWith("BANG candidates: __bang_matmul; also copy"), record.toString());
	}

	@Test
	public void eachOperationGetsItsClassAndCandidatesOnTwoTargets() {
		assertClass(GEMM, "matmul", List.of("__bang_matmul"), List.of("_mm512_fmadd_ps"));
		assertClass(CONV2D, "conv", List.of("__bang_conv"), List.of("_mm512_fmadd_ps"));
		assertClass(MAXPOOL, "pool(max)", List.of("__bang_maxpool"), List.of("_mm512_max_ps"));
		assertClass(ROW_SUM, "reduce(sum)", List.of("__bang_sum"), List.of("_mm512_add_ps", "_mm512_reduce_add_ps"));
		assertClass(RELU, "elementwise(relu)", List.of("__bang_active_relu", "__bang_relu"), List.of("_mm512_max_ps"));
		assertClass(EXP, "elementwise(exp)", List.of("__bang_active_exp", "__bang_exp"), List.of());
		assertClass(COPY, "copy", List.of("__memcpy"), List.of("_mm512_loadu_ps", "_mm512_storeu_ps"));
	}

	@Test
	public void anInt8GemvAccumulatingInInt32IsAMatvecForTheByteDotProducts() {
		String forVnni = annotate(GEMV_U8S8, Dialect.VNNI).first();
		assertTrue(forVnni.startsWith("matvec y[m] += (int32_t)A[m * 128 + k] * (int32_t)x[k] over m<64, k<128"
				+ " reducing k, int8, uint8 → int32;"), forVnni);
		assertEquals(List.of("_mm512_dpbusd_epi32"), candidates(forVnni, Dialect.VNNI));
		assertTrue(forVnni.endsWith("; also fill"), forVnni);
		assertEquals(List.of("__dp4a"), candidates(annotate(GEMV_U8S8, Dialect.CUDA).first(), Dialect.CUDA));
		// the BANG tensor unit takes half and float operands only (its catalog's T)
		assertEquals(List.of(), candidates(annotate(GEMV_U8S8, Dialect.BANG).first(), Dialect.BANG));
	}

	@Test
	public void theSubscriptsDecideBetweenWindowAndReductionAndBetweenMatmulAndDot() {
		assertTrue(annotate(ROW_SUM, Dialect.VNNI).first().startsWith("reduce(sum) s += x[r * 64 + c]"));
		Annotated window = annotate(WINDOW_SUM, Dialect.BANG);
		assertTrue(window.first().startsWith("pool(sum) s += x[i + k] over i<8, k<4 reducing k, float;"),
				window.first());
		assertEquals("2", window.record().get("nests"));
		assertEquals("copy y[i] = x[i] over i<11, float; BANG candidates: __memcpy", window.record().get("line 10"));
		assertEquals("reduce(dot) s = s + a[k] * b[k] over k<64 reducing k, float; VNNI candidates: _mm512_fmadd_ps",
				annotate(DOT, Dialect.VNNI).first());
		// the window of the max pool does not overlap: it is a window because it has two dimensions
		assertTrue(annotate(MAXPOOL, Dialect.VNNI).first()
				.startsWith("pool(max) if (v > m) m = v over oh<4, ow<4, kh<2, kw<2 reducing kh, kw, float;"));
	}

	@Test
	public void theAnnotatedProgramsReadBackAndComputeWhatTheSourcesCompute() {
		for (String source : List.of(GEMM, GEMV_U8S8, CONV2D, MAXPOOL, ROW_SUM, WINDOW_SUM, DOT, RELU, EXP, COPY)) {
			String output = annotate(source, Dialect.BANG).output();
			parse(output, Dialect.VNNI);
			assertTrue(output.contains("// xpiler: "), output);
			assertUnchanged(source, output);
		}
	}

	@Test
	public void aSecondRunReplacesItsCommentAndKeepsTheOthers() {
		String commented = GEMM.replace("    for (int i", "    // rows of C\n    for (int i");
		String once = annotate(commented, Dialect.BANG).output();
		String twice = annotate(once, Dialect.VNNI).output();
		assertEquals(1, twice.split("// xpiler: ", -1).length - 1, twice);
		assertTrue(twice.contains("// rows of C\n    // xpiler: matmul "), twice);
		assertTrue(twice.contains("VNNI candidates: _mm512_fmadd_ps"), twice);
		assertFalse(twice.contains("BANG candidates"), twice);
	}

	@Test
	public void aProgramWithoutLoopsIsRefused() {
		TranslationUnit unit = parse(NO_LOOP, Dialect.VNNI);
		ProgramAnnotation pass = new ProgramAnnotation();
		assertEquals(Optional.of("no loop nest to annotate"), pass.refusal(unit, Dialect.VNNI, Dialect.BANG));
		PassRefusal refusal = assertThrows(PassRefusal.class, () -> pass.apply(unit, Dialect.VNNI, Dialect.BANG));
		assertEquals("no loop nest to annotate", refusal.getMessage());
		assertEquals("annotate", pass.name());
	}

	/** The sequential C++ that loop recovery (and loop fuse, where it applies) makes of a CUDA corpus kernel. */
	private static String lifted(String file) throws IOException {
		KernelSource source = KernelSource.read(CORPUS.resolve("cuda").resolve(file), Dialect.CUDA);
		TranslationUnit unit = parse(source.text(), Dialect.CUDA);
		new LoopRecovery().apply(unit, Dialect.CUDA, Dialect.VNNI);
		TranslationUnit sequential = parse(Dialect.VNNI.printer().print(unit), Dialect.VNNI);
		LoopFuse fuse = new LoopFuse();
		if (fuse.refusal(sequential, Dialect.VNNI, Dialect.VNNI).isEmpty()) {
			fuse.apply(sequential, Dialect.VNNI, Dialect.VNNI);
		}
		return Dialect.VNNI.printer().print(sequential);
	}

	@Test
	public void liftedCorpusKernelsAreClassifiedByWhatTheyCompute() throws IOException {
		Map<String, String> expected = Map.of("gemm_32x128x128.cu", "matmul ", "relu_64x768.cu", "elementwise(relu) ",
				"maxpool_1x16x16x64x2x2.cu", "pool(max) ", "conv2d_nhwc_1x8x8x64x64x3x1.cu", "conv ",
				"softmax_64x128.cu", "reduce(max) ", "gemv_u8s8_256x512.cu", "matvec ", "avgpool_1x16x16x64x2x2.cu",
				"pool(avg) ", "sigmoid_64x256.cu", "elementwise(sigmoid) ");
		for (var kernel : expected.entrySet()) {
			String annotation = annotate(lifted(kernel.getKey()), Dialect.BANG).first();
			assertTrue(annotation.startsWith(kernel.getValue()), kernel.getKey() + ": " + annotation);
			candidates(annotation, Dialect.BANG);
		}
		// the tiled GEMM: its tile loop t and the inner k are both reductions, and the tile loads are copies
		String gemm = annotate(lifted("gemm_32x128x128.cu"), Dialect.VNNI).first();
		assertTrue(gemm.contains(" reducing t, k, float; VNNI candidates: _mm512_fmadd_ps;"), gemm);
		assertTrue(gemm.endsWith("; also fill, copy, reduce(sum)"), gemm);
		// softmax: the exponentials and the row sum are there as well
		String softmax = annotate(lifted("softmax_64x128.cu"), Dialect.BANG).first();
		assertTrue(softmax.contains("also copy, elementwise(exp), reduce(sum), elementwise(mul)"), softmax);
	}
}
