package org.xpiler.devices;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;

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
 * What the native devices (the CPU's and the GPU's) have in common: the kernel and a {@link NativeHarness}
 * generated from its host entry are compiled into an executable once per text, which then runs in a
 * {@link NativeSandbox} on the request's buffers, in a fresh folder, under the request's wall-clock limit.
 * Only the compiler and the memory limit differ between the devices.
 */
final class HarnessRuns {
	/** How much virtual memory a run may map, given the bytes of its buffers; empty for no limit. */
	@FunctionalInterface
	interface AddressSpaceLimit {
		OptionalLong forBuffers(long bufferBytes);
	}

	private final String deviceId;
	private final Dialect dialect;
	private final KernelCompiler compiler;
	private final Supplier<Optional<String>> unavailableReason;
	private final AddressSpaceLimit addressSpaceLimit;
	private final ExecutableCache executables;
	private final NativeSandbox sandbox = new NativeSandbox();

	/**
	 * @param compiler          builds the executable (its options must not include {@code -c})
	 * @param unavailableReason the device's {@link Device#unavailableReason()}
	 * @param executables       shared by every run of the device, so that "compile once" holds for the process
	 */
	HarnessRuns(String deviceId, Dialect dialect, KernelCompiler compiler, Supplier<Optional<String>> unavailableReason,
			AddressSpaceLimit addressSpaceLimit, ExecutableCache executables) {
		this.deviceId = deviceId;
		this.dialect = dialect;
		this.compiler = compiler;
		this.unavailableReason = unavailableReason;
		this.addressSpaceLimit = addressSpaceLimit;
		this.executables = executables;
	}

	String describeSandbox() {
		return sandbox.describe();
	}

	/** The kernel compiled to an object file, the way {@link #run} compiles it with its harness. */
	CompileResult compile(KernelSource source) {
		if (source.dialect() != dialect) {
			return CompilerDiagnostics.wholeFileFailure(deviceId, source.displayName(), wrongDialect(source),
					compiler.program(), "");
		}
		return compiler.withOption("-c").compile(deviceId, source, KernelCompiler.translationUnit(source, "", ""),
				Optional.empty());
	}

	RunResult run(KernelSource source, RunRequest request) {
		if (source.dialect() != dialect) {
			throw new DeviceException(wrongDialect(source));
		}
		unavailableReason.get().ifPresent(reason -> {
			throw new DeviceException("the " + deviceId + " device cannot run programs here: " + reason);
		});
		EntryPoint entry = hostEntryOf(source, request);
		NativeHarness harness = NativeHarness.generate(entry, request.arguments());
		String translationUnit = KernelCompiler.translationUnit(source, NativeHarness.INCLUDES, harness.text());
		Path executable = executables.executable(translationUnit,
				output -> build(source, entry, translationUnit, output));
		return execute(executable, request);
	}

	private String wrongDialect(KernelSource source) {
		return "the " + deviceId + " device runs only " + dialect.displayName() + "; " + source.displayName() + " is "
				+ source.dialect().displayName() + ": run it on the virtual device (--device vm)";
	}

	private EntryPoint hostEntryOf(KernelSource source, RunRequest request) {
		ParsedKernel parsed = new KernelParser().parse(source.displayName(), source.text(), dialect);
		TranslationUnit unit = parsed.unit();
		if (unit == null || !parsed.resource().getErrors().isEmpty()) {
			throw new DeviceException("cannot find the parameters of the entry of " + source.displayName()
					+ ": fix its syntax errors first", parsed.errors());
		}
		EntryPoint entry;
		try {
			entry = EntryPoint.find(unit, request.entry());
		} catch (IllegalArgumentException e) {
			throw new DeviceException(source.displayName() + ": " + e.getMessage());
		}
		if (entry.kind() != EntryPoint.Kind.HOST) {
			// the harness passes host buffers: a kernel would need device memory and a launch shape
			throw new DeviceException("the " + deviceId + " device calls a host function with host buffers, and "
					+ entry.name() + " in " + source.displayName() + " is a kernel: give it a host wrapper (extern \"C\")"
					+ " that copies the buffers and launches it, or run it on the virtual device (--device vm)");
		}
		return entry;
	}

	private void build(KernelSource source, EntryPoint entry, String translationUnit, Path executable) {
		CompileResult result = compiler.compile(deviceId, source, translationUnit, Optional.of(executable));
		if (result.success()) {
			return;
		}
		List<Diagnostic> errors = result.diagnostics().stream().filter(Diagnostic::isError).toList();
		if (errors.isEmpty()) {
			throw new DeviceException(compiler.program() + " cannot build the native harness that calls " + entry.name()
					+ ":\n" + result.output().strip(), result.diagnostics());
		}
		String more = errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : "";
		throw new DeviceException("the kernel does not compile with " + compiler.program() + ": "
				+ errors.get(0).format() + more, result.diagnostics());
	}

	private RunResult execute(Path executable, RunRequest request) {
		List<Argument> arguments = request.arguments();
		Duration limit = request.timeLimit();
		try (WorkFolder work = WorkFolder.create(deviceId + "-run")) {
			long bufferBytes = 0;
			for (int i = 0; i < arguments.size(); i++) {
				if (arguments.get(i) instanceof Argument.Buffer buffer) {
					Files.write(work.resolve(NativeHarness.inputFile(i)), buffer.contents());
					bufferBytes += buffer.contents().length;
				}
			}
			long cpuSeconds = (limit.toMillis() + 999) / 1000 + 1;
			List<String> command = sandbox.wrap(List.of(executable.toString()), cpuSeconds,
					addressSpaceLimit.forBuffers(bufferBytes));
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
			return new RunResult(deviceId, buffers, Duration.ofNanos(nanoseconds));
		} catch (IOException | NumberFormatException e) {
			throw new DeviceException("cannot run the kernel on " + deviceId + ": " + e.getMessage());
		}
	}

	private void checkEnding(Outcome outcome, Duration limit, long cpuSeconds) {
		if (outcome.timedOut()) {
			throw new DeviceException("the kernel ran longer than " + seconds(limit) + " on " + deviceId);
		}
		if (outcome.exceededCpuTime()) {
			throw new DeviceException("the kernel used more than " + cpuSeconds + "s of CPU time on " + deviceId);
		}
		if (outcome.signalDescription().isPresent()) {
			throw new DeviceException("the kernel crashed with " + outcome.signalDescription().get());
		}
		if (outcome.exitCode() != 0) {
			throw new DeviceException("the " + deviceId + " run failed with exit status " + outcome.exitCode() + ": "
					+ outcome.output().strip());
		}
	}

	/** {@code 2s}, {@code 1.5s}. */
	private static String seconds(Duration duration) {
		return BigDecimal.valueOf(duration.toMillis(), 3).stripTrailingZeros().toPlainString() + "s";
	}
}
