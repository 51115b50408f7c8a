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

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xpiler.core.vm.Argument;
import org.xpiler.core.vm.ElementType;
import org.xpiler.devices.CompileResult;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.NativeCpuDevice;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.RunResult;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.dialect.Dialect;

/**
 * The native device compiles C++ (VNNI) kernels with g++ and runs them on this CPU: results come back in
 * the buffers, and faults, hangs, compile errors and bad arguments become messages a user can act on. Skipped
 * where g++ or an AVX-512 VNNI CPU is missing.
 */
public class NativeCpuDeviceTest {
	private static final String SUM = """
			extern "C" void sum(const float* a, const float* b, float* c, int n)
			{
				for (int i = 0; i < n; i++) {
					c[i] = a[i] + b[i];
				}
			}
			""";

	private final NativeCpuDevice device = new NativeCpuDevice();

	@BeforeEach
	void requireNativeCpu() {
		Optional<String> reason = device.unavailableReason();
		assumeTrue(reason.isEmpty(), () -> "the native device is not available here: " + reason.orElse(""));
	}

	@Test
	public void aKernelSummingTwoFloatBuffersRunsNativelyAndReturnsTheSums() {
		int n = 37;
		float[] a = randomFloats(n, 1);
		float[] b = randomFloats(n, 2);
		RunResult result = device.run(source("sum.cpp", SUM), RunRequest.of(List.of(floats("a", a),
				floats("b", b), floats("c", new float[n]), new Argument.Scalar("n", String.valueOf(n)))));

		assertEquals(List.of("a", "b", "c"), result.buffers().stream().map(Argument.Buffer::name).toList());
		assertArrayEquals(a, floatsOf(result.buffers().get(0)), "an input the kernel only reads comes back unchanged");
		float[] expected = new float[n];
		for (int i = 0; i < n; i++) {
			expected[i] = a[i] + b[i];
		}
		assertArrayEquals(expected, floatsOf(result.buffers().get(2)));
		assertEquals("native", result.device());
		assertFalse(result.elapsed().isNegative());
	}

	@Test
	public void anOutOfRangeAccessIsReportedAsASegmentationFault() {
		String kernel = """
				extern "C" void crash(float* out)
				{
					volatile long far = 1L << 46;
					out[far] = 1.0f;
				}
				""";
		DeviceException error = assertThrows(DeviceException.class, () -> device.run(source("crash.cpp", kernel),
				RunRequest.of(List.of(floats("out", new float[16])))));

		assertEquals("the kernel crashed with SIGSEGV (segmentation fault)", error.getMessage());
	}

	@Test
	public void anEndlessLoopIsStoppedAtTheTimeLimit() {
		String kernel = """
				extern "C" void spin(int* flag)
				{
					volatile int* watched = flag;
					while (*watched == 0) {
					}
				}
				""";
		RunRequest request = new RunRequest(Optional.empty(), List.of(new Argument.Buffer("flag", ElementType.I32,
				new byte[4])), null, null, 0, Duration.ofSeconds(2));

		DeviceException error = assertThrows(DeviceException.class, () -> device.run(source("spin.cpp", kernel), request));

		assertEquals("the kernel ran longer than 2s on native", error.getMessage());
	}

	@Test
	public void aSyntaxErrorIsLocatedAtItsLineAndColumnInTheKernelFile() {
		String kernel = """
				extern "C" void broken(float* out)
				{
					out[0] = 1.0f +;
				}
				""";
		CompileResult result = device.compile(source("kernels/broken.cpp", kernel));

		assertFalse(result.success());
		Diagnostic error = result.diagnostics().stream().filter(Diagnostic::isError).findFirst().orElseThrow();
		assertEquals(Path.of("kernels/broken.cpp").toString(), error.file());
		assertEquals(3, error.line(), result.output());
		assertEquals(17, error.column(), result.output());
	}

	@Test
	public void aGoodKernelCompilesWithoutErrors() {
		CompileResult result = device.compile(source("sum.cpp", SUM));

		assertTrue(result.success(), result.output());
		assertEquals(List.of(), result.diagnostics().stream().filter(Diagnostic::isError).toList());
	}

	@Test
	public void aScalarThatIsNotANumberIsRejectedNamingItsParameter() {
		RunRequest request = RunRequest.of(List.of(floats("a", new float[4]), floats("b", new float[4]),
				floats("c", new float[4]), new Argument.Scalar("n", "4); system(\"true\"")));

		DeviceException error = assertThrows(DeviceException.class, () -> device.run(source("sum.cpp", SUM), request));

		assertTrue(error.getMessage().contains("parameter 'n'"), error.getMessage());
	}

	@Test
	public void aCudaKernelIsSentToTheVirtualDevice() {
		KernelSource cuda = new KernelSource(Path.of("k.cu"), Dialect.CUDA, "__global__ void k(float* x) { x[0] = 1; }");

		DeviceException error = assertThrows(DeviceException.class,
				() -> device.run(cuda, RunRequest.of(List.of(floats("x", new float[1])))));

		assertTrue(error.getMessage().contains("--device vm"), error.getMessage());
	}

	@Test
	public void theCorpusAddKernelRunsNativelyAndAddsExactly() throws IOException {
		int elements = 64 * 768;
		float[] a = randomFloats(elements, 3);
		float[] b = randomFloats(elements, 4);
		RunResult result = device.run(corpusFile("add_64x768.cpp"), RunRequest.of(
				List.of(floats("A", a), floats("B", b), floats("C", new float[elements]))));

		float[] expected = new float[elements];
		for (int i = 0; i < elements; i++) {
			expected[i] = a[i] + b[i];
		}
		assertArrayEquals(expected, floatsOf(result.buffers().get(2)));
	}

	@Test
	public void theCorpusVnniGemmRunsNativelyAndMultipliesExactly() throws IOException {
		int m = 32;
		int k = 256;
		int n = 64;
		Random random = new Random(5);
		byte[] a = new byte[m * k]; // uint8_t
		byte[] b = new byte[k * n]; // int8_t
		random.nextBytes(a);
		random.nextBytes(b);
		RunResult result = device.run(corpusFile("gemm_u8s8_32x256x64.cpp"),
				RunRequest.of(List.of(new Argument.Buffer("A", ElementType.U8, a),
						new Argument.Buffer("B", ElementType.I8, b),
						new Argument.Buffer("C", ElementType.I32, new byte[m * n * Integer.BYTES]))));

		int[] expected = new int[m * n];
		for (int row = 0; row < m; row++) {
			for (int column = 0; column < n; column++) {
				int accumulator = 0;
				for (int i = 0; i < k; i++) {
					accumulator += Byte.toUnsignedInt(a[row * k + i]) * b[i * n + column];
				}
				expected[row * n + column] = accumulator;
			}
		}
		int[] got = new int[m * n];
		littleEndian(result.buffers().get(2).contents()).asIntBuffer().get(got);
		assertArrayEquals(expected, got);
	}

	private static KernelSource source(String file, String text) {
		return new KernelSource(Path.of(file), Dialect.VNNI, text);
	}

	private static KernelSource corpusFile(String name) throws IOException {
		String corpus = System.getProperty("xpiler.corpus");
		if (corpus == null) {
			throw new IllegalStateException("-Dxpiler.corpus=<tests/corpus> is not set (the test pom sets it)");
		}
		return KernelSource.read(Path.of(corpus, "vnni", name), Dialect.VNNI);
	}

	private static ByteBuffer littleEndian(byte[] bytes) {
		return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
	}
}
