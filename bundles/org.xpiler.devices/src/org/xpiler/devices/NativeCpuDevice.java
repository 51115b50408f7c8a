package org.xpiler.devices;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import org.xpiler.lang.dialect.Dialect;

/**
 * Runs C++ (VNNI) kernels on this machine's CPU, where the virtual device only simulates them: the kernel and
 * a harness generated from its entry ({@link NativeHarness}) are compiled by g++ for Ice Lake server (AVX-512
 * VNNI) and executed in a {@link NativeSandbox} under the request's wall-clock limit. This is the device that
 * measures real speed; an executable is compiled once per kernel and harness text and reused.
 */
public final class NativeCpuDevice implements Device {
	public static final String ID = "native";

	private static final String COMPILER = "g++";

	private static final List<String> CPU_OPTIONS = List.of("-march=icelake-server", "-O2", "-std=c++17");

	private static final String SOURCE_FILE_NAME = "kernel.cpp";

	private static final Path CPU_INFO = Path.of("/proc/cpuinfo");

	private static final String VNNI_FLAG = "avx512_vnni";

	/** Virtual memory a run may use besides its buffers (the C++ runtime maps a lot it never touches). */
	private static final long ADDRESS_SPACE_BASE_BYTES = 4L << 30;

	/** Room per buffer byte: the harness's aligned copy and whatever temporaries the kernel allocates. */
	private static final int ADDRESS_SPACE_PER_BUFFER_BYTE = 4;

	/** Shared by every instance: "compile once" holds for the whole process. */
	private static final ExecutableCache EXECUTABLES = new ExecutableCache();

	private final HarnessRuns runs = new HarnessRuns(ID, Dialect.VNNI,
			new KernelCompiler(COMPILER, CPU_OPTIONS, SOURCE_FILE_NAME, Map.of()), this::unavailableReason,
			bufferBytes -> OptionalLong.of(ADDRESS_SPACE_BASE_BYTES + ADDRESS_SPACE_PER_BUFFER_BYTE * bufferBytes),
			EXECUTABLES);

	@Override
	public String id() {
		return ID;
	}

	@Override
	public String description() {
		return "this CPU, through g++ " + String.join(" ", CPU_OPTIONS) + " (AVX-512 VNNI); runs are sandboxed: "
				+ runs.describeSandbox();
	}

	@Override
	public Optional<String> unavailableReason() {
		if (!ToolProcess.onPath(COMPILER)) {
			return Optional.of("g++ is not installed (the native device compiles kernels with it)");
		}
		return CpuCheck.MISSING_VNNI;
	}

	@Override
	public boolean canRun() {
		return true;
	}

	@Override
	public CompileResult compile(KernelSource source) {
		return runs.compile(source);
	}

	@Override
	public RunResult run(KernelSource source, RunRequest request) {
		return runs.run(source, request);
	}

	/** Whether this CPU has AVX-512 VNNI, read once from {@code /proc/cpuinfo}. */
	private static final class CpuCheck {
		static final Optional<String> MISSING_VNNI = missingVnni();

		private static Optional<String> missingVnni() {
			List<String> lines;
			try {
				lines = Files.readAllLines(CPU_INFO);
			} catch (IOException e) {
				return Optional.of("cannot read " + CPU_INFO + " to check for AVX-512 VNNI (" + e.getMessage()
						+ "); the native device needs Linux on a CPU with AVX-512 VNNI");
			}
			boolean hasVnni = lines.stream().filter(line -> line.startsWith("flags"))
					.map(line -> Arrays.asList(line.substring(line.indexOf(':') + 1).strip().split("\\s+")))
					.anyMatch(flags -> flags.contains(VNNI_FLAG));
			return hasVnni ? Optional.empty()
					: Optional.of("this CPU lacks AVX-512 VNNI (" + VNNI_FLAG + " is not among the flags in " + CPU_INFO
							+ ")");
		}
	}
}
