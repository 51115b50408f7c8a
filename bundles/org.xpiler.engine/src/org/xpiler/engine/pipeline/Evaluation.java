package org.xpiler.engine.pipeline;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.xpiler.devices.CompileOnlyDevice;
import org.xpiler.devices.CompileResult;
import org.xpiler.devices.Device;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.NativeCpuDevice;
import org.xpiler.devices.NativeGpuDevice;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.dialect.Dialect;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * Translates every kernel of one dialect in a folder to another dialect and measures the result the way the
 * paper's Table 6 does: <em>computation accuracy</em> (the output passed the translator's oracle against the
 * source on the virtual device), <em>compilation accuracy</em> (the output compiles with the target's real
 * toolchain: nvcc, hipcc, the CDT-based bang-check, g++), for C++ and CUDA targets <em>native agreement</em>
 * (the output, compiled by g++ and run on this CPU, or compiled by nvcc and run on this machine's NVIDIA GPU,
 * matches the source), the time per kernel, and how often the outputs use the target's intrinsics and parallel
 * index.
 *
 * <p>
 * Rules, kept simple on purpose:
 * <ul>
 * <li>A kernel whose source does not run on the virtual device is reported as such and left out of every
 * figure (it is not the translator's failure). Every other kernel is <em>evaluated</em>: it is the
 * denominator of both accuracies. A kernel whose translation failed counts as not compiled.</li>
 * <li>When the target's toolchain is missing, compilation is reported as unavailable (null), never as
 * failed; likewise native agreement when g++ or AVX-512 VNNI (C++), or nvcc or a GPU (CUDA) is missing.</li>
 * <li>The time per kernel is the translator's own time (every pass and every oracle check), for every
 * evaluated kernel; compilation and the native run are timed apart.</li>
 * <li>An output <em>uses intrinsics</em> when it calls a function of the target's catalog whose category is
 * one of {@link #INTRINSIC_CATEGORIES} (vector, matmul, conv, pool, activation, reduction, on-chip memory,
 * layout, SIMD load/store/convert). In CUDA and HIP only {@code matmul} counts ({@code wmma::*},
 * {@code __builtin_amdgcn_mfma*}): their {@code load} and {@code convert} entries ({@code __ldg},
 * {@code __float2half}) are scalar helpers. Math, runtime, sync, atomic, warp and launch calls never count.</li>
 * <li>An output <em>binds parallelism</em> when it reads the target's parallel index: {@code threadIdx},
 * {@code blockIdx} (and HIP's {@code hipThreadIdx_x}...) in CUDA and HIP, {@code taskId*},
 * {@code clusterId}, {@code coreId} in BANG C, unless loop bind chose its single-unit value (where the index
 * only selects the one unit that works). C++ has none: null.</li>
 * <li>Both shares are of the verified outputs (only they exist).</li>
 * </ul>
 * The translators are not known to be thread-safe: each worker thread has its own.
 */
public final class Evaluation {
	/** How {@link Translator} starts the reason when the source itself cannot run. */
	public static final String SOURCE_DOES_NOT_RUN = "the source does not run on the virtual device";

	/** Catalog categories whose calls count as intrinsic use (see the class comment for CUDA and HIP). */
	public static final Set<String> INTRINSIC_CATEGORIES = Set.of("vector", "matmul", "conv", "pool", "activation",
			"reduction", "memory", "layout", "load", "store", "convert");

	private static final Set<String> SIMT_INTRINSIC_CATEGORIES = Set.of("matmul");

	private static final Pattern CALL = Pattern
			.compile("\\b([A-Za-z_]\\w*(?:\\s*::\\s*[A-Za-z_]\\w*)*)\\s*(?:<[^;(){}<>]*>\\s*)?\\(");

	private static final Pattern IDENTIFIER = Pattern.compile("\\b[A-Za-z_]\\w*\\b");

	private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

	/** What became of one kernel; the statuses are the values of {@link KernelResult#status()}. */
	public enum Status {
		/** Verified, compiled (or no compiler here) and, for C++ and CUDA, agreeing natively (or not checked). */
		OK("ok"),
		/** The translation failed (no plan verified, or an internal error). */
		FAILED("FAILED"),
		/** Verified, but the target's compiler rejects the output. */
		NOT_COMPILED("NOT COMPILED"),
		/** Verified on the virtual device, but the native run of the output (C++, CUDA) disagrees with the source. */
		NATIVE_MISMATCH("NATIVE MISMATCH"),
		/** The source does not run on the virtual device: left out of the figures. */
		SOURCE_DOES_NOT_RUN("SOURCE DOES NOT RUN");

		private final String label;

		Status(String label) {
			this.label = label;
		}

		public String label() {
			return label;
		}
	}

	/** An accepted step of the translation: the pass and its knob values. */
	public record AcceptedStep(String pass, Map<String, String> knobs) {
	}

	/**
	 * One kernel.
	 *
	 * @param file            the file name (within the folder)
	 * @param status          see {@link Status}
	 * @param verified        the output passed the oracle against the source on the virtual device
	 * @param compiled        the output compiled with {@code compiler}; false when the translation failed;
	 *                        null when the compiler is not available here or the source does not run
	 * @param compiler        the toolchain: nvcc, hipcc, bang-check or g++
	 * @param compileMessage  the first diagnostics when the output did not compile
	 * @param nativeAgrees    C++ and CUDA targets: the output run natively agreed with the source; null when
	 *                        not checked (HIP or BANG, not verified, or no g++ / AVX-512 VNNI / GPU here)
	 * @param nativeMessage   the oracle's summary of the native run (or why it was not checked)
	 * @param millis          translation time (every pass and every oracle check), ms
	 * @param compileMillis   compilation time, ms
	 * @param nativeMillis    time of the native check, ms
	 * @param passes          the accepted pass sequence
	 * @param steps           the accepted steps with their knob values
	 * @param reason          why the translation failed (null when verified)
	 * @param intrinsics      the output calls a target intrinsic (null without output)
	 * @param intrinsicCalls  those intrinsics, in order of first use
	 * @param parallel        the output reads the target's parallel index (null without output or for C++)
	 */
	public record KernelResult(String file, String status, boolean verified, Boolean compiled, String compiler,
			String compileMessage, @JsonProperty("native") Boolean nativeAgrees, String nativeMessage, long millis, long compileMillis,
			long nativeMillis, List<String> passes, List<AcceptedStep> steps, String reason, Boolean intrinsics,
			List<String> intrinsicCalls, Boolean parallel) {

		/** Whether the source ran on the virtual device, i.e. the kernel counts in the figures. */
		public boolean evaluated() {
			return !Status.SOURCE_DOES_NOT_RUN.label().equals(status);
		}

		/** Why the kernel is not OK, or null: the translation's reason, the compiler's or the native run's. */
		public String problem() {
			if (reason != null) {
				return reason;
			}
			if (Boolean.FALSE.equals(compiled)) {
				return compiler + ": " + compileMessage;
			}
			if (Boolean.FALSE.equals(nativeAgrees)) {
				return "native: " + nativeMessage;
			}
			return null;
		}

		/** {@code ok            gemm_32x128x128.cu            1234 ms  loop-recovery, loop-bind}, or the problem. */
		public String line() {
			String problem = problem();
			return String.format(Locale.ROOT, "%-19s %-44s %7d ms  %s", status, file, millis,
					problem == null ? String.join(", ", passes) : problem);
		}
	}

	/**
	 * The figures of one direction. Percentages are null when there is nothing to divide by or the check could
	 * not run here.
	 *
	 * @param kernels               files of the source dialect in the folder
	 * @param sourceDoesNotRun      of those, kernels whose source does not run on the virtual device
	 * @param evaluated             the others: the denominator of both accuracies
	 * @param compiled              evaluated kernels whose output compiled (null: no compiler here)
	 * @param compilationAccuracy   compiled / evaluated, %
	 * @param compilerUnavailable   why the compiler could not be used, or null
	 * @param verified              evaluated kernels whose output passed the oracle
	 * @param computationAccuracy   verified / evaluated, %
	 * @param nativeChecked         C++, CUDA target: verified outputs run natively (null otherwise / unavailable)
	 * @param nativeAgreed          of those, the ones that agreed
	 * @param nativeAgreement       nativeAgreed / nativeChecked, %
	 * @param nativeUnavailable     why the native check could not run, or null
	 * @param medianMillis          median translation time of the evaluated kernels, ms
	 * @param meanMillis            mean translation time, ms
	 * @param withIntrinsics        verified outputs calling a target intrinsic
	 * @param intrinsicShare        withIntrinsics / verified, %
	 * @param withParallel          verified outputs reading the parallel index (null for C++)
	 * @param parallelShare         withParallel / verified, %
	 * @param totalMillis           wall time of the whole evaluation, ms
	 * @param notes                 what could not be checked here, and why
	 */
	public record Summary(String from, String to, int kernels, int sourceDoesNotRun, int evaluated, Integer compiled,
			Double compilationAccuracy, String compiler, String compilerUnavailable, int verified,
			Double computationAccuracy, Integer nativeChecked, Integer nativeAgreed, Double nativeAgreement,
			String nativeUnavailable, Double medianMillis, Double meanMillis, int withIntrinsics, Double intrinsicShare,
			Integer withParallel, Double parallelShare, long totalMillis, List<String> notes) {

		/** {@code cuda -> hip} */
		@JsonProperty("direction")
		public String direction() {
			return from + " -> " + to;
		}

		/** One line with every figure, for logs. */
		public String line() {
			return String.format(Locale.ROOT,
					"%s: %d kernels (%d evaluated), compilation %s, computation %s, native %s, median %s ms, mean %s ms, "
							+ "intrinsics %s, parallel %s",
					direction(), kernels, evaluated,
					compilationAccuracy == null ? "unavailable (" + compiler + ")"
							: percent(compilationAccuracy) + " (" + compiled + "/" + evaluated + ", " + compiler + ")",
					percent(computationAccuracy) + " (" + verified + "/" + evaluated + ")",
					nativeAgreement == null ? "n/a" : percent(nativeAgreement) + " (" + nativeAgreed + "/" + nativeChecked + ")",
					number(medianMillis), number(meanMillis),
					percent(intrinsicShare) + " (" + withIntrinsics + "/" + verified + ")",
					parallelShare == null ? "n/a" : percent(parallelShare) + " (" + withParallel + "/" + verified + ")");
		}

		/** A Table-6 style block: a header, the direction's row, then the notes. */
		public String table() {
			StringBuilder text = new StringBuilder();
			text.append(String.format(Locale.ROOT, "%-14s %8s %20s %20s %18s %10s %10s %16s %16s%n", "direction", "kernels",
					"compilation", "computation", "native", "median ms", "mean ms", "intrinsics", "parallel"));
			text.append(String.format(Locale.ROOT, "%-14s %8d %20s %20s %18s %10s %10s %16s %16s%n", direction(), evaluated,
					compilationAccuracy == null ? "unavailable" : ratio(compilationAccuracy, compiled, evaluated),
					ratio(computationAccuracy, verified, evaluated),
					nativeAgreement == null ? "n/a" : ratio(nativeAgreement, nativeAgreed, nativeChecked),
					number(medianMillis), number(meanMillis), ratio(intrinsicShare, withIntrinsics, verified),
					parallelShare == null ? "n/a" : ratio(parallelShare, withParallel, verified)));
			if (sourceDoesNotRun > 0) {
				text.append("note: ").append(sourceDoesNotRun).append(" of ").append(kernels)
						.append(" kernels left out: their source does not run on the virtual device\n");
			}
			notes.forEach(note -> text.append("note: ").append(note).append('\n'));
			return text.toString();
		}

		private static String ratio(Double percent, Integer part, Integer whole) {
			return percent(percent) + " (" + part + "/" + whole + ")";
		}

		private static String percent(Double value) {
			return value == null ? "-" : String.format(Locale.ROOT, "%.1f%%", value);
		}

		private static String number(Double value) {
			return value == null ? "-" : String.format(Locale.ROOT, "%.0f", value);
		}
	}

	/** Everything: the settings, every kernel (sorted by file name) and the figures. */
	public record Report(String directory, String from, String to, int jobs, long seed, List<KernelResult> kernels,
			Summary summary) {

		/** The kernels that are not OK (source-does-not-run ones excluded), each with its problem. */
		public List<KernelResult> problems() {
			return kernels.stream().filter(k -> k.evaluated() && !Status.OK.label().equals(k.status())).toList();
		}

		public String toJson() {
			try {
				return MAPPER.writeValueAsString(this);
			} catch (IOException e) {
				throw new IllegalStateException("cannot write the evaluation report as JSON", e);
			}
		}

		/** Writes {@link #toJson()} through a temporary file beside {@code target}, then moves it in place. */
		public void write(Path target) throws IOException {
			Path absolute = target.toAbsolutePath();
			Files.createDirectories(absolute.getParent());
			Path temporary = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".tmp");
			try {
				Files.writeString(temporary, toJson());
				Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
			} finally {
				Files.deleteIfExists(temporary);
			}
		}
	}

	private Evaluation() {
	}

	/** The files of {@code dialect} directly in {@code dir}, sorted by name. */
	public static List<Path> kernels(Path dir, Dialect dialect) throws IOException {
		if (!Files.isDirectory(dir)) {
			throw Files.exists(dir) ? new NotDirectoryException(dir.toString())
					: new NoSuchFileException(dir.toString());
		}
		try (Stream<Path> files = Files.list(dir)) {
			return files.filter(Files::isRegularFile)
					.filter(f -> Dialect.fromFile(f).filter(d -> d == dialect).isPresent())
					.sorted(Comparator.comparing(f -> f.getFileName().toString())).toList();
		}
	}

	/**
	 * Evaluates every {@code from} kernel of {@code dir} (see the class comment).
	 *
	 * @param jobs     worker threads (at least 1)
	 * @param seed     seed of the oracle's random inputs
	 * @param progress told of each kernel as it finishes (in finishing order, one call at a time)
	 * @throws IOException when the folder cannot be listed
	 */
	public static Report run(Path dir, Dialect from, Dialect to, int jobs, long seed, Consumer<KernelResult> progress)
			throws IOException {
		if (jobs < 1) {
			throw new IllegalArgumentException("jobs must be at least 1, not " + jobs);
		}
		long started = System.nanoTime();
		List<Path> files = kernels(dir, from);
		Checks checks = new Checks(to);
		ThreadLocal<Translator> translators = ThreadLocal.withInitial(Translator::new);
		Consumer<KernelResult> told = result -> {
			synchronized (progress) {
				progress.accept(result);
			}
		};
		List<KernelResult> results = new ArrayList<>();
		ExecutorService workers = Executors.newFixedThreadPool(Math.min(jobs, Math.max(1, files.size())), runnable -> {
			Thread thread = new Thread(runnable, "xpiler-eval");
			thread.setDaemon(true);
			return thread;
		});
		try {
			List<Future<KernelResult>> futures = new ArrayList<>();
			for (Path file : files) {
				futures.add(workers.submit(() -> {
					KernelResult result = evaluate(translators.get(), file, from, to, seed, checks);
					told.accept(result);
					return result;
				}));
			}
			for (int i = 0; i < futures.size(); i++) {
				try {
					results.add(futures.get(i).get());
				} catch (ExecutionException e) {
					// only the progress consumer can get here: evaluate() catches everything
					results.add(crashed(files.get(i), to, checks, e.getCause()));
				}
			}
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new CancellationException("the evaluation was interrupted");
		} finally {
			workers.shutdownNow();
		}
		results.sort(Comparator.comparing(KernelResult::file));
		Summary summary = summarize(from, to, results, checks, (System.nanoTime() - started) / 1_000_000);
		return new Report(dir.toString(), from.id(), to.id(), jobs, seed, List.copyOf(results), summary);
	}

	/** What this machine can check for the target: the compiler and, for C++, the native run. */
	private static final class Checks {
		final Dialect to;
		final String compiler;
		final Optional<String> compilerUnavailable;
		final Optional<String> nativeUnavailable;

		Checks(Dialect to) {
			this.to = to;
			this.compiler = switch (to) {
			case CUDA -> "nvcc";
			case HIP -> "hipcc";
			case BANG -> "bang-check";
			case VNNI -> "g++";
			};
			this.compilerUnavailable = to == Dialect.VNNI
					? (onPath("g++") ? Optional.empty() : Optional.of("g++ is not installed"))
					: compileDevice().unavailableReason();
			this.nativeUnavailable = nativeDevice().flatMap(Device::unavailableReason);
		}

		/**
		 * The device that runs outputs of the target natively, if the target has one: this CPU for C++, an NVIDIA
		 * GPU for CUDA. A fresh one per use, like {@link #compileDevice()}.
		 */
		Optional<Device> nativeDevice() {
			return switch (to) {
			case VNNI -> Optional.of(new NativeCpuDevice());
			case CUDA -> Optional.of(new NativeGpuDevice());
			case HIP, BANG -> Optional.empty();
			};
		}

		/** A fresh device per use: nothing is shared between worker threads. */
		Device compileDevice() {
			return switch (to) {
			case CUDA -> CompileOnlyDevice.nvcc();
			case HIP -> CompileOnlyDevice.hipcc();
			case BANG -> CompileOnlyDevice.bangCheck();
			case VNNI -> new NativeCpuDevice(); // its compile() is g++ -c: no AVX-512 VNNI needed
			};
		}

		private static boolean onPath(String program) {
			String path = System.getenv("PATH");
			if (path == null) {
				return false;
			}
			for (String dir : path.split(File.pathSeparator)) {
				if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
					return true;
				}
			}
			return false;
		}
	}

	private static KernelResult evaluate(Translator translator, Path file, Dialect from, Dialect to, long seed,
			Checks checks) {
		try {
			return evaluateOrThrow(translator, file, from, to, seed, checks);
		} catch (RuntimeException | IOException | StackOverflowError | OutOfMemoryError e) {
			return crashed(file, to, checks, e);
		}
	}

	private static KernelResult crashed(Path file, Dialect to, Checks checks, Throwable e) {
		return new KernelResult(file.getFileName().toString(), Status.FAILED.label(), false,
				checks.compilerUnavailable.isPresent() ? null : false, checks.compiler, null, null, null, 0, 0, 0,
				List.of(), List.of(), "internal error: " + e, null, List.of(), null);
	}

	private static KernelResult evaluateOrThrow(Translator translator, Path file, Dialect from, Dialect to, long seed,
			Checks checks) throws IOException {
		String name = file.getFileName().toString();
		KernelSource source = KernelSource.read(file, from);
		long started = System.nanoTime();
		Translator.Result result = translator.translate(source, to, seed);
		long millis = (System.nanoTime() - started) / 1_000_000;
		RunRecord record = result.record();
		List<StepRecord> accepted = acceptedSteps(record, source.text());
		List<String> passes = accepted.stream().map(StepRecord::pass).toList();
		List<AcceptedStep> steps = accepted.stream().map(s -> new AcceptedStep(s.pass(), s.knobs())).toList();
		if (!record.verified() && record.reason() != null && record.reason().startsWith(SOURCE_DOES_NOT_RUN)) {
			return new KernelResult(name, Status.SOURCE_DOES_NOT_RUN.label(), false, null, checks.compiler, null, null,
					null, millis, 0, 0, passes, steps, record.reason(), null, List.of(), null);
		}
		if (result.output().isEmpty() || !record.verified()) {
			String reason = record.reason() == null ? "no verified output" : record.reason();
			return new KernelResult(name, Status.FAILED.label(), false,
					checks.compilerUnavailable.isPresent() ? null : false, checks.compiler, null, null, null, millis, 0, 0,
					passes, steps, reason, null, List.of(), null);
		}
		String text = result.output().get();
		KernelSource output = new KernelSource(Translator.outputName(file, to), to, text);

		Boolean compiled = null;
		String compileMessage = null;
		long compileStarted = System.nanoTime();
		if (checks.compilerUnavailable.isEmpty()) {
			CompileResult compile = checks.compileDevice().compile(output);
			compiled = compile.success();
			if (!compile.success()) {
				compileMessage = firstDiagnostics(compile);
			}
		}
		long compileMillis = (System.nanoTime() - compileStarted) / 1_000_000;

		Boolean nativeAgrees = null;
		String nativeMessage = null;
		long nativeStarted = System.nanoTime();
		Optional<Device> nativeDevice = checks.nativeDevice();
		if (nativeDevice.isPresent()) {
			if (checks.nativeUnavailable.isPresent()) {
				nativeMessage = "not checked: " + checks.nativeUnavailable.get();
			} else {
				try {
					Oracle.Verdict verdict = new Oracle().verify(source, output, nativeDevice.get(), Map.of(), seed,
							RunRequest.of(List.of()));
					nativeAgrees = verdict.matches();
					nativeMessage = verdict.summary();
				} catch (DeviceException e) {
					nativeAgrees = false;
					nativeMessage = "the source cannot run for the native check: " + e.getMessage();
				}
			}
		}
		long nativeMillis = (System.nanoTime() - nativeStarted) / 1_000_000;

		List<String> intrinsicCalls = intrinsicCalls(text, to);
		Boolean parallel = usesParallelIndex(text, to);
		if (Boolean.TRUE.equals(parallel) && steps.stream().anyMatch(step -> "single".equals(step.knobs().get("bind")))) {
			parallel = false; // one thread or task does the work; the index only selects it
		}
		Status status = Boolean.FALSE.equals(compiled) ? Status.NOT_COMPILED
				: Boolean.FALSE.equals(nativeAgrees) ? Status.NATIVE_MISMATCH : Status.OK;
		return new KernelResult(name, status.label(), true, compiled, checks.compiler, compileMessage, nativeAgrees,
				nativeMessage, millis, compileMillis, nativeMillis, passes, steps, null, !intrinsicCalls.isEmpty(),
				intrinsicCalls, parallel);
	}

	/**
	 * The steps that made the output: for a verified run, followed back from the output through the accepted
	 * steps whose text they produced (earlier plans may have accepted steps too); otherwise every accepted
	 * step in order.
	 */
	static List<StepRecord> acceptedSteps(RunRecord record, String sourceText) {
		List<StepRecord> steps = record.steps();
		if (!record.verified() || record.output() == null) {
			return steps.stream().filter(StepRecord::accepted).toList();
		}
		List<StepRecord> chain = new ArrayList<>();
		String current = record.output();
		for (int i = steps.size() - 1; i >= 0 && !(current.equals(sourceText) && !chain.isEmpty()); i--) {
			StepRecord step = steps.get(i);
			if (step.accepted() && current.equals(step.after())) {
				chain.add(step);
				current = step.before();
			}
		}
		Collections.reverse(chain);
		return chain;
	}

	private static String firstDiagnostics(CompileResult compile) {
		List<Diagnostic> errors = compile.diagnostics().stream().filter(Diagnostic::isError).toList();
		if (errors.isEmpty()) {
			errors = compile.diagnostics();
		}
		if (!errors.isEmpty()) {
			String more = errors.size() > 3 ? " (and " + (errors.size() - 3) + " more)" : "";
			return errors.stream().limit(3).map(Diagnostic::format).collect(Collectors.joining("; ")) + more;
		}
		String output = compile.output() == null ? "" : compile.output().strip();
		List<String> lines = output.lines().filter(l -> !l.isBlank()).limit(3).toList();
		return lines.isEmpty() ? "failed without a message" : String.join("; ", lines);
	}

	/**
	 * The target intrinsics {@code text} calls (see the class comment), in order of first use; comments and
	 * string literals are ignored.
	 */
	public static List<String> intrinsicCalls(String text, Dialect to) {
		Set<String> categories = to == Dialect.CUDA || to == Dialect.HIP ? SIMT_INTRINSIC_CATEGORIES
				: INTRINSIC_CATEGORIES;
		Set<String> found = new LinkedHashSet<>();
		Matcher call = CALL.matcher(withoutCommentsAndStrings(text));
		while (call.find()) {
			String name = call.group(1).replaceAll("\\s+", "");
			if (name.startsWith("nvcuda::")) {
				name = name.substring("nvcuda::".length());
			}
			Optional<CatalogFunction> function = to.catalog().function(name);
			if (function.isPresent() && function.get().category() != null
					&& categories.contains(function.get().category())) {
				found.add(name);
			}
		}
		return List.copyOf(found);
	}

	/**
	 * Whether {@code text} reads the target's parallel index (see {@link #parallelIndices}); null for C++,
	 * which has none. Comments and string literals are ignored.
	 */
	public static Boolean usesParallelIndex(String text, Dialect to) {
		Set<String> names = parallelIndices(to);
		return names.isEmpty() ? null : usesAny(withoutCommentsAndStrings(text), names);
	}

	/** The builtin variables that give a kernel instance its share of the work; empty for C++. */
	public static Set<String> parallelIndices(Dialect to) {
		return switch (to) {
		case CUDA -> Set.of("threadIdx", "blockIdx");
		case HIP -> Set.of("threadIdx", "blockIdx", "hipThreadIdx_x", "hipThreadIdx_y", "hipThreadIdx_z",
				"hipBlockIdx_x", "hipBlockIdx_y", "hipBlockIdx_z");
		case BANG -> Set.of("taskId", "taskIdX", "taskIdY", "taskIdZ", "clusterId", "coreId");
		case VNNI -> Set.of();
		};
	}

	private static boolean usesAny(String code, Set<String> names) {
		Matcher identifier = IDENTIFIER.matcher(code);
		while (identifier.find()) {
			if (names.contains(identifier.group())) {
				return true;
			}
		}
		return false;
	}

	/** The code with comments removed and string/character literals emptied, lines kept. */
	static String withoutCommentsAndStrings(String text) {
		StringBuilder code = new StringBuilder(text.length());
		int i = 0;
		int n = text.length();
		while (i < n) {
			char c = text.charAt(i);
			if (c == '/' && i + 1 < n && text.charAt(i + 1) == '/') {
				while (i < n && text.charAt(i) != '\n') {
					i++;
				}
			} else if (c == '/' && i + 1 < n && text.charAt(i + 1) == '*') {
				int end = text.indexOf("*/", i + 2);
				int stop = end < 0 ? n : end + 2;
				text.substring(i, stop).chars().filter(ch -> ch == '\n').forEach(ch -> code.append('\n'));
				code.append(' ');
				i = stop;
			} else if (c == '"' || c == '\'') {
				code.append(c).append(c);
				i++;
				while (i < n && text.charAt(i) != c && text.charAt(i) != '\n') {
					i += text.charAt(i) == '\\' ? 2 : 1;
				}
				i++;
			} else {
				code.append(c);
				i++;
			}
		}
		return code.toString();
	}

	private static Summary summarize(Dialect from, Dialect to, List<KernelResult> results, Checks checks,
			long totalMillis) {
		List<KernelResult> evaluated = results.stream().filter(KernelResult::evaluated).toList();
		int total = evaluated.size();
		int verified = (int) evaluated.stream().filter(KernelResult::verified).count();
		List<String> notes = new ArrayList<>();

		Integer compiled = null;
		Double compilationAccuracy = null;
		if (checks.compilerUnavailable.isPresent()) {
			notes.add("compilation not checked: " + checks.compilerUnavailable.get()
					+ " (reported as unavailable, not as failures)");
		} else {
			compiled = (int) evaluated.stream().filter(k -> Boolean.TRUE.equals(k.compiled())).count();
			compilationAccuracy = percent(compiled, total);
		}

		Integer nativeChecked = null;
		Integer nativeAgreed = null;
		Double nativeAgreement = null;
		if (checks.nativeDevice().isPresent()) {
			if (checks.nativeUnavailable.isPresent()) {
				notes.add("native agreement not checked: " + checks.nativeUnavailable.get());
			} else {
				nativeChecked = (int) evaluated.stream().filter(k -> k.nativeAgrees() != null).count();
				nativeAgreed = (int) evaluated.stream().filter(k -> Boolean.TRUE.equals(k.nativeAgrees())).count();
				nativeAgreement = percent(nativeAgreed, nativeChecked);
			}
		}

		List<Long> millis = evaluated.stream().map(KernelResult::millis).sorted().toList();
		Double median = millis.isEmpty() ? null
				: millis.size() % 2 == 1 ? (double) millis.get(millis.size() / 2)
						: (millis.get(millis.size() / 2 - 1) + millis.get(millis.size() / 2)) / 2.0;
		Double mean = millis.isEmpty() ? null : millis.stream().mapToLong(Long::longValue).average().orElse(0);

		int withIntrinsics = (int) evaluated.stream().filter(k -> Boolean.TRUE.equals(k.intrinsics())).count();
		Integer withParallel = parallelIndices(to).isEmpty() ? null
				: (int) evaluated.stream().filter(k -> Boolean.TRUE.equals(k.parallel())).count();
		return new Summary(from.id(), to.id(), results.size(), results.size() - total, total, compiled,
				compilationAccuracy, checks.compiler, checks.compilerUnavailable.orElse(null), verified,
				percent(verified, total), nativeChecked, nativeAgreed, nativeAgreement,
				checks.nativeUnavailable.orElse(null), median, mean, withIntrinsics, percent(withIntrinsics, verified),
				withParallel, withParallel == null ? null : percent(withParallel, verified), totalMillis,
				List.copyOf(notes));
	}

	private static Double percent(Integer part, Integer whole) {
		return whole == null || part == null || whole == 0 ? null : 100.0 * part / whole;
	}
}
