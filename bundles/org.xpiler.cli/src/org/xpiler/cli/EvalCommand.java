package org.xpiler.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.xpiler.engine.pipeline.Evaluation;
import org.xpiler.lang.dialect.Dialect;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code xpiler eval}: translate a folder of kernels and measure the results (the paper's Table 6). */
@Command(name = "eval", mixinStandardHelpOptions = true,
		description = { "Translate every --from kernel in DIR (sorted by name) to --to and measure: computation "
				+ "accuracy (the output passed the oracle against the source on the virtual device), compilation "
				+ "accuracy (the output compiles with nvcc, hipcc, bang-check or g++; reported as unavailable when the "
				+ "tool is missing), for C++ and CUDA targets native agreement (the output run on this CPU, or on this "
				+ "machine's NVIDIA GPU, matches the source), "
				+ "the time per kernel, and how many outputs use the target's intrinsics and parallel index.",
				"Kernels whose source does not run on the virtual device are listed but left out of the figures. "
						+ "Exit 0 when the run completed, whatever the accuracy." })
class EvalCommand implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	@Mixin
	JsonOption json;

	@Option(names = "--from", paramLabel = "D", required = true, converter = DialectConverter.class,
			description = "The dialect of the kernels to translate: cuda, hip, bang or vnni (selects the files by extension).")
	Dialect from;

	@Option(names = "--to", paramLabel = "D", required = true, converter = DialectConverter.class,
			description = "The target dialect: cuda, hip, bang or vnni.")
	Dialect to;

	@Option(names = { "-j", "--jobs" }, paramLabel = "N", defaultValue = "1",
			description = "Kernels translated at once (default 1).")
	int jobs;

	@Option(names = "--report", paramLabel = "REPORT.json",
			description = "Also write every kernel's result and the summary to this JSON file.")
	Path report;

	@Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the oracle's random inputs.")
	long seed;

	@Parameters(paramLabel = "DIR", description = "The folder of kernels.")
	Path dir;

	@Override
	public Integer call() throws IOException {
		if (!Files.exists(dir)) {
			throw new UserException(dir + ": no such directory");
		}
		if (!Files.isDirectory(dir)) {
			throw new UserException(dir + ": not a directory (eval takes a folder of kernels)");
		}
		if (jobs < 1) {
			throw new UserException("--jobs must be at least 1, not " + jobs);
		}
		if (from == to) {
			throw new UserException("--from and --to are both " + from.id() + ": choose another target");
		}
		List<Path> kernels = Evaluation.kernels(dir, from);
		if (kernels.isEmpty()) {
			throw new UserException(dir + " holds no " + from.displayName() + " kernels (*."
					+ String.join(", *.", from.fileExtensions()) + ")");
		}
		PrintWriter out = spec.commandLine().getOut();
		if (!json.enabled()) {
			out.printf("Evaluating %d %s kernels of %s -> %s (%d job%s, seed %d)%n", kernels.size(), from.displayName(),
					dir, to.displayName(), jobs, jobs == 1 ? "" : "s", seed);
			out.flush();
		}
		Evaluation.Report result = Evaluation.run(dir, from, to, jobs, seed, kernel -> {
			if (!json.enabled()) {
				out.println(kernel.line());
				out.flush();
			}
		});
		if (report != null) {
			result.write(report);
		}
		if (json.enabled()) {
			out.println(result.toJson());
		} else {
			out.println();
			out.print(result.summary().table());
			if (report != null) {
				out.println("report: " + report);
			}
		}
		return ExitCode.OK;
	}
}
