package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;

import org.xpiler.devices.KernelSource;
import org.xpiler.engine.pipeline.RunRecord;
import org.xpiler.engine.pipeline.StepRecord;
import org.xpiler.engine.pipeline.Translator;
import org.xpiler.lang.dialect.Dialect;
import org.junit.jupiter.api.Test;

/**
 * Kernels written in styles other than the corpus's translate and verify: constants that size arrays and
 * bound loops around barriers, shuffle widths from macros and constants, allocations through C++ casts,
 * read-only-cache loads, CUDA's float intrinsics, and host wrappers that read the runtime's status.
 */
public class FieldStylesTest {
	private static Translator.Result translate(String name, String text, Dialect to) {
		Path path = Path.of(name);
		return new Translator().translate(new KernelSource(path, Dialect.fromFile(path).orElseThrow(), text), to, 3);
	}

	/** The translation, asserted verified. */
	private static Translator.Result verified(String name, String text, Dialect to) {
		Translator.Result result = translate(name, text, to);
		assertTrue(result.record().verified(), () -> result.record().reason());
		return result;
	}

	/** The sequential C++ that loop recovery lifted the source to. */
	private static String lifted(Translator.Result result) {
		return lifted(result, "loop-recovery");
	}

	/** The code after the first step, which is {@code pass}. */
	private static String lifted(Translator.Result result, String pass) {
		StepRecord first = result.record().steps().get(0);
		assertEquals(pass, first.pass());
		return first.after();
	}

	private static final String SCALE_WRAPPER = """
			extern "C" void scale_kernel(const float* x, float* y) {
			    float *dx, *dy;
			%s
			    cudaMemcpy(dx, x, 1024 * sizeof(float), cudaMemcpyHostToDevice);
			    scale<<<4, 256>>>(dx, dy);
			%s
			    cudaMemcpy(y, dy, 1024 * sizeof(float), cudaMemcpyDeviceToHost);
			    cudaFree(dx); cudaFree(dy);
			}
			""";

	private static final String SCALE = """
			__global__ void scale(const float* x, float* y) {
			    int i = blockIdx.x * blockDim.x + threadIdx.x;
			    y[i] = x[i] * 2.0f;
			}
			""";

	private static String scale(String allocation, String afterLaunch) {
		return SCALE + SCALE_WRAPPER.formatted(allocation, afterLaunch);
	}

	private static final String PLAIN_ALLOCATION = """
			    cudaMalloc(&dx, 1024 * sizeof(float));
			    cudaMalloc(&dy, 1024 * sizeof(float));
			""";

	// ------------------------------------------------------------------ constants as sizes

	@Test
	public void aLocalConstantSizesSharedMemoryAndBoundsTheLoopAroundItsBarrier() {
		String cuda = """
				__global__ void row_sum(const float* x, float* y) {
				    const int T = 128;
				    const int HALF = T / 2;
				    __shared__ float buf[T];
				    int t = threadIdx.x;
				    buf[t] = x[blockIdx.x * T + t];
				    __syncthreads();
				    for (int s = HALF; s > 0; s >>= 1) {
				        if (t < s) buf[t] += buf[t + s];
				        __syncthreads();
				    }
				    if (t == 0) y[blockIdx.x] = buf[0];
				}
				extern "C" void row_sum_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, 8 * 128 * sizeof(float));
				    cudaMalloc(&dy, 8 * sizeof(float));
				    cudaMemcpy(dx, x, 8 * 128 * sizeof(float), cudaMemcpyHostToDevice);
				    row_sum<<<8, 128>>>(dx, dy);
				    cudaMemcpy(y, dy, 8 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		Translator.Result result = verified("row_sum.cu", cuda, Dialect.VNNI);
		String cpp = lifted(result);
		// the constants move whole to the block, before the shared array they size, not one per thread
		assertTrue(cpp.matches("(?s).*const int T = 128;\\s*const int HALF = T / 2;\\s*float buf\\[T\\];.*"), cpp);
		assertFalse(cpp.contains("T[threadIdx_x]"), cpp);
		assertTrue(cpp.contains("for (int s = HALF; s > 0; s >>= 1)"), cpp);
		verified("row_sum.cu", cuda, Dialect.BANG);
	}

	@Test
	public void constexprLocalsAndFileConstantsSizeArraysOfSequentialCode() {
		String cpp = """
				constexpr int K = 64;
				const int PARTS = 4;
				extern "C" void quarter_kernel(const float* x, float* y) {
				    constexpr int Q = K / PARTS;
				    float buf[Q];
				    for (int i = 0; i < Q; ++i) buf[i] = x[i] * 2.0f;
				    for (int i = 0; i < Q; ++i) y[i] = buf[i];
				}
				""";
		verified("quarter.cpp", cpp, Dialect.BANG);
		verified("quarter.cpp", cpp, Dialect.CUDA);
	}

	// ------------------------------------------------------------------ class templates and specializations

	@Test
	public void aStructTemplatePassedByValueAndAnExplicitSpecializationTranslate() {
		String cuda = """
				template <typename T>
				struct Params { const T* x; T* y; T a; };
				template <typename T> __device__ float widen(T v);
				template <> __device__ float widen<__half>(__half v) { return __half2float(v); }
				template <> __device__ float widen<float>(float v) { return v; }
				template <typename T>
				__global__ void axpy(Params<T> p, const __half* bias) {
				    int i = blockIdx.x * blockDim.x + threadIdx.x;
				    p.y[i] = p.a * widen(p.x[i]) + widen(bias[i]);
				}
				extern "C" void axpy_kernel(const float* x, const __half* bias, float* y) {
				    float *dx, *dy;
				    __half* db;
				    cudaMalloc(&dx, 512 * sizeof(float));
				    cudaMalloc(&db, 512 * sizeof(__half));
				    cudaMalloc(&dy, 512 * sizeof(float));
				    cudaMemcpy(dx, x, 512 * sizeof(float), cudaMemcpyHostToDevice);
				    cudaMemcpy(db, bias, 512 * sizeof(__half), cudaMemcpyHostToDevice);
				    Params<float> p;
				    p.x = dx; p.y = dy; p.a = 3.0f;
				    axpy<float><<<2, 256>>>(p, db);
				    cudaMemcpy(y, dy, 512 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(db); cudaFree(dy);
				}
				""";
		String cpp = verified("axpy.cu", cuda, Dialect.VNNI).record().output();
		assertTrue(cpp.contains("template <typename T>\nstruct Params {"), cpp);
		assertTrue(cpp.contains("Params<float> p;"), cpp);
		verified("axpy.cu", cuda, Dialect.BANG);
		verified("axpy.cu", cuda, Dialect.HIP);
	}

	// ------------------------------------------------------------------ runtime sizes

	@Test
	public void aGridComputedFromARuntimeSizeLiftsToLoopsOverThatExpression() {
		String cuda = """
				__global__ void scale(const float* x, float* y, float a, int n) {
				    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
				        y[i] = a * x[i];
				}
				extern "C" void scale_kernel(const float* x, float* y, float a, int n) {
				    float *dx, *dy;
				    cudaMalloc(&dx, n * sizeof(float));
				    cudaMalloc(&dy, n * sizeof(float));
				    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
				    scale<<<dim3((n + 127) / 128), 128>>>(dx, dy, a, n);
				    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		Translator.Result result = verified("scale.cu", cuda, Dialect.VNNI);
		// no --args: the checks assumed values, and the record says which
		assertEquals(Map.of("a", "0.5", "n", "1000"), result.record().assumedScalars());
		String cpp = lifted(result);
		assertTrue(cpp.contains("const int gridDim_x = ((n + 127) / 128);"), cpp);
		assertTrue(cpp.contains("blockIdx_x < gridDim_x"), cpp);
		assertTrue(cpp.contains("i += 128 * gridDim_x"), cpp);
		assertTrue(result.output().orElseThrow().contains("void scale_kernel(const float *x, float *y, float a, int n)"));
		// the number of blocks in a variable of the wrapper is read where the launch is
		String named = cuda.replace("    scale<<<dim3((n + 127) / 128), 128>>>(dx, dy, a, n);",
				"    const int blocks = (n + 127) / 128;\n    scale<<<blocks, 128>>>(dx, dy, a, n);");
		assertTrue(lifted(verified("scale.cu", named, Dialect.VNNI)).contains("const int gridDim_x = (blocks);"));
		// a block the wrapper computes is still refused: lifting specializes the kernel for it
		Translator.Result block = translate("scale.cu", cuda.replace("128>>>", "n / 8>>>"), Dialect.VNNI);
		assertFalse(block.record().verified());
		assertTrue(block.record().reason().contains("the block of the launch is not a compile-time constant"),
				block.record().reason());
	}

	@Test
	public void aDim3GridOfRuntimeSizesBecomesRowAndColumnLoopsOverThem() {
		String cuda = """
				__global__ void add2d(const float* a, const float* b, float* c, int rows, int cols) {
				    int col = blockIdx.x * blockDim.x + threadIdx.x;
				    int row = blockIdx.y * blockDim.y + threadIdx.y;
				    if (row < rows && col < cols) c[row * cols + col] = a[row * cols + col] + b[row * cols + col];
				}
				extern "C" void add2d_kernel(const float* a, const float* b, float* c, int rows, int cols) {
				    float *da, *db, *dc;
				    size_t bytes = (size_t)rows * cols * sizeof(float);
				    cudaMalloc(&da, bytes); cudaMalloc(&db, bytes); cudaMalloc(&dc, bytes);
				    cudaMemcpy(da, a, bytes, cudaMemcpyHostToDevice);
				    cudaMemcpy(db, b, bytes, cudaMemcpyHostToDevice);
				    dim3 block(16, 16);
				    dim3 grid((cols + block.x - 1) / block.x, (rows + block.y - 1) / block.y);
				    add2d<<<grid, block>>>(da, db, dc, rows, cols);
				    cudaMemcpy(c, dc, bytes, cudaMemcpyDeviceToHost);
				    cudaFree(da); cudaFree(db); cudaFree(dc);
				}
				""";
		Translator.Result result = verified("add2d.cu", cuda, Dialect.VNNI);
		assertTrue(lifted(result).contains("const int gridDim_x = ((cols + 16 - 1) / 16);"), lifted(result));
		String cpp = result.output().orElseThrow();
		assertTrue(cpp.contains("for (int row = 0; row < rows; ++row)"), cpp);
		assertTrue(cpp.contains("_mm512_add_ps"), cpp);
		assertFalse(cpp.contains("dim3"), cpp);
	}

	@Test
	public void hipsLaneIdIsTheThreadsPlaceInItsWavefront() {
		String hip = """
				__global__ void lanes(const float* x, float* y) {
				    int i = blockIdx.x * blockDim.x + threadIdx.x;
				    y[i] = x[i] + (float)__lane_id();
				}
				extern "C" void lanes_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    hipMalloc(&dx, 256 * sizeof(float));
				    hipMalloc(&dy, 256 * sizeof(float));
				    hipMemcpy(dx, x, 256 * sizeof(float), hipMemcpyHostToDevice);
				    hipLaunchKernelGGL(lanes, dim3(2), dim3(128), 0, 0, dx, dy);
				    hipMemcpy(y, dy, 256 * sizeof(float), hipMemcpyDeviceToHost);
				    hipFree(dx); hipFree(dy);
				}
				""";
		String cpp = lifted(verified("lanes.hip", hip, Dialect.VNNI));
		assertTrue(cpp.contains("(float)(threadIdx_x % 64)"), cpp);
		verified("lanes.hip", hip, Dialect.CUDA);
	}

	@Test
	public void anInPlaceKernelWrappedOutOfPlaceWorksOnTheOutputFilledFromTheInput() {
		String cuda = """
				__global__ void twice(float* x) { x[threadIdx.x] *= 2.0f; }
				extern "C" void twice_kernel(const float* in, float* out) {
				    float* d;
				    cudaMalloc(&d, 64 * sizeof(float));
				    cudaMemcpy(d, in, 64 * sizeof(float), cudaMemcpyHostToDevice);
				    twice<<<1, 64>>>(d);
				    cudaMemcpy(out, d, 64 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(d);
				}
				""";
		String cpp = lifted(verified("twice.cu", cuda, Dialect.VNNI));
		assertTrue(cpp.contains("((unsigned char *)(out))[byte] = ((const unsigned char *)(in))[byte];"), cpp);
		assertTrue(cpp.contains("float *x = out;"), cpp);
		verified("twice.cu", cuda, Dialect.BANG);
		// copied back to two parameters, the buffer is neither
		Translator.Result twoOutputs = translate("twice.cu", cuda.replace("float* out)", "float* out, float* copy)")
				.replace("    cudaFree(d);", "    cudaMemcpy(copy, d, 64 * sizeof(float), cudaMemcpyDeviceToHost);\n    cudaFree(d);"),
				Dialect.VNNI);
		assertTrue(twoOutputs.record().reason().contains("the device buffer d is copied from/to both out and copy"),
				twoOutputs.record().reason());
	}

	@Test
	public void boolTemplateArgumentsAreConstants() {
		String cuda = """
				template <bool NEGATE>
				__global__ void copy(const float* x, float* y) {
				    int i = threadIdx.x;
				    y[i] = NEGATE ? -x[i] : x[i];
				    if (!NEGATE) y[i] += 1.0f;
				}
				extern "C" void copy_kernel(const float* x, float* y, float* z) {
				    float *dx, *dy, *dz;
				    cudaMalloc(&dx, 32 * sizeof(float));
				    cudaMalloc(&dy, 32 * sizeof(float));
				    cudaMalloc(&dz, 32 * sizeof(float));
				    cudaMemcpy(dx, x, 32 * sizeof(float), cudaMemcpyHostToDevice);
				    copy<true><<<1, 32>>>(dx, dy);
				    copy<false><<<1, 32>>>(dx, dz);
				    cudaMemcpy(y, dy, 32 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaMemcpy(z, dz, 32 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy); cudaFree(dz);
				}
				""";
		verified("copy.cu", cuda, Dialect.VNNI);
		verified("copy.cu", cuda, Dialect.BANG);
	}

	@Test
	public void aLaterStepsRefusalSaysWhoseLinesItNamesAndIsNotRepeatedPerKnobValue() {
		String cpp = """
				extern "C" void scale_kernel(const float* x, float* y, int n) {
				    for (int i = 0; i < n; ++i) y[i] = 2.0f * x[i];
				}
				""";
		String reason = translate("scale.cpp", cpp, Dialect.CUDA).record().reason();
		String refusal = "loop-bind refused on the annotate output: line 1: the entry takes the scalar n";
		assertTrue(reason.contains(refusal), reason);
		assertEquals(reason.indexOf(refusal), reason.lastIndexOf(refusal), reason);
	}

	// ------------------------------------------------------------------ shuffle widths

	private static String hipRowSum(String prelude, String width) {
		return prelude + """
				__global__ void rowsum(const float* x, float* y) {
				    float v = x[blockIdx.x * 64 + threadIdx.x];
				    for (int m = 32; m >= 1; m /= 2) {
				        v += __shfl_xor(v, m, %s);
				    }
				    if (threadIdx.x == 0) y[blockIdx.x] = v;
				}
				extern "C" void rowsum_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    hipMalloc(&dx, 8 * 64 * sizeof(float));
				    hipMalloc(&dy, 8 * sizeof(float));
				    hipMemcpy(dx, x, 8 * 64 * sizeof(float), hipMemcpyHostToDevice);
				    rowsum<<<8, 64>>>(dx, dy);
				    hipMemcpy(y, dy, 8 * sizeof(float), hipMemcpyDeviceToHost);
				    hipFree(dx); hipFree(dy);
				}
				""".formatted(width);
	}

	@Test
	public void aShuffleWidthFromAMacroOrAConstantFolds() {
		for (String[] style : new String[][] { { "#define WAVE 64\n", "WAVE" }, { "const int kWave = 64;\n", "kWave" } }) {
			Translator.Result result = verified("rowsum.hip", hipRowSum(style[0], style[1]), Dialect.VNNI);
			assertTrue(lifted(result).contains("((threadIdx_x % 64) ^ (m)) < 64 && "), lifted(result));
		}
		verified("rowsum.hip", hipRowSum("#define WAVE 64\n", "WAVE"), Dialect.BANG);
	}

	@Test
	public void aLaunchSizedWithFunctionLikeMacrosFoldsAsThePreprocessorExpandsThem() {
		String cuda = """
				#define THREADS 128
				#define CEIL_DIV(a, b) (((a) + (b) - 1) / (b))
				#define HALF_OF(n) n / 2
				__global__ void scale(const float* x, float* y, int n) {
				    int i = blockIdx.x * blockDim.x + threadIdx.x;
				    if (i < n) y[i] = x[i] * 2.0f;
				}
				extern "C" void scale_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, 1000 * sizeof(float));
				    cudaMalloc(&dy, 1000 * sizeof(float));
				    cudaMemcpy(dx, x, 1000 * sizeof(float), cudaMemcpyHostToDevice);
				    int blocks = min(CEIL_DIV(HALF_OF(1000 + 1000), THREADS), 64);
				    scale<<<blocks, THREADS>>>(dx, dy, 1000);
				    cudaMemcpy(y, dy, 1000 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		Translator.Result result = verified("scale.cu", cuda, Dialect.VNNI);
		// HALF_OF(1000 + 1000) is 1000 + 1000 / 2 as text, so the grid has (1500 + 127) / 128 = 12 blocks
		assertTrue(lifted(result).contains("blockIdx_x < 12"), lifted(result));
	}

	@Test
	public void aTemplateKernelIsLiftedAsTheInstanceItsLaunchRuns() {
		String cuda = """
				template <int BLOCK, typename T, int SCALE = 3>
				__global__ void reverse(const T* x, T* y) {
				    __shared__ T buf[BLOCK];
				    int i = blockIdx.x * BLOCK + threadIdx.x;
				    buf[threadIdx.x] = x[i];
				    __syncthreads();
				    y[i] = buf[BLOCK - 1 - threadIdx.x] * (T)SCALE;
				}
				extern "C" void reverse_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, 256 * sizeof(float));
				    cudaMalloc(&dy, 256 * sizeof(float));
				    cudaMemcpy(dx, x, 256 * sizeof(float), cudaMemcpyHostToDevice);
				    reverse<%s><<<4, 64>>>(dx, dy);
				    cudaMemcpy(y, dy, 256 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		// the type given at the launch, or deduced from the buffer passed for x
		for (String arguments : new String[] { "64, float", "64" }) {
			Translator.Result result = verified("reverse.cu", cuda.formatted(arguments), Dialect.VNNI);
			assertTrue(lifted(result).contains("float buf[64]"), lifted(result));
			assertTrue(lifted(result).contains("buf[64 - 1 - threadIdx_x] * (float)3"), lifted(result));
			verified("reverse.cu", cuda.formatted(arguments), Dialect.BANG);
		}
	}

	@Test
	public void autoLocalsTranslateAndAnAutoLoopIsNotRewrittenIntoAnotherType() {
		String cpp = """
				extern "C" void scale_kernel(const float* x, float* y) {
				    constexpr auto N = 64;
				    for (int i = 0; i < N; ++i) {
				        const auto& v = x[i];
				        auto twice = v * 2.0f;
				        y[i] = twice;
				    }
				    for (auto j = 0; j < N; ++j) y[j] -= 1.0f;
				}
				""";
		for (Dialect to : new Dialect[] { Dialect.CUDA, Dialect.BANG }) {
			String output = verified("scale.cpp", cpp, to).output().orElseThrow();
			// a bound loop's initializer would turn `auto j` unsigned, so only the int loop is bound
			assertTrue(output.contains("for (auto j = 0; j < N; ++j)"), output);
		}
	}

	@Test
	public void aZeroedRegisterTileAcrossABarrierWithUnrollPragmasIsLifted() {
		String cuda = """
				__global__ __launch_bounds__(64) void tile_sum(const float* x, float* y) {
				    __shared__ float s[64 * 4];
				    float acc[2][2] = {{0.0f}};
				    for (int k = 0; k < 4; ++k) s[threadIdx.x * 4 + k] = x[blockIdx.x * 256 + threadIdx.x * 4 + k];
				    __syncthreads();
				#pragma unroll
				    for (int i = 0; i < 2; ++i)
				#pragma unroll
				        for (int j = 0; j < 2; ++j)
				            acc[i][j] += s[(63 - threadIdx.x) * 4 + i * 2 + j];
				    y[blockIdx.x * 64 + threadIdx.x] = acc[0][0] + acc[0][1] + acc[1][0] + acc[1][1];
				}
				extern "C" void tile_sum_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, 512 * sizeof(float));
				    cudaMalloc(&dy, 128 * sizeof(float));
				    cudaMemcpy(dx, x, 512 * sizeof(float), cudaMemcpyHostToDevice);
				    tile_sum<<<2, 64>>>(dx, dy);
				    cudaMemcpy(y, dy, 128 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		Translator.Result result = verified("tile_sum.cu", cuda, Dialect.VNNI);
		assertTrue(lifted(result).contains("acc[threadIdx_x][i0_acc][i1_acc] = 0;"), lifted(result));
		verified("tile_sum.cu", cuda, Dialect.BANG);
	}

	@Test
	public void copiesAndLaunchesOnAStreamLiftAsTheSequentialCodeTheyAmountTo() {
		String cuda = SCALE + """
				extern "C" void scale_kernel(const float* x, float* y) {
				    cudaStream_t stream;
				    cudaStreamCreate(&stream);
				    float *dx, *dy;
				    cudaMalloc(&dx, 1024 * sizeof(float));
				    cudaMalloc(&dy, 1024 * sizeof(float));
				    cudaMemcpyAsync(dx, x, 1024 * sizeof(float), cudaMemcpyHostToDevice, stream);
				    scale<<<4, 256, 0, stream>>>(dx, dy);
				    cudaMemcpyAsync(y, dy, 1024 * sizeof(float), cudaMemcpyDeviceToHost, stream);
				    cudaStreamSynchronize(stream);
				    cudaStreamDestroy(stream);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		String cpp = lifted(verified("scale.cu", cuda, Dialect.VNNI));
		assertFalse(cpp.contains("cudaStream") || cpp.contains("MemcpyAsync"), cpp);
		verified("scale.cu", cuda, Dialect.BANG);
	}

	@Test
	public void aTemplateWarpReductionIsInlinedAsTheInstanceItsCallMakes() {
		String cuda = """
				template <typename T>
				__device__ T warpSum(T v) {
				    for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
				    return v;
				}
				__global__ void row_sum(const float* x, float* y) {
				    float v = x[blockIdx.x * 32 + threadIdx.x];
				    float s = warpSum%s(v);
				    if (threadIdx.x == 0) y[blockIdx.x] = s;
				}
				extern "C" void row_sum_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, 128 * sizeof(float));
				    cudaMalloc(&dy, 4 * sizeof(float));
				    cudaMemcpy(dx, x, 128 * sizeof(float), cudaMemcpyHostToDevice);
				    row_sum<<<4, 32>>>(dx, dy);
				    cudaMemcpy(y, dy, 4 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		for (String arguments : new String[] { "<float>", "" }) {
			String cpp = lifted(verified("row_sum.cu", cuda.formatted(arguments), Dialect.VNNI));
			assertTrue(cpp.contains("v_0[threadIdx_x] = v[threadIdx_x];") && !cpp.contains("warpSum("), cpp);
		}
	}

	@Test
	public void aKernelsTemplateArgumentPassedOnToATemplateHelperIsItsValueThere() {
		// BLOCK reaches the helper as the lone name BLOCK, which parses as a type until the kernel's instance knows it
		String cuda = """
				template <int B>
				__device__ float block_sum(float v, float* smem) {
				    smem[threadIdx.x] = v;
				    __syncthreads();
				    float r = 0.0f;
				    for (int w = 0; w < B; ++w) r += smem[w];
				    __syncthreads();
				    return r;
				}
				template <int B>
				__device__ float scaled(float v) { return v * B; }
				template <int BLOCK>
				__global__ void k(const float* x, float* y) {
				    __shared__ float smem[BLOCK];
				    y[threadIdx.x] = scaled<BLOCK>(block_sum<BLOCK>(x[threadIdx.x], smem));
				}
				extern "C" void sums_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, 64 * sizeof(float));
				    cudaMalloc(&dy, 64 * sizeof(float));
				    cudaMemcpy(dx, x, 64 * sizeof(float), cudaMemcpyHostToDevice);
				    k<64><<<1, 64>>>(dx, dy);
				    cudaMemcpy(y, dy, 64 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		String cpp = lifted(verified("sums.cu", cuda, Dialect.VNNI));
		assertTrue(cpp.contains("scaled<64>(") && cpp.contains("w < 64"), cpp);
	}

	@Test
	public void aTemplateKernelLaunchedThroughHipKernelNameMapsAndLifts() {
		String hip = """
				template <typename T, int B>
				__global__ void scale(const T* x, T* y) { int i = threadIdx.x; y[i] = x[i] * B; }
				extern "C" void scale_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    hipMalloc(&dx, 64 * 4);
				    hipMalloc(&dy, 64 * 4);
				    hipMemcpy(dx, x, 64 * 4, hipMemcpyHostToDevice);
				    hipLaunchKernelGGL(HIP_KERNEL_NAME(scale<float, 2>), dim3(1), dim3(64), 0, 0, dx, dy);
				    hipMemcpy(y, dy, 64 * 4, hipMemcpyDeviceToHost);
				    hipFree(dx); hipFree(dy);
				}
				""";
		String cuda = verified("scale.hip", hip, Dialect.CUDA).output().orElseThrow();
		assertTrue(cuda.contains("scale<float, 2><<<dim3(1), dim3(64), 0, 0>>>(dx, dy);"), cuda);
		String cpp = lifted(verified("scale.hip", hip, Dialect.VNNI));
		assertTrue(cpp.contains("x[i] * 2"), cpp);
	}

	@Test
	public void anUnrollHintOfALoopSplitAtItsShufflesIsNotLeftAtTheEndOfABlock() {
		String cuda = """
				__global__ void warp_sums(const float* x, float* y) {
				    float v = x[blockIdx.x * 64 + threadIdx.x];
				    #pragma unroll
				    for (int offset = 16; offset > 0; offset >>= 1) {
				        v += __shfl_down_sync(0xffffffffu, v, offset);
				    }
				    if (threadIdx.x % 32 == 0) y[blockIdx.x * 2 + threadIdx.x / 32] = v;
				}
				extern "C" void warp_sums_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, 256 * sizeof(float));
				    cudaMalloc(&dy, 8 * sizeof(float));
				    cudaMemcpy(dx, x, 256 * sizeof(float), cudaMemcpyHostToDevice);
				    warp_sums<<<4, 64>>>(dx, dy);
				    cudaMemcpy(y, dy, 8 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		String cpp = lifted(verified("warp_sums.cu", cuda, Dialect.VNNI));
		// clang (hipcc) rejects a directive where a statement must follow
		assertFalse(java.util.regex.Pattern.compile("#pragma[^\\n]*\\n\\s*}").matcher(cpp).find(), cpp);
	}

	@Test
	public void anOpenMpPragmaIsNotAKernelOfItsOwn() {
		String cpp = """
				extern "C" void scale_kernel(const float* x, float* y) {
				#pragma omp parallel for
				    for (int i = 0; i < 4096; ++i) y[i] = x[i] * 2.0f;
				}
				""";
		for (Dialect to : new Dialect[] { Dialect.CUDA, Dialect.BANG }) {
			Translator.Result result = verified("scale.cpp", cpp, to);
			StepRecord bind = result.record().steps().stream().filter(s -> s.pass().equals("loop-bind")).findFirst()
					.orElseThrow();
			assertEquals("1", bind.knobs().get("kernels"), result.output().orElseThrow());
			assertFalse(result.output().orElseThrow().contains("omp"), result.output().orElseThrow());
		}
	}

	@Test
	public void helpersInNamespacesAndQualifiedCallsTranslate() {
		String cuda = """
				namespace {
				constexpr int kRows = 64;
				__device__ float square(float v) { return v * v; }
				__global__ void row_sumsq(const float* x, float* y) {
				    int row = blockIdx.x * blockDim.x + threadIdx.x;
				    if (row < kRows) {
				        float s = 0.0f;
				        for (int c = 0; c < 256; ++c) s += square(x[row * 256 + c]);
				        y[row] = s;
				    }
				}
				}  // namespace
				namespace ops {
				inline int blocks(int n, int t) { return (n + t - 1) / t; }
				}
				extern "C" void row_sumsq_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, kRows * 256 * sizeof(float));
				    cudaMalloc(&dy, kRows * sizeof(float));
				    cudaMemcpy(dx, x, kRows * 256 * sizeof(float), cudaMemcpyHostToDevice);
				    row_sumsq<<<ops::blocks(kRows, 32), 32>>>(dx, dy);
				    cudaMemcpy(y, dy, kRows * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		for (Dialect to : new Dialect[] { Dialect.HIP, Dialect.BANG, Dialect.VNNI }) {
			verified("row_sumsq.cu", cuda, to);
		}
	}

	@Test
	public void constantsInNamespacesAreReadByTheirQualifiedNames() {
		String cuda = """
				namespace cfg {
				constexpr int kRows = 16;
				constexpr int kCols = 128;
				namespace detail { constexpr float kScale = 0.5f; }
				}
				__global__ void row_sum(const float* x, float* y) {
				    __shared__ float s[cfg::kCols];
				    int r = blockIdx.x, t = threadIdx.x;
				    s[t] = x[r * cfg::kCols + t] * cfg::detail::kScale;
				    __syncthreads();
				    for (int m = cfg::kCols / 2; m > 0; m >>= 1) {
				        if (t < m) s[t] += s[t + m];
				        __syncthreads();
				    }
				    if (t == 0) y[r] = s[0];
				}
				extern "C" void row_sum_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, cfg::kRows * cfg::kCols * sizeof(float));
				    cudaMalloc(&dy, cfg::kRows * sizeof(float));
				    cudaMemcpy(dx, x, cfg::kRows * cfg::kCols * sizeof(float), cudaMemcpyHostToDevice);
				    row_sum<<<cfg::kRows, cfg::kCols>>>(dx, dy);
				    cudaMemcpy(y, dy, cfg::kRows * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		for (Dialect to : new Dialect[] { Dialect.HIP, Dialect.BANG, Dialect.VNNI }) {
			verified("row_sum.cu", cuda, to);
		}
		String cpp = """
				namespace cfg { constexpr int kRows = 16; constexpr int kCols = 64; }
				extern "C" void row_max_kernel(const float* x, float* y) {
				    for (int r = 0; r < cfg::kRows; ++r) {
				        float m = x[r * cfg::kCols];
				        for (int c = 1; c < cfg::kCols; ++c) m = x[r * cfg::kCols + c] > m ? x[r * cfg::kCols + c] : m;
				        y[r] = m;
				    }
				}
				""";
		String out = verified("row_max.cpp", cpp, Dialect.CUDA).output().orElseThrow();
		assertTrue(out.contains("r < kRows;") && !out.contains("namespace"), out);
	}

	@Test
	public void hipsOlderIndexNamesAndKernelNameMacroTranslate() {
		String hip = """
				#include <hip/hip_runtime.h>
				__global__ void scale(const float* x, float* y) {
				    int i = hipBlockIdx_x * hipBlockDim_x + hipThreadIdx_x;
				    y[i] = 2.0f * x[i];
				}
				extern "C" void scale_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    hipMalloc(&dx, 1024 * sizeof(float));
				    hipMalloc(&dy, 1024 * sizeof(float));
				    hipMemcpy(dx, x, 1024 * sizeof(float), hipMemcpyHostToDevice);
				    hipLaunchKernelGGL(HIP_KERNEL_NAME(scale), dim3(4), dim3(256), 0, 0, dx, dy);
				    hipMemcpy(y, dy, 1024 * sizeof(float), hipMemcpyDeviceToHost);
				    hipFree(dx); hipFree(dy);
				}
				""";
		for (Dialect to : new Dialect[] { Dialect.CUDA, Dialect.VNNI }) {
			String out = verified("scale.hip", hip, to).output().orElseThrow();
			assertFalse(out.contains("hipBlockIdx_x") || out.contains("HIP_KERNEL_NAME"), out);
		}
	}

	@Test
	public void standardAlgorithmsOfACppSourceBecomeLoops() {
		String cpp = """
				#include <algorithm>
				#include <numeric>
				extern "C" void row_stats_kernel(const float* x, float* y) {
				    for (int row = 0; row < 16; ++row) {
				        float w[64];
				        std::copy(x + row * 64, x + row * 64 + 64, w);
				        std::fill_n(w, 8, 0.0f);
				        y[row * 3] = std::accumulate(w, w + 64, 0.0f);
				        y[row * 3 + 1] = std::inner_product(w, w + 64, x + row * 64, 0.0f);
				        y[row * 3 + 2] = *std::max_element(w, w + 64);
				    }
				}
				""";
		for (Dialect to : new Dialect[] { Dialect.CUDA, Dialect.BANG }) {
			Translator.Result result = verified("row_stats.cpp", cpp, to);
			assertFalse(result.output().orElseThrow().contains("std::"), result.output().orElseThrow());
			assertTrue(lifted(result, "detensorize").contains("auto sum = 0.0f;"), lifted(result, "detensorize"));
		}
		String statement = cpp.replace("y[row * 3 + 2] = *std::max_element(w, w + 64);",
				"y[row * 3 + 2] = row > 0 ? *std::max_element(w, w + 64) : 0.0f;");
		RunRecord record = translate("row_stats.cpp", statement, Dialect.CUDA).record();
		assertFalse(record.verified());
		assertTrue(record.reason().contains("line 10: std::max_element expands to a loop only as a statement of its own or "
				+ "a value its statement reads once, unconditionally"), record.reason());
	}

	@Test
	public void stdArraysOfACppSourceBecomePlainArrays() {
		String cpp = """
				#include <array>
				#include <algorithm>
				constexpr int KS = 3;
				extern "C" void maxpool_kernel(const float* x, float* y) {
				    for (int o = 0; o < 62; ++o) {
				        std::array<float, KS * KS> win;
				        win.fill(0.0f);
				        for (int k = 0; k < KS; ++k) win[k] = x[o + k];
				        y[o] = *std::max_element(win.begin(), win.end()) + win.size();
				    }
				}
				""";
		for (Dialect to : new Dialect[] { Dialect.CUDA, Dialect.BANG }) {
			Translator.Result result = verified("maxpool.cpp", cpp, to);
			assertTrue(lifted(result, "detensorize").contains("float win[KS * KS];"), lifted(result, "detensorize"));
			assertFalse(result.output().orElseThrow().contains("std::"), result.output().orElseThrow());
		}
	}

	@Test
	public void aConstantNamedAsATemplateArgumentIsReadAsItsValue() {
		String cpp = """
				#include <array>
				constexpr int KS = 4;
				extern "C" void rows_kernel(const float* x, float* y) {
				    for (int r = 0; r < 8; ++r) {
				        std::array<float, KS> w;
				        for (int i = 0; i < KS; ++i) w[i] = x[r * KS + i];
				        y[r] = w[0] + w[KS - 1] + w.size();
				    }
				}
				""";
		Translator.Result result = verified("rows.cpp", cpp, Dialect.CUDA);
		assertTrue(lifted(result, "detensorize").contains("float w[KS];"), lifted(result, "detensorize"));
		String cuda = """
				#define BLOCK 128
				template <int N>
				__global__ void fill(float* y) { y[blockIdx.x * N + threadIdx.x] = N; }
				extern "C" void fill_kernel(float* y) {
				    float* d;
				    cudaMalloc(&d, 2 * BLOCK * sizeof(float));
				    fill<BLOCK><<<2, BLOCK>>>(d);
				    cudaMemcpy(y, d, 2 * BLOCK * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(d);
				}
				""";
		verified("fill.cu", cuda, Dialect.VNNI);
	}

	@Test
	public void numericLimitsOfACppSourceBecomeLiteralsOnDevices() {
		String cpp = """
				#include <limits>
				extern "C" void row_range_kernel(const float* x, float* y) {
				    for (int row = 0; row < 16; ++row) {
				        float hi = -std::numeric_limits<float>::infinity();
				        float lo = std::numeric_limits<float>::max();
				        for (int i = 0; i < 64; ++i) {
				            hi = x[row * 64 + i] > hi ? x[row * 64 + i] : hi;
				            lo = x[row * 64 + i] < lo ? x[row * 64 + i] : lo;
				        }
				        y[row] = hi - lo;
				    }
				}
				""";
		for (Dialect to : new Dialect[] { Dialect.CUDA, Dialect.BANG }) {
			String out = verified("row_range.cpp", cpp, to).output().orElseThrow();
			assertTrue(out.contains("= -INFINITY;") && out.contains("= 3.40282347e+38f;") && !out.contains("numeric_limits"),
					out);
		}
	}

	@Test
	public void aStructStateMergedAcrossTheWarpWithShufflesTranslates() {
		String cuda = """
				struct Moments { float sum; float count; };
				__device__ Moments merge(const Moments& a, const Moments& b) {
				    Moments out;
				    out.sum = a.sum + b.sum;
				    out.count = a.count + b.count;
				    return out;
				}
				__global__ void row_mean(const float* x, float* y) {
				    Moments m = {x[blockIdx.x * 32 + threadIdx.x], 1.0f};
				    for (int off = 16; off > 0; off /= 2) {
				        Moments other;
				        other.sum = __shfl_down_sync(0xffffffff, m.sum, off);
				        other.count = __shfl_down_sync(0xffffffff, m.count, off);
				        m = merge(m, other);
				    }
				    if (threadIdx.x == 0) y[blockIdx.x] = m.sum / m.count;
				}
				extern "C" void row_mean_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, 8 * 32 * sizeof(float));
				    cudaMalloc(&dy, 8 * sizeof(float));
				    cudaMemcpy(dx, x, 8 * 32 * sizeof(float), cudaMemcpyHostToDevice);
				    row_mean<<<8, 32>>>(dx, dy);
				    cudaMemcpy(y, dy, 8 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		for (Dialect to : new Dialect[] { Dialect.HIP, Dialect.BANG, Dialect.VNNI }) {
			String out = verified("row_mean.cu", cuda, to).output().orElseThrow();
			assertTrue(out.contains("struct Moments {\n    float sum;\n    float count;\n};"), out);
		}
	}

	@Test
	public void constantMemoryFilledWithMemcpyToSymbolIsReadFromTheBufferItWasFilledFrom() {
		String hip = """
				#include <hip/hip_runtime.h>
				#define K 3
				__constant__ float c_k[K][K];
				__global__ void blur(const float* x, float* y) {
				    int i = blockIdx.x * blockDim.x + threadIdx.x;
				    int r = i / 32, c = i % 32;
				    float acc = 0.0f;
				    for (int a = 0; a < K; ++a)
				        for (int b = 0; b < K; ++b)
				            acc += c_k[a][b] * x[min(max(r + a - 1, 0), 31) * 32 + min(max(c + b - 1, 0), 31)];
				    y[i] = acc;
				}
				extern "C" void blur_kernel(const float* x, const float* k, float* y) {
				    float *dx, *dy;
				    hipMalloc(&dx, 1024 * sizeof(float));
				    hipMalloc(&dy, 1024 * sizeof(float));
				    hipMemcpy(dx, x, 1024 * sizeof(float), hipMemcpyHostToDevice);
				    hipMemcpyToSymbol(HIP_SYMBOL(c_k), k, sizeof(float) * K * K, 0, hipMemcpyHostToDevice);
				    hipLaunchKernelGGL(blur, dim3(8), dim3(128), 0, 0, dx, dy);
				    hipMemcpy(y, dy, 1024 * sizeof(float), hipMemcpyDeviceToHost);
				    hipFree(dx); hipFree(dy);
				}
				""";
		String cuda = verified("blur.hip", hip, Dialect.CUDA).output().orElseThrow();
		assertTrue(cuda.contains("__constant__ float c_k[K][K];") && cuda.contains("cudaMemcpyToSymbol(c_k, k, "), cuda);
		for (Dialect to : new Dialect[] { Dialect.BANG, Dialect.VNNI }) {
			Translator.Result result = verified("blur.hip", hip, to);
			assertTrue(lifted(result).contains("const float *c_k = k;"), lifted(result));
			assertTrue(lifted(result).contains("c_k[((a) * (K) + (b))]"), lifted(result));
			assertFalse(result.output().orElseThrow().contains("MemcpyToSymbol"), result.output().orElseThrow());
		}
	}

	@Test
	public void constantMemoryFilledAtAnOffsetIsRefusedAtTheCopy() {
		String cuda = """
				__constant__ float c_s[64];
				__global__ void k(const float* x, float* y) { y[threadIdx.x] = x[threadIdx.x] * c_s[32 + threadIdx.x % 32]; }
				extern "C" void k_kernel(const float* x, const float* s, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, 256); cudaMalloc(&dy, 256);
				    cudaMemcpy(dx, x, 256, cudaMemcpyHostToDevice);
				    cudaMemcpyToSymbol(c_s, s, 128, 128);
				    k<<<1, 64>>>(dx, dy);
				    cudaMemcpy(y, dy, 256, cudaMemcpyDeviceToHost);
				}
				""";
		RunRecord record = translate("k.cu", cuda, Dialect.VNNI).record();
		assertFalse(record.verified());
		assertTrue(record.reason().contains("line 7: cudaMemcpyToSymbol copies to an offset inside c_s"), record.reason());
	}

	@Test
	public void aWarpSynchronousReductionWithSyncwarpCalledUnderAnUnbracedIfIsLifted() {
		String cuda = """
				__device__ void warpReduce(float* s, unsigned int tid) {
				    float v = s[tid];
				    for (int off = 32; off > 0; off >>= 1) {
				        v += s[tid + off];
				        __syncwarp();
				        s[tid] = v;
				        __syncwarp();
				    }
				}
				__global__ void reduce(const float* x, float* y) {
				    __shared__ float s[128];
				    unsigned int tid = threadIdx.x;
				    s[tid] = x[blockIdx.x * 128 + tid];
				    __syncthreads();
				    if (tid < 64) s[tid] += s[tid + 64];
				    __syncthreads();
				    if (tid < 32) warpReduce(s, tid);
				    if (tid == 0) y[blockIdx.x] = s[0];
				}
				extern "C" void reduce_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, 1024 * sizeof(float));
				    cudaMalloc(&dy, 8 * sizeof(float));
				    cudaMemcpy(dx, x, 1024 * sizeof(float), cudaMemcpyHostToDevice);
				    reduce<<<8, 128>>>(dx, dy);
				    cudaMemcpy(y, dy, 8 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		for (Dialect to : new Dialect[] { Dialect.BANG, Dialect.VNNI }) {
			verified("reduce.cu", cuda, to);
		}
	}

	@Test
	public void aLargeNramScratchSizedByAMacroBecomesOneDeviceSlicePerTaskOnGpus() {
		// mlu-ops style: one NRAM buffer sized by a macro expression; per GPU thread 256 KiB could not be
		// reserved for every resident thread, and the launch would fail on the hardware
		String bang = """
				#define MAX_NRAM_SIZE (256 * 1024)
				__nram__ char nram_buffer[MAX_NRAM_SIZE];
				__mlu_global__ void scale(const float* x, float* y) {
				    float* nram_x = (float*)nram_buffer;
				    int per_task = 4096 / taskDim;
				    __memcpy(nram_x, x + taskId * per_task, per_task * sizeof(float), GDRAM2NRAM);
				    __bang_mul_scalar(nram_x, nram_x, 2.0f, per_task);
				    __memcpy(y + taskId * per_task, nram_x, per_task * sizeof(float), NRAM2GDRAM);
				}
				""";
		for (Dialect to : new Dialect[] { Dialect.CUDA, Dialect.HIP }) {
			String out = verified("scale.mlu", bang, to).output().orElseThrow();
			assertTrue(out.matches("(?s).*__device__ char \\w+_nram_buffer\\[16\\]\\[MAX_NRAM_SIZE\\];.*"), out);
			assertFalse(out.contains("    char nram_buffer["), out);
		}
	}

	@Test
	public void aXorShuffleIntoALaterGroupReadsTheThreadsOwnValue() {
		// width 32 and mask 32: the first 32 lanes would read the later group, so they keep their value
		Translator.Result result = verified("rowsum.hip", hipRowSum("#define WAVE 64\n", "WAVE / 2"), Dialect.VNNI);
		assertTrue(lifted(result).contains("((threadIdx_x % 64) ^ (m)) < ((threadIdx_x % 64) / 32 + 1) * 32 && "),
				lifted(result));
	}

	@Test
	public void aShuffleWidthNamedByTwoDifferentConstantsIsRefusedAtItsLine() {
		String hip = hipRowSum("", "w").replace("float v = x[blockIdx.x * 64 + threadIdx.x];",
				"float v = x[blockIdx.x * 64 + threadIdx.x];\n    { const int w = 32; v += __shfl_xor(v, 1, w); }")
				.replace("for (int m = 32;", "const int w = 64;\n    for (int m = 32;");
		RunRecord record = translate("rowsum.hip", hip, Dialect.VNNI).record();
		assertFalse(record.verified());
		assertTrue(record.reason().contains("line 3: the shuffle width must be a constant"), record.reason());
	}

	// ------------------------------------------------------------------ allocations

	@Test
	public void anAllocationThroughReinterpretCastIsLifted() {
		String cuda = scale("""
				    cudaMalloc(reinterpret_cast<void**>(&dx), 1024 * sizeof(float));
				    cudaMalloc(static_cast<void**>((void*)&dy), 1024 * sizeof(float));
				""", "");
		Translator.Result result = verified("scale.cu", cuda, Dialect.VNNI);
		assertFalse(lifted(result).contains("cudaMalloc"), lifted(result));
		verified("scale.cu", cuda, Dialect.BANG);
	}

	@Test
	public void anAllocationIntoAnUnnamedPlaceIsRefusedWithWhatWasWritten() {
		String cuda = scale("""
				    void** slot = (void**)&dx;
				    cudaMalloc(slot, 1024 * sizeof(float));
				    cudaMalloc(&dy, 1024 * sizeof(float));
				""", "");
		RunRecord record = translate("scale.cu", cuda, Dialect.VNNI).record();
		assertFalse(record.verified());
		assertTrue(record.reason().contains("line 8: cudaMalloc must be given the address of a named pointer "
				+ "(&buffer); slot is not one"), record.reason());
	}

	// ------------------------------------------------------------------ math and loads

	@Test
	public void aReadOnlyCacheLoadBecomesAPlainLoad() {
		String cuda = SCALE.replace("x[i] * 2.0f", "__ldg(&x[i]) * 2.0f") + SCALE_WRAPPER.formatted(PLAIN_ALLOCATION, "");
		Translator.Result result = verified("scale.cu", cuda, Dialect.VNNI);
		assertTrue(lifted(result).contains("(*(&x[i])) * 2.0f"), lifted(result));
		verified("scale.cu", cuda, Dialect.BANG);
	}

	@Test
	public void cudaFloatIntrinsicsRunAndBecomePortableMath() {
		String cuda = SCALE.replace("x[i] * 2.0f",
				"__fmaf_rn(x[i], 2.0f, 1.0f) + __fdividef(1.0f, 1.0f + __expf(-x[i])) * __saturatef(x[i])")
				+ SCALE_WRAPPER.formatted(PLAIN_ALLOCATION, "");
		Translator.Result result = verified("scale.cu", cuda, Dialect.VNNI);
		String cpp = lifted(result);
		assertFalse(cpp.contains("__fdividef") || cpp.contains("__saturatef") || cpp.contains("__fmaf_rn"), cpp);
		assertTrue(cpp.contains("fminf(fmaxf(x[i], 0.0f), 1.0f)"), cpp);
		verified("scale.cu", cuda, Dialect.BANG);
	}

	// ------------------------------------------------------------------ the runtime's status

	@Test
	public void statusReadsOfTheRuntimeAreSuccessInSequentialCode() {
		String cuda = scale("""
				    cudaError_t status = cudaMalloc(&dx, 1024 * sizeof(float));
				    if (status != cudaSuccess) return;
				    if (cudaMalloc(&dy, 1024 * sizeof(float)) != cudaSuccess) return;
				""", """
				    cudaError_t err = cudaGetLastError();
				    if (err != cudaSuccess) {
				        return;
				    }
				    if (cudaDeviceSynchronize() != cudaSuccess) return;
				""");
		Translator.Result result = verified("scale.cu", cuda, Dialect.VNNI);
		String cpp = lifted(result);
		// the branches on a status, which is success, are gone with the status variables
		assertFalse(cpp.contains("if (") || cpp.contains("err") || cpp.contains("status") || cpp.contains("cuda"), cpp);
		verified("scale.cu", cuda, Dialect.BANG);
		verified("scale.hip", cuda.replace("cuda", "hip"), Dialect.VNNI);
	}

	@Test
	public void anErrorCheckingMacroAroundRuntimeCallsIsExpanded() {
		String cuda = "#define CHECK(call) do { cudaError_t e = (call); if (e != cudaSuccess) { return; } } while (0)\n"
				+ SCALE + SCALE_WRAPPER.formatted("""
						    CHECK(cudaMalloc(&dx, 1024 * sizeof(float)));
						    CHECK(cudaMalloc(&dy, 1024 * sizeof(float)));
						""", "    CHECK(cudaGetLastError());\n").replace("cudaMemcpy(", "CHECK(cudaMemcpy(")
						.replace("DeviceToHost);", "DeviceToHost));").replace("HostToDevice);", "HostToDevice));");
		Translator.Result result = verified("scale.cu", cuda, Dialect.VNNI);
		String cpp = lifted(result);
		assertFalse(cpp.contains("CHECK") || cpp.contains("cuda") || cpp.contains("do {"), cpp);
		verified("scale.cu", cuda, Dialect.BANG);
	}

	@Test
	public void errorPathsThatPrintTheRuntimesDescriptionAndExitAreDeadInSequentialCode() {
		String cuda = "#include <cstdio>\n#include <cstdlib>\n"
				+ "#define CUDA_CHECK(call) do { cudaError_t e = (call); if (e != cudaSuccess) { fprintf(stderr, "
				+ "\"%s at %s:%d\\n\", cudaGetErrorString(e), __FILE__, __LINE__); exit(1); } } while (0)\n"
				+ scale("""
						    CUDA_CHECK(cudaMalloc(&dx, 1024 * sizeof(float)));
						    CUDA_CHECK(cudaMalloc(&dy, 1024 * sizeof(float)));
						""", """
						    cudaError_t err = cudaGetLastError();
						    if (err != cudaSuccess) {
						        printf("launch failed: %s\\n", cudaGetErrorString(err));
						        abort();
						    }
						""");
		String cpp = lifted(verified("scale.cu", cuda, Dialect.VNNI));
		assertFalse(cpp.contains("GetErrorString") || cpp.contains("printf") || cpp.contains("abort") || cpp.contains("do {"),
				cpp);
		verified("scale.cu", cuda, Dialect.BANG);
		// mapped to HIP, the macro's body speaks HIP's runtime too
		String hip = verified("scale.cu", cuda, Dialect.HIP).output().orElseThrow();
		assertTrue(hip.contains("hipError_t e = (call); if (e != hipSuccess)") && hip.contains("hipGetErrorString(e)"), hip);
	}

	@Test
	public void aRuntimeCallWhoseStatusALoopReadsIsRefusedAtItsLine() {
		String cuda = scale("""
				    while (cudaMalloc(&dx, 1024 * sizeof(float)) != cudaSuccess) {
				    }
				    cudaMalloc(&dy, 1024 * sizeof(float));
				""", "");
		RunRecord record = translate("scale.cu", cuda, Dialect.VNNI).record();
		assertFalse(record.verified());
		assertTrue(record.reason().contains("line 7: cudaMalloc is used as a value where it cannot move to a statement"),
				record.reason());
	}

	// ------------------------------------------------------------------ vector structs

	@Test
	public void cudaVectorStructsAreDefinedWhereTheTargetLacksThem() {
		String cuda = """
				__global__ void pack(const float* x, float4* y) {
				    int i = threadIdx.x;
				    float4 v = reinterpret_cast<const float4*>(x)[i];
				    y[i] = make_float4(v.w, v.z, v.y, v.x * 2.0f);
				}
				extern "C" void pack_kernel(const float* x, float* y) {
				    float *dx; float4 *dy;
				    cudaMalloc(&dx, 256 * sizeof(float)); cudaMalloc(&dy, 64 * sizeof(float4));
				    cudaMemcpy(dx, x, 256 * sizeof(float), cudaMemcpyHostToDevice);
				    pack<<<1, 64>>>(dx, dy);
				    cudaMemcpy(y, dy, 64 * sizeof(float4), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		String cpp = verified("pack.cu", cuda, Dialect.VNNI).output().orElseThrow();
		assertTrue(cpp.contains("struct float4 {\n    float x;\n    float y;\n    float z;\n    float w;\n};"), cpp);
		assertTrue(cpp.contains("float4 make_float4(float x, float y, float z, float w) {"), cpp);
		// the host buffer y is a float array; the kernel writes it as float4
		assertTrue(cpp.contains("float4 *y_arg = (float4 *)y;"), cpp);
		String bang = verified("pack.cu", cuda, Dialect.BANG).output().orElseThrow();
		assertTrue(bang.contains("__mlu_func__ float4 make_float4("), bang);
		// CUDA declares them: the definitions go again when the C++ is bound to CUDA
		String back = verified("pack.cpp", cpp, Dialect.CUDA).output().orElseThrow();
		assertFalse(back.contains("struct float4"), back);
		assertFalse(back.contains("make_float4(float x"), back);
	}
}
