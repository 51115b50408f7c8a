package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xpiler.devices.Device;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.NativeCpuDevice;
import org.xpiler.devices.NativeGpuDevice;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.lang.dialect.Dialect;

/**
 * Every corpus kernel runs on the virtual device and the four dialect versions of each operator and shape
 * agree element by element (the CUDA version is the reference); every VNNI kernel gives the same outputs
 * natively (g++) as on the virtual device, and so does every CUDA kernel on an NVIDIA GPU where there is one,
 * which keeps the virtual device honest.
 */
public class CorpusAgreementTest {
	private static final Path CORPUS = Path.of(System.getProperty("xpiler.corpus", "../corpus"));

	static Stream<String> kernels() throws IOException {
		try (Stream<Path> files = Files.list(CORPUS.resolve("cuda"))) {
			return files.map(f -> f.getFileName().toString().replace(".cu", "")).sorted().toList().stream();
		}
	}

	private static KernelSource source(Dialect dialect, String kernel) throws IOException {
		Path file = CORPUS.resolve(dialect.id()).resolve(kernel + "." + dialect.fileExtensions().get(0));
		return KernelSource.read(file, dialect);
	}

	private static void assertAgree(KernelSource reference, KernelSource candidate, Device device) {
		Oracle.Verdict verdict = new Oracle().verify(reference, candidate, device, Map.of(), 11, RunRequest.of(List.of()));
		assertTrue(verdict.matches(), () -> candidate.displayName() + " vs " + reference.displayName() + ": " + verdict.summary());
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("kernels")
	public void theFourDialectVersionsAgreeOnTheVirtualDevice(String kernel) throws IOException {
		KernelSource cuda = source(Dialect.CUDA, kernel);
		for (Dialect other : List.of(Dialect.HIP, Dialect.BANG, Dialect.VNNI)) {
			assertAgree(cuda, source(other, kernel), new VirtualDevice());
		}
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("kernels")
	public void theVnniVersionGivesTheSameOutputsNatively(String kernel) throws IOException {
		NativeCpuDevice nativeCpu = new NativeCpuDevice();
		assumeTrue(nativeCpu.unavailableReason().isEmpty(), () -> nativeCpu.unavailableReason().orElse(""));
		KernelSource vnni = source(Dialect.VNNI, kernel);
		assertAgree(vnni, vnni, nativeCpu);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("kernels")
	public void theCudaVersionGivesTheSameOutputsOnTheGpu(String kernel) throws IOException {
		NativeGpuDevice gpu = new NativeGpuDevice();
		assumeTrue(gpu.unavailableReason().isEmpty(), () -> gpu.unavailableReason().orElse(""));
		KernelSource cuda = source(Dialect.CUDA, kernel);
		assertAgree(cuda, cuda, gpu);
	}
}
