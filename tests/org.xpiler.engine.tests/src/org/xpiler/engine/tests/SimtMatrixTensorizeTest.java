package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.CompileOnlyDevice;
import org.xpiler.devices.CompileResult;
import org.xpiler.devices.KernelRuns;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.engine.passes.LoopBind;
import org.xpiler.engine.passes.SimtMatrixTensorize;
import org.xpiler.engine.passes.SimtMatrixTensorize.MatrixCore;
import org.xpiler.engine.pipeline.StepRecord;
import org.xpiler.engine.pipeline.Translator;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Matrix-core tensorize on HIP kernels that loop bind wrote from small C++ programs: whole and ragged tiles,
 * transposed factors, a bias and ReLU finish, an accumulating output, a batch loop around the rows; each output
 * checked against the C++ source on the virtual device (and compiled by hipcc where it is installed), and the
 * refusals.
 */
public class SimtMatrixTensorizeTest {
	private static final String MFMA = "__builtin_amdgcn_mfma_f32_16x16x4f32";

	/** 32 x 48 outputs, 16 steps: whole tiles, no guards. */
	private static final String GEMM = """
			extern "C" void gemm_kernel(const float* A, const float* B, float* C)
			{
			    for (int i = 0; i < 32; i++) {
			        for (int j = 0; j < 48; j++) {
			            float acc = 0.0f;
			            for (int k = 0; k < 16; k++) {
			                acc += A[i * 16 + k] * B[k * 48 + j];
			            }
			            C[i * 48 + j] = acc;
			        }
			    }
			}
			""";

	/** 20 x 24 outputs, 10 steps: every tile edge and the last steps are ragged. */
	private static final String RAGGED_GEMM = """
			extern "C" void gemm_kernel(const float* A, const float* B, float* C)
			{
			    for (int i = 0; i < 20; i++) {
			        for (int j = 0; j < 24; j++) {
			            float acc = 0.0f;
			            for (int k = 0; k < 10; k++) {
			                acc += A[i * 10 + k] * B[k * 24 + j];
			            }
			            C[i * 24 + j] = acc;
			        }
			    }
			}
			""";

	/** A linear layer: the weights transposed (W[j][k]), a bias as the initial value, ReLU in the finish. */
	private static final String LINEAR = """
			extern "C" void linear_kernel(const float* X, const float* W, const float* bias, float* Y)
			{
			    for (int i = 0; i < 33; i++) {
			        for (int j = 0; j < 40; j++) {
			            float acc = bias[j];
			            for (int k = 0; k < 19; k++) {
			                acc += X[i * 19 + k] * W[j * 19 + k];
			            }
			            Y[i * 40 + j] = acc > 0.0f ? acc : 0.0f;
			        }
			    }
			}
			""";

	/** Three products of 20 x 24 by 10 steps, the batch loop outermost. */
	private static final String BATCHED_GEMM = """
			extern "C" void bgemm_kernel(const float* A, const float* B, float* C)
			{
			    for (int b = 0; b < 3; b++) {
			        for (int i = 0; i < 20; i++) {
			            for (int j = 0; j < 24; j++) {
			                float acc = 0.0f;
			                for (int k = 0; k < 10; k++) {
			                    acc += A[b * 200 + i * 10 + k] * B[b * 240 + k * 24 + j];
			                }
			                C[b * 480 + i * 24 + j] = acc;
			            }
			        }
			    }
			}
			""";

	/** The buffers as the translator hands them to loop bind: from the source's run. */
	private static List<LoopBind.Buffer> buffers(String source) {
		KernelRuns.Report run = new KernelRuns().run(new VirtualDevice(),
				new KernelSource(Path.of("source.cpp"), Dialect.VNNI, source), Map.of(), 3, RunRequest.of(List.of()));
		List<LoopBind.Buffer> buffers = new ArrayList<>();
		run.buffers().forEach(b -> buffers.add(new LoopBind.Buffer(b.buffer().contents().length,
				b.role() == KernelRuns.Role.INPUT || b.role() == KernelRuns.Role.IN_OUT,
				b.role() == KernelRuns.Role.OUTPUT || b.role() == KernelRuns.Role.IN_OUT)));
		return buffers;
	}

	/** The C++ program bound to a HIP kernel and wrapper by loop bind (grid-stride, 256 threads), read back. */
	private static TranslationUnit bound(String source) {
		TranslationUnit unit = PassTesting.parse(source, Dialect.VNNI);
		LoopBind.options(Dialect.HIP, buffers(source)).get(0).apply(unit, Dialect.VNNI, Dialect.HIP);
		return PassTesting.parse(Dialect.HIP.printer().print(unit), Dialect.HIP);
	}

	/** Binds and tensorizes {@code source}, checks the knobs and that the HIP output computes what it does. */
	private static String tensorize(String source, SimtMatrixTensorize pass, String waves, String nests) {
		TranslationUnit unit = bound(source);
		assertEquals(Optional.empty(), pass.refusal(unit, Dialect.HIP, Dialect.HIP));
		assertEquals(Map.of("intrinsic", MFMA, "waves", waves, "nests", nests), pass.apply(unit, Dialect.HIP, Dialect.HIP));
		String hip = Dialect.HIP.printer().print(unit);
		assertTrue(hip.contains("typedef float floatx4 __attribute__((ext_vector_type(4)));"), hip);
		PassTesting.assertVerifies(source, Dialect.VNNI, hip, Dialect.HIP);
		return hip;
	}

	private static String tensorize(String source) {
		return tensorize(source, new SimtMatrixTensorize(MatrixCore.MFMA, 4), "4", "1");
	}

	/** hipcc (compile only) accepts the output, where it is installed. */
	private static void assertCompilesWhereHipccIs(String hip) {
		CompileOnlyDevice hipcc = CompileOnlyDevice.hipcc();
		if (hipcc.unavailableReason().isPresent()) {
			return;
		}
		CompileResult compiled = hipcc.compile(new KernelSource(Path.of("output.hip"), Dialect.HIP, hip));
		assertTrue(compiled.success(), () -> compiled.diagnostics() + "\n" + compiled.output() + "\n" + hip);
	}

	private static String refusal(String hip) {
		TranslationUnit unit = PassTesting.parse(hip, Dialect.HIP);
		return new SimtMatrixTensorize(MatrixCore.MFMA, 4).refusal(unit, Dialect.HIP, Dialect.HIP).orElseThrow();
	}

	@Test
	public void wholeTilesRunOneWavefrontPerTileWithoutGuards() {
		String hip = tensorize(GEMM);
		assertTrue(hip.contains("for (int tile = (blockIdx.x * blockDim.x + threadIdx.x) / 64; tile < 6; "
				+ "tile += gridDim.x * blockDim.x / 64) {\n"
				+ "        int lane = threadIdx.x % 64;\n"
				+ "        int tile_row = tile / 3 * 16;\n"
				+ "        int tile_col = tile % 3 * 16;\n"
				+ "        floatx4 acc_tile;\n"), hip);
		assertTrue(hip.contains("""
				        for (int k0 = 0; k0 < 16; k0 += 4) {
				            int i = tile_row + lane % 16;
				            int j = tile_col + lane % 16;
				            int k = k0 + lane / 16;
				            acc_tile = __builtin_amdgcn_mfma_f32_16x16x4f32(A[i * 16 + k], B[k * 48 + j], acc_tile, 0, 0, 0);
				        }
				        for (int r = 0; r < 4; ++r) {
				            int i = tile_row + 4 * (lane / 16) + r;
				            int j = tile_col + lane % 16;
				            float acc = acc_tile[r];
				            C[i * 48 + j] = acc;
				        }
				"""), hip);
		assertTrue(hip.contains("gemm<<<2, 256>>>(d_A, d_B, d_C);"), hip); // 6 tiles, 4 wavefronts per block
		assertFalse(hip.contains(" ? "), hip);
		assertCompilesWhereHipccIs(hip);
	}

	@Test
	public void raggedRowsColumnsAndStepsLoadZerosAndStoreNothingOutsideTheBounds() {
		String hip = tensorize(RAGGED_GEMM);
		assertTrue(hip.contains("acc_tile = " + MFMA + "((i < 20 && k < 10) ? A[i * 10 + k] : 0.0f, "
				+ "(j < 24 && k < 10) ? B[k * 24 + j] : 0.0f, acc_tile, 0, 0, 0);"), hip);
		assertTrue(hip.contains("""
				            if (i < 20 && j < 24) {
				                float acc = acc_tile[r];
				                C[i * 24 + j] = acc;
				            }
				"""), hip);
	}

	@Test
	public void aTransposedFactorABiasAndAReluFinishKeepTheirSubscripts() {
		String hip = tensorize(LINEAR);
		assertTrue(hip.contains("""
				        for (int r = 0; r < 4; ++r) {
				            int j = tile_col + lane % 16;
				            acc_tile[r] = (j < 40) ? bias[j] : 0.0f;
				        }
				"""), hip);
		assertTrue(hip.contains("(i < 33 && k < 19) ? X[i * 19 + k] : 0.0f, (j < 40 && k < 19) ? W[j * 19 + k] : 0.0f"), hip);
		assertTrue(hip.contains("Y[i * 40 + j] = acc > 0.0f ? acc : 0.0f;"), hip);
		assertCompilesWhereHipccIs(hip);
	}

	@Test
	public void anOutputThatStartsFromItsOwnValueAndBoundsThatStartAboveZero() {
		String hip = tensorize("""
				extern "C" void gemm_acc_kernel(const float* A, const float* B, float* C)
				{
				    for (int i = 2; i < 30; i++) {
				        for (int j = 1; j < 18; j++) {
				            float acc = C[i * 18 + j];
				            for (int k = 3; k < 12; k++) {
				                acc += B[k * 18 + j] * A[i * 12 + k];
				            }
				            C[i * 18 + j] = acc;
				        }
				    }
				}
				""");
		assertTrue(hip.contains("int tile_row = 2 + tile / 2 * 16;\n        int tile_col = 1 + tile % 2 * 16;"), hip);
		assertTrue(hip.contains("acc_tile[r] = (i < 30 && j < 18) ? C[i * 18 + j] : 0.0f;"), hip);
		// the factor of the rows is MFMA's a wherever it stands in the product
		assertTrue(hip.contains("for (int k0 = 3; k0 < 12; k0 += 4) {"), hip);
		assertTrue(hip.contains(MFMA + "((i < 30 && k < 12) ? A[i * 12 + k] : 0.0f, (j < 18 && k < 12) ? B[k * 18 + j]"), hip);
	}

	@Test
	public void aBatchLoopStridesOverWavefrontsAndItsTilesFollowOneAnother() {
		String hip = tensorize(BATCHED_GEMM);
		assertTrue(hip.contains("for (int b = (blockIdx.x * blockDim.x + threadIdx.x) / 64; b < 3; "
				+ "b += gridDim.x * blockDim.x / 64) {\n"
				+ "        for (int tile = 0; tile < 4; ++tile) {\n"), hip);
		assertTrue(hip.contains("(i < 20 && k < 10) ? A[b * 200 + i * 10 + k] : 0.0f"), hip);
		assertTrue(hip.contains("C[b * 480 + i * 24 + j] = acc;"), hip);
		assertTrue(hip.contains("bgemm<<<1, 256>>>"), hip);
	}

	@Test
	public void everyKernelWithAMatrixProductGetsItsOwnTilesAndSharesTheVectorType() {
		String hip = tensorize("""
				extern "C" void two_kernel(const float* A, const float* B, float* C, float* D)
				{
				    for (int j = 0; j < 32; j++) {
				        for (int i = 0; i < 48; i++) {
				            float acc = 0.0f;
				            for (int k = 0; k < 8; k++) {
				                acc += A[k * 48 + i] * B[j * 8 + k];
				            }
				            C[j * 48 + i] = acc;
				        }
				    }
				    for (int i = 0; i < 16; i++) {
				        for (int j = 0; j < 16; j++) {
				            float s = 1.0f;
				            for (int k = 0; k < 4; k++) {
				                s += A[i * 4 + k] * B[k * 16 + j];
				            }
				            D[i * 16 + j] = s * 2.0f;
				        }
				    }
				}
				""", new SimtMatrixTensorize(MatrixCore.MFMA, 1), "1", "2");
		assertEquals(1, hip.split("typedef float floatx4", -1).length - 1, hip);
		// bound over columns j: j takes the rows of the tile, the outputs loop i the columns
		assertTrue(hip.contains(MFMA + "(B[j * 8 + k], A[k * 48 + i], acc_tile, 0, 0, 0);"), hip);
		assertTrue(hip.contains("D[i * 16 + j] = s * 2.0f;"), hip);
		assertTrue(hip.contains("two_1<<<6, 64>>>") && hip.contains("two_2<<<1, 64>>>"), hip);
	}

	@Test
	public void refusesWhatTheMatrixCoresCannotComputeNamingTheLine() {
		String wrapper = """

				extern "C" void gemm_kernel(const double *A, const double *B, double *C)
				{
				    gemm<<<1, 256>>>(A, B, C);
				}
				""";
		assertEquals("line 6: the product of double and double accumulated in double is not the float product accumulated "
				+ "in float of " + MFMA,
				refusal("""
						__global__ void gemm(const double *A, const double *B, double *C)
						{
						    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < 32; i += gridDim.x * blockDim.x) {
						        for (int j = 0; j < 32; j++) {
						            double acc = 0.0;
						            for (int k = 0; k < 8; k++) {
						                acc += A[i * 8 + k] * B[k * 32 + j];
						            }
						            C[i * 32 + j] = acc;
						        }
						    }
						}
						""" + wrapper));
		String floats = wrapper.replace("double", "float");
		assertEquals("line 7: the store to C does not give every output (i, j) an element of its own", refusal("""
				__global__ void gemm(const float *A, const float *B, float *C)
				{
				    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < 32; i += gridDim.x * blockDim.x) {
				        for (int j = 0; j < 32; j++) {
				            float acc = 0.0f;
				            for (int k = 0; k < 8; k++) acc += A[i * 8 + k] * B[k * 32 + j];
				            C[i * 16 + j] = acc;
				        }
				    }
				}
				""" + floats));
		assertEquals("line 7: the kernel gemm reads threadIdx outside its grid-stride loop's header; wavefronts would "
				+ "change what it means", refusal("""
						__global__ void gemm(const float *A, const float *B, float *C)
						{
						    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < 32; i += gridDim.x * blockDim.x) {
						        for (int j = 0; j < 32; j++) {
						            float acc = 0.0f;
						            for (int k = 0; k < 8; k++) acc += A[i * 8 + k] * B[k * 32 + j];
						            C[i * 32 + j] = acc + threadIdx.x;
						        }
						    }
						}
						""" + floats));
		assertEquals("line 8: the finish assigns total, which is not an element of a pointer parameter or file-scope "
				+ "array", refusal("""
						__global__ void gemm(const float *A, const float *B, float *C)
						{
						    float total = 0.0f;
						    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < 32; i += gridDim.x * blockDim.x) {
						        for (int j = 0; j < 32; j++) {
						            float acc = 0.0f;
						            for (int k = 0; k < 8; k++) acc += A[i * 8 + k] * B[k * 32 + j];
						            total += acc;
						        }
						    }
						}
						""" + floats));
		assertEquals("no matrix product (for j { acc = init; for k: acc += x[..] * y[..]; finish }) inside a loop over "
				+ "rows in the grid-stride loop of a __global__ kernel", new SimtMatrixTensorize(MatrixCore.MFMA, 4)
						.refusal(bound("""
								extern "C" void gemv_kernel(const float* A, const float* x, float* y)
								{
								    for (int i = 0; i < 64; i++) {
								        float acc = 0.0f;
								        for (int k = 0; k < 96; k++) {
								            acc += A[i * 96 + k] * x[k];
								        }
								        y[i] = acc;
								    }
								}
								"""), Dialect.HIP, Dialect.HIP).orElseThrow());
		assertEquals("tensorizes HIP kernels (HIP to HIP) only",
				new SimtMatrixTensorize(MatrixCore.MFMA, 4).refusal(bound(GEMM), Dialect.CUDA, Dialect.CUDA).orElseThrow());
	}

	@Test
	public void theTranslatorTensorizesAfterLoopBindOnHipTargets() {
		Translator.Result result = new Translator()
				.translate(new KernelSource(Path.of("linear.cpp"), Dialect.VNNI, LINEAR), Dialect.HIP, 3);
		assertTrue(result.record().verified(), result.record().reason());
		List<String> passes = result.record().steps().stream().filter(StepRecord::accepted)
				.map(step -> step.pass()).toList();
		assertEquals("tensorize", passes.get(passes.size() - 1), passes.toString());
		assertTrue(result.output().orElseThrow().contains(MFMA), result.output().orElseThrow());
	}

	// ------------------------------------------------------------------ CUDA: wmma on half

	/** A half GEMM with ragged rows and steps (40 x 48, 72 steps) and a ReLU finish. */
	private static final String HALF_GEMM = """
			extern "C" void hgemm_kernel(const _Float16* A, const _Float16* B, float* C)
			{
			    for (int i = 0; i < 40; ++i) {
			        for (int j = 0; j < 48; ++j) {
			            float acc = 0.0f;
			            for (int k = 0; k < 72; ++k) {
			                acc += (float)A[i * 72 + k] * (float)B[k * 48 + j];
			            }
			            C[i * 48 + j] = acc > 0.0f ? acc : 0.0f;
			        }
			    }
			}
			""";

	/** The C++ program bound to a CUDA kernel and wrapper by loop bind, read back. */
	private static TranslationUnit boundForCuda(String source) {
		TranslationUnit unit = PassTesting.parse(source, Dialect.VNNI);
		LoopBind.options(Dialect.CUDA, buffers(source)).get(0).apply(unit, Dialect.VNNI, Dialect.CUDA);
		return PassTesting.parse(Dialect.CUDA.printer().print(unit), Dialect.CUDA);
	}

	@Test
	public void halfProductsRunOnWmmaOneWarpPerTileStagedThroughSharedMemory() {
		TranslationUnit unit = boundForCuda(HALF_GEMM);
		SimtMatrixTensorize pass = SimtMatrixTensorize.options(Dialect.CUDA).get(0);
		assertEquals(Optional.empty(), pass.refusal(unit, Dialect.CUDA, Dialect.CUDA));
		assertEquals(Map.of("intrinsic", "nvcuda::wmma::mma_sync", "warps", "4", "nests", "1"),
				pass.apply(unit, Dialect.CUDA, Dialect.CUDA));
		String cuda = Dialect.CUDA.printer().print(unit);
		assertTrue(cuda.contains("#include <mma.h>"), cuda);
		assertTrue(cuda.contains("__shared__ __half row_tiles[4][256];"), cuda);
		// rows and steps beyond the bounds load zeros; rows beyond them store nothing
		assertTrue(cuda.contains("row_tiles[warp][e] = (i < 40 && k < 72) ? A[i * 72 + k] : (__half)0.0f;"), cuda);
		assertTrue(cuda.contains("nvcuda::wmma::mma_sync(acc_frag, row_frag, column_frag, acc_frag);"), cuda);
		assertTrue(cuda.contains("if (i < 40) {"), cuda);
		// 3 x 3 tiles, one per warp, four warps a block
		assertTrue(cuda.contains("hgemm<<<3, 128>>>"), cuda);
		PassTesting.assertVerifies(HALF_GEMM, Dialect.VNNI, cuda, Dialect.CUDA);
		CompileOnlyDevice nvcc = CompileOnlyDevice.nvcc();
		if (nvcc.unavailableReason().isEmpty()) {
			CompileResult compiled = nvcc.compile(new KernelSource(Path.of("output.cu"), Dialect.CUDA, cuda));
			assertTrue(compiled.success(), () -> compiled.diagnostics() + "\n" + compiled.output() + "\n" + cuda);
		}
	}

	@Test
	public void wmmaTakesHalfFactorsOnlyAndTheTranslatorUsesItForCuda() {
		// float factors would lose precision in half (or tf32): the loops stay as loop bind left them
		TranslationUnit floats = boundForCuda(HALF_GEMM.replace("_Float16", "float"));
		assertTrue(SimtMatrixTensorize.options(Dialect.CUDA).get(0).refusal(floats, Dialect.CUDA, Dialect.CUDA).isPresent());
		Translator.Result result = new Translator()
				.translate(new KernelSource(Path.of("hgemm.cpp"), Dialect.VNNI, HALF_GEMM), Dialect.CUDA, 3);
		assertTrue(result.record().verified(), result.record().reason());
		List<String> passes = result.record().steps().stream().filter(StepRecord::accepted).map(StepRecord::pass)
				.toList();
		assertEquals("tensorize", passes.get(passes.size() - 1), passes.toString());
		assertTrue(result.output().orElseThrow().contains("nvcuda::wmma::mma_sync"), result.output().orElseThrow());
	}

	@Test
	public void optionsTryFourWavefrontsPerBlockThenOne() {
		List<String> launches = SimtMatrixTensorize.options(Dialect.HIP).stream().map(pass -> {
			TranslationUnit unit = bound(RAGGED_GEMM);
			String waves = pass.apply(unit, Dialect.HIP, Dialect.HIP).get("waves");
			String hip = Dialect.HIP.printer().print(unit);
			return waves + ": " + hip.substring(hip.indexOf("gemm<<<"), hip.indexOf(">>>") + 3);
		}).toList();
		assertEquals(List.of("4: gemm<<<1, 256>>>", "1: gemm<<<4, 64>>>"), launches);
	}
}
