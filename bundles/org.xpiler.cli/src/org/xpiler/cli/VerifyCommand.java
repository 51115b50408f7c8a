package org.xpiler.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelRuns;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.ScalarDefaults;
import org.xpiler.devices.Oracle;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code xpiler verify}: the differential oracle on the command line. */
@Command(name = "verify", mixinStandardHelpOptions = true,
		description = { "Run a reference and a candidate kernel on the same seeded random inputs and compare every "
				+ "buffer the reference writes (pointer parameters matched in order, across dialects).",
				"Floats compare within 1e-5 + 1e-4*|expected| (half 1e-3 + 1e-2*|expected|, bfloat16 1e-2 + "
						+ "2e-2*|expected|), integers exactly. Exit 0 only when everything matches." })
class VerifyCommand implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	@Mixin
	JsonOption json;

	@Mixin
	KernelRunOptions options;

	@Option(names = "--reference", paramLabel = "REF", required = true,
			description = "The kernel whose results are right (run on the virtual device).")
	Path reference;

	@Parameters(paramLabel = "CANDIDATE", description = "The kernel to check (run on --device).")
	Path candidate;

	@Override
	public Integer call() {
		Oracle.Verdict verdict;
		Map<String, String> assumed;
		try {
			KernelSource source = KernelRunOptions.source(reference);
			assumed = new KernelRuns().assumedScalars(source, options.scalars(), options.request());
			verdict = new Oracle().verify(source, KernelRunOptions.source(candidate), options.device(),
					ScalarDefaults.with(options.scalars(), assumed), options.seed, options.request());
		} catch (DeviceException e) {
			throw new UserException("the reference cannot run: " + KernelRunOptions.failure(e).getMessage());
		}
		PrintWriter out = spec.commandLine().getOut();
		if (json.enabled()) {
			Map<String, Object> result = json(verdict);
			result.put("assumedScalars", assumed);
			JsonOption.print(out, result);
		} else {
			out.println((verdict.matches() ? "match: " : "MISMATCH: ") + verdict.summary());
			KernelRunOptions.printAssumed(out, assumed);
			for (Oracle.BufferVerdict b : verdict.buffers()) {
				if (b.output() || !b.matches()) {
					out.printf(Locale.ROOT, "  %-12s %s[%d] %s%n", b.name(), b.type().cName(), b.elements(),
							b.matches() ? "matches" : b.mismatches() + " elements differ, first at " + b.first().index()
									+ ": expected " + b.first().expected() + ", got " + b.first().actual());
				}
			}
		}
		return verdict.matches() ? ExitCode.OK : ExitCode.USER_ERROR;
	}

	private Map<String, Object> json(Oracle.Verdict verdict) {
		Map<String, Object> result = new LinkedHashMap<>();
		result.put("reference", reference.toString());
		result.put("candidate", candidate.toString());
		result.put("device", options.device);
		result.put("seed", options.seed);
		result.put("match", verdict.matches());
		result.put("summary", verdict.summary());
		List<Map<String, Object>> buffers = new ArrayList<>();
		for (Oracle.BufferVerdict b : verdict.buffers()) {
			Map<String, Object> entry = new LinkedHashMap<>();
			entry.put("name", b.name());
			entry.put("type", b.type().cName());
			entry.put("elements", b.elements());
			entry.put("output", b.output());
			entry.put("mismatches", b.mismatches());
			if (b.first() != null) {
				entry.put("firstMismatch", Map.of("index", b.first().index(), "expected", b.first().expected(), "actual",
						b.first().actual()));
			}
			buffers.add(entry);
		}
		result.put("buffers", buffers);
		result.put("referenceMillis", verdict.referenceTime().toNanos() / 1e6);
		result.put("candidateMillis", verdict.candidateTime().toNanos() / 1e6);
		return result;
	}
}
