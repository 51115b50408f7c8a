package org.xpiler.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import org.xpiler.core.vm.VirtualMachine;
import org.xpiler.devices.KernelSource;
import org.xpiler.engine.pipeline.RunRecord;
import org.xpiler.engine.pipeline.StepRecord;
import org.xpiler.engine.pipeline.Translator;
import org.xpiler.lang.dialect.Dialect;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code xpiler translate}: a verified translation to another dialect. */
@Command(name = "translate", mixinStandardHelpOptions = true,
		description = { "Translate a kernel to another dialect; every step is checked against the source on the "
				+ "virtual device. OUT is written only when the result verified (exit 0); otherwise exit 1 with the "
				+ "failing step's reason. CUDA and HIP map directly; the other directions go through sequential C++ "
				+ "(detensorize, loop recovery, loop bind)." })
class TranslateCommand implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	@Mixin
	JsonOption json;

	@Option(names = "--from", paramLabel = "D", converter = DialectConverter.class,
			description = "The source dialect (default: from the file extension).")
	Dialect from;

	@Option(names = "--to", paramLabel = "D", required = true, converter = DialectConverter.class,
			description = "The target dialect: cuda, hip, bang or vnni.")
	Dialect to;

	@Option(names = { "-o", "--output" }, paramLabel = "OUT", required = true, description = "Where to write the translation.")
	Path output;

	@Option(names = "--record", paramLabel = "RUN.json", description = "Write the run record (every step, code before "
			+ "and after, verdicts) to this file, whether or not the translation succeeded.")
	Path record;

	@Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the oracle's random inputs.")
	long seed;

	@Mixin
	ScalarArguments scalars;

	@Mixin
	LaunchShapeOptions launchShape;

	@Parameters(paramLabel = "FILE", description = "The kernel to translate.")
	Path file;

	@Override
	public Integer call() throws IOException {
		KernelSource source = KernelRunOptions.source(file);
		if (from != null) {
			source = new KernelSource(source.file(), from, source.text());
		}
		Translator.Result result = new Translator().translate(source, to, scalars.values(),
				new VirtualMachine.LaunchShape(launchShape.grid(), launchShape.block()), seed);
		RunRecord run = result.record();
		if (record != null) {
			writeAtomically(record, JsonOption.mapper().writeValueAsString(run));
		}
		PrintWriter out = spec.commandLine().getOut();
		if (result.output().isPresent()) {
			writeAtomically(output, result.output().get());
		}
		if (json.enabled()) {
			Map<String, Object> summary = new LinkedHashMap<>();
			summary.put("source", run.source());
			summary.put("from", run.from());
			summary.put("to", run.to());
			summary.put("verified", run.verified());
			summary.put("reason", run.reason());
			summary.put("assumedScalars", run.assumedScalars());
			summary.put("output", result.output().isPresent() ? output.toString() : null);
			summary.put("steps", run.steps().stream().map(s -> Map.of("pass", s.pass(), "verdict", s.verdict(),
					"millis", s.millis())).toList());
			summary.put("millis", run.millis());
			JsonOption.print(out, summary);
		} else if (run.verified()) {
			out.printf("%s -> %s: verified (%s) in %d ms%n", file, output,
					String.join(", ", run.steps().stream().filter(StepRecord::accepted).map(StepRecord::pass).toList()),
					run.millis());
		}
		String assumed = "checked with the assumed " + Translator.assignments(run.assumedScalars()) + "; --args gives others";
		if (run.verified() && !json.enabled() && !run.assumedScalars().isEmpty()) {
			out.printf("  %s%n", assumed);
		}
		if (!run.verified()) {
			boolean note = !run.assumedScalars().isEmpty() && !run.reason().contains("assumed");
			throw new UserException(file + ": not translated to " + to.displayName() + ": " + run.reason()
					+ (note ? " (" + assumed + ")" : ""));
		}
		return ExitCode.OK;
	}

	/** Writes through a temporary file beside the target, so a failure never leaves it half-written. */
	static void writeAtomically(Path target, String text) throws IOException {
		Path absolute = target.toAbsolutePath();
		Files.createDirectories(absolute.getParent());
		Path temporary = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".tmp");
		try {
			Files.writeString(temporary, text);
			Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
		} finally {
			Files.deleteIfExists(temporary);
		}
	}
}
