package org.xpiler.engine.pipeline;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.engine.passes.Pass;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * Translates a kernel by the planner's pass sequences: each step works on a fresh reading of the previous
 * step's code, is printed in the target dialect, read back (it must parse and validate), and checked by the
 * oracle against the source on the virtual device before the next step runs. The first plan whose every
 * step is accepted gives the output; every step of every plan tried is recorded.
 */
public final class Translator {
	private final KernelParser parser = new KernelParser();
	private final Planner planner = new Planner();
	private final Oracle oracle = new Oracle();

	/** The translated text (empty when no plan succeeded) and the record of what was tried. */
	public record Result(Optional<String> output, RunRecord record) {
	}

	public Result translate(KernelSource source, Dialect to, long seed) {
		long started = System.nanoTime();
		List<StepRecord> steps = new ArrayList<>();
		ParsedKernel parsed = parser.parse(source.displayName(), source.text(), source.dialect());
		if (parsed.hasErrors()) {
			return failure(source, to, "the source has errors: " + first(parsed.errors()), steps, started);
		}
		List<List<Pass>> plans = planner.plans(source.dialect(), to);
		if (plans.isEmpty()) {
			return failure(source, to, "translating " + source.dialect().displayName() + " to " + to.displayName()
					+ " is not implemented yet", steps, started);
		}
		String reason = null;
		for (List<Pass> plan : plans) {
			String current = source.text();
			Dialect dialect = source.dialect();
			boolean planHolds = true;
			for (Pass pass : plan) {
				StepRecord step = step(pass, source, current, dialect, to, seed);
				steps.add(step);
				if (!step.accepted()) {
					reason = pass.name() + " " + step.verdict() + ": " + step.reason();
					planHolds = false;
					break;
				}
				current = step.after();
				dialect = to;
			}
			if (planHolds) {
				RunRecord record = new RunRecord(source.displayName(), source.dialect().id(), to.id(), current, true, null,
						List.copyOf(steps), millisSince(started));
				return new Result(Optional.of(current), record);
			}
			if (reason != null && reason.contains("the source does not run")) {
				break;
			}
		}
		return failure(source, to, reason, steps, started);
	}

	private StepRecord step(Pass pass, KernelSource source, String before, Dialect dialect, Dialect to, long seed) {
		long started = System.nanoTime();
		ParsedKernel parsed = parser.parse(source.displayName(), before, dialect);
		Optional<String> refusal = pass.refusal(parsed.unit(), dialect, to);
		if (refusal.isPresent()) {
			return new StepRecord(pass.name(), Map.of(), before, before, "refused", refusal.get(), null, millisSince(started));
		}
		Map<String, String> knobs = pass.apply(parsed.unit(), dialect, to);
		String after = to.printer().print(parsed.unit());
		Path outputName = outputName(source.file(), to);
		ParsedKernel reread = parser.parse(outputName.toString(), after, to);
		if (reread.hasErrors()) {
			return new StepRecord(pass.name(), knobs, before, after, "rejected",
					"the output does not validate as " + to.displayName() + ": " + first(reread.errors()), null,
					millisSince(started));
		}
		Oracle.Verdict verdict;
		try {
			verdict = oracle.verify(source, new KernelSource(outputName, to, after), new VirtualDevice(), Map.of(), seed,
					RunRequest.of(List.of()));
		} catch (DeviceException e) {
			return new StepRecord(pass.name(), knobs, before, after, "rejected",
					"the source does not run on the virtual device: " + e.getMessage(), null, millisSince(started));
		}
		return new StepRecord(pass.name(), knobs, before, after, verdict.matches() ? "accepted" : "rejected",
				verdict.matches() ? null : verdict.summary(), verdict.summary(), millisSince(started));
	}

	/** {@code gemm.cu} to HIP: {@code gemm.hip}, beside the source. */
	public static Path outputName(Path source, Dialect to) {
		String name = source.getFileName().toString();
		int dot = name.lastIndexOf('.');
		return source.resolveSibling((dot < 0 ? name : name.substring(0, dot)) + "." + to.fileExtensions().get(0));
	}

	private static String first(List<Diagnostic> diagnostics) {
		return diagnostics.stream().limit(3).map(Diagnostic::format).collect(Collectors.joining("; "));
	}

	private static Result failure(KernelSource source, Dialect to, String reason, List<StepRecord> steps, long started) {
		return new Result(Optional.empty(), new RunRecord(source.displayName(), source.dialect().id(), to.id(), null,
				false, reason, List.copyOf(steps), millisSince(started)));
	}

	private static long millisSince(long started) {
		return (System.nanoTime() - started) / 1_000_000;
	}
}
