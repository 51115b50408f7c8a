package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xpiler.devices.CompileOnlyDevice;
import org.xpiler.devices.CompileResult;
import org.xpiler.devices.Device;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.Devices;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.RunRequest;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.dialect.Dialect;

/**
 * The compile-only devices check kernels with the real toolchain of their dialect (nvcc, hipcc) or, for BANG
 * C, with CDT against the intrinsic catalog; their findings are located in the kernel file. A toolchain that
 * is not installed skips its tests.
 */
public class CompileOnlyDeviceTest {
	/** Line 4, column 25 holds the undefined name. */
	private static final String SIMT_KERNEL_WITH_AN_UNDEFINED_NAME = """
			__global__ void scale(float* data, float factor)
			{
			    int i = blockIdx.x * blockDim.x + threadIdx.x;
			    data[i] = data[i] * undefined_factor;
			}
			""";

	private static final String SIMT_KERNEL = """
			__global__ void scale(float* data, float factor)
			{
			    int i = blockIdx.x * blockDim.x + threadIdx.x;
			    data[i] = data[i] * factor;
			}
			""";

	@Test
	public void nvccLocatesAnErrorAtItsLineAndColumnInTheCuFile() {
		CompileResult result = compile(CompileOnlyDevice.nvcc(), "kernels/scale.cu", Dialect.CUDA,
				SIMT_KERNEL_WITH_AN_UNDEFINED_NAME);

		assertFalse(result.success());
		assertOneErrorAt(result, "kernels/scale.cu", 4, 25, "undefined_factor");
	}

	@Test
	public void nvccAcceptsAGoodKernel() {
		CompileResult result = compile(CompileOnlyDevice.nvcc(), "scale.cu", Dialect.CUDA, SIMT_KERNEL);

		assertTrue(result.success(), result.output());
		assertEquals(List.of(), errors(result));
	}

	@Test
	public void hipccLocatesAnErrorAtItsLineAndColumnInTheHipFile() {
		CompileResult result = compile(CompileOnlyDevice.hipcc(), "kernels/scale.hip", Dialect.HIP,
				SIMT_KERNEL_WITH_AN_UNDEFINED_NAME);

		assertFalse(result.success());
		assertOneErrorAt(result, "kernels/scale.hip", 4, 25, "undefined_factor");
	}

	@Test
	public void hipccAcceptsAGoodKernel() {
		CompileResult result = compile(CompileOnlyDevice.hipcc(), "scale.hip", Dialect.HIP, SIMT_KERNEL);

		assertTrue(result.success(), result.output());
		assertEquals(List.of(), errors(result));
	}

	@Test
	public void bangCheckFindsAnUnknownIntrinsicAtItsLine() {
		String kernel = """
				__mlu_global__ void scale(float* data)
				{
				  __nram__ float buffer[64];
				  __memcpy(buffer, data, 64 * sizeof(float), GDRAM2NRAM);
				  __bang_frobnicate(buffer, buffer, 64);
				  __memcpy(data, buffer, 64 * sizeof(float), NRAM2GDRAM);
				}
				""";
		CompileResult result = compile(CompileOnlyDevice.bangCheck(), "kernels/scale.mlu", Dialect.BANG, kernel);

		assertFalse(result.success());
		assertOneErrorAt(result, "kernels/scale.mlu", 5, 3, "__bang_frobnicate");
	}

	@Test
	public void bangCheckAcceptsTheCorpusAddKernel() throws IOException {
		Device bangCheck = CompileOnlyDevice.bangCheck();
		assumeAvailable(bangCheck);
		String corpus = System.getProperty("xpiler.corpus");
		assumeTrue(corpus != null, "-Dxpiler.corpus=<tests/corpus> is not set (the test pom sets it)");

		CompileResult result = bangCheck.compile(KernelSource.read(Path.of(corpus, "bang", "add_64x768.mlu"),
				Dialect.BANG));

		assertTrue(result.success(), result.output());
		assertEquals(List.of(), result.diagnostics());
	}

	@Test
	public void aFileOfAnotherDialectIsRefusedWithTheReason() {
		CompileResult result = CompileOnlyDevice.nvcc()
				.compile(new KernelSource(Path.of("scale.hip"), Dialect.HIP, SIMT_KERNEL));

		assertFalse(result.success());
		assertTrue(errors(result).get(0).message().contains("HIP"), result.output());
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "nvcc", "hipcc", "bang-check" })
	public void runningIsRefusedWithAPointerToTheVirtualDevice(String id) {
		Device device = Devices.byId(id).orElseThrow();
		KernelSource source = new KernelSource(Path.of("scale.cu"), Dialect.CUDA, SIMT_KERNEL);

		DeviceException error = assertThrows(DeviceException.class, () -> device.run(source, RunRequest.of(List.of())));

		assertFalse(device.canRun());
		assertEquals(id + " only compiles: run the kernel on the virtual device (--device vm)", error.getMessage());
	}

	private static CompileResult compile(Device device, String file, Dialect dialect, String text) {
		assumeAvailable(device);
		return device.compile(new KernelSource(Path.of(file), dialect, text));
	}

	private static void assumeAvailable(Device device) {
		Optional<String> reason = device.unavailableReason();
		assumeTrue(reason.isEmpty(), () -> device.id() + " is not available here: " + reason.orElse(""));
	}

	private static void assertOneErrorAt(CompileResult result, String file, int line, int column, String name) {
		List<Diagnostic> errors = errors(result);
		assertEquals(1, errors.size(), result.output());
		Diagnostic error = errors.get(0);
		assertEquals(Path.of(file).toString(), error.file());
		assertEquals(line, error.line(), result.output());
		assertEquals(column, error.column(), result.output());
		assertTrue(error.message().contains(name), error.message());
	}

	private static List<Diagnostic> errors(CompileResult result) {
		return result.diagnostics().stream().filter(Diagnostic::isError).toList();
	}
}
