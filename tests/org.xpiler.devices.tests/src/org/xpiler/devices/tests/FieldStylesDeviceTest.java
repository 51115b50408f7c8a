package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xpiler.devices.tests.FloatBuffers.floats;
import static org.xpiler.devices.tests.FloatBuffers.floatsOf;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.xpiler.core.vm.Argument;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelRuns;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.RunResult;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.dialect.Dialect;

/**
 * The virtual device runs kernels written in styles other than the corpus's: array sizes from constants,
 * CUDA's float intrinsics with their documented results, error-checking statement macros, and xor shuffles
 * that reach an earlier group of lanes.
 */
public class FieldStylesDeviceTest {
	private final VirtualDevice device = new VirtualDevice();

	private static KernelSource source(String name, String text) {
		return new KernelSource(Path.of(name), Dialect.fromFile(Path.of(name)).orElseThrow(), text);
	}

	/** Runs the file's entry on seeded inputs. */
	private KernelRuns.Report run(String name, String text) {
		return new KernelRuns().run(device, source(name, text), Map.of(), 1, RunRequest.of(List.of()));
	}

	private RunResult launch(KernelSource kernel, int threads, Argument.Buffer... buffers) {
		return device.run(kernel, new RunRequest(Optional.empty(), List.of(buffers), new int[] { 1, 1, 1 },
				new int[] { threads, 1, 1 }, 0, Duration.ofSeconds(10)));
	}

	@Test
	public void localAndFileConstantsSizeArrays() {
		KernelRuns.Report report = new KernelRuns().run(device, source("quarter.cpp", """
				constexpr int K = 64;
				extern "C" void quarter_kernel(const float* x, float* y) {
				    const int parts = 4;
				    float buf[K / parts];
				    for (int i = 0; i < K / parts; ++i) buf[i] = x[i] * 2.0f;
				    for (int i = 0; i < K / parts; ++i) y[i] = buf[i];
				}
				"""), Map.of(), 1, RunRequest.of(List.of()));
		float[] x = floatsOf(report.buffers().get(0).buffer());
		float[] y = floatsOf(report.buffers().get(1).buffer());
		assertEquals(16, y.length);
		for (int i = 0; i < 16; i++) {
			assertEquals(x[i] * 2, y[i]);
		}
	}

	/** The last warp of a block reduction, exchanging through shared memory between __syncwarp() calls. */
	private static String warpSynchronousSum(String barrier) {
		return """
				__global__ void sum(const float* x, float* y) {
				    __shared__ float s[64];
				    unsigned int tid = threadIdx.x;
				    s[tid] = x[tid];
				    __syncthreads();
				    if (tid < 32) {
				        float v = s[tid] + s[tid + 32];
				        %1$s
				        s[tid] = v;
				        %1$s
				        for (int off = 16; off > 0; off >>= 1) {
				            v += s[tid + off];
				            %1$s
				            s[tid] = v;
				            %1$s
				        }
				    }
				    if (tid == 0) y[0] = s[0];
				}
				""".formatted(barrier);
	}

	@Test
	public void syncwarpOrdersTheLanesOfAWarpAndItsAbsenceIsARace() {
		float[] x = new float[64];
		float expected = 0;
		for (int i = 0; i < 64; i++) {
			x[i] = i * 0.5f;
			expected += x[i];
		}
		RunResult result = launch(source("sum.cu", warpSynchronousSum("__syncwarp();")), 64, floats("x", x),
				floats("y", new float[1]));
		assertEquals(expected, floatsOf(result.buffers().get(1))[0]);

		DeviceException race = assertThrows(DeviceException.class, () -> launch(source("sum.cu",
				warpSynchronousSum("")), 64, floats("x", x), floats("y", new float[1])));
		assertTrue(race.getMessage().contains("data race") && race.getMessage().contains("with no __syncwarp() (or "
				+ "__syncthreads()) between them: the threads of a warp do not run in lockstep"), race.getMessage());
	}

	@Test
	public void aTemplateKernelRunsWithTheArgumentsOfItsLaunch() {
		KernelRuns.Report report = new KernelRuns().run(device, source("reverse.cu", """
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
				    reverse<64, float><<<4, 64>>>(dx, dy);
				    cudaMemcpy(y, dy, 256 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				"""), Map.of(), 1, RunRequest.of(List.of()));
		float[] x = floatsOf(report.buffers().get(0).buffer());
		float[] y = floatsOf(report.buffers().get(1).buffer());
		for (int i = 0; i < 256; i++) {
			assertEquals(x[i / 64 * 64 + 63 - i % 64] * 3, y[i], "y[" + i + "]");
		}
	}

	@Test
	public void anErrorPathPrintsNothingAndAnExitThatRunsEndsTheRunAtItsLine() {
		KernelSource kernel = source("halve.cpp", """
				#include <cstdio>
				#include <cstdlib>
				extern "C" void halve_kernel(const float* x, float* y) {
				    for (int i = 0; i < 8; ++i) {
				        if (x[i] != x[i]) { fprintf(stderr, "NaN at %d\\n", i); exit(1); }
				        y[i] = x[i] / 2.0f;
				    }
				    if (y[0] == y[0]) {
				        exit(3);
				    }
				}
				""");
		DeviceException e = assertThrows(DeviceException.class,
				() -> new KernelRuns().run(device, kernel, Map.of(), 1, RunRequest.of(List.of())));
		Diagnostic d = e.diagnostics().get(0);
		assertEquals(9, d.line(), d.format());
		assertTrue(d.message().contains("the program called exit()"), d.format());
	}

	@Test
	public void autoVariablesTakeTheTypeTheirInitializerGivesAndStdSizeTIsSizeT() {
		KernelRuns.Report report = new KernelRuns().run(device, source("autos.cpp", """
				extern "C" void autos_kernel(const float* x, float* y) {
				    constexpr auto N = 16;
				    float local[N];
				    for (auto i = 0; i < N; ++i) {
				        const auto& v = x[i];
				        auto* out = local + i;
				        auto halved = v / 2;
				        *out = halved;
				    }
				    auto wraps = 0u - 1u;
				    for (std::size_t i = 0; i < N; ++i) y[i] = local[i] + (wraps > 0 ? 1.0f : 0.0f);
				}
				"""), Map.of(), 1, RunRequest.of(List.of()));
		float[] x = floatsOf(report.buffers().get(0).buffer());
		float[] y = floatsOf(report.buffers().get(1).buffer());
		for (int i = 0; i < 16; i++) {
			// v / 2 is a float division (auto v is a float), and 0u - 1u is unsigned, so positive
			assertEquals(x[i] / 2 + 1, y[i], "y[" + i + "]");
		}
		DeviceException e = assertThrows(DeviceException.class, () -> new KernelRuns().run(device, source("bare.cpp", """
				extern "C" void bare_kernel(const float* x, float* y) {
				    auto v;
				    y[0] = x[0];
				}
				"""), Map.of(), 1, RunRequest.of(List.of())));
		assertTrue(e.diagnostics().get(0).format().contains("bare.cpp:2:10: error: 'auto' v needs an initializer"),
				e.diagnostics().get(0).format());
	}

	@Test
	public void aStructWithPaddingPassesByValueAndItsPaddingIsNoUninitializedRead() {
		// 8 + 8 + 4 bytes of fields, 24 with the padding that nothing writes
		String cuda = """
				struct Params { const float* x; float* y; float a; };
				__global__ void scale(Params p) { int i = threadIdx.x; p.y[i] = p.a * p.x[i]; }
				extern "C" void scale_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    cudaMalloc(&dx, 64 * 4);
				    cudaMalloc(&dy, 64 * 4);
				    cudaMemcpy(dx, x, 64 * 4, cudaMemcpyHostToDevice);
				    Params p;
				    p.x = dx; p.y = dy; p.a = 2.0f;
				    scale<<<1, 64>>>(p);
				    cudaMemcpy(y, dy, 64 * 4, cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				""";
		KernelRuns.Report report = run("scale.cu", cuda);
		float[] x = floatsOf(report.buffers().get(0).buffer());
		float[] y = floatsOf(report.buffers().get(1).buffer());
		for (int i = 0; i < 64; i++) {
			assertEquals(2.0f * x[i], y[i]);
		}
		// a field nobody wrote is still an uninitialized read where it is used
		DeviceException unset = assertThrows(DeviceException.class,
				() -> run("scale.cu", cuda.replace(" p.a = 2.0f;", "")));
		assertTrue(unset.getMessage().contains("read of uninitialized memory: byte offset 16 of 'p'"), unset.getMessage());
	}

	@Test
	public void aStructTemplateIsLaidOutPerInstance() {
		// Block<double, 3> holds 3 doubles then an int: 32 bytes; Block<float, 2> 2 floats and an int: 12
		KernelRuns.Report report = run("blocks.cpp", """
				template <typename T, int N = 2>
				struct Block { T v[N]; int count; };
				extern "C" void blocks_kernel(float* y) {
				    Block<double, 3> wide;
				    Block<float> narrow;
				    for (int i = 0; i < 3; ++i) wide.v[i] = 0.5 * i;
				    narrow.v[0] = 1.5f; narrow.v[1] = 2.5f;
				    wide.count = 3; narrow.count = 2;
				    y[0] = (float)sizeof(wide);
				    y[1] = (float)sizeof(narrow);
				    y[2] = (float)(wide.v[2] + narrow.v[1] + wide.count + narrow.count);
				}
				""");
		float[] y = floatsOf(report.buffers().get(0).buffer());
		assertEquals(32.0f, y[0]);
		assertEquals(12.0f, y[1]);
		assertEquals(1.0f + 2.5f + 3 + 2, y[2]);
	}

	@Test
	public void aStructsDeclaredAlignmentRoundsItsSizeUp() {
		KernelRuns.Report report = run("aligned.cu", """
				struct __align__(16) Triple { float a, b, c; };
				struct __attribute__((aligned(8))) Single { float a; };
				struct Plain { float a, b, c; };
				extern "C" void aligned_kernel(float* y) {
				    Triple t[2];
				    y[0] = (float)sizeof(t);
				    y[1] = (float)sizeof(Single);
				    y[2] = (float)sizeof(Plain);
				}
				""");
		float[] y = floatsOf(report.buffers().get(0).buffer());
		assertEquals(List.of(32.0f, 8.0f, 12.0f), List.of(y[0], y[1], y[2]));
	}

	@Test
	public void aCallRunsTheExplicitSpecializationForItsArgumentType() {
		KernelRuns.Report report = run("widen.cpp", """
				template <typename T> float widen(T v) { return (float)v * 2.0f; }
				template <> float widen<int>(int v) { return (float)v + 100.0f; }
				template <> float widen<double>(double v) { return (float)v - 100.0f; }
				extern "C" void widen_kernel(float* y) {
				    y[0] = widen(1.0f);
				    y[1] = widen(1);
				    y[2] = widen(1.0);
				    y[3] = widen<int>(5);
				    y[4] = widen<float>(5);
				}
				""");
		float[] y = floatsOf(report.buffers().get(0).buffer());
		assertEquals(List.of(2.0f, 101.0f, -99.0f, 105.0f, 10.0f), List.of(y[0], y[1], y[2], y[3], y[4]));
	}

	@Test
	public void scalarsNotGivenAreAssumedDistinctSizesAndReals() {
		KernelSource norm = source("norm.cpp", """
				struct Shape { int rows; };
				extern "C" void norm_kernel(const float* x, float* y, int rows, bool relu, int cols, float eps, double beta, Shape s) {
				    for (int i = 0; i < rows * cols; ++i) y[i] = x[i] * (float)beta + eps;
				}
				""");
		KernelRuns runs = new KernelRuns();
		RunRequest request = RunRequest.of(List.of());
		assertEquals(List.of("rows=100", "relu=1", "cols=120", "eps=0.5", "beta=1.25"), entries(runs.assumedScalars(norm, Map.of(),
				request)));
		// one size given: the other is the size of a one-dimensional kernel
		assertEquals(List.of("relu=1", "cols=1000", "eps=0.5", "beta=1.25"), entries(runs.assumedScalars(norm, Map.of("rows", "3"),
				request)));
		// a kernel that runs with them
		KernelSource scale = source("scale.cpp", """
				extern "C" void scale_kernel(const float* x, float* y, float a, int n) {
				    for (int i = 0; i < n; ++i) y[i] = a * x[i];
				}
				""");
		KernelRuns.Report report = runs.run(device, scale, runs.assumedScalars(scale, Map.of(), request), 1, request);
		float[] x = floatsOf(report.buffers().get(0).buffer());
		float[] y = floatsOf(report.buffers().get(1).buffer());
		assertEquals(1000, y.length);
		assertEquals(0.5f * x[999], y[999]);
	}

	private static List<String> entries(Map<String, String> scalars) {
		return scalars.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
	}

	@Test
	public void aRaceInsideAnIntrinsicNamesItsReferenceNotALineOfTheKernel() {
		// every task copies its result over the same GDRAM: the earlier write happened in __memcpy's reference
		DeviceException e = assertThrows(DeviceException.class, () -> new KernelRuns().run(device, source("all.mlu", """
				__nram__ float buf[64];
				__mlu_global__ void all(const float* x, float* y) {
				    __memcpy(buf, x, 64 * sizeof(float), GDRAM2NRAM);
				    __memcpy(y, buf, 64 * sizeof(float), NRAM2GDRAM);
				}
				"""), Map.of(), 1, RunRequest.of(List.of())));
		String message = e.diagnostics().get(0).format();
		assertTrue(message.startsWith("all.mlu:4:5: error: __memcpy: data race"), message);
		assertTrue(message.contains("task 0 wrote it at __memcpy_reference:"), message);
	}

	@Test
	public void nestedBraceInitializersNullAndFloatLimitsRunAsInC() {
		KernelRuns.Report report = new KernelRuns().run(device, source("tiles.cu", """
				#include <cfloat>
				__global__ void tiles(const float* x, float* y) {
				    float acc[2][3] = {{0.0f}};
				    float elided[2][2] = {1.0f, 2.0f, 3.0f};
				    float lowest = FLT_MAX;
				    for (int i = 0; i < 2; ++i)
				        for (int j = 0; j < 3; ++j) {
				            acc[i][j] += x[threadIdx.x * 6 + i * 3 + j];
				            lowest = fminf(lowest, acc[i][j]);
				        }
				    y[threadIdx.x] = acc[1][2] + elided[1][0] + elided[1][1] + lowest * 0.0f;
				}
				extern "C" void tiles_kernel(const float* x, float* y) {
				    float* dx = NULL;
				    float* dy = NULL;
				    cudaMalloc(&dx, 24 * sizeof(float));
				    cudaMalloc(&dy, 4 * sizeof(float));
				    cudaMemcpy(dx, x, 24 * sizeof(float), cudaMemcpyHostToDevice);
				    tiles<<<1, 4>>>(dx, dy);
				    cudaMemcpy(y, dy, 4 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dy);
				}
				"""), Map.of(), 1, RunRequest.of(List.of()));
		float[] x = floatsOf(report.buffers().get(0).buffer());
		float[] y = floatsOf(report.buffers().get(1).buffer());
		for (int t = 0; t < 4; t++) {
			// elided[1] is {3, 0}: the values fill the rows in order, the rest is zero
			assertEquals(x[t * 6 + 5] + 3.0f, y[t], "y[" + t + "]");
		}
	}

	@Test
	public void aStandardAlgorithmTheDeviceDoesNotModelIsAnErrorAtItsCall() {
		DeviceException e = assertThrows(DeviceException.class, () -> new KernelRuns().run(device, source("sort.cpp", """
				#include <algorithm>
				extern "C" void sort_kernel(const float* x, float* y) {
				    std::copy(x, x + 16, y);
				    std::sort(y, y + 16);
				}
				"""), Map.of(), 1, RunRequest.of(List.of())));
		assertTrue(e.diagnostics().get(0).format().contains("sort.cpp:4:5: error: the function 'std::sort' is not known"),
				e.diagnostics().get(0).format());
	}

	@Test
	public void aTemplateHelperThatShufflesRunsInStepWithTheWarp() {
		for (String arguments : new String[] { "<float>", "" }) {
			KernelRuns.Report report = new KernelRuns().run(device, source("row_sum.cu", """
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
				""".formatted(arguments)), Map.of(), 1, RunRequest.of(List.of()));
			float[] x = floatsOf(report.buffers().get(0).buffer());
			float[] y = floatsOf(report.buffers().get(1).buffer());
			for (int r = 0; r < 4; r++) {
				float sum = 0;
				for (int t = 0; t < 32; t++) {
					sum += x[r * 32 + t];
				}
				assertEquals(sum, y[r], 1e-4f * Math.max(1, Math.abs(sum)), "y[" + r + "] with warpSum" + arguments);
			}
		}
	}

	@Test
	public void maskedAndNegatedAvx512ArithmeticRunsLaneByLane() {
		KernelRuns.Report report = new KernelRuns().run(device, source("masked.cpp", """
				#include <immintrin.h>
				extern "C" void masked_kernel(const float* x, float* y) {
				    __m512 a = _mm512_loadu_ps(x);
				    __m512 b = _mm512_loadu_ps(x + 16);
				    __mmask16 low = 0x00FF;
				    __m512 m = _mm512_mask_max_ps(a, low, a, b);     // max in lanes 0-7, a above
				    __m512 s = _mm512_mask_add_ps(m, low, m, b);     // + b in lanes 0-7
				    __m512 f = _mm512_fnmadd_ps(a, b, s);            // s - a * b
				    _mm512_storeu_ps(y, _mm512_maskz_mov_ps(0x0FFF, f));
				}
				"""), Map.of(), 1, RunRequest.of(List.of()));
		float[] x = floatsOf(report.buffers().get(0).buffer());
		float[] y = floatsOf(report.buffers().get(1).buffer());
		for (int i = 0; i < 16; i++) {
			float a = x[i], b = x[16 + i];
			float s = i < 8 ? (a > b ? a : b) + b : a;
			float expected = i < 12 ? Math.fma(-a, b, s) : 0.0f;
			assertEquals(expected, y[i], "y[" + i + "]");
		}
	}

	@Test
	public void anArraySizeThatIsNotConstantIsAnErrorAtTheSize() {
		DeviceException e = assertThrows(DeviceException.class, () -> new KernelRuns().run(device, source("sized.cpp", """
				extern "C" void sized_kernel(const float* x, float* y) {
				    int n = 4;
				    float buf[n];
				    for (int i = 0; i < 4; ++i) buf[i] = x[i];
				    for (int i = 0; i < 4; ++i) y[i] = buf[i];
				}
				"""), Map.of(), 1, RunRequest.of(List.of())));
		Diagnostic d = e.diagnostics().get(0);
		assertEquals(3, d.line(), d.format());
		assertEquals(15, d.column(), d.format());
		assertTrue(d.message().contains("'n' is not an integer constant"), d.format());
	}

	@Test
	public void cudaFloatIntrinsicsHaveTheirDocumentedResults() {
		float justAboveOne = 1.0f + 0x1p-23f;
		float justBelowOne = 1.0f - 0x1p-23f; // their product 1 - 2^-46 rounds to 1
		RunResult result = launch(source("intrinsics.cu", """
				__global__ void intrinsics(const float* in, float* out) {
				    out[0] = __saturatef(in[0]);
				    out[1] = __saturatef(in[1]);
				    out[2] = __saturatef(in[2]);
				    out[3] = __saturatef(in[3]);
				    out[4] = __fdividef(3.0f, in[4]);
				    out[5] = __fdividef(3.0f, in[5]);
				    out[6] = __fmaf_rn(in[6], in[7], -1.0f);
				    out[7] = __fadd_rn(in[6], in[7]) + __frcp_rn(in[4]);
				}
				"""), 1, floats("in", -0.5f, 1.5f, Float.NaN, 0.25f, 2.0f, 0x1p127f, justAboveOne, justBelowOne),
				floats("out", new float[8]));
		float[] out = floatsOf(result.buffers().get(1));
		assertEquals(0.0f, out[0]);
		assertEquals(1.0f, out[1]);
		assertEquals(0.0f, out[2]); // NaN saturates to 0
		assertEquals(0.25f, out[3]);
		assertEquals(1.5f, out[4]);
		assertEquals(0.0f, out[5]); // 2^126 < |y| < 2^128: the approximate reciprocal is 0
		assertEquals(-0x1p-46f, out[6]); // one rounding; a separate multiply would round the product to 1
		assertEquals(2.0f + 0.5f, out[7]);
	}

	@Test
	public void aStatementMacroAroundRuntimeCallsRuns() {
		KernelRuns.Report report = new KernelRuns().run(device, source("scale.cu", """
				#define CHECK(call) do { cudaError_t e = (call); if (e != cudaSuccess) { return; } } while (0)
				__global__ void scale(const float* x, float* y) { y[threadIdx.x] = x[threadIdx.x] * 2.0f; }
				extern "C" void scale_kernel(const float* x, float* y) {
				    float *dx, *dy;
				    CHECK(cudaMalloc(&dx, 32 * sizeof(float)));
				    CHECK(cudaMalloc(&dy, 32 * sizeof(float)));
				    CHECK(cudaMemcpy(dx, x, 32 * sizeof(float), cudaMemcpyHostToDevice));
				    scale<<<1, 32>>>(dx, dy);
				    CHECK(cudaGetLastError());
				    CHECK(cudaMemcpy(y, dy, 32 * sizeof(float), cudaMemcpyDeviceToHost));
				}
				"""), Map.of(), 1, RunRequest.of(List.of()));
		float[] x = floatsOf(report.buffers().get(0).buffer());
		float[] y = floatsOf(report.buffers().get(1).buffer());
		assertEquals(32, y.length);
		for (int i = 0; i < 32; i++) {
			assertEquals(x[i] * 2, y[i]);
		}
	}

	@Test
	public void aXorShuffleReadsEarlierGroupsButNotLaterOnes() {
		float[] in = new float[32];
		for (int i = 0; i < 32; i++) {
			in[i] = i;
		}
		RunResult result = launch(source("xor.cu", """
				__global__ void exchange(const float* in, float* out) {
				    out[threadIdx.x] = __shfl_xor_sync(0xffffffff, in[threadIdx.x], 16, 16);
				}
				"""), 32, floats("in", in), floats("out", new float[32]));
		float[] out = floatsOf(result.buffers().get(1));
		for (int lane = 0; lane < 32; lane++) {
			assertEquals(lane < 16 ? lane : lane - 16, out[lane], "lane " + lane);
		}
	}
}
