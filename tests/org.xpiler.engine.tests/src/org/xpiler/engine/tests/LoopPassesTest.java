package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.KernelSource;
import org.xpiler.engine.passes.LoopBind;
import org.xpiler.engine.passes.LoopFuse;
import org.xpiler.engine.passes.LoopRecovery;
import org.xpiler.engine.passes.PassRefusal;
import org.xpiler.engine.pipeline.StepRecord;
import org.xpiler.engine.pipeline.Translator;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.KernelParser;

/**
 * Loop recovery and loop bind on small programs: what they write, that the oracle accepts it, and how they
 * refuse what they cannot do.
 */
public class LoopPassesTest {
	private static final String BLOCK_SUM = """
			__global__ void block_sum(const float* x, float* out)
			{
			    __shared__ float partial[128];
			    int t = threadIdx.x;
			    partial[t] = x[blockIdx.x * 128 + t];
			    __syncthreads();
			    for (int s = 64; s > 0; s >>= 1) {
			        if (t < s) {
			            partial[t] += partial[t + s];
			        }
			        __syncthreads();
			    }
			    if (t == 0) {
			        out[blockIdx.x] = partial[0];
			    }
			}

			extern "C" void block_sum_kernel(const float* x, float* out)
			{
			    float* d_x;
			    float* d_out;
			    cudaMalloc((void**)&d_x, 4 * 128 * sizeof(float));
			    cudaMalloc((void**)&d_out, 4 * sizeof(float));
			    cudaMemcpy(d_x, x, 4 * 128 * sizeof(float), cudaMemcpyHostToDevice);
			    block_sum<<<4, 128>>>(d_x, d_out);
			    cudaMemcpy(out, d_out, 4 * sizeof(float), cudaMemcpyDeviceToHost);
			    cudaFree(d_x);
			    cudaFree(d_out);
			}
			""";

	private static Translator.Result translate(String name, String text, Dialect from, Dialect to) {
		return new Translator().translate(new KernelSource(Path.of(name), from, text), to, 3);
	}

	private static TranslationUnit parse(String text, Dialect dialect) {
		return new KernelParser().parse("t." + dialect.fileExtensions().get(0), text, dialect).unit();
	}

	@Test
	public void aBarrierReductionBecomesThreadLoopsSplitAtTheBarriers() {
		Translator.Result result = translate("block_sum.cu", BLOCK_SUM, Dialect.CUDA, Dialect.VNNI);
		assertTrue(result.record().verified(), result.record().reason());
		String out = result.output().orElseThrow();
		assertFalse(out.contains("__syncthreads"), out);
		assertFalse(out.contains("cudaMalloc"), out);
		assertTrue(out.contains("for (int blockIdx_x = 0; blockIdx_x < 4; ++blockIdx_x)"), out);
		assertTrue(out.contains("float partial[128];"), out); // shared memory: one array per block
		assertTrue(out.contains("int t[128];"), out); // lives across barriers: one element per thread
		assertTrue(out.contains("for (int s = 64; s > 0; s >>= 1) {"), out); // the uniform loop stays outside
		assertEquals("loop-recovery", result.record().steps().get(0).pass());
	}

	@Test
	public void aBarrierInALoopWhoseTripCountDependsOnTheThreadIsRefusedWithItsLine() {
		String cuda = BLOCK_SUM.replace("for (int s = 64; s > 0; s >>= 1) {", "for (int s = t; s > 0; s >>= 1) {");
		TranslationUnit unit = parse(cuda, Dialect.CUDA);
		PassRefusal refusal = assertThrows(PassRefusal.class,
				() -> new LoopRecovery().apply(unit, Dialect.CUDA, Dialect.VNNI));
		assertEquals("line 7: a loop containing a barrier must run alike in every thread of the block",
				refusal.getMessage());
	}

	@Test
	public void aKernelWithoutHostWrapperIsRefusedBecauseItsLaunchIsUnknown() {
		String cuda = BLOCK_SUM.substring(0, BLOCK_SUM.indexOf("extern \"C\""));
		TranslationUnit unit = parse(cuda, Dialect.CUDA);
		PassRefusal refusal = assertThrows(PassRefusal.class,
				() -> new LoopRecovery().apply(unit, Dialect.CUDA, Dialect.VNNI));
		assertTrue(refusal.getMessage().startsWith("line 1: the entry block_sum is a kernel without a host wrapper"),
				refusal.getMessage());
	}

	@Test
	public void warpShufflesExchangeValuesThroughAPerThreadBuffer() {
		String cuda = """
				__global__ void warp_sum(const float* x, float* out)
				{
				    float v = x[threadIdx.x];
				    for (int offset = 16; offset > 0; offset /= 2) {
				        v += __shfl_down_sync(0xffffffff, v, offset);
				    }
				    if (threadIdx.x % 32 == 0) {
				        out[threadIdx.x / 32] = v;
				    }
				}

				extern "C" void warp_sum_kernel(const float* x, float* out)
				{
				    float* d_x;
				    float* d_out;
				    cudaMalloc((void**)&d_x, 64 * sizeof(float));
				    cudaMalloc((void**)&d_out, 2 * sizeof(float));
				    cudaMemcpy(d_x, x, 64 * sizeof(float), cudaMemcpyHostToDevice);
				    warp_sum<<<1, 64>>>(d_x, d_out);
				    cudaMemcpy(out, d_out, 2 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(d_x);
				    cudaFree(d_out);
				}
				""";
		Translator.Result result = translate("warp_sum.cu", cuda, Dialect.CUDA, Dialect.VNNI);
		assertTrue(result.record().verified(), result.record().reason());
		assertTrue(result.output().get().contains("shfl_buffer0[threadIdx_x] = v[threadIdx_x];"), result.output().get());
	}

	@Test
	public void shufflesInAnUnbracedLoopExchangeOnEveryIterationAndFltMaxBecomesItsValue() {
		String cuda = """
				__global__ void row_max(const float* x, float* y)
				{
				    float m = -FLT_MAX;
				    for (int c = threadIdx.x; c < 100; c += 32)
				        m = fmaxf(m, x[blockIdx.x * 100 + c]);
				#pragma unroll
				    for (int off = 16; off > 0; off >>= 1)
				        m = fmaxf(m, __shfl_down_sync(0xffffffff, m, off));
				    if (threadIdx.x == 0) y[blockIdx.x] = m;
				}

				extern "C" void row_max_kernel(const float* x, float* y)
				{
				    float *dx, *dy;
				    cudaMalloc(&dx, 8 * 100 * sizeof(float));
				    cudaMalloc(&dy, 8 * sizeof(float));
				    cudaMemcpy(dx, x, 8 * 100 * sizeof(float), cudaMemcpyHostToDevice);
				    row_max<<<8, 32>>>(dx, dy);
				    cudaMemcpy(y, dy, 8 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		Translator.Result lifted = translate("row_max.cu", cuda, Dialect.CUDA, Dialect.VNNI);
		assertTrue(lifted.record().verified(), lifted.record().reason());
		String recovered = lifted.record().steps().get(0).after();
		assertTrue(recovered.contains("-3.40282347e+38f"), recovered);
		// the exchange sits in the loop body, so each halving step reads the values of the previous one
		assertTrue(recovered.indexOf("shfl_buffer0[threadIdx_x] = m[threadIdx_x];") > recovered.indexOf("for (int off = 16;"),
				recovered);
		Translator.Result hip = translate("row_max.cu", cuda, Dialect.CUDA, Dialect.HIP);
		assertTrue(hip.record().verified(), hip.record().reason());
		assertEquals("simt-runtime-mapping", hip.record().steps().get(0).pass());
		assertTrue(hip.output().orElseThrow().contains("float m = -3.40282347e+38f;"), hip.output().orElseThrow());
	}

	@Test
	public void aLaunchArgumentThatCastsTheWrappersNameForTheSameParameterIsBoundUnderANewName() {
		String cuda = """
				__global__ void scale(const float* x, float* y)
				{
				    int i = blockIdx.x * blockDim.x + threadIdx.x;
				    y[i] = x[i] * 2.0f;
				}

				extern "C" void scale_kernel(const float* x, float* y)
				{
				    float *dx, *dy;
				    cudaMalloc(&dx, 1024 * sizeof(float));
				    cudaMalloc(&dy, 1024 * sizeof(float));
				    cudaMemcpy(dx, x, 1024 * sizeof(float), cudaMemcpyHostToDevice);
				    scale<<<4, 256>>>((const float*)dx, dy);
				    cudaMemcpy(y, dy, 1024 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		Translator.Result result = translate("scale.cu", cuda, Dialect.CUDA, Dialect.VNNI);
		assertTrue(result.record().verified(), result.record().reason());
		String recovered = result.record().steps().get(0).after();
		assertTrue(recovered.contains("const float *x_arg = (const float *)x;"), recovered);
		assertTrue(recovered.contains("y[i] = x_arg[i] * 2.0f;"), recovered);
	}

	@Test
	public void cppStandardLibraryMathRunsAndBecomesTheTargetsCFunctions() {
		String cpp = """
				extern "C" void clamp_kernel(const float* x, float* y)
				{
				    for (int i = 0; i < 256; ++i) {
				        float v = std::max(x[i], -0.5f);
				        y[i] = std::min(std::exp(v) + std::sqrt(std::abs(x[i])), 2.0f);
				    }
				}
				""";
		for (Dialect to : List.of(Dialect.CUDA, Dialect.BANG)) {
			Translator.Result result = translate("clamp.cpp", cpp, Dialect.VNNI, to);
			assertTrue(result.record().verified(), result.record().reason());
			String out = result.output().orElseThrow();
			assertTrue(out.contains("float v = ((x[i]) < (-0.5f) ? (-0.5f) : (x[i]));"), out);
			assertTrue(out.contains("expf(v) + sqrtf("), out);
			assertTrue(out.lines().filter(line -> !line.strip().startsWith("//")).noneMatch(line -> line.contains("std::")), out);
		}
	}

	@Test
	public void dynamicSharedMemoryAtomicsAndMemsetBecomePlainArraysUpdatesAndLoops() {
		String cuda = """
				#define N 8192
				__global__ void total(const float* x, float* out)
				{
				    extern __shared__ float cache[];
				    int t = threadIdx.x;
				    float v = 0.0f;
				    for (int i = blockIdx.x * blockDim.x + t; i < N; i += blockDim.x * gridDim.x) v += x[i];
				    cache[t] = v;
				    __syncthreads();
				    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
				        if (t < s) cache[t] += cache[t + s];
				        __syncthreads();
				    }
				    if (t == 0) atomicAdd(out, cache[0]);
				}
				extern "C" void total_kernel(const float* x, float* out)
				{
				    float *d_x, *d_out;
				    cudaMalloc((void**)&d_x, N * sizeof(float));
				    cudaMalloc((void**)&d_out, sizeof(float));
				    cudaMemcpy(d_x, x, N * sizeof(float), cudaMemcpyHostToDevice);
				    cudaMemset(d_out, 0, sizeof(float));
				    total<<<8, 128, 128 * sizeof(float)>>>(d_x, d_out);
				    cudaMemcpy(out, d_out, sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(d_x); cudaFree(d_out);
				}
				""";
		Translator.Result result = translate("total.cu", cuda, Dialect.CUDA, Dialect.BANG);
		assertTrue(result.record().verified(), result.record().reason());
		String lifted = result.record().steps().get(0).after();
		assertTrue(lifted.contains("float cache[128];"), lifted); // 128 * sizeof(float) bytes from the launch
		assertTrue(lifted.contains("*(out) += (cache[0]);"), lifted);
		assertTrue(lifted.contains("((unsigned char *)(out))[byte] = (unsigned char)(0);"), lifted);
	}

	@Test
	public void aBangKernelIsRecoveredAsALoopOverItsTasks() {
		String bang = """
				__nram__ float buffer[256];

				extern "C" __mlu_global__ void scale_kernel(const float* x, float* y)
				{
				    for (int row = taskId; row < 32; row += taskDim) {
				        __memcpy(buffer, x + row * 256, 256 * sizeof(float), GDRAM2NRAM);
				        __bang_mul_scalar(buffer, buffer, 2.0f, 256);
				        __memcpy(y + row * 256, buffer, 256 * sizeof(float), NRAM2GDRAM);
				    }
				}
				""";
		Translator.Result result = translate("scale.mlu", bang, Dialect.BANG, Dialect.VNNI);
		assertTrue(result.record().verified(), result.record().reason());
		List<String> passes = result.record().steps().stream().filter(StepRecord::accepted).map(StepRecord::pass)
				.toList();
		assertEquals(List.of("detensorize", "loop-recovery", "annotate"), passes);
		String out = result.output().get();
		assertTrue(out.contains("// xpiler: "), out); // the lifted loops name what they compute
		assertTrue(out.contains("for (int taskId = 0; taskId < 16; ++taskId) {"), out);
		assertTrue(out.contains("row += 16"), out);
		assertFalse(out.contains("__nram__"), out);
	}

	@Test
	public void loopBindStridesTheOutermostLoopOverTheGridAndWritesTheHostWrapper() {
		String cpp = """
				extern "C" void scale_kernel(const float* x, float* y)
				{
				    for (int i = 0; i < 4096; i++) {
				        y[i] = 2.0f * x[i];
				    }
				}
				""";
		Translator.Result result = translate("scale.cpp", cpp, Dialect.VNNI, Dialect.CUDA);
		assertTrue(result.record().verified(), result.record().reason());
		// the last accepted step (tensorize, which finds no matrix product, is recorded as refused after it)
		StepRecord bind = result.record().steps().stream().filter(StepRecord::accepted).reduce((a, b) -> b).orElseThrow();
		assertEquals("loop-bind", bind.pass());
		assertEquals("grid-stride", bind.knobs().get("bind"));
		String out = result.output().get();
		assertTrue(out.contains("__global__ void scale(const float *x, float *y)"), out);
		assertTrue(out.contains("for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < 4096; i += gridDim.x * blockDim.x)"), out);
		assertTrue(out.contains("scale<<<16, 256>>>(d_x, d_y);"), out);
		assertTrue(out.contains("cudaMemcpy(y, d_y, 16384, cudaMemcpyDeviceToHost);"), out);
		assertFalse(out.contains("cudaMemcpy(d_y, y"), out); // y is only written: nothing to copy in
	}

	@Test
	public void perfectlyNestedLoopsAreBoundAsOneIndexUnlessTheirIterationsRace() {
		String bias = """
				extern "C" void bias_kernel(const float* x, const float* b, float* y)
				{
				    for (int i = 0; i < 48; i++) {
				        for (int j = 0; j < 80; j++) {
				            y[i * 80 + j] = x[i * 80 + j] + b[j];
				        }
				    }
				}
				""";
		Translator.Result result = translate("bias.cpp", bias, Dialect.VNNI, Dialect.CUDA);
		assertTrue(result.record().verified(), result.record().reason());
		String out = result.output().orElseThrow();
		assertTrue(out.contains("for (int i_j = blockIdx.x * blockDim.x + threadIdx.x; i_j < 3840; "
				+ "i_j += gridDim.x * blockDim.x) {\n        const int i = i_j / 80;\n        const int j = i_j % 80;"), out);
		assertTrue(out.contains("bias<<<15, 256>>>"), out);
		// every j adds into y[i]: one thread per (i, j) would race, so the rows alone are bound
		String rowSums = """
				extern "C" void rowsum_kernel(const float* x, float* y)
				{
				    for (int i = 0; i < 48; i++) {
				        for (int j = 0; j < 80; j++) {
				            y[i] += x[i * 80 + j];
				        }
				    }
				}
				""";
		Translator.Result sums = translate("rowsum.cpp", rowSums, Dialect.VNNI, Dialect.CUDA);
		assertTrue(sums.record().verified(), sums.record().reason());
		List<String> binds = sums.record().steps().stream().filter(step -> step.pass().equals("loop-bind"))
				.map(step -> step.knobs().get("collapse") + " " + step.verdict()).toList();
		assertEquals(List.of("nested rejected", "outermost accepted"), binds);
	}

	@Test
	public void aLoopCarriedDependenceMakesTheOracleDropTheParallelBindingForTheSingleThreadOne() {
		String cpp = """
				extern "C" void prefix_kernel(const float* x, float* y)
				{
				    y[0] = x[0];
				    for (int i = 1; i < 512; i++) {
				        y[i] = y[i - 1] + x[i];
				    }
				}
				""";
		Translator.Result result = translate("prefix.cpp", cpp, Dialect.VNNI, Dialect.BANG);
		assertTrue(result.record().verified(), result.record().reason());
		List<StepRecord> binds = result.record().steps().stream().filter(s -> s.pass().equals("loop-bind")).toList();
		assertEquals("rejected", binds.get(0).verdict(), binds.get(0).reason());
		assertEquals("single", binds.get(1).knobs().get("bind"));
		assertEquals("accepted", binds.get(1).verdict());
	}

	@Test
	public void blockAndThreadLoopsOverALinearIndexFuseIntoOneLoopBoundedByTheGuard() {
		String cpp = """
				extern "C" void relu_kernel(const float* x, float* y)
				{
				    for (int blockIdx_x = 0; blockIdx_x < 4; ++blockIdx_x) {
				        for (int threadIdx_x = 0; threadIdx_x < 256; ++threadIdx_x) {
				            int i = blockIdx_x * 256 + threadIdx_x;
				            if (i < 1000) {
				                y[i] = fmaxf(x[i], 0.0f);
				            }
				        }
				    }
				}
				""";
		TranslationUnit unit = parse(cpp, Dialect.VNNI);
		assertEquals(java.util.Map.of("fused", "1", "bounded", "1"), new LoopFuse().apply(unit, Dialect.VNNI, Dialect.VNNI));
		String out = Dialect.VNNI.printer().print(unit);
		assertTrue(out.contains("for (int i = 0; i < 1000; ++i) {\n        y[i] = fmaxf(x[i], 0.0f);"), out);
		assertFalse(out.contains("threadIdx_x"), out);
	}

	@Test
	public void nestsFuseRepeatedlyThroughCopiesAndWhatStillReadsAnIndexGetsItBack() {
		String cpp = """
				extern "C" void add_kernel(const float* A, const float* B, float* C)
				{
				    for (int blockIdx_y = 0; blockIdx_y < 64; ++blockIdx_y) {
				        for (int blockIdx_x = 0; blockIdx_x < 3; ++blockIdx_x) {
				            for (int threadIdx_x = 0; threadIdx_x < 256; ++threadIdx_x) {
				                int row = blockIdx_y;
				                int col = blockIdx_x * 256 + threadIdx_x;
				                if (col < 768) {
				                    int i = row * 768 + col;
				                    C[i] = A[i] + B[i] * threadIdx_x;
				                }
				            }
				        }
				    }
				}
				""";
		TranslationUnit unit = parse(cpp, Dialect.VNNI);
		assertEquals(java.util.Map.of("fused", "2", "bounded", "1"), new LoopFuse().apply(unit, Dialect.VNNI, Dialect.VNNI));
		String out = Dialect.VNNI.printer().print(unit);
		assertTrue(out.contains("for (int i = 0; i < 49152; ++i) {"), out);
		assertTrue(out.contains("int col = i % 768;"), out);
		assertTrue(out.contains("int threadIdx_x = col % 256;"), out);
		assertFalse(out.contains("blockIdx"), out); // dead copies are gone
		assertVerifies(cpp, out);
	}

	@Test
	public void aGridStrideLoopOverAllThreadsBecomesOneLoop() {
		String cpp = """
				extern "C" void gelu_kernel(const float* input, float* output)
				{
				    for (int blockIdx_x = 0; blockIdx_x < 4; ++blockIdx_x) {
				        for (int threadIdx_x = 0; threadIdx_x < 32; ++threadIdx_x) {
				            for (int i = blockIdx_x * 32 + threadIdx_x; i < 1000; i += 32 * 4) {
				                output[i] = input[i] * 0.5f;
				            }
				        }
				    }
				}
				""";
		TranslationUnit unit = parse(cpp, Dialect.VNNI);
		new LoopFuse().apply(unit, Dialect.VNNI, Dialect.VNNI);
		String out = Dialect.VNNI.printer().print(unit);
		assertTrue(out.contains("for (int i = 0; i < 1000; ++i) {\n        output[i] = input[i] * 0.5f;"), out);
		assertFalse(out.contains("threadIdx_x"), out);
		assertVerifies(cpp, out);
	}

	@Test
	public void loopFuseRefusesNestsWithoutALinearIndex() {
		String cpp = """
				extern "C" void k_kernel(const float* x, float* y)
				{
				    for (int r = 0; r < 4; ++r) {
				        for (int c = 0; c < 256; ++c) {
				            int i = r * 255 + c;
				            y[r * 256 + c] = x[i];
				        }
				    }
				}
				""";
		TranslationUnit unit = parse(cpp, Dialect.VNNI);
		assertEquals("no nest of two loops over a linear index",
				new LoopFuse().refusal(unit, Dialect.VNNI, Dialect.VNNI).orElseThrow());
	}

	private static void assertVerifies(String source, String output) {
		PassTesting.assertVerifies(source, Dialect.VNNI, output, Dialect.VNNI);
	}

	/** Row sums go from one kernel to the next through a device buffer that no parameter fills. */
	private static final String SCRATCH = """
			__global__ void row_sums(const float* x, float* sums)
			{
			    int r = blockIdx.x * blockDim.x + threadIdx.x;
			    if (r < 64) {
			        float s = 0.0f;
			        for (int c = 0; c < 128; ++c) {
			            s += x[r * 128 + c];
			        }
			        sums[r] = s;
			    }
			}

			__global__ void scale_rows(const float* x, const float* sums, float* y)
			{
			    int i = blockIdx.x * blockDim.x + threadIdx.x;
			    if (i < 64 * 128) {
			        y[i] = x[i] / (sums[i / 128] + 100.0f);
			    }
			}

			extern "C" void rowsum_scale_kernel(const float* x, float* y)
			{
			    float *d_x, *d_sums, *d_y;
			    cudaMalloc((void**)&d_x, 64 * 128 * sizeof(float));
			    cudaMalloc((void**)&d_sums, 64 * sizeof(float));
			    cudaMalloc((void**)&d_y, 64 * 128 * sizeof(float));
			    cudaMemcpy(d_x, x, 64 * 128 * sizeof(float), cudaMemcpyHostToDevice);
			    row_sums<<<1, 64>>>(d_x, d_sums);
			    scale_rows<<<32, 256>>>(d_x, d_sums, d_y);
			    cudaMemcpy(y, d_y, 64 * 128 * sizeof(float), cudaMemcpyDeviceToHost);
			    cudaFree(d_x);
			    cudaFree(d_sums);
			    cudaFree(d_y);
			}
			""";

	@Test
	public void aScratchDeviceBufferBecomesStorageOfTheWrapperAndADeviceGlobalOnceBound() {
		Translator.Result lifted = translate("rowsum_scale.cu", SCRATCH, Dialect.CUDA, Dialect.VNNI);
		assertTrue(lifted.record().verified(), lifted.record().reason());
		String cpp = lifted.output().orElseThrow();
		assertTrue(cpp.contains("float d_sums_storage[64];\n    float *d_sums = d_sums_storage;"), cpp);
		Translator.Result bang = translate("rowsum_scale.cu", SCRATCH, Dialect.CUDA, Dialect.BANG);
		assertTrue(bang.record().verified(), bang.record().reason());
		String mlu = bang.output().orElseThrow();
		assertTrue(mlu.contains("\n__mlu_device__ float d_sums_storage[64];"), mlu); // one buffer for all tasks
		// one kernel per loop, launched one after the other on the wrapper's queue
		assertTrue(mlu.contains("rowsum_scale_1<<<dim, CNRT_FUNC_TYPE_UNION1, queue>>>(d_x, d_y);\n"
				+ "    rowsum_scale_2<<<dim, CNRT_FUNC_TYPE_UNION1, queue>>>(d_x, d_y);"), mlu);
		StepRecord bind = bang.record().steps().stream().filter(s -> s.pass().equals("loop-bind") && s.accepted())
				.findFirst().orElseThrow();
		assertEquals("task-stride", bind.knobs().get("bind"));
		assertEquals("cnrt", bind.knobs().get("wrapper"));
		assertEquals("2", bind.knobs().get("kernels"));
	}

	@Test
	public void scalarParametersStayParametersWhereNoHostWrapperWouldFixTheirValue() {
		String cpp = """
				extern "C" void saxpy_kernel(const float* x, float* y, float a, int n)
				{
				    for (int i = 0; i < n; ++i) {
				        y[i] = a * x[i] + y[i];
				    }
				}
				""";
		KernelSource source = new KernelSource(Path.of("saxpy.cpp"), Dialect.VNNI, cpp);
		java.util.Map<String, String> scalars = java.util.Map.of("a", "0.5", "n", "1000");
		Translator.Result bang = new Translator().translate(source, Dialect.BANG, scalars, 3);
		assertTrue(bang.record().verified(), bang.record().reason());
		String mlu = bang.output().orElseThrow();
		assertTrue(mlu.contains("__mlu_global__ void saxpy_kernel(const float *x, float *y, float a, int n)"), mlu);
		assertTrue(mlu.contains("int total = (n) - start;"), mlu); // the tasks share n elements, whatever n is
		Translator.Result cuda = new Translator().translate(source, Dialect.CUDA, scalars, 3);
		assertFalse(cuda.record().verified());
		assertTrue(cuda.record().reason().contains("line 1: the entry takes the scalar a; a host wrapper sized by one "
				+ "run would hold for that value only"), cuda.record().reason());
	}

	@Test
	public void launchSizesFoldThroughDim3MembersAndOneLineHelpers() {
		String cuda = """
				static int ceil_div(int a, int b) { return (a + b - 1) / b; }

				__global__ void add2d(const float* A, const float* B, float* C)
				{
				    int col = blockIdx.x * blockDim.x + threadIdx.x;
				    int row = blockIdx.y * blockDim.y + threadIdx.y;
				    if (row < 100 && col < 200) {
				        C[row * 200 + col] = A[row * 200 + col] + B[row * 200 + col];
				    }
				}

				extern "C" void add2d_kernel(const float* A, const float* B, float* C)
				{
				    const int rows = 100, cols = 200;
				    size_t bytes = rows * cols * sizeof(float);
				    float *dA, *dB, *dC;
				    cudaMalloc(&dA, bytes);
				    cudaMalloc(&dB, bytes);
				    cudaMalloc(&dC, bytes);
				    cudaMemcpy(dA, A, bytes, cudaMemcpyHostToDevice);
				    cudaMemcpy(dB, B, bytes, cudaMemcpyHostToDevice);
				    dim3 block(16, 16);
				    dim3 grid((cols + block.x - 1) / block.x, ceil_div(rows, block.y));
				    add2d<<<grid, block>>>(dA, dB, dC);
				    cudaMemcpy(C, dC, bytes, cudaMemcpyDeviceToHost);
				    cudaFree(dA); cudaFree(dB); cudaFree(dC);
				}
				""";
		Translator.Result result = translate("add2d.cu", cuda, Dialect.CUDA, Dialect.VNNI);
		assertTrue(result.record().verified(), result.record().reason());
		String recovered = result.record().steps().get(0).after();
		assertTrue(recovered.contains("for (int blockIdx_y = 0; blockIdx_y < 7; ++blockIdx_y)"), recovered);
		assertTrue(recovered.contains("for (int blockIdx_x = 0; blockIdx_x < 13; ++blockIdx_x)"), recovered);
		String out = result.output().orElseThrow();
		assertFalse(out.contains("ceil_div"), out); // inlined, and gone once nothing calls it
		// fused into rows and columns, bounded by the guard rather than by the 7 x 13 blocks of 16 x 16; the body
		// reads row and col only as row * 200 + col, so rows and columns fuse too, into one vector loop
		assertTrue(out.contains("index + 16 <= 20000"), out);
		assertFalse(out.contains("row"), out);
	}

	@Test
	public void launchSizesFoldThroughFileConstantsAndMinAndKernelsKeepTheirMinAndMax() {
		String cuda = """
				const int N = 1000;

				__global__ void clamp(const float* x, float* y)
				{
				    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < N; i += blockDim.x * gridDim.x) {
				        y[i] = min(max(x[i], -0.5f), 0.5f);
				    }
				}

				extern "C" void clamp_kernel(const float* x, float* y)
				{
				    float *dx = nullptr, *dy = nullptr;
				    cudaMalloc(&dx, N * sizeof(float));
				    cudaMalloc(&dy, N * sizeof(float));
				    cudaMemcpy(dx, x, N * sizeof(float), cudaMemcpyHostToDevice);
				    int blocks = min((N + 255) / 256, 2);
				    clamp<<<blocks, 256>>>(dx, dy);
				    cudaMemcpy(y, dy, N * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		Translator.Result result = translate("clamp.cu", cuda, Dialect.CUDA, Dialect.VNNI);
		assertTrue(result.record().verified(), result.record().reason());
		String recovered = result.record().steps().get(0).after();
		assertTrue(recovered.contains("for (int blockIdx_x = 0; blockIdx_x < 2; ++blockIdx_x)"), recovered);
		// C++ has no overloaded min/max: the comparisons themselves
		assertTrue(recovered.contains("((x[i]) > (-0.5f) ? (x[i]) : (-0.5f))"), recovered);
		assertFalse(recovered.contains("min("), recovered);
	}

	@Test
	public void loopBindRefusesAnythingButSequentialCpp() {
		TranslationUnit unit = parse(BLOCK_SUM, Dialect.CUDA);
		String refusal = new LoopBind(LoopBind.Binding.STRIDE, 256, LoopBind.Wrapper.HOST, List.of())
				.refusal(unit, Dialect.CUDA, Dialect.HIP).orElseThrow();
		assertEquals("binds sequential C++ to CUDA, HIP or BANG only", refusal);
	}
}
