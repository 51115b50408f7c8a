package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xpiler.devices.tests.FloatBuffers.floatsOf;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelRuns;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.lang.dialect.Dialect;

/**
 * A bare {@code __global__} kernel (no host wrapper, as TVM and other generators write them) runs without a
 * launch shape when its code settles one: the block from {@code __launch_bounds__}, each grid dimension from the
 * bound its index is guarded with. When the code does not settle it, the message says which option to give.
 */
public class LaunchInferenceTest {
	private final KernelRuns runs = new KernelRuns();

	private static KernelSource cuda(String text) {
		return new KernelSource(Path.of("bare.cu"), Dialect.CUDA, text);
	}

	private RunRequest shapeOf(String kernel, RunRequest given) {
		return runs.withLaunchShape(cuda(kernel), Map.of(), 1, given);
	}

	private RunRequest shapeOf(String kernel) {
		return shapeOf(kernel, RunRequest.of(List.of()));
	}

	@Test
	public void aGuardedGeneratedKernelGetsTheGridItsGuardBoundsAndItsLaunchBounds() {
		String kernel = """
				extern "C" __global__ void __launch_bounds__(256) add(float* __restrict__ A, float* __restrict__ B,
				        float* __restrict__ T_add) {
				  if (((((int)blockIdx.x) * 256) + ((int)threadIdx.x)) < 1000) {
				    T_add[((((int)blockIdx.x) * 256) + ((int)threadIdx.x))] = (A[((((int)blockIdx.x) * 256)
				        + ((int)threadIdx.x))] + B[((((int)blockIdx.x) * 256) + ((int)threadIdx.x))]);
				  }
				}
				""";
		RunRequest shaped = shapeOf(kernel);
		assertArrayEquals(new int[] { 4, 1, 1 }, shaped.grid());
		assertArrayEquals(new int[] { 256, 1, 1 }, shaped.block());

		// and a plain run infers the same shape: every element of the guarded range is computed, no more
		KernelRuns.Report report = runs.run(new VirtualDevice(), cuda(kernel), Map.of(), 1, RunRequest.of(List.of()));
		float[] a = floatsOf(report.buffers().get(0).buffer());
		float[] b = floatsOf(report.buffers().get(1).buffer());
		float[] sum = floatsOf(report.buffers().get(2).buffer());
		assertEquals(1000, sum.length);
		for (int i = 0; i < 1000; i++) {
			assertEquals(a[i] + b[i], sum[i]);
		}
	}

	@Test
	public void eachGridDimensionTheKernelReadsEndsAtItsGuard() {
		String kernel = """
				__global__ void __launch_bounds__(32) scale(const float* x, float* y)
				{
				    int row = blockIdx.y;
				    int col = blockIdx.x * blockDim.x + threadIdx.x;
				    if (row < 40 && col < 70) {
				        y[row * 70 + col] = 2.0f * x[row * 70 + col];
				    }
				}
				""";
		assertArrayEquals(new int[] { 3, 40, 1 }, shapeOf(kernel).grid());
	}

	@Test
	public void aGridStrideKernelGetsEnoughBlocksForOneElementPerThread() {
		String kernel = """
				__global__ void __launch_bounds__(128) relu(const float* x, float* y)
				{
				    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < 1000; i += blockDim.x * gridDim.x) {
				        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
				    }
				}
				""";
		assertArrayEquals(new int[] { 8, 1, 1 }, shapeOf(kernel).grid());
	}

	@Test
	public void aGivenBlockStandsInForMissingLaunchBoundsAndAGivenGridIsKept() {
		String kernel = """
				__global__ void copy(const int* x, int* y)
				{
				    int i = blockIdx.x * blockDim.x + threadIdx.x;
				    if (i < 300) {
				        y[i] = x[i];
				    }
				}
				""";
		DeviceException missing = assertThrows(DeviceException.class, () -> shapeOf(kernel));
		assertTrue(missing.getMessage().contains("without a host wrapper or __launch_bounds__")
				&& missing.getMessage().contains("--block"), missing.getMessage());

		RunRequest blockGiven = shapeOf(kernel, RunRequest.of(List.of()).withLaunchShape(null, new int[] { 64, 1, 1 }));
		assertArrayEquals(new int[] { 5, 1, 1 }, blockGiven.grid());
		RunRequest both = shapeOf(kernel,
				RunRequest.of(List.of()).withLaunchShape(new int[] { 7, 1, 1 }, new int[] { 64, 1, 1 }));
		assertArrayEquals(new int[] { 7, 1, 1 }, both.grid());
	}

	@Test
	public void anUnguardedKernelOrATwoDimensionalBlockAsksForTheShape() {
		String unguarded = """
				__global__ void __launch_bounds__(64) fill(float* y)
				{
				    y[blockIdx.x * 64 + threadIdx.x] = 1.0f;
				}
				""";
		DeviceException grid = assertThrows(DeviceException.class, () -> shapeOf(unguarded));
		assertTrue(grid.getMessage().contains("still writes global memory") && grid.getMessage().contains("--grid"),
				grid.getMessage());
		assertEquals(1, grid.diagnostics().get(0).line());

		String twoDimensional = """
				__global__ void __launch_bounds__(256) tile(float* y)
				{
				    if (threadIdx.y < 16 && threadIdx.x < 16) {
				        y[threadIdx.y * 16 + threadIdx.x] = 0.0f;
				    }
				}
				""";
		DeviceException block = assertThrows(DeviceException.class, () -> shapeOf(twoDimensional));
		assertTrue(block.getMessage().contains("more than one dimension") && block.getMessage().contains("--block"),
				block.getMessage());
	}

	@Test
	public void aKernelWithAHostWrapperIsLeftAsItIs() {
		String kernel = """
				__global__ void twice(float* y) { y[threadIdx.x] *= 2.0f; }
				extern "C" void twice_kernel(float* y)
				{
				    float* d;
				    cudaMalloc((void**)&d, 32 * sizeof(float));
				    cudaMemcpy(d, y, 32 * sizeof(float), cudaMemcpyHostToDevice);
				    twice<<<1, 32>>>(d);
				    cudaMemcpy(y, d, 32 * sizeof(float), cudaMemcpyDeviceToHost);
				    cudaFree(d);
				}
				""";
		RunRequest shaped = shapeOf(kernel);
		assertEquals(null, shaped.grid());
		assertEquals(null, shaped.block());
	}
}
