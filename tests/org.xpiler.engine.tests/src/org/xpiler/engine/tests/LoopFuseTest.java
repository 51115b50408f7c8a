package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.KernelSource;
import org.xpiler.engine.passes.LoopFuse;
import org.xpiler.engine.pipeline.StepRecord;
import org.xpiler.engine.pipeline.Translator;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Loop fuse on what loop recovery makes of 2-D launches: block and thread loops of each axis brought together,
 * fused into row and column loops, and the padding threads' guard turned into the loops' bounds; guards that do
 * not decide alone stay. The 1-D fusions are covered in {@link LoopPassesTest}.
 */
public class LoopFuseTest {
	/** What loop recovery gives for a naive 16x16-block matrix product, 40 rows (the last block half empty). */
	private static final String NAIVE_GEMM = """
			extern "C" void matmul_kernel(const float* A, const float* B, float* C)
			{
			    const int M = 40, N = 32, K = 24;
			    for (int blockIdx_y = 0; blockIdx_y < 3; ++blockIdx_y) {
			        for (int blockIdx_x = 0; blockIdx_x < 2; ++blockIdx_x) {
			            for (int threadIdx_y = 0; threadIdx_y < 16; ++threadIdx_y) {
			                for (int threadIdx_x = 0; threadIdx_x < 16; ++threadIdx_x) {
			                    int row = blockIdx_y * 16 + threadIdx_y;
			                    int col = blockIdx_x * 16 + threadIdx_x;
			                    if (row < M && col < N) {
			                        float sum = 0.0f;
			                        for (int k = 0; k < K; ++k) {
			                            sum += A[row * K + k] * B[k * N + col];
			                        }
			                        C[row * N + col] = sum;
			                    }
			                }
			            }
			        }
			    }
			}
			""";

	private static String fuse(String source, Map<String, String> knobs) {
		TranslationUnit unit = PassTesting.parse(source, Dialect.VNNI);
		LoopFuse pass = new LoopFuse();
		assertEquals("", pass.refusal(unit, Dialect.VNNI, Dialect.VNNI).orElse(""));
		assertEquals(knobs, pass.apply(unit, Dialect.VNNI, Dialect.VNNI));
		String output = Dialect.VNNI.printer().print(unit);
		PassTesting.assertVerifies(source, Dialect.VNNI, output, Dialect.VNNI);
		return output;
	}

	@Test
	public void aTwoDimensionalLaunchBecomesRowAndColumnLoopsBoundedByTheGuard() {
		String out = fuse(NAIVE_GEMM, Map.of("interchanged", "1", "fused", "2", "hoisted", "1", "bounded", "1"));
		assertTrue(out.contains("""
				    for (int row = 0; row < M; ++row) {
				        for (int col = 0; col < N; ++col) {
				            float sum = 0.0f;
				"""), out);
		assertFalse(out.contains("Idx_"), out);
		assertFalse(out.contains("if ("), out);
	}

	/** What loop recovery gives for a 2-D launch whose grid the wrapper computes from the runtime sizes. */
	private static final String RUNTIME_GRID = """
			extern "C" void add_kernel(const float* a, float* c, int rows, int cols)
			{
			    const int gridDim_x = ((cols + 16 - 1) / 16);
			    const int gridDim_y = ((rows - 1) / 16 + 1);
			    for (int blockIdx_y = 0; blockIdx_y < gridDim_y; ++blockIdx_y) {
			        for (int blockIdx_x = 0; blockIdx_x < gridDim_x; ++blockIdx_x) {
			            for (int threadIdx_y = 0; threadIdx_y < 16; ++threadIdx_y) {
			                for (int threadIdx_x = 0; threadIdx_x < 16; ++threadIdx_x) {
			                    int col = blockIdx_x * 16 + threadIdx_x;
			                    int row = blockIdx_y * 16 + threadIdx_y;
			                    if (row < rows && col < cols) {
			                        c[row * cols + col] = a[row * cols + col] * 2.0f;
			                    }
			                }
			            }
			        }
			    }
			}
			""";

	@Test
	public void gridExtentsKnownAtRunTimeFuseAndTheGuardThatTheyRoundUpBecomesTheBound() {
		String out = fuse(RUNTIME_GRID, Map.of("interchanged", "1", "fused", "2", "hoisted", "1", "bounded", "1"));
		assertTrue(out.contains("""
				    for (int row = 0; row < rows; ++row) {
				        for (int col = 0; col < cols; ++col) {
				            c[row * cols + col] = a[row * cols + col] * 2.0f;
				"""), out);
		assertFalse(out.contains("gridDim_"), out); // nothing reads the extents any more
	}

	@Test
	public void aGuardThatTheGridExtentDoesNotRoundUpStays() {
		// (cols + 8) / 16 blocks may not cover cols: the guard still decides, so it cannot become the bound
		String out = fuse(RUNTIME_GRID.replace("(cols + 16 - 1) / 16", "(cols + 8) / 16"),
				Map.of("interchanged", "1", "fused", "2", "hoisted", "1", "bounded", "1"));
		assertTrue(out.contains("for (int col = 0; col < gridDim_x * 16; ++col) {"), out);
		assertTrue(out.contains("if (col < cols)"), out);
	}

	@Test
	public void aGuardConjunctOnANameDeclaredInsideTheNestBecomesItsValue() {
		String source = NAIVE_GEMM.replace("const int M = 40, N = 32, K = 24;\n", "const int N = 32, K = 24;\n")
				.replace("int row = blockIdx_y * 16 + threadIdx_y;", "const int M = 40;\n int row = blockIdx_y * 16 + threadIdx_y;");
		String out = fuse(source, Map.of("interchanged", "1", "fused", "2", "hoisted", "1", "bounded", "1"));
		assertTrue(out.contains("for (int row = 0; row < 40; ++row)"), out); // M is declared inside the loop
	}

	@Test
	public void aGuardThatDoesNotDecideAloneStays() {
		// every thread also counts itself: the padding threads do something, so their iterations stay
		String source = NAIVE_GEMM.replace("const float* B, float* C)", "const float* B, float* C, float* seen)")
				.replace("if (row < M && col < N) {", "seen[row * 32 + col] = 1.0f;\n if (row < M && col < N) {")
				.replace("matmul_kernel", "seen_kernel");
		String out = fuse(source, Map.of("interchanged", "1", "fused", "2", "hoisted", "1"));
		assertTrue(out.contains("for (int row = 0; row < 48; ++row)"), out);
		assertTrue(out.contains("if (row < M && col < N)"), out);
	}

	@Test
	public void theConjunctsThatBoundLeaveTheRestOfTheGuard() {
		String source = NAIVE_GEMM.replace("const float* B, float* C)", "const float* B, const int* enabled, float* C)")
				.replace("if (row < M && col < N)", "if (row < M && col < N && enabled[0] != 12345)")
				.replace("matmul_kernel", "enabled_kernel");
		String out = fuse(source, Map.of("interchanged", "1", "fused", "2", "hoisted", "1", "bounded", "1"));
		assertTrue(out.contains("for (int row = 0; row < M; ++row)"), out);
		assertTrue(out.contains("if (enabled[0] != 12345)"), out);
	}

	@Test
	public void aLinearIndexWrittenOutAtEachUseBecomesTheFusedLoopsVariable() {
		// generated kernels (TVM) write ((int)blockIdx.x) * 1024 + ((int)threadIdx.x) at every use, never in a variable
		String source = """
				extern "C" void scale(const float* A, float* B)
				{
				    for (int blockIdx_x = 0; blockIdx_x < 3; ++blockIdx_x) {
				        for (int threadIdx_x = 0; threadIdx_x < 1024; ++threadIdx_x) {
				            if ((((blockIdx_x) * 1024) + (threadIdx_x)) < 2310) {
				                B[(((blockIdx_x) * 1024) + (threadIdx_x))] = A[((threadIdx_x + blockIdx_x * 1024))] * 2.0f;
				            }
				        }
				    }
				}
				""";
		String out = fuse(source, Map.of("fused", "1", "bounded", "1"));
		assertTrue(out.contains("""
				    for (int index = 0; index < 2310; ++index) {
				        B[index] = A[index] * 2.0f;
				    }
				"""), out);
	}

	@Test
	public void aNaiveCudaMatrixProductLiftsToADotProductNestThatTensorizesWithFma() {
		String cuda = """
				__global__ void matmul(const float* A, const float* B, float* C, int M, int N, int K)
				{
				    int row = blockIdx.y * blockDim.y + threadIdx.y;
				    int col = blockIdx.x * blockDim.x + threadIdx.x;
				    if (row < M && col < N) {
				        float sum = 0.0f;
				        for (int k = 0; k < K; ++k) {
				            sum += A[row * K + k] * B[k * N + col];
				        }
				        C[row * N + col] = sum;
				    }
				}

				extern "C" void matmul_kernel(const float* A, const float* B, float* C)
				{
				    const int M = 40, N = 48, K = 24;
				    float *dA, *dB, *dC;
				    cudaMalloc(&dA, M * K * sizeof(float));
				    cudaMalloc(&dB, K * N * sizeof(float));
				    cudaMalloc(&dC, M * N * sizeof(float));
				    cudaMemcpy(dA, A, M * K * sizeof(float), cudaMemcpyHostToDevice);
				    cudaMemcpy(dB, B, K * N * sizeof(float), cudaMemcpyHostToDevice);
				    dim3 block(16, 16);
				    dim3 grid((N + 15) / 16, (M + 15) / 16);
				    matmul<<<grid, block>>>(dA, dB, dC, M, N, K);
				    cudaMemcpy(C, dC, M * N * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dA);
				    cudaFree(dB);
				    cudaFree(dC);
				}
				""";
		Translator.Result result = new Translator().translate(new KernelSource(Path.of("matmul.cu"), Dialect.CUDA, cuda),
				Dialect.VNNI, 3);
		assertTrue(result.record().verified(), result.record().reason());
		List<StepRecord> accepted = result.record().steps().stream().filter(StepRecord::accepted).toList();
		assertEquals(List.of("loop-recovery", "loop-fuse", "annotate", "tensorize"),
				accepted.stream().map(StepRecord::pass).toList());
		String out = result.output().orElseThrow();
		assertTrue(out.contains("_mm512_fmadd_ps(_mm512_set1_ps(A[row * K + k]), _mm512_loadu_ps(B + (k * N + col))"), out);
	}
}
