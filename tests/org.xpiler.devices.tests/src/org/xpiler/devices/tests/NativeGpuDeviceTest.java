package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.xpiler.devices.tests.FloatBuffers.floats;
import static org.xpiler.devices.tests.FloatBuffers.floatsOf;
import static org.xpiler.devices.tests.FloatBuffers.randomFloats;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.xpiler.core.vm.Argument;
import org.xpiler.devices.CompileResult;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.NativeGpuDevice;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.RunResult;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.dialect.Dialect;

/**
 * The gpu device builds a CUDA program with nvcc and calls its host wrapper on this machine's NVIDIA GPU. The
 * runs need a GPU and are skipped without one; compiling needs only nvcc.
 */
public class NativeGpuDeviceTest {
	private static final String SUM = """
			__global__ void add(const float* a, const float* b, float* c, int n)
			{
				int i = blockIdx.x * blockDim.x + threadIdx.x;
				if (i < n) {
					c[i] = a[i] + b[i];
				}
			}

			extern "C" void sum(const float* a, const float* b, float* c, int n)
			{
				size_t bytes = n * sizeof(float);
				float *da, *db, *dc;
				cudaMalloc((void**)&da, bytes);
				cudaMalloc((void**)&db, bytes);
				cudaMalloc((void**)&dc, bytes);
				cudaMemcpy(da, a, bytes, cudaMemcpyHostToDevice);
				cudaMemcpy(db, b, bytes, cudaMemcpyHostToDevice);
				add<<<(n + 127) / 128, 128>>>(da, db, dc, n);
				cudaMemcpy(c, dc, bytes, cudaMemcpyDeviceToHost);
				cudaFree(da);
				cudaFree(db);
				cudaFree(dc);
			}
			""";

	private final NativeGpuDevice device = new NativeGpuDevice();

	private static boolean nvccInstalled() {
		return List.of(System.getenv().getOrDefault("PATH", "").split(":")).stream()
				.anyMatch(dir -> !dir.isEmpty() && Path.of(dir, "nvcc").toFile().canExecute());
	}

	private void requireGpu() {
		assumeTrue(device.unavailableReason().isEmpty(),
				() -> "the gpu device is not available here: " + device.unavailableReason().orElse(""));
	}

	@Test
	public void aProgramWithAHostWrapperSumsOnTheGpu() {
		requireGpu();
		int n = 1000;
		float[] a = randomFloats(n, 1);
		float[] b = randomFloats(n, 2);
		RunResult result = device.run(cuda("sum.cu", SUM), RunRequest.of(List.of(floats("a", a),
				floats("b", b), floats("c", new float[n]), new Argument.Scalar("n", String.valueOf(n)))));

		float[] expected = new float[n];
		for (int i = 0; i < n; i++) {
			expected[i] = a[i] + b[i];
		}
		assertArrayEquals(expected, floatsOf(result.buffers().get(2)));
		assertArrayEquals(a, floatsOf(result.buffers().get(0)), "an input the program only reads comes back unchanged");
		assertEquals("gpu", result.device());
	}

	@Test
	public void aKernelWithoutAHostWrapperIsRefusedWithAdvice() {
		requireGpu();
		KernelSource kernel = cuda("k.cu", "__global__ void k(float* x) { x[threadIdx.x] = 1.0f; }");

		DeviceException error = assertThrows(DeviceException.class,
				() -> device.run(kernel, RunRequest.of(List.of(floats("x", new float[32])))));

		assertTrue(error.getMessage().contains("host wrapper"), error.getMessage());
	}

	@Test
	public void withoutAGpuARunSaysWhy() {
		assumeTrue(nvccInstalled() && device.unavailableReason().isPresent(), "needs nvcc on a machine without a GPU");

		DeviceException error = assertThrows(DeviceException.class, () -> device.run(cuda("sum.cu", SUM),
				RunRequest.of(List.of(floats("a", new float[1]), floats("b", new float[1]),
						floats("c", new float[1]), new Argument.Scalar("n", "1")))));

		assertTrue(error.getMessage().contains("no NVIDIA GPU is visible"), error.getMessage());
	}

	@Test
	public void theHostWrapperCompilesWithNvcc() {
		assumeTrue(nvccInstalled(), "needs nvcc");

		CompileResult result = device.compile(cuda("sum.cu", SUM));

		assertTrue(result.success(), result.output());
	}

	@Test
	public void aCompileErrorIsLocatedInTheKernelFile() {
		assumeTrue(nvccInstalled(), "needs nvcc");

		CompileResult result = device.compile(cuda("kernels/broken.cu", SUM.replace("c[i] = a[i] + b[i];",
				"c[i] = a[i] + ;")));

		assertFalse(result.success());
		Diagnostic error = result.diagnostics().stream().filter(Diagnostic::isError).findFirst().orElseThrow();
		assertEquals(Path.of("kernels/broken.cu").toString(), error.file());
		assertEquals(5, error.line(), result.output());
	}

	@Test
	public void otherDialectsAreSentToTheVirtualDevice() {
		KernelSource hip = new KernelSource(Path.of("k.hip"), Dialect.HIP, "__global__ void k(float* x) { x[0] = 1; }");

		DeviceException error = assertThrows(DeviceException.class,
				() -> device.run(hip, RunRequest.of(List.of(floats("x", new float[1])))));

		assertTrue(error.getMessage().contains("--device vm"), error.getMessage());
	}

	private static KernelSource cuda(String file, String text) {
		return new KernelSource(Path.of(file), Dialect.CUDA, text);
	}
}
