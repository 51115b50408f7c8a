package org.xpiler.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.xpiler.core.vm.Argument;
import org.xpiler.core.vm.ElementType;
import org.xpiler.core.vm.InputGenerator;
import org.xpiler.core.vm.VirtualMachine;
import org.xpiler.core.vm.VmOptions;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * The same scalar C++ GEMM (benchmarks/kernels/gemm_256.cpp) on the virtual device and compiled natively by
 * g++ -O2, in one run: median wall time of the kernel call over several repetitions after warm-up, and the
 * ratio. The goal is the virtual device within 20x of native.
 */
public final class VirtualDeviceVersusNative {
	private static final int WARMUP = 10;
	private static final int REPETITIONS = 15;

	public static void main(String[] args) throws Exception {
		Path kernel = Path.of(args.length > 0 ? args[0] : "benchmarks/kernels/gemm_256.cpp");
		double nativeMillis = nativeMillis(kernel);
		double vmMillis = virtualDeviceMillis(kernel);
		System.out.printf("%s: native g++ -O2 %.2f ms, virtual device %.2f ms (median of %d), ratio %.1fx (goal: 20x or less)%n",
				kernel.getFileName(), nativeMillis, vmMillis, REPETITIONS, vmMillis / nativeMillis);
	}

	private static double virtualDeviceMillis(Path kernel) throws IOException {
		ParsedKernel parsed = new KernelParser().parse(kernel, Optional.of(Dialect.VNNI));
		InputGenerator inputs = new InputGenerator(1);
		List<Argument> arguments = List.of(
				new Argument.Buffer("A", ElementType.F32, inputs.buffer(ElementType.F32, 0, 256 * 256)),
				new Argument.Buffer("B", ElementType.F32, inputs.buffer(ElementType.F32, 1, 256 * 256)),
				new Argument.Buffer("C", ElementType.F32, new byte[256 * 256 * 4]));
		double[] times = new double[REPETITIONS];
		for (int i = 0; i < WARMUP + REPETITIONS; i++) {
			VirtualMachine.Result result = VirtualMachine.run(parsed.unit(), Dialect.VNNI, kernel.toString(),
					Optional.empty(), arguments, null, VmOptions.defaults(), inputs, false);
			if (i >= WARMUP) {
				times[i - WARMUP] = result.elapsed().toNanos() / 1e6;
			}
		}
		return median(times);
	}

	/** Compiles the kernel with a timing main and returns the median of its reported call times. */
	private static double nativeMillis(Path kernel) throws IOException, InterruptedException {
		Path work = Files.createTempDirectory("xpiler-bench");
		Path source = work.resolve("bench.cpp");
		Files.writeString(source, "#include <chrono>\n#include <cstdio>\n#include <vector>\n#line 1 \"" + kernel + "\"\n"
				+ Files.readString(kernel) + """

				int main() {
				    std::vector<float> a(256 * 256), b(256 * 256), c(256 * 256);
				    for (int i = 0; i < 256 * 256; i++) { a[i] = (i %% 17) / 17.0f - 0.5f; b[i] = (i %% 13) / 13.0f - 0.5f; }
				    for (int r = 0; r < %d; r++) {
				        auto start = std::chrono::steady_clock::now();
				        gemm_kernel(a.data(), b.data(), c.data());
				        auto end = std::chrono::steady_clock::now();
				        if (r >= %d) std::printf("%%.4f\\n", std::chrono::duration<double, std::milli>(end - start).count());
				    }
				    std::fprintf(stderr, "%%f\\n", c[12345]);
				}
				""".formatted(WARMUP + REPETITIONS, WARMUP));
		Path binary = work.resolve("bench");
		run(List.of("g++", "-O2", "-o", binary.toString(), source.toString()));
		List<String> lines = run(List.of(binary.toString()));
		double[] times = lines.stream().filter(l -> !l.isBlank()).mapToDouble(Double::parseDouble).toArray();
		try (var files = Files.walk(work)) {
			files.sorted((x, y) -> y.compareTo(x)).forEach(p -> p.toFile().delete());
		}
		return median(times);
	}

	private static List<String> run(List<String> command) throws IOException, InterruptedException {
		Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
		String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		if (process.waitFor() != 0) {
			throw new IllegalStateException(String.join(" ", command) + " failed");
		}
		return new ArrayList<>(out.lines().toList());
	}

	private static double median(double[] values) {
		double[] sorted = values.clone();
		Arrays.sort(sorted);
		return sorted[sorted.length / 2];
	}
}
