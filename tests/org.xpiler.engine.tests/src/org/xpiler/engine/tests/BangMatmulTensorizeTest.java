package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import org.xpiler.engine.passes.BangMatmulTensorize;
import org.xpiler.engine.passes.LoopBind;
import org.xpiler.engine.passes.PassRefusal;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * BANG matmul tensorize on small products: sequential C++ bound to BANG tasks by loop bind (the kernel as the
 * entry), or a scalar BANG kernel, then the pass; each output re-parses, passes the compile-only BANG check and
 * computes what the source computes on the virtual device (whose intrinsics enforce the catalog's rules) with
 * 16 tasks (the default launch), 3 and 1; and the refusals, each naming its line.
 */
public class BangMatmulTensorizeTest {
	/** N = 80 (padded to 128 columns), K = 40 (padded to 48), B reduction-major: transposed through NRAM. */
	private static final String GEMM = """
			extern "C" void gemm_kernel(const float* A, const float* B, float* C)
			{
			    const int M = 20, N = 80, K = 40;
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

	/** The sequential C++ program bound to tasks: a {@code __mlu_global__} entry whose outermost loop is strided. */
	private static String bound(String source, LoopBind.Binding binding) {
		TranslationUnit unit = PassTesting.parse(source, Dialect.VNNI);
		new LoopBind(binding, 0, LoopBind.Wrapper.NONE, List.of()).apply(unit, Dialect.VNNI, Dialect.BANG);
		return Dialect.BANG.printer().print(unit);
	}

	/** Binds the C++ program with task strides and tensorizes it (see {@link #rewrite}). */
	private static String tensorize(String source, BangMatmulTensorize pass, String tiles, String... expected) {
		return rewrite(source, Dialect.VNNI, bound(source, LoopBind.Binding.STRIDE), pass, tiles, expected);
	}

	/**
	 * Tensorizes {@code kernel}, checks the knobs, the text, the compile-only check and the oracle against
	 * {@code source} under 16, 3 and 1 tasks; returns the output.
	 */
	private static String rewrite(String source, Dialect from, String kernel, BangMatmulTensorize pass, String tiles,
			String... expected) {
		TranslationUnit unit = PassTesting.parse(kernel, Dialect.BANG);
		Optional<String> refusal = pass.refusal(unit, Dialect.BANG, Dialect.BANG);
		assertTrue(refusal.isEmpty(), () -> refusal.get());
		Map<String, String> knobs = pass.apply(unit, Dialect.BANG, Dialect.BANG);
		assertEquals("1", knobs.get("nests"), knobs::toString);
		assertEquals(tiles, knobs.get("tiles"), knobs::toString);
		String mlu = Dialect.BANG.printer().print(unit);
		assertTrue(mlu.contains("__bang_matmul("), mlu);
		for (String e : expected) {
			assertTrue(mlu.contains(e), () -> "expected " + e + " in\n" + mlu);
		}
		CompileResult compiled = CompileOnlyDevice.bangCheck().compile(new KernelSource(Path.of("b.mlu"), Dialect.BANG, mlu));
		assertTrue(compiled.success(), () -> compiled.diagnostics() + "\n" + compiled.output() + "\n" + mlu);
		PassTesting.parse(mlu, Dialect.BANG);
		for (int tasks : new int[] { 0, 3, 1 }) {
			Oracle.Verdict verdict = new Oracle().verify(
					new KernelSource(Path.of("a." + from.fileExtensions().get(0)), from, source),
					new KernelSource(Path.of("b.mlu"), Dialect.BANG, mlu), new VirtualDevice(), Map.of(), 3,
					new RunRequest(Optional.empty(), List.of(), null, null, tasks, Duration.ofSeconds(60)));
			assertTrue(verdict.matches(), () -> (tasks == 0 ? 16 : tasks) + " tasks: " + verdict.summary() + "\n" + mlu);
		}
		return mlu;
	}

	private static String refusal(String kernel) {
		TranslationUnit unit = PassTesting.parse(kernel, Dialect.BANG);
		BangMatmulTensorize pass = new BangMatmulTensorize(64);
		String why = pass.refusal(unit, Dialect.BANG, Dialect.BANG).orElseThrow();
		PassRefusal thrown = assertThrows(PassRefusal.class, () -> pass.apply(unit, Dialect.BANG, Dialect.BANG));
		assertEquals(why, thrown.getMessage());
		return why;
	}

	@Test
	void gemmPadsTheReductionAndTheColumnsAndTransposesTheColumnOperand() {
		String mlu = tensorize(GEMM, new BangMatmulTensorize(64), "20x48x128",
				"__nram__ float A_nram[960];", "__wram__ float B_wram[6144];",
				"int i_begin = 20 * taskId / taskDim;",
				"__bang_write_value(A_nram, 960, 0.0f);",
				"__bang_write_value(B_nram, 48 * j_padded, 0.0f);",
				"__memcpy(B_nram, B + (0 * N + j0), j_count * sizeof(float), GDRAM2NRAM, j_padded * sizeof(float), "
						+ "80 * sizeof(float), 39);",
				"__bang_transpose(B_t_nram, B_nram, 48, j_padded);",
				"__memcpy(B_wram, B_t_nram, j_padded * 48 * sizeof(float), NRAM2WRAM);",
				"__memcpy(A_nram, A + (i0 * K + 0), 40 * sizeof(float), GDRAM2NRAM, 48 * sizeof(float), "
						+ "40 * sizeof(float), i_count - 1);",
				"__bang_matmul(acc_nram, A_nram, B_wram, i_count, 48, j_padded);",
				"__memcpy(C + (i0 * N + j0), acc_nram, j_count * sizeof(float), NRAM2GDRAM, 80 * sizeof(float), "
						+ "j_padded * sizeof(float), i_count - 1);");
		assertFalse(mlu.contains("acc +="), mlu);
	}

	@Test
	void aColumnMajorOperandGoesToWramWithoutTranspose() {
		String source = GEMM.replace("B[k * N + j]", "B[j * K + k]");
		String mlu = tensorize(source, new BangMatmulTensorize(64), "20x48x128",
				"__memcpy(B_nram, B + (j0 * K + 0), 40 * sizeof(float), GDRAM2NRAM, 48 * sizeof(float), "
						+ "40 * sizeof(float), j_count - 1);",
				"__memcpy(B_wram, B_nram, j_padded * 48 * sizeof(float), NRAM2WRAM);");
		assertFalse(mlu.contains("__bang_transpose"), mlu);
	}

	@Test
	void aBiasAndReluFinishKeepsItsLoopsOverTheProducts() {
		String source = """
				extern "C" void dense_kernel(const float* X, const float* W, const float* bias, float* Y)
				{
				    for (int i = 0; i < 12; i++) {
				        for (int j = 0; j < 70; j++) {
				            float acc = 0.0f;
				            for (int k = 0; k < 32; k++) {
				                acc += X[i * 32 + k] * W[j * 32 + k];
				            }
				            Y[i * 70 + j] = fmaxf(acc + bias[j], 0.0f);
				        }
				    }
				}
				""";
		tensorize(source, new BangMatmulTensorize(64), "12x32x128",
				"__bang_matmul(acc_nram, X_nram, W_wram, i_count, 32, j_padded);",
				"for (int i = i0; i < i0 + i_count; ++i) {", "for (int j = j0; j < j0 + j_count; ++j) {",
				"float acc = acc_nram[(i - i0) * j_padded + (j - j0)];", "Y[i * 70 + j] = fmaxf(acc + bias[j], 0.0f);");
	}

	@Test
	void aStartValueIsAddedToTheProduct() {
		String source = """
				extern "C" void gemm_beta_kernel(const float* A, const float* B, float* C)
				{
				    for (int i = 0; i < 9; i++) {
				        for (int j = 0; j < 64; j++) {
				            float acc = C[i * 64 + j] * 0.5f;
				            for (int k = 0; k < 16; k++) {
				                acc += A[i * 16 + k] * B[k * 64 + j];
				            }
				            C[i * 64 + j] = acc;
				        }
				    }
				}
				""";
		tensorize(source, new BangMatmulTensorize(64), "9x16x64",
				"float acc = (C[i * 64 + j] * 0.5f) + acc_nram[(i - i0) * j_padded + (j - j0)];");
	}

	@Test
	void matrixVectorProductsComputeOneRowAndSplitTheColumnsOverTasks() {
		// the outputs are loop bind's task loop: each task takes whole groups of 64 outputs
		String rowsOfA = """
				extern "C" void gemv_kernel(const float* A, const float* x, float* y)
				{
				    for (int i = 0; i < 150; ++i) {
				        float sum = 0.0f;
				        for (int k = 0; k < 100; ++k) {
				            sum += A[i * 100 + k] * x[k];
				        }
				        y[i] = sum;
				    }
				}
				""";
		String mlu = tensorize(rowsOfA, new BangMatmulTensorize(64), "1x112x192",
				"int i_begin = 64 * (3 * taskId / taskDim);", "int i_end = 64 * (3 * (taskId + 1) / taskDim);",
				"if (i_end > 150) {", "__memcpy(x_nram, x, 100 * sizeof(float), GDRAM2NRAM);",
				"__bang_matmul(sum_nram, x_nram, A_wram, 1, 112, i_padded);",
				"__memcpy(y + i0, sum_nram, i_count * sizeof(float), NRAM2GDRAM);");
		assertFalse(mlu.contains("__bang_transpose"), mlu);
		String columnsOfW = """
				extern "C" void vecmat_kernel(const float* W, const float* x, float* y)
				{
				    for (int j = 0; j < 100; j++) {
				        float acc = 0.0f;
				        for (int k = 0; k < 72; k++) {
				            acc += x[k] * W[k * 100 + j];
				        }
				        y[j] = acc;
				    }
				}
				""";
		tensorize(columnsOfW, new BangMatmulTensorize(64), "1x80x128", "__bang_transpose(W_t_nram, W_nram, 80, j_padded);");
	}

	@Test
	void batchedProductsStageEachBatchInItsTask() {
		String source = """
				extern "C" void bmm_kernel(const float* A, const float* B, float* C)
				{
				    for (int b = 0; b < 3; ++b) {
				        for (int i = 0; i < 10; ++i) {
				            for (int j = 0; j < 24; ++j) {
				                float acc = 0.0f;
				                for (int k = 0; k < 16; ++k) {
				                    acc += A[b * 160 + i * 16 + k] * B[b * 384 + k * 24 + j];
				                }
				                C[b * 240 + i * 24 + j] = acc;
				            }
				        }
				    }
				}
				""";
		tensorize(source, new BangMatmulTensorize(64), "10x16x64", "for (int b = taskId; b < 3; b += taskDim) {",
				"__memcpy(B_nram, B + (b * 384 + 0 * 24 + j0), j_count * sizeof(float), GDRAM2NRAM, "
						+ "j_padded * sizeof(float), 24 * sizeof(float), 15);");
		// one task for all: the row loop runs whole in task 0
		rewrite(source, Dialect.VNNI, bound(source, LoopBind.Binding.SINGLE), new BangMatmulTensorize(4), "4x16x64",
				"if (taskId == 0) {", "int i_end = 10;");
	}

	@Test
	void littleNramLeftCutsTheColumnsIntoChunksAndTheTransposeIntoSlices() {
		// 280 KiB of the mlu590's 320 KiB of NRAM are taken: 192 of the 200 columns, 16 reduction steps at a time
		String kernel = """
				__nram__ float scratch[71680];

				extern "C" __mlu_global__ void gemm_kernel(const float *A, const float *B, float *C) {
				    for (int i = taskId; i < 8; i += taskDim) {
				        for (int j = 0; j < 200; ++j) {
				            float acc = 0.0f;
				            for (int k = 0; k < 200; ++k) {
				                acc += A[i * 200 + k] * B[k * 200 + j];
				            }
				            C[i * 200 + j] = acc;
				        }
				    }
				}
				""";
		rewrite(kernel, Dialect.BANG, kernel, new BangMatmulTensorize(64), "8x208x192",
				"for (int j0 = j_begin; j0 < j_end; j0 += 192) {", "for (int k0 = 0; k0 < 208; k0 += 16) {",
				"if (k_count < k_padded || j_count < j_padded) {",
				"__memcpy(B_nram, B + (k0 * 200 + j0), j_count * sizeof(float), GDRAM2NRAM, j_padded * sizeof(float), "
						+ "200 * sizeof(float), k_count - 1);",
				"__memcpy(B_wram + k0, B_t_nram, k_padded * sizeof(float), NRAM2WRAM, 208 * sizeof(float), "
						+ "k_padded * sizeof(float), j_padded - 1);");
	}

	@Test
	void refusalsNameTheConstructAndItsLine() {
		String integers = """
				extern "C" __mlu_global__ void gemm_kernel(const int *A, const int *B, int *C) {
				    for (int i = taskId; i < 8; i += taskDim) {
				        for (int j = 0; j < 64; ++j) {
				            int acc = 0;
				            for (int k = 0; k < 16; ++k) {
				                acc += A[i * 16 + k] * B[k * 64 + j];
				            }
				            C[i * 64 + j] = acc;
				        }
				    }
				}
				""";
		assertEquals("no dot-product nest to compute with __bang_matmul (line 3: int32 × int32 summed in int32: "
				+ "tensorizes float products summed in float only)", refusal(integers));
		String runtimeK = integers.replace("int *", "float *").replace("int acc = 0", "float acc = 0.0f")
				.replace("(const float *A, const float *B, float *C)", "(const float *A, const float *B, float *C, int K)")
				.replace("k < 16", "k < K");
		assertEquals("no dot-product nest to compute with __bang_matmul (line 3: the reduction's upper bound (K) does "
				+ "not fold to a constant)", refusal(runtimeK));
		String gathered = runtimeK.replace(", int K)", ", const int *rows)").replace("k < K", "k < 16")
				.replace("A[i * 16 + k]", "A[rows[i] * 16 + k]");
		assertEquals("no dot-product nest to compute with __bang_matmul (line 6: the subscript rows[i] * 16 + k is not "
				+ "affine in i with constant coefficients)", refusal(gathered));
		String tooLong = gathered.replace(", const int *rows)", ")").replace("k < 16", "k < 3000")
				.replace("A[rows[i] * 16 + k]", "A[i * 3000 + k]");
		assertTrue(refusal(tooLong).startsWith("no dot-product nest to compute with __bang_matmul (line 3: one "
				+ "64-column chunk of B (64 × 3008 floats) with one row does not fit: "), refusal(tooLong));
		String inPlace = GEMM.replace("C[i * N + j] = acc;", "A[i * K + j % K] = acc;");
		assertEquals("no dot-product nest to compute with __bang_matmul (line 10: the finish stores into A, which the "
				+ "product reads)", refusal(bound(inPlace, LoopBind.Binding.STRIDE)));
		String noNest = "extern \"C\" __mlu_global__ void copy_kernel(const float *x, float *y) {\n"
				+ "    for (int i = taskId; i < 64; i += taskDim) { y[i] = x[i]; }\n}\n";
		assertEquals("no dot-product nest to compute with __bang_matmul", refusal(noNest));
		TranslationUnit unit = PassTesting.parse(GEMM, Dialect.VNNI);
		assertEquals("tensorizes BANG C into BANG C only",
				new BangMatmulTensorize(64).refusal(unit, Dialect.VNNI, Dialect.VNNI).orElseThrow());
	}

	@Test
	void optionsTrySixtyFourRowsPerCallFirst() {
		List<String> tried = BangMatmulTensorize.options().stream().map(pass -> {
			TranslationUnit unit = PassTesting.parse(bound(GEMM, LoopBind.Binding.STRIDE), Dialect.BANG);
			Map<String, String> knobs = pass.apply(unit, Dialect.BANG, Dialect.BANG);
			return knobs.get("rows") + ":" + knobs.get("tiles");
		}).toList();
		assertEquals(List.of("64:20x48x128", "256:20x48x128", "16:16x48x128"), tried);
		assertThrows(IllegalArgumentException.class, () -> new BangMatmulTensorize(0));
	}
}
