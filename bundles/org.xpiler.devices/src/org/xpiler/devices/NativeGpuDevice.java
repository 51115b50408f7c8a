package org.xpiler.devices;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import org.xpiler.lang.dialect.Dialect;

/**
 * Runs CUDA programs on this machine's NVIDIA GPU: the program's host entry (the {@code extern "C"} wrapper that
 * copies the buffers to the GPU, launches the kernels and copies the results back) is called by the same
 * {@link NativeHarness} as on the CPU, compiled by {@code nvcc} for the GPU's own architecture. This is the check
 * that the virtual device's reading of a CUDA kernel is what the hardware does; the time reported is the whole
 * entry call, copies included. Available where {@code nvcc} is installed and {@code nvidia-smi} lists a GPU.
 */
public final class NativeGpuDevice implements Device {
	public static final String ID = "gpu";

	private static final String COMPILER = "nvcc";

	private static final String SOURCE_FILE_NAME = "kernel.cu";

	/** The architecture compile() checks against where no GPU says which it is: the compile-only device's. */
	private static final String FALLBACK_ARCHITECTURE = "sm_80";

	private static final Duration PROBE_TIME_LIMIT = Duration.ofSeconds(30);

	/** Shared by every instance: "compile once" holds for the whole process. */
	private static final ExecutableCache EXECUTABLES = new ExecutableCache();

	/** The GPU nvidia-smi lists first, probed once per JVM. */
	private record Gpu(String name, String architecture) {
		static final Optional<Gpu> FIRST = probe();

		static final String MISSING_REASON = "no NVIDIA GPU is visible (nvidia-smi is missing or lists none)";

		/** {@code nvidia-smi --query-gpu=name,compute_cap} prints {@code NVIDIA H100 80GB HBM3, 9.0}. */
		private static Optional<Gpu> probe() {
			if (!ToolProcess.onPath("nvidia-smi")) {
				return Optional.empty();
			}
			try {
				ToolProcess.Outcome outcome = ToolProcess.run(
						List.of("nvidia-smi", "--query-gpu=name,compute_cap", "--format=csv,noheader"),
						Path.of(System.getProperty("java.io.tmpdir")), Map.of(), PROBE_TIME_LIMIT);
				if (!outcome.succeeded()) {
					return Optional.empty();
				}
				return outcome.output().lines().map(String::strip).filter(line -> line.matches(".+,\\s*\\d+\\.\\d+"))
						.findFirst().map(line -> {
							int comma = line.lastIndexOf(',');
							String capability = line.substring(comma + 1).strip();
							return new Gpu(line.substring(0, comma).strip(), "sm_" + capability.replace(".", ""));
						});
			} catch (IOException e) {
				return Optional.empty();
			}
		}
	}

	/** nvcc's options for this machine's GPU; the probe runs on first use, not when the device is listed. */
	private static List<String> options() {
		return List.of("-O2", "-std=c++17", "-arch=" + Gpu.FIRST.map(Gpu::architecture).orElse(FALLBACK_ARCHITECTURE));
	}

	/** The CUDA runtime reserves far more address space than it touches: no limit on it. */
	private HarnessRuns runs() {
		return new HarnessRuns(ID, Dialect.CUDA, new KernelCompiler(COMPILER, options(), SOURCE_FILE_NAME, Map.of()),
				this::unavailableReason, bufferBytes -> OptionalLong.empty(), EXECUTABLES);
	}

	@Override
	public String id() {
		return ID;
	}

	@Override
	public String description() {
		String gpu = Gpu.FIRST.map(Gpu::name).orElse("an NVIDIA GPU");
		return gpu + ", through nvcc " + String.join(" ", options()) + " (the host wrapper is called with host buffers);"
				+ " runs are sandboxed: " + runs().describeSandbox();
	}

	@Override
	public Optional<String> unavailableReason() {
		if (!ToolProcess.onPath(COMPILER)) {
			return Optional.of("nvcc is not installed (the gpu device compiles programs with it)");
		}
		return Gpu.FIRST.isPresent() ? Optional.empty() : Optional.of(Gpu.MISSING_REASON);
	}

	@Override
	public boolean canRun() {
		return true;
	}

	@Override
	public CompileResult compile(KernelSource source) {
		return runs().compile(source);
	}

	@Override
	public RunResult run(KernelSource source, RunRequest request) {
		return runs().run(source, request);
	}
}
