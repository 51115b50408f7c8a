package org.xpiler.devices;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.xpiler.core.vm.Argument;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.devices.ToolProcess.Outcome;
import org.xpiler.devices.ToolProcess.WorkFolder;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

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

	private final NativeSandbox sandbox = new NativeSandbox();

	private final KernelCompiler objectCompiler = new KernelCompiler(COMPILER,
			concat(CPU_OPTIONS, "-c"), SOURCE_FILE_NAME, Map.of());

	private final KernelCompiler executableCompiler = new KernelCompiler(COMPILER, CPU_OPTIONS, SOURCE_FILE_NAME,
			Map.of());

	@Override
	public String id() {
		return ID;
	}

	@Override
	public String description() {
		return "this CPU, through g++ " + String.join(" ", CPU_OPTIONS) + " (AVX-512 VNNI); runs are sandboxed: "
				+ sandbox.describe();
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
		if (source.dialect() != Dialect.VNNI) {
			return CompilerDiagnostics.wholeFileFailure(ID, source.displayName(), wrongDialect(source), COMPILER, "");
		}
		return objectCompiler.compile(ID, source, KernelCompiler.translationUnit(source, "", ""), Optional.empty());
	}

	@Override
	public RunResult run(KernelSource source, RunRequest request) {
		if (source.dialect() != Dialect.VNNI) {
			throw new DeviceException(wrongDialect(source));
		}
		unavailableReason().ifPresent(reason -> {
			throw new DeviceException("the native device cannot run kernels here: " + reason);
		});
		EntryPoint entry = entryOf(source, request);
		NativeHarness harness = NativeHarness.generate(entry, request.arguments());
		String translationUnit = KernelCompiler.translationUnit(source, NativeHarness.INCLUDES, harness.text());
		Path executable = EXECUTABLES.executable(translationUnit,
				output -> build(source, entry, translationUnit, output));
		return execute(executable, request);
	}

	private static String wrongDialect(KernelSource source) {
		return "the native device runs C++ (VNNI) kernels; " + source.displayName() + " is "
				+ source.dialect().displayName() + ": run it on the virtual device (--device vm)";
	}

	private static EntryPoint entryOf(KernelSource source, RunRequest request) {
		ParsedKernel parsed = new KernelParser().parse(source.displayName(), source.text(), Dialect.VNNI);
		TranslationUnit unit = parsed.unit();
		if (unit == null || !parsed.resource().getErrors().isEmpty()) {
			throw new DeviceException("cannot find the parameters of the entry of " + source.displayName()
					+ ": fix its syntax errors first", parsed.errors());
		}
		try {
			return EntryPoint.find(unit, request.entry());
		} catch (IllegalArgumentException e) {
			throw new DeviceException(source.displayName() + ": " + e.getMessage());
		}
	}

	private void build(KernelSource source, EntryPoint entry, String translationUnit, Path executable) {
		CompileResult result = executableCompiler.compile(ID, source, translationUnit, Optional.of(executable));
		if (result.success()) {
			return;
		}
		List<Diagnostic> errors = result.diagnostics().stream().filter(Diagnostic::isError).toList();
		if (errors.isEmpty()) {
			throw new DeviceException("g++ cannot build the native harness that calls " + entry.name() + ":\n"
					+ result.output().strip(), result.diagnostics());
		}
		String more = errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : "";
		throw new DeviceException("the kernel does not compile with g++: " + errors.get(0).format() + more,
				result.diagnostics());
	}

	private RunResult execute(Path executable, RunRequest request) {
		List<Argument> arguments = request.arguments();
		Duration limit = request.timeLimit();
		try (WorkFolder work = WorkFolder.create("native-run")) {
			long bufferBytes = 0;
			for (int i = 0; i < arguments.size(); i++) {
				if (arguments.get(i) instanceof Argument.Buffer buffer) {
					Files.write(work.resolve(NativeHarness.inputFile(i)), buffer.contents());
					bufferBytes += buffer.contents().length;
				}
			}
			long cpuSeconds = (limit.toMillis() + 999) / 1000 + 1;
			List<String> command = sandbox.wrap(List.of(executable.toString()), cpuSeconds,
					ADDRESS_SPACE_BASE_BYTES + ADDRESS_SPACE_PER_BUFFER_BYTE * bufferBytes);
			Outcome outcome = ToolProcess.run(command, work.path(), Map.of(), limit);
			checkEnding(outcome, limit, cpuSeconds);
			List<Argument.Buffer> buffers = new ArrayList<>();
			for (int i = 0; i < arguments.size(); i++) {
				if (arguments.get(i) instanceof Argument.Buffer buffer) {
					byte[] contents = Files.readAllBytes(work.resolve(NativeHarness.outputFile(i)));
					buffers.add(new Argument.Buffer(buffer.name(), buffer.type(), contents));
				}
			}
			long nanoseconds = Long.parseLong(Files.readString(work.resolve(NativeHarness.ELAPSED_FILE)).strip());
			return new RunResult(ID, buffers, Duration.ofNanos(nanoseconds));
		} catch (IOException | NumberFormatException e) {
			throw new DeviceException("cannot run the kernel natively: " + e.getMessage());
		}
	}

	private static void checkEnding(Outcome outcome, Duration limit, long cpuSeconds) {
		if (outcome.timedOut()) {
			throw new DeviceException("the kernel ran longer than " + seconds(limit) + " on native");
		}
		if (outcome.exceededCpuTime()) {
			throw new DeviceException("the kernel used more than " + cpuSeconds + "s of CPU time on native");
		}
		if (outcome.signalDescription().isPresent()) {
			throw new DeviceException("the kernel crashed with " + outcome.signalDescription().get());
		}
		if (outcome.exitCode() != 0) {
			throw new DeviceException("the native run failed with exit status " + outcome.exitCode() + ": "
					+ outcome.output().strip());
		}
	}

	/** {@code 2s}, {@code 1.5s}. */
	private static String seconds(Duration duration) {
		return BigDecimal.valueOf(duration.toMillis(), 3).stripTrailingZeros().toPlainString() + "s";
	}

	private static List<String> concat(List<String> options, String option) {
		List<String> all = new ArrayList<>(options);
		all.add(option);
		return List.copyOf(all);
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
