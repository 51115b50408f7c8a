package org.xpiler.devices;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.xpiler.devices.ToolProcess.Outcome;
import org.xpiler.devices.ToolProcess.WorkFolder;
import org.xpiler.lang.diagnostics.Diagnostic;

/**
 * A vendor compiler (g++, nvcc, hipcc) applied to a kernel file the way the dialect's harness sees it: the
 * dialect's prelude, then {@code #line 1 "<file>"} so that the compiler locates its findings in the user's
 * file, then the kernel text and whatever a device appends after it (the native run harness). The native and
 * the compile-only devices both compile through here.
 */
final class KernelCompiler {
	/** nvcc on a big kernel takes tens of seconds; a compiler still busy after this is stuck. */
	private static final Duration COMPILE_TIME_LIMIT = Duration.ofMinutes(5);

	/** Compilers talk ASCII with plain quotes when the locale is C, whatever the user's locale. */
	private static final Map<String, String> PLAIN_LOCALE = Map.of("LC_ALL", "C");

	private final String program;
	private final List<String> options;
	private final String sourceFileName;
	private final Map<String, String> environment;

	/**
	 * @param program        the compiler on {@code PATH}
	 * @param options        what comes before the source file on the command line ({@code -arch=sm_80 -c})
	 * @param sourceFileName the name of the file written for the compiler; its extension selects the language
	 * @param environment    variables the compiler needs ({@code HIP_PLATFORM=amd})
	 */
	KernelCompiler(String program, List<String> options, String sourceFileName, Map<String, String> environment) {
		this.program = program;
		this.options = List.copyOf(options);
		this.sourceFileName = sourceFileName;
		Map<String, String> merged = new HashMap<>(PLAIN_LOCALE);
		merged.putAll(environment);
		this.environment = Map.copyOf(merged);
	}

	/** The same compiler with {@code option} added last before the file ({@code -c} for an object only). */
	KernelCompiler withOption(String option) {
		List<String> more = new ArrayList<>(options);
		more.add(option);
		return new KernelCompiler(program, more, sourceFileName, environment);
	}

	String program() {
		return program;
	}

	/** Empty when the compiler is on {@code PATH}, otherwise "nvcc is not installed". */
	Optional<String> unavailableReason() {
		return ToolProcess.onPath(program) ? Optional.empty() : Optional.of(program + " is not installed");
	}

	/**
	 * The whole text the compiler reads: {@code before} (a harness's own includes), the prelude, the kernel
	 * behind a {@code #line} directive naming its file, then {@code after}.
	 */
	static String translationUnit(KernelSource source, String before, String after) {
		return before + source.dialect().prelude() + "\n" + lineDirective(source.displayName()) + source.text()
				+ "\n" + after;
	}

	/** {@code #line 1 "<file>"} and a newline: what follows is line 1 of {@code file} in diagnostics. */
	static String lineDirective(String file) {
		return "#line 1 \"" + file.replace("\\", "\\\\").replace("\"", "\\\"") + "\"\n";
	}

	/**
	 * Compiles {@code translationUnit} (see {@link #translationUnit}); the findings located in the kernel file
	 * become diagnostics, everything else stays in the output.
	 *
	 * @param output where the object or executable goes; empty to throw it away with the work folder
	 */
	CompileResult compile(String device, KernelSource source, String translationUnit, Optional<Path> output) {
		Optional<String> missing = unavailableReason();
		if (missing.isPresent()) {
			return failure(device, source, missing.get(), "");
		}
		try (WorkFolder work = WorkFolder.create(program.replaceAll("[^A-Za-z0-9]", "x"))) {
			Path file = work.resolve(sourceFileName);
			Files.writeString(file, translationUnit);
			List<String> command = new ArrayList<>();
			command.add(program);
			command.addAll(options);
			command.add(file.toString());
			command.add("-o");
			command.add(output.orElse(work.resolve("kernel.o")).toString());
			Outcome outcome = ToolProcess.run(command, work.path(), environment, COMPILE_TIME_LIMIT);
			if (outcome.timedOut()) {
				return failure(device, source, program + " was still compiling after " + COMPILE_TIME_LIMIT.toMinutes()
						+ " minutes and was stopped", outcome.output());
			}
			List<Diagnostic> diagnostics = CompilerDiagnostics.parse(outcome.output(), source.displayName(), program);
			return new CompileResult(device, outcome.succeeded(), diagnostics, outcome.output());
		} catch (IOException e) {
			return failure(device, source, "cannot run " + program + ": " + e.getMessage(), "");
		}
	}

	private CompileResult failure(String device, KernelSource source, String message, String output) {
		return CompilerDiagnostics.wholeFileFailure(device, source.displayName(), message, program, output);
	}
}
