package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xpiler.devices.tests.FloatBuffers.floats;
import static org.xpiler.devices.tests.FloatBuffers.floatsOf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.xpiler.core.vm.Argument;
import org.xpiler.core.vm.ElementType;
import org.xpiler.core.vm.Half;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelRuns;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.RunResult;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.dialect.Dialect;

/**
 * The virtual device runs kernels with their vendors' semantics and turns every semantic trap into an error
 * at the right line: data races, unaligned vector loads, on-chip overflow, intrinsic rules, out-of-bounds
 * accesses, endless loops, division by zero, uninitialized reads.
 */
public class VirtualDeviceTest {
	private final VirtualDevice device = new VirtualDevice();

	private static KernelSource source(String name, String text) {
		return new KernelSource(Path.of(name), Dialect.fromFile(Path.of(name)).orElseThrow(), text);
	}

	private DeviceException fault(String name, String text) {
		return assertThrows(DeviceException.class, () -> new KernelRuns().run(device, source(name, text), Map.of(), 1,
				new RunRequest(Optional.empty(), List.of(), null, null, 0, Duration.ofSeconds(5))));
	}

	private static Diagnostic only(DeviceException e) {
		assertEquals(1, e.diagnostics().size(), e.getMessage());
		return e.diagnostics().get(0);
	}

	@Test
	public void aMissingSyncthreadsIsReportedAsADataRaceWithBothLocations() {
		String kernel = """
				__global__ void reduce(const float* in, float* out)
				{
				    __shared__ float s[64];
				    int t = threadIdx.x;
				    s[t] = in[t];
				    __syncthreads();
				    for (int stride = 32; stride > 0; stride >>= 1) {
				        if (t < stride) {
				            s[t] += s[t + stride];
				        }
				    }
				    if (t == 0) {
				        out[0] = s[0];
				    }
				}

				extern "C" void reduce_kernel(const float* in, float* out)
				{
				    float* d_in;
				    float* d_out;
				    cudaMalloc((void**)&d_in, 64 * sizeof(float));
				    cudaMalloc((void**)&d_out, sizeof(float));
				    cudaMemcpy(d_in, in, 64 * sizeof(float), cudaMemcpyHostToDevice);
				    reduce<<<1, 64>>>(d_in, d_out);
				    cudaMemcpy(out, d_out, sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(d_in);
				    cudaFree(d_out);
				}
				""";
		Diagnostic d = only(fault("race.cu", kernel));
		assertEquals(9, d.line(), d.format());
		assertTrue(d.message().contains("data race") && d.message().contains("race.cu:9:21")
				&& d.message().contains("__syncthreads()"), d.message());
	}

	@Test
	public void theSameReductionWithItsBarrierRunsAndSums() {
		String kernel = """
				__global__ void reduce(const float* in, float* out)
				{
				    __shared__ float s[64];
				    int t = threadIdx.x;
				    s[t] = in[t];
				    __syncthreads();
				    for (int stride = 32; stride > 0; stride >>= 1) {
				        if (t < stride) {
				            s[t] += s[t + stride];
				        }
				        __syncthreads();
				    }
				    if (t == 0) {
				        out[0] = s[0];
				    }
				}
				""";
		float[] in = new float[64];
		double sum = 0;
		for (int i = 0; i < 64; i++) {
			in[i] = i * 0.25f;
			sum += in[i];
		}
		RunResult result = launch(source("reduce.cu", kernel), 1, 64, floats("in", in),
				new Argument.Buffer("out", ElementType.F32, new byte[4]));
		assertEquals(sum, floatsOf(result.buffers().get(1))[0], 1e-3);
	}

	@Test
	public void warpShufflesExchangeValuesBetweenLanes() {
		String kernel = """
				__global__ void warp_sum(const float* in, float* out)
				{
				    float v = in[threadIdx.x];
				    for (int offset = 16; offset > 0; offset /= 2) {
				        v += __shfl_down_sync(0xffffffff, v, offset);
				    }
				    out[threadIdx.x] = v;
				}
				""";
		float[] in = new float[32];
		float total = 0;
		for (int i = 0; i < 32; i++) {
			in[i] = i + 1;
			total += in[i];
		}
		RunResult result = launch(source("warp.cu", kernel), 1, 32, floats("in", in),
				new Argument.Buffer("out", ElementType.F32, new byte[128]));
		assertEquals(total, floatsOf(result.buffers().get(1))[0]);
	}

	@Test
	public void anUnalignedAvx512LoadIsAnErrorAtTheCall() {
		String kernel = """
				extern "C" void copy_kernel(const float* in, float* out)
				{
				    for (int i = 0; i < 64; i += 16) {
				        __m512 v = _mm512_load_ps(in + i + 1);
				        _mm512_storeu_ps(out + i, v);
				    }
				}
				""";
		Diagnostic d = only(fault("unaligned.cpp", kernel));
		assertEquals(4, d.line(), d.format());
		assertTrue(d.message().contains("64-byte aligned"), d.message());
	}

	@Test
	public void nramDeclarationsBeyondTheCapacityNameTheDeclaration() {
		String kernel = """
				__nram__ float small[1024];
				__nram__ float big[200000];

				extern "C" __mlu_global__ void fill_kernel(float* out)
				{
				    __bang_write_zero(big, 1024);
				    __memcpy(out + taskId * 1024, big, 1024 * sizeof(float), NRAM2GDRAM);
				}
				""";
		Diagnostic d = only(fault("overflow.mlu", kernel));
		assertEquals(2, d.line(), d.format());
		assertTrue(d.message().contains("'big'") && d.message().toLowerCase().contains("nram"), d.message());
	}

	@Test
	public void aBangLengthThatBreaksTheAlignmentRuleIsAnErrorWithTheValues() {
		String kernel = """
				__nram__ float a[256];
				__nram__ float b[256];

				extern "C" __mlu_global__ void add_kernel(const float* x, float* y)
				{
				    __memcpy(a, x, 100 * sizeof(float), GDRAM2NRAM);
				    __memcpy(b, x, 100 * sizeof(float), GDRAM2NRAM);
				    __bang_add(a, a, b, 100);
				    __memcpy(y + taskId * 100, a, 100 * sizeof(float), NRAM2GDRAM);
				}
				""";
		Diagnostic d = only(fault("rule.mlu", kernel));
		assertEquals(8, d.line(), d.format());
		assertTrue(d.message().contains("128 bytes") && d.message().contains("n = 100"), d.message());
	}

	@Test
	public void anOutOfBoundsIndexIntoALocalArrayIsAnError() {
		String kernel = """
				extern "C" void oob_kernel(const float* in, float* out)
				{
				    float tmp[8];
				    for (int i = 0; i <= 8; i++) {
				        tmp[i] = in[i];
				    }
				    out[0] = tmp[0];
				}
				""";
		Diagnostic d = only(fault("oob.cpp", kernel));
		assertEquals(5, d.line(), d.format());
		assertTrue(d.message().contains("out-of-bounds") && d.message().contains("'tmp'"), d.message());
	}

	@Test
	public void anEndlessLoopStopsWithItsLocation() {
		String kernel = """
				extern "C" void spin_kernel(const int* in, int* out)
				{
				    int i = 0;
				    while (in[0] >= -1000) {
				        i = i + 1;
				    }
				    out[0] = i;
				}
				""";
		Diagnostic d = only(fault("spin.cpp", kernel));
		assertEquals(4, d.line(), d.format());
		assertTrue(d.message().contains("endless loop"), d.message());
	}

	@Test
	public void integerDivisionByZeroAndUninitializedReadsAreErrors() {
		Diagnostic division = only(fault("div.cpp", """
				extern "C" void div_kernel(const int* in, int* out)
				{
				    int zero = in[0] - in[0];
				    out[0] = in[1] / zero;
				}
				"""));
		assertEquals(4, division.line());
		assertTrue(division.message().contains("division by zero"), division.message());
		Diagnostic uninitialized = only(fault("uninit.cpp", """
				extern "C" void uninit_kernel(const float* in, float* out)
				{
				    float acc[4];
				    out[0] = acc[2] + in[0];
				}
				"""));
		assertEquals(4, uninitialized.line());
		assertTrue(uninitialized.message().contains("uninitialized"), uninitialized.message());
	}

	@Test
	public void halfArithmeticRoundsToNearestEven() {
		String kernel = """
				__global__ void add_half(const float* in, float* out)
				{
				    half a = __float2half(in[0]);
				    half b = __float2half(in[1]);
				    out[0] = __half2float(a + b);
				}
				""";
		float one = 1.0f;
		float tiny = (float) Math.scalb(1.0, -11); // half of the half ulp at 1: a tie, rounds to even (1.0)
		RunResult result = launch(source("half.cu", kernel), 1, 1, floats("in", new float[] { one, tiny }),
				new Argument.Buffer("out", ElementType.F32, new byte[4]));
		assertEquals(1.0f, floatsOf(result.buffers().get(1))[0]);
		// 1 + 1.5 ulp is a tie between 1 + 1 ulp (odd) and 1 + 2 ulp (even): the even one wins
		assertEquals(1.001953125, Half.roundHalf(1.0 + 3 * Math.scalb(1.0, -11)), 0.0);
	}

	@Test
	public void buffersOfAWrapperGrowToWhatItCopiesAndRolesAreReported() {
		KernelRuns.Report report = new KernelRuns().run(device, source("add.cu", """
				__global__ void add(const float* a, float* b) { b[threadIdx.x] = a[threadIdx.x] * 2.0f; }

				extern "C" void add_kernel(const float* a, float* b)
				{
				    float* da;
				    float* db;
				    cudaMalloc((void**)&da, 40 * sizeof(float));
				    cudaMalloc((void**)&db, 40 * sizeof(float));
				    cudaMemcpy(da, a, 40 * sizeof(float), cudaMemcpyHostToDevice);
				    add<<<1, 40>>>(da, db);
				    cudaMemcpy(b, db, 40 * sizeof(float), cudaMemcpyDeviceToHost);
				}
				"""), Map.of(), 3, RunRequest.of(List.of()));
		assertEquals(40, report.buffers().get(0).buffer().elements());
		assertEquals(KernelRuns.Role.INPUT, report.buffers().get(0).role());
		assertEquals(KernelRuns.Role.OUTPUT, report.buffers().get(1).role());
		float[] a = floatsOf(report.buffers().get(0).buffer());
		float[] b = floatsOf(report.buffers().get(1).buffer());
		for (int i = 0; i < 40; i++) {
			assertEquals(a[i] * 2, b[i]);
		}
	}

	@Test
	public void aWmmaHalfGemmComputesWhatTheScalarHalfGemmComputes() {
		KernelSource scalar = source("hgemm.cu", """
				__global__ void hgemm(const half* A, const half* B, float* C)
				{
				    int i = blockIdx.x;
				    int j = threadIdx.x;
				    float acc = 0.0f;
				    for (int k = 0; k < 32; k++) {
				        acc += __half2float(A[i * 32 + k]) * __half2float(B[k * 32 + j]);
				    }
				    C[i * 32 + j] = acc;
				}

				extern "C" void hgemm_kernel(const half* A, const half* B, float* C)
				{
				    half* dA;
				    half* dB;
				    float* dC;
				    cudaMalloc((void**)&dA, 32 * 32 * sizeof(half));
				    cudaMalloc((void**)&dB, 32 * 32 * sizeof(half));
				    cudaMalloc((void**)&dC, 32 * 32 * sizeof(float));
				    cudaMemcpy(dA, A, 32 * 32 * sizeof(half), cudaMemcpyHostToDevice);
				    cudaMemcpy(dB, B, 32 * 32 * sizeof(half), cudaMemcpyHostToDevice);
				    hgemm<<<32, 32>>>(dA, dB, dC);
				    cudaMemcpy(C, dC, 32 * 32 * sizeof(float), cudaMemcpyDeviceToHost);
				}
				""");
		KernelSource tensorCores = source("wmma.cu", """
				// half GEMM 32x32x32 with wmma: one warp per 16x16 tile of C
				__global__ void hgemm(const half* A, const half* B, float* C)
				{
				    int tile = blockIdx.x;
				    int tm = tile / 2 * 16;
				    int tn = tile % 2 * 16;
				    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> a;
				    wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::row_major> b;
				    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
				    wmma::fill_fragment(acc, 0.0f);
				    for (int k = 0; k < 32; k += 16) {
				        wmma::load_matrix_sync(a, A + tm * 32 + k, 32);
				        wmma::load_matrix_sync(b, B + k * 32 + tn, 32);
				        wmma::mma_sync(acc, a, b, acc);
				    }
				    wmma::store_matrix_sync(C + tm * 32 + tn, acc, 32, wmma::mem_row_major);
				}

				extern "C" void hgemm_kernel(const half* A, const half* B, float* C)
				{
				    half* dA;
				    half* dB;
				    float* dC;
				    cudaMalloc((void**)&dA, 32 * 32 * sizeof(half));
				    cudaMalloc((void**)&dB, 32 * 32 * sizeof(half));
				    cudaMalloc((void**)&dC, 32 * 32 * sizeof(float));
				    cudaMemcpy(dA, A, 32 * 32 * sizeof(half), cudaMemcpyHostToDevice);
				    cudaMemcpy(dB, B, 32 * 32 * sizeof(half), cudaMemcpyHostToDevice);
				    hgemm<<<4, 32>>>(dA, dB, dC);
				    cudaMemcpy(C, dC, 32 * 32 * sizeof(float), cudaMemcpyDeviceToHost);
				}
				""");
		Oracle.Verdict verdict = new Oracle().verify(scalar, tensorCores, device, Map.of(), 5, RunRequest.of(List.of()));
		assertTrue(verdict.matches(), verdict.summary());
	}

	@Test
	public void hipMfmaOverAWavefrontComputesWhatAScalarGemmComputes() {
		KernelSource scalar = source("sgemm.cpp", """
				extern "C" void sgemm_kernel(const float* A, const float* B, float* C)
				{
				    for (int i = 0; i < 16; i++) {
				        for (int j = 0; j < 16; j++) {
				            float acc = 0.0f;
				            for (int k = 0; k < 8; k++) {
				                acc += A[i * 8 + k] * B[k * 16 + j];
				            }
				            C[i * 16 + j] = acc;
				        }
				    }
				}
				""");
		KernelSource matrixCores = source("sgemm.hip", """
				// C[16][16] = A[16][K] * B[K][16], K = 8, float, with one wavefront of matrix-core MFMA steps
				typedef float floatx4 __attribute__((ext_vector_type(4)));

				__global__ void sgemm(const float* A, const float* B, float* C)
				{
				    int l = threadIdx.x;
				    floatx4 acc = {0.0f, 0.0f, 0.0f, 0.0f};
				    for (int k0 = 0; k0 < 8; k0 += 4) {
				        float a = A[(l % 16) * 8 + k0 + l / 16];
				        float b = B[(k0 + l / 16) * 16 + l % 16];
				        acc = __builtin_amdgcn_mfma_f32_16x16x4f32(a, b, acc, 0, 0, 0);
				    }
				    for (int r = 0; r < 4; r++) {
				        C[(4 * (l / 16) + r) * 16 + l % 16] = acc[r];
				    }
				}

				extern "C" void sgemm_kernel(const float* A, const float* B, float* C)
				{
				    float* dA;
				    float* dB;
				    float* dC;
				    hipMalloc((void**)&dA, 16 * 8 * sizeof(float));
				    hipMalloc((void**)&dB, 8 * 16 * sizeof(float));
				    hipMalloc((void**)&dC, 16 * 16 * sizeof(float));
				    hipMemcpy(dA, A, 16 * 8 * sizeof(float), hipMemcpyHostToDevice);
				    hipMemcpy(dB, B, 8 * 16 * sizeof(float), hipMemcpyHostToDevice);
				    hipLaunchKernelGGL(sgemm, dim3(1), dim3(64), 0, 0, dA, dB, dC);
				    hipMemcpy(C, dC, 16 * 16 * sizeof(float), hipMemcpyDeviceToHost);
				}
				""");
		Oracle.Verdict verdict = new Oracle().verify(scalar, matrixCores, device, Map.of(), 9, RunRequest.of(List.of()));
		assertTrue(verdict.matches(), verdict.summary());
	}

	@Test
	public void referenceParametersWriteTheCallersVariables() {
		KernelRuns.Report report = new KernelRuns().run(device, source("minmax.cpp", """
				static void order(float& low, float& high)
				{
				    if (low > high) {
				        float t = low;
				        low = high;
				        high = t;
				    }
				}

				extern "C" void minmax_kernel(const float* in, float* out)
				{
				    float a = in[0];
				    float b = in[1];
				    order(a, b);
				    out[0] = a;
				    out[1] = b;
				    order(out[1], out[0]);
				}
				"""), Map.of(), 4, RunRequest.of(List.of()));
		float[] in = floatsOf(report.buffers().get(0).buffer());
		float[] out = floatsOf(report.buffers().get(1).buffer());
		assertEquals(Math.max(in[0], in[1]), out[0]);
		assertEquals(Math.min(in[0], in[1]), out[1]);
	}

	@Test
	public void atomicAddsFromManyThreadsNeitherRaceNorLoseUpdates() {
		RunResult result = launch(source("histogram.cu", """
				__global__ void histogram(const int* in, int* bins)
				{
				    int i = blockIdx.x * blockDim.x + threadIdx.x;
				    atomicAdd(&bins[in[i] & 3], 1);
				}
				"""), 4, 64, ints("in", 256, 7), ints("bins", 4, 0));
		ByteBuffer bins = ByteBuffer.wrap(result.buffers().get(1).contents()).order(ByteOrder.LITTLE_ENDIAN);
		assertEquals(256, bins.getInt(0) + bins.getInt(4) + bins.getInt(8) + bins.getInt(12));
		assertEquals(64, bins.getInt(12), "in[i] = 7 * i: a quarter of the values end in binary 11");
	}

	@Test
	public void aCnrtHostWrapperLaunchesTheBangKernelOverAUnion() {
		KernelRuns.Report report = new KernelRuns().run(device, source("scale.mlu", """
				__nram__ float buffer[64];

				__mlu_global__ void scale(const float* in, float* out)
				{
				    __memcpy(buffer, in + taskId * 64, 64 * sizeof(float), GDRAM2NRAM);
				    __bang_mul_scalar(buffer, buffer, 2.0f, 64);
				    __memcpy(out + taskId * 64, buffer, 64 * sizeof(float), NRAM2GDRAM);
				}

				extern "C" void scale_kernel(const float* in, float* out)
				{
				    cnrtQueue_t queue;
				    cnrtQueueCreate(&queue);
				    float* d_in;
				    float* d_out;
				    cnrtMalloc((void**)&d_in, 8 * 64 * sizeof(float));
				    cnrtMalloc((void**)&d_out, 8 * 64 * sizeof(float));
				    cnrtMemcpy(d_in, (void*)in, 8 * 64 * sizeof(float), cnrtMemcpyHostToDev);
				    cnrtDim3_t dim = {8, 1, 1};
				    scale<<<dim, cnrtFuncTypeUnion1, queue>>>(d_in, d_out);
				    cnrtQueueSync(queue);
				    cnrtMemcpy(out, d_out, 8 * 64 * sizeof(float), cnrtMemcpyDevToHost);
				    cnrtFree(d_in);
				    cnrtFree(d_out);
				}
				"""), Map.of(), 2, RunRequest.of(List.of()));
		float[] in = floatsOf(report.buffers().get(0).buffer());
		float[] out = floatsOf(report.buffers().get(1).buffer());
		assertEquals(8 * 64, out.length);
		for (int i = 0; i < out.length; i++) {
			assertEquals(in[i] * 2, out[i]);
		}
	}

	@Test
	public void standardAlgorithmsOverArraysRunAsTheStandardSpecifies() {
		KernelRuns.Report report = new KernelRuns().run(device, source("algorithms.cpp", """
				#include <algorithm>
				#include <numeric>
				extern "C" void algorithms_kernel(const float* x, float* out)
				{
				    float w[8];
				    std::fill(w, w + 8, 0.5f);
				    std::copy(x, x + 4, w + 2);
				    int ids[4];
				    std::fill_n(ids, 4, 7);
				    out[0] = std::accumulate(w, w + 8, 0.0f);
				    out[1] = std::inner_product(x, x + 8, w, 1.0f);
				    out[2] = *std::max_element(x, x + 8);
				    out[3] = std::min_element(x, x + 8) - x;
				    out[4] = std::accumulate(ids, ids + 4, 0);
				    out[5] = std::accumulate(x, x + 8, 0); // int init: each partial sum truncated, as C++ does
				}
				"""), Map.of(), 6, RunRequest.of(List.of()));
		float[] x = floatsOf(report.buffers().get(0).buffer());
		float[] out = floatsOf(report.buffers().get(1).buffer());
		float[] w = { 0.5f, 0.5f, x[0], x[1], x[2], x[3], 0.5f, 0.5f };
		float sum = 0.0f;
		float dot = 1.0f;
		int truncated = 0;
		int max = 0;
		int min = 0;
		for (int i = 0; i < 8; i++) {
			sum = sum + w[i];
			dot = dot + x[i] * w[i];
			truncated = (int) (truncated + x[i]);
			max = x[max] < x[i] ? i : max;
			min = x[i] < x[min] ? i : min;
		}
		assertEquals(sum, out[0]);
		assertEquals(dot, out[1]);
		assertEquals(x[max], out[2]);
		assertEquals(min, out[3]);
		assertEquals(28, out[4]);
		assertEquals(truncated, out[5]);
	}

	@Test
	public void aStdArrayIsAnArrayWithItsMembers() {
		KernelRuns.Report report = new KernelRuns().run(device, source("window.cpp", """
				#include <array>
				#include <algorithm>
				#define K 3
				extern "C" void window_kernel(const float* x, float* out)
				{
				    std::array<float, K * K> w;
				    w.fill(-1.0f);
				    for (int i = 0; i < 4; ++i) w[i] = x[i];
				    out[0] = *std::max_element(w.begin(), w.end());
				    out[1] = w.size();
				    out[2] = w.data()[8];
				}
				"""), Map.of(), 7, RunRequest.of(List.of()));
		float[] x = floatsOf(report.buffers().get(0).buffer());
		float[] out = floatsOf(report.buffers().get(1).buffer());
		assertEquals(Math.max(-1.0f, Math.max(Math.max(x[0], x[1]), Math.max(x[2], x[3]))), out[0]);
		assertEquals(9, out[1]);
		assertEquals(-1, out[2]);
	}

	@Test
	public void numericLimitsGiveTheValuesOfLimitsHeader() {
		KernelRuns.Report report = new KernelRuns().run(device, source("limits.cpp", """
				#include <limits>
				extern "C" void limits_kernel(const float* in, double* out)
				{
				    out[0] = std::numeric_limits<float>::max();
				    out[1] = std::numeric_limits<float>::lowest();
				    out[2] = std::numeric_limits<float>::epsilon();
				    out[3] = -std::numeric_limits<float>::infinity() < in[0];
				    out[4] = std::numeric_limits<int>::min();
				    out[5] = std::numeric_limits<unsigned char>::max();
				    out[6] = std::numeric_limits<double>::min();
				}
				"""), Map.of(), 1, RunRequest.of(List.of()));
		ByteBuffer out = ByteBuffer.wrap(report.buffers().get(1).buffer().contents()).order(ByteOrder.LITTLE_ENDIAN);
		assertEquals(Float.MAX_VALUE, out.getDouble(0));
		assertEquals(-Float.MAX_VALUE, out.getDouble(8));
		assertEquals(Math.ulp(1.0f), out.getDouble(16));
		assertEquals(1.0, out.getDouble(24));
		assertEquals(Integer.MIN_VALUE, out.getDouble(32));
		assertEquals(255.0, out.getDouble(40));
		assertEquals(Double.MIN_NORMAL, out.getDouble(48));
	}

	@Test
	public void structsAreLaidOutAsCLaysThemOutAndTheirMembersLiveWhereTheStructDoes() {
		KernelRuns.Report report = new KernelRuns().run(device, source("argmax.cu", """
				struct Mixed { char tag; double value; short count; };
				typedef struct { float value; int index; } ArgMax;

				__device__ ArgMax better(const ArgMax& a, const ArgMax& b)
				{
				    return b.value > a.value ? b : a;
				}

				__global__ void argmax(const float* in, float* out)
				{
				    __shared__ ArgMax best[32];
				    ArgMax mine = {in[threadIdx.x], (int) threadIdx.x};
				    best[threadIdx.x] = mine;
				    __syncthreads();
				    if (threadIdx.x == 0) {
				        ArgMax total = best[0];
				        for (int i = 1; i < 32; ++i) total = better(total, best[i]);
				        best[0].index = total.index;
				        out[0] = total.value;
				        out[1] = best[0].index;
				        out[2] = sizeof(Mixed);
				        out[3] = sizeof(ArgMax);
				    }
				}

				extern "C" void argmax_kernel(const float* in, float* out)
				{
				    float *d_in, *d_out;
				    cudaMalloc(&d_in, 32 * sizeof(float));
				    cudaMalloc(&d_out, 4 * sizeof(float));
				    cudaMemcpy(d_in, in, 32 * sizeof(float), cudaMemcpyHostToDevice);
				    argmax<<<1, 32>>>(d_in, d_out);
				    cudaMemcpy(out, d_out, 4 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(d_in);
				    cudaFree(d_out);
				}
				"""), Map.of(), 5, RunRequest.of(List.of()));
		float[] in = floatsOf(report.buffers().get(0).buffer());
		float[] out = floatsOf(report.buffers().get(1).buffer());
		int best = 0;
		for (int i = 1; i < in.length; i++) {
			best = in[i] > in[best] ? i : best;
		}
		assertEquals(in[best], out[0]);
		assertEquals(best, out[1]);
		assertEquals(24, out[2], "char at 0, double at 8, short at 16, rounded up to the double's alignment");
		assertEquals(8, out[3]);
	}

	@Test
	public void structsWithPointerAndArrayMembersAreReadInPlace() {
		KernelRuns.Report report = new KernelRuns().run(device, source("view.cu", """
				struct View { const float* data; int stride; float w[2]; };

				__device__ float at(const View& v, int i) { return v.data[i * v.stride] * v.w[i % 2]; }

				__global__ void k(const float* x, float* y)
				{
				    View v = {};
				    v.data = x + threadIdx.x;
				    v.stride = 64;
				    v.w[0] = 1.0f;
				    v.w[1] = -1.0f;
				    y[threadIdx.x] = at(v, 0) + at(v, 1) + at(v, 2) + sizeof(View);
				}

				extern "C" void k_kernel(const float* x, float* y)
				{
				    float *dx, *dy;
				    cudaMalloc(&dx, 256 * sizeof(float));
				    cudaMalloc(&dy, 64 * sizeof(float));
				    cudaMemcpy(dx, x, 256 * sizeof(float), cudaMemcpyHostToDevice);
				    k<<<1, 64>>>(dx, dy);
				    cudaMemcpy(y, dy, 64 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx);
				    cudaFree(dy);
				}
				"""), Map.of(), 8, RunRequest.of(List.of()));
		float[] x = floatsOf(report.buffers().get(0).buffer());
		float[] y = floatsOf(report.buffers().get(1).buffer());
		for (int t = 0; t < 64; t++) {
			assertEquals(x[t] - x[t + 64] + x[t + 128] + 24, y[t], "a pointer at 0, an int at 8, two floats at 12: 24 bytes");
		}
	}

	@Test
	public void aStructMayHoldAStruct() {
		KernelRuns.Report report = new KernelRuns().run(device, source("nested.cpp", """
				struct Point { float x; float y; };
				struct Box { Point low; Point high; int id; };
				extern "C" void box_kernel(const float* in, float* out)
				{
				    Box b = {};
				    b.low.x = in[0];
				    b.high.y = in[1];
				    b.id = 7;
				    Box c = b;
				    out[0] = c.low.x + c.high.y + c.id + sizeof(Box);
				}
				"""), Map.of(), 9, RunRequest.of(List.of()));
		float[] in = floatsOf(report.buffers().get(0).buffer());
		float[] out = floatsOf(report.buffers().get(1).buffer());
		assertEquals(in[0] + in[1] + 7 + 20, out[0], "two 8-byte points and an int: 20 bytes");
	}

	@Test
	public void logicalAndAndStreamCompactionRunFromTheirCatalogReferences() {
		KernelRuns.Report report = new KernelRuns().run(device, source("keep.mlu", """
				__nram__ float a[64];
				__nram__ float positive[64];
				__nram__ float kept[64];
				__nram__ float both[64];
				__mlu_global__ void keep(const float* x, float* y, float* z, int* count) {
				    if (taskId != 0) return;
				    __memcpy(a, x, 64 * sizeof(float), GDRAM2NRAM);
				    __bang_write_zero(kept, 64);
				    __bang_gt_scalar(positive, a, 0.0f, 64);
				    count[0] = __bang_filter(kept, a, positive, 64);
				    __bang_and(both, positive, a, 64);
				    __memcpy(y, kept, 64 * sizeof(float), NRAM2GDRAM);
				    __memcpy(z, both, 64 * sizeof(float), NRAM2GDRAM);
				}
				"""), Map.of(), 4, RunRequest.of(List.of()));
		float[] x = floatsOf(report.buffers().get(0).buffer());
		float[] kept = floatsOf(report.buffers().get(1).buffer());
		float[] both = floatsOf(report.buffers().get(2).buffer());
		int count = java.nio.ByteBuffer.wrap(report.buffers().get(3).buffer().contents())
				.order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0);
		int expected = 0;
		for (int i = 0; i < 64; i++) {
			if (x[i] > 0) {
				assertEquals(x[i], kept[expected++], "the positives, in order");
			}
			assertEquals(x[i] > 0 ? 1.0f : 0.0f, both[i], "logical and: both non-zero");
		}
		assertEquals(expected, count);
	}

	@Test
	public void half2IntrinsicsComputeEachLaneAsTheirHalfCounterparts() {
		KernelSource pairs = source("h2ops.cu", """
				#include <cuda_fp16.h>
				// y = relu(x * w + b) on half2 pairs, plus a float sum of both lanes
				__global__ void h2ops(const __half2* x, const __half2* w, __half2* y, float* s) {
				    int i = blockIdx.x * blockDim.x + threadIdx.x;
				    __half2 b = __floats2half2_rn(0.25f, -0.5f);
				    __half2 v = __hfma2(x[i], w[i % 32], b);
				    __half2 zero = __float2half2_rn(0.0f);
				    v = __hadd2(__hmul2(v, __half2half2(__float2half(0.5f))), __hsub2(v, zero));
				    float2 f = __half22float2(v);
				    y[i] = __halves2half2(__high2half(v), __low2half(v));
				    s[i] = f.x + __high2float(v) + __low2float(__lowhigh2highlow(v));
				}
				extern "C" void h2ops_kernel(const __half* x, const __half* w, __half* y, float* s) {
				    __half *dx, *dw, *dy; float* ds;
				    cudaMalloc(&dx, 512 * sizeof(__half)); cudaMalloc(&dw, 64 * sizeof(__half));
				    cudaMalloc(&dy, 512 * sizeof(__half)); cudaMalloc(&ds, 256 * sizeof(float));
				    cudaMemcpy(dx, x, 512 * sizeof(__half), cudaMemcpyHostToDevice);
				    cudaMemcpy(dw, w, 64 * sizeof(__half), cudaMemcpyHostToDevice);
				    h2ops<<<2, 128>>>((const __half2*)dx, (const __half2*)dw, (__half2*)dy, ds);
				    cudaMemcpy(y, dy, 512 * sizeof(__half), cudaMemcpyDeviceToHost);
				    cudaMemcpy(s, ds, 256 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dw); cudaFree(dy); cudaFree(ds);
				}
				""");
		KernelSource lanes = source("h2ref.cu", """
				#include <cuda_fp16.h>
				__global__ void h2ops(const __half* x, const __half* w, __half* y, float* s) {
				    int i = blockIdx.x * blockDim.x + threadIdx.x;
				    __half vx = __hfma(x[2 * i], w[2 * (i % 32)], __float2half(0.25f));
				    __half vy = __hfma(x[2 * i + 1], w[2 * (i % 32) + 1], __float2half(-0.5f));
				    __half h = __float2half(0.5f);
				    __half ax = __hadd(__hmul(vx, h), __float2half(__half2float(vx) - 0.0f));
				    __half ay = __hadd(__hmul(vy, h), __float2half(__half2float(vy) - 0.0f));
				    y[2 * i] = ay;
				    y[2 * i + 1] = ax;
				    s[i] = __half2float(ax) + __half2float(ay) + __half2float(ay);
				}
				extern "C" void h2ops_kernel(const __half* x, const __half* w, __half* y, float* s) {
				    __half *dx, *dw, *dy; float* ds;
				    cudaMalloc(&dx, 512 * sizeof(__half)); cudaMalloc(&dw, 64 * sizeof(__half));
				    cudaMalloc(&dy, 512 * sizeof(__half)); cudaMalloc(&ds, 256 * sizeof(float));
				    cudaMemcpy(dx, x, 512 * sizeof(__half), cudaMemcpyHostToDevice);
				    cudaMemcpy(dw, w, 64 * sizeof(__half), cudaMemcpyHostToDevice);
				    h2ops<<<2, 128>>>(dx, dw, dy, ds);
				    cudaMemcpy(y, dy, 512 * sizeof(__half), cudaMemcpyDeviceToHost);
				    cudaMemcpy(s, ds, 256 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dw); cudaFree(dy); cudaFree(ds);
				}
				""");
		Oracle.Verdict verdict = new Oracle().verify(lanes, pairs, device, Map.of(), 5, RunRequest.of(List.of()));
		assertTrue(verdict.matches(), verdict.summary());
	}

	@Test
	public void makeFloat4AndMakeInt2BuildVectorsLaneByLane() {
		KernelRuns.Report report = new KernelRuns().run(device, source("make.cu", """
				__global__ void pack(const float* in, float4* out, int2* ids)
				{
				    int i = threadIdx.x;
				    out[i] = make_float4(in[i], 2.0f * in[i], 0.0f, 1.0f);
				    ids[i] = make_int2(i, 3.7f);
				}
				extern "C" void pack_kernel(const float* in, float* out, int* ids)
				{
				    float* d_in; float4* d_out; int2* d_ids;
				    cudaMalloc(&d_in, 32 * sizeof(float));
				    cudaMalloc(&d_out, 32 * sizeof(float4));
				    cudaMalloc(&d_ids, 32 * sizeof(int2));
				    cudaMemcpy(d_in, in, 32 * sizeof(float), cudaMemcpyHostToDevice);
				    pack<<<1, 32>>>(d_in, d_out, d_ids);
				    cudaMemcpy(out, d_out, 32 * sizeof(float4), cudaMemcpyDeviceToHost);
				    cudaMemcpy(ids, d_ids, 32 * sizeof(int2), cudaMemcpyDeviceToHost);
				}
				"""), Map.of(), 9, RunRequest.of(List.of()));
		float[] in = floatsOf(report.buffers().get(0).buffer());
		float[] out = floatsOf(report.buffers().get(1).buffer());
		assertEquals(in[5], out[20]);
		assertEquals(2.0f * in[5], out[21]);
		assertEquals(1.0f, out[23]);
		java.nio.ByteBuffer ids = java.nio.ByteBuffer.wrap(report.buffers().get(2).buffer().contents())
				.order(java.nio.ByteOrder.LITTLE_ENDIAN);
		assertEquals(5, ids.getInt(40));
		assertEquals(3, ids.getInt(44), "3.7f converts to the int lane as C does");
	}

	@Test
	public void symbolCopiesFillConstantMemoryAtAnOffsetAndReadDeviceVariablesBack() {
		KernelRuns.Report report = new KernelRuns().run(device, source("shift.cu", """
				__constant__ float c_bias[2][32];
				__device__ float d_last[32];

				__global__ void shift(const float* in, float* out)
				{
				    int i = threadIdx.x;
				    out[i] = in[i] + c_bias[1][i];
				    d_last[i] = out[i] * 2.0f;
				}

				extern "C" void shift_kernel(const float* in, float* out)
				{
				    float *d_in, *d_out;
				    cudaMalloc(&d_in, 32 * sizeof(float));
				    cudaMalloc(&d_out, 32 * sizeof(float));
				    cudaMemcpy(d_in, in, 32 * sizeof(float), cudaMemcpyHostToDevice);
				    cudaMemcpyToSymbol(c_bias, in, 32 * sizeof(float), 32 * sizeof(float), cudaMemcpyHostToDevice);
				    shift<<<1, 32>>>(d_in, d_out);
				    cudaMemcpy(out, d_out, 32 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaMemcpyFromSymbol(out + 16, d_last, 16 * sizeof(float));
				    cudaFree(d_in);
				    cudaFree(d_out);
				}
				"""), Map.of(), 3, RunRequest.of(List.of()));
		float[] in = floatsOf(report.buffers().get(0).buffer());
		float[] out = floatsOf(report.buffers().get(1).buffer());
		for (int i = 0; i < 16; i++) {
			assertEquals(in[i] + in[i], out[i]);
			assertEquals(2 * (in[i] + in[i]), out[16 + i]);
		}
	}

	/** Runs a bare __global__ kernel over {@code blocks} one-dimensional blocks of {@code threads}. */
	private RunResult launch(KernelSource kernel, int blocks, int threads, Argument.Buffer... buffers) {
		return device.run(kernel, new RunRequest(Optional.empty(), List.of(buffers), new int[] { blocks, 1, 1 },
				new int[] { threads, 1, 1 }, 0, Duration.ofSeconds(10)));
	}

	private static Argument.Buffer ints(String name, int count, int step) {
		ByteBuffer bytes = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
		for (int i = 0; i < count; i++) {
			bytes.putInt(i * step);
		}
		return new Argument.Buffer(name, ElementType.I32, bytes.array());
	}
}
