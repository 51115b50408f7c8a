package org.xpiler.engine.pipeline;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import org.xpiler.core.vm.VirtualMachine;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelRuns;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.ScalarDefaults;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.engine.passes.LoopBind;
import org.xpiler.engine.passes.Pass;
import org.xpiler.engine.passes.PassRefusal;
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
		return translate(source, to, Map.of(), seed);
	}

	/**
	 * @param scalars values of the entry's scalar parameters ({@code n=1024}) for the source's run and every
	 *                check; the output keeps the parameters
	 */
	public Result translate(KernelSource source, Dialect to, Map<String, String> scalars, long seed) {
		return translate(source, to, scalars, new VirtualMachine.LaunchShape(null, null), seed);
	}

	/**
	 * @param launch the grid and block of a bare {@code __global__} entry (a CUDA or HIP kernel without a host
	 *               wrapper); either may be null, and is then inferred from the kernel ({@code __launch_bounds__},
	 *               the bound its index is guarded with)
	 */
	public Result translate(KernelSource source, Dialect to, Map<String, String> scalars,
			VirtualMachine.LaunchShape launch, long seed) {
		long started = System.nanoTime();
		List<StepRecord> steps = new ArrayList<>();
		ParsedKernel parsed = parser.parse(source.displayName(), source.text(), source.dialect());
		if (parsed.hasErrors()) {
			return failure(source, to, "the source has errors: " + first(parsed.errors()), Map.of(), steps, started);
		}
		List<LoopBind.Buffer> buffers = new ArrayList<>();
		RunRequest request = RunRequest.of(List.of()).withLaunchShape(launch.grid(), launch.block());
		Map<String, String> assumed = Map.of();
		Map<String, String> checked = scalars;
		try {
			KernelRuns runs = new KernelRuns();
			assumed = runs.assumedScalars(source, scalars, request);
			checked = ScalarDefaults.with(scalars, assumed);
			request = runs.withLaunchShape(source, checked, seed, request);
			KernelRuns.Report run = runs.run(new VirtualDevice(), source, checked, seed, request);
			run.buffers().forEach(b -> buffers.add(new LoopBind.Buffer(b.buffer().contents().length,
					b.role() == KernelRuns.Role.INPUT || b.role() == KernelRuns.Role.IN_OUT,
					b.role() == KernelRuns.Role.OUTPUT || b.role() == KernelRuns.Role.IN_OUT)));
		} catch (DeviceException e) {
			String with = assumed.isEmpty() ? "" : " (with the assumed " + assignments(assumed) + "; --args gives others)";
			return failure(source, to, "the source does not run on the virtual device" + with + ": " + e.getMessage(),
					assumed, steps, started);
		}
		VirtualMachine.LaunchShape bareLaunch = request.grid() == null ? null
				: new VirtualMachine.LaunchShape(request.grid(), request.block());
		List<List<Planner.Stage>> plans = planner.plans(source.dialect(), to, buffers, bareLaunch);
		if (plans.isEmpty()) {
			return failure(source, to, "there is nothing to translate from " + source.dialect().displayName() + " to "
					+ to.displayName(), assumed, steps, started);
		}
		String reason = null;
		for (List<Planner.Stage> plan : plans) {
			String current = source.text();
			String producedBy = null; // the pass that wrote current, whose lines later refusals name
			Dialect dialect = source.dialect();
			boolean planHolds = true;
			for (Planner.Stage stage : plan) {
				StepRecord accepted = null;
				List<String> rejections = new ArrayList<>();
				java.util.Set<String> refusedPasses = new java.util.HashSet<>();
				String code = current;
				Dialect codeDialect = dialect;
				for (Pass pass : stage.alternatives(() -> parser.parse(source.displayName(), code, codeDialect).unit())) {
					if (refusedPasses.contains(pass.name())) {
						continue;
					}
					StepRecord step = step(pass, source, current, dialect, stage.output(), checked, request, seed);
					if ("refused".equals(step.verdict()) && stage.optional() && !stage.readsCode()) {
						// an improvement's precondition holds for none of its knob values; options read from the
						// code are different candidates (another operand, another loop) and are each tried
						refusedPasses.add(pass.name());
					}
					steps.add(step);
					if (step.accepted()) {
						accepted = step;
						break;
					}
					String on = producedBy == null ? "" : " on the " + producedBy + " output";
					rejections.add(pass.name() + knobText(step) + " " + step.verdict() + on + ": " + step.reason());
				}
				if (accepted == null && stage.optional()) {
					continue; // an improvement that does not apply: the code stays as it was
				}
				if (accepted == null) {
					reason = String.join("; ", new LinkedHashSet<>(rejections)); // knob values often fail alike
					planHolds = false;
					break;
				}
				current = accepted.after();
				producedBy = accepted.pass();
				dialect = stage.output();
			}
			if (planHolds) {
				RunRecord record = new RunRecord(source.displayName(), source.dialect().id(), to.id(), current, true, null,
						assumed, List.copyOf(steps), millisSince(started));
				return new Result(Optional.of(current), record);
			}
		}
		return failure(source, to, reason, assumed, steps, started);
	}

	/** {@code n=1000, alpha=0.5} */
	public static String assignments(Map<String, String> scalars) {
		return scalars.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
	}

	private static String knobText(StepRecord step) {
		return step.knobs().isEmpty() ? "" : " " + step.knobs();
	}

	private StepRecord step(Pass pass, KernelSource source, String before, Dialect dialect, Dialect to,
			Map<String, String> scalars, RunRequest request, long seed) {
		long started = System.nanoTime();
		ParsedKernel parsed = parser.parse(source.displayName(), before, dialect);
		Optional<String> refusal = pass.refusal(parsed.unit(), dialect, to);
		if (refusal.isPresent()) {
			return new StepRecord(pass.name(), Map.of(), before, before, "refused", refusal.get(), null, millisSince(started));
		}
		Map<String, String> knobs;
		String after;
		try {
			knobs = pass.apply(parsed.unit(), dialect, to);
			after = to.printer().print(parsed.unit());
		} catch (PassRefusal e) {
			return new StepRecord(pass.name(), Map.of(), before, before, "refused", e.getMessage(), null,
					millisSince(started));
		} catch (RuntimeException e) {
			return new StepRecord(pass.name(), Map.of(), before, before, "rejected",
					"the pass failed: " + e, null, millisSince(started));
		}
		Path outputName = outputName(source.file(), to);
		ParsedKernel reread = parser.parse(outputName.toString(), after, to);
		if (reread.hasErrors()) {
			return new StepRecord(pass.name(), knobs, before, after, "rejected",
					"the output does not validate as " + to.displayName() + ": " + first(reread.errors()), null,
					millisSince(started));
		}
		Oracle.Verdict verdict;
		try {
			verdict = oracle.verify(source, new KernelSource(outputName, to, after), new VirtualDevice(), scalars, seed,
					request);
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

	private static Result failure(KernelSource source, Dialect to, String reason, Map<String, String> assumed,
			List<StepRecord> steps, long started) {
		return new Result(Optional.empty(), new RunRecord(source.displayName(), source.dialect().id(), to.id(), null,
				false, reason, assumed, List.copyOf(steps), millisSince(started)));
	}

	private static long millisSince(long started) {
		return (System.nanoTime() - started) / 1_000_000;
	}
}
