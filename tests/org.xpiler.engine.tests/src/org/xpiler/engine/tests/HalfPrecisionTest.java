package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.KernelSource;
import org.xpiler.engine.pipeline.Translator;
import org.xpiler.lang.dialect.Dialect;

/**
 * Half precision crosses dialects: CUDA's {@code __half} and BANG C's {@code half} become GCC's {@code _Float16}
 * in sequential C++ (where {@code half} is raw bits) and the target's half type after it, with the header CUDA
 * and HIP need and, for their {@code __half} class, the arithmetic spelled out through float.
 */
public class HalfPrecisionTest {
	private static String verified(String name, String text, Dialect to) {
		Path path = Path.of(name);
		Translator.Result result = new Translator().translate(
				new KernelSource(path, Dialect.fromFile(path).orElseThrow(), text), to, 3);
		assertTrue(result.record().verified(), () -> result.record().reason());
		return result.output().orElseThrow();
	}

	private static final String CUDA_HALF = """
			#include <cuda_fp16.h>
			__global__ void hscale(const __half* x, const __half* w, __half* y, float* s) {
			    int i = blockIdx.x * blockDim.x + threadIdx.x;
			    __half h = __hfma(x[i], w[i % 64], __float2half(0.5f));
			    h = h * x[i] + __hmul(w[0], w[1]);
			    if (h < __float2half(0.0f)) h = -h;
			    y[i] = h;
			    s[i] = __half2float(h) * 2.0f;
			}
			extern "C" void hscale_kernel(const __half* x, const __half* w, __half* y, float* s) {
			    __half *dx, *dw, *dy; float* ds;
			    cudaMalloc(&dx, 512 * sizeof(__half)); cudaMalloc(&dw, 64 * sizeof(__half));
			    cudaMalloc(&dy, 512 * sizeof(__half)); cudaMalloc(&ds, 512 * sizeof(float));
			    cudaMemcpy(dx, x, 512 * sizeof(__half), cudaMemcpyHostToDevice);
			    cudaMemcpy(dw, w, 64 * sizeof(__half), cudaMemcpyHostToDevice);
			    hscale<<<4, 128>>>(dx, dw, dy, ds);
			    cudaMemcpy(y, dy, 512 * sizeof(__half), cudaMemcpyDeviceToHost);
			    cudaMemcpy(s, ds, 512 * sizeof(float), cudaMemcpyDeviceToHost);
			    cudaFree(dx); cudaFree(dw); cudaFree(dy); cudaFree(ds);
			}
			""";

	@Test
	public void halfPairsBecomeAStructOfTwoLanesThatEveryTargetComputesWith() {
		String cuda = """
				__global__ void pairs(const __half2* x, const __half2* r, __half2* y, float* lo) {
				    int i = blockIdx.x * blockDim.x + threadIdx.x;
				    const __half2 a = x[i];
				    __half2 s = __hfma2(a, __float2half2_rn(0.5f), __hadd2(r[i], __lowhigh2highlow(a)));
				    y[i] = __hmul2(s, __floats2half2_rn(__low2float(a), 2.0f));
				    lo[i] = __half2float(__low2half(s)) + __high2float(s);
				}
				extern "C" void pairs_kernel(const __half* x, const __half* r, __half* y, float* lo) {
				    __half *dx, *dr, *dy; float* dl;
				    cudaMalloc(&dx, 256 * sizeof(__half)); cudaMalloc(&dr, 256 * sizeof(__half));
				    cudaMalloc(&dy, 256 * sizeof(__half)); cudaMalloc(&dl, 128 * sizeof(float));
				    cudaMemcpy(dx, x, 256 * sizeof(__half), cudaMemcpyHostToDevice);
				    cudaMemcpy(dr, r, 256 * sizeof(__half), cudaMemcpyHostToDevice);
				    pairs<<<2, 64>>>((const __half2*)dx, (const __half2*)dr, (__half2*)dy, dl);
				    cudaMemcpy(y, dy, 256 * sizeof(__half), cudaMemcpyDeviceToHost);
				    cudaMemcpy(lo, dl, 128 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(dx); cudaFree(dr); cudaFree(dy); cudaFree(dl);
				}
				""";
		String cpp = verified("pairs.cu", cuda, Dialect.VNNI);
		assertTrue(cpp.contains("struct half2_lanes {\n    _Float16 x;\n    _Float16 y;\n};"), cpp);
		assertFalse(cpp.contains("__h"), cpp);
		String bang = verified("pairs.cu", cuda, Dialect.BANG);
		assertTrue(bang.contains("struct half2_lanes {\n    half x;\n    half y;\n};"), bang);
		// and the C++ with its pair struct goes back to CUDA, the lanes' arithmetic through float
		String back = verified("pairs.cpp", cpp, Dialect.CUDA);
		assertTrue(back.contains("__half x;") && back.contains("#include <cuda_fp16.h>"), back);
	}

	@Test
	public void cudaHalfBecomesFloat16InCppAndHalfInBang() {
		String cpp = verified("hscale.cu", CUDA_HALF, Dialect.VNNI);
		assertTrue(cpp.contains("_Float16 h = "), cpp);
		assertFalse(cpp.contains("__half"), cpp);
		assertFalse(cpp.contains("__hfma"), cpp);
		String bang = verified("hscale.cu", CUDA_HALF, Dialect.BANG);
		assertTrue(bang.contains("half h = "), bang);
		assertFalse(bang.contains("_Float16"), bang);
	}

	@Test
	public void bangHalfReachesCudaAndHipWithTheirHalfHeaders() {
		String bang = """
				__nram__ float xf[1024];
				__nram__ half xh[1024];
				__mlu_global__ void scale(const float* x, float* y) {
				    if (taskId != 0) return;
				    __memcpy(xf, x, 1024 * sizeof(float), GDRAM2NRAM);
				    __bang_float2half_rn(xh, xf, 1024);
				    __bang_mul_scalar(xh, xh, (half)3.0f, 1024);
				    __bang_half2float(xf, xh, 1024);
				    __memcpy(y, xf, 1024 * sizeof(float), NRAM2GDRAM);
				}
				""";
		String cuda = verified("scale.mlu", bang, Dialect.CUDA);
		assertTrue(cuda.contains("#include <cuda_fp16.h>"), cuda);
		assertTrue(cuda.contains("__half "), cuda);
		assertFalse(cuda.contains("_Float16"), cuda);
		String hip = verified("scale.mlu", bang, Dialect.HIP);
		assertTrue(hip.contains("#include <hip/hip_fp16.h>"), hip);
	}

	@Test
	public void halfArithmeticIsWrittenThroughFloatForCudasHalfClass() {
		// nvcc finds __half * float ambiguous (operator* of __half, or float's through operator float)
		String cpp = """
				extern "C" void square_kernel(const _Float16* x, _Float16* y, float* z) {
				    for (int i = 0; i < 256; ++i) {
				        _Float16 h = x[i] * x[i];
				        h += x[i];
				        y[i] = -h;
				        z[i] = h * 0.5f;
				    }
				}
				""";
		String cuda = verified("square.cpp", cpp, Dialect.CUDA);
		assertTrue(cuda.contains("__half h = (__half)((float)(x[i]) * (float)(x[i]));"), cuda);
		assertTrue(cuda.contains("h = (__half)((float)(h) + (float)(x[i]));"), cuda);
		assertTrue(cuda.contains("y[i] = (__half)(-(float)(h));"), cuda);
		assertTrue(cuda.contains("z[i] = (float)(h) * 0.5f;"), cuda);
		// BANG C computes with half operands as they are
		String bang = verified("square.cpp", cpp, Dialect.BANG);
		assertTrue(bang.contains("half h = x[i] * x[i];") || bang.contains("__bang_mul"), bang);
	}

	@Test
	public void theRawHalfBitsOfCppStayIntegersElsewhere() {
		String cpp = """
				#include <stdint.h>
				extern "C" void copy_kernel(const half* x, half* y) {
				    for (int i = 0; i < 256; ++i) {
				        y[i] = x[255 - i];
				    }
				}
				""";
		String cuda = verified("copy.cpp", cpp, Dialect.CUDA);
		assertTrue(cuda.contains("const uint16_t *x"), cuda);
		assertTrue(cuda.contains("uint16_t *d_x;"), cuda);
		assertFalse(cuda.contains("half *"), cuda);
	}
}
