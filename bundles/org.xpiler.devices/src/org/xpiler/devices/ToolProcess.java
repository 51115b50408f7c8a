package org.xpiler.devices;

import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the external programs the devices need (compilers, native harnesses) one way everywhere: in a folder
 * of their own, stdout and stderr captured together, and under a wall-clock limit after which the whole
 * process tree is destroyed. The work folders are temporary; {@code -Dxpiler.keepTemp=true} keeps them for a
 * post-mortem.
 */
final class ToolProcess {
	/** Output beyond this is dropped: a kernel printing in a loop must not fill the heap. */
	private static final int OUTPUT_LIMIT_CHARS = 1 << 20;

	/** How long to wait for the output pipe to close once the process is gone (a grandchild may hold it). */
	private static final long OUTPUT_DRAIN_MILLIS = 5_000;

	/** Whether work folders and compiled executables outlive their use ({@code -Dxpiler.keepTemp=true}). */
	static final boolean KEEP_TEMP = Boolean.getBoolean("xpiler.keepTemp");

	/** Exit statuses above this mean "ended by signal (status - 128)", as the JDK and shells report it. */
	private static final int SIGNAL_EXIT_BASE = 128;

	/** The signal the kernel sends when a process reaches its CPU-time limit. */
	private static final int SIGXCPU = 24;

	private static final Map<Integer, String> SIGNALS = Map.ofEntries(
			Map.entry(4, "SIGILL (illegal instruction: the CPU lacks an instruction the program uses)"),
			Map.entry(6, "SIGABRT (abort)"), Map.entry(7, "SIGBUS (bus error: misaligned or unmapped memory)"),
			Map.entry(8, "SIGFPE (arithmetic error, e.g. an integer division by zero)"), Map.entry(9, "SIGKILL (killed)"),
			Map.entry(11, "SIGSEGV (segmentation fault)"), Map.entry(15, "SIGTERM (terminated)"),
			Map.entry(SIGXCPU, "SIGXCPU (CPU time limit exceeded)"), Map.entry(25, "SIGXFSZ (file size limit exceeded)"));

	private ToolProcess() {
	}

	/**
	 * How a process ended.
	 *
	 * @param exitCode the exit status ({@code 128 + n} when signal n ended it); meaningless when timed out
	 * @param output   stdout and stderr interleaved, cut after {@value #OUTPUT_LIMIT_CHARS} characters
	 * @param timedOut whether the wall-clock limit ended it
	 */
	record Outcome(int exitCode, String output, boolean timedOut) {

		boolean succeeded() {
			return !timedOut && exitCode == 0;
		}

		/** The number of the signal that ended the process, if one did. */
		Optional<Integer> signal() {
			int signal = exitCode - SIGNAL_EXIT_BASE;
			return !timedOut && signal > 0 && signal < 65 ? Optional.of(signal) : Optional.empty();
		}

		/** Whether the process was ended for reaching its CPU-time limit. */
		boolean exceededCpuTime() {
			return signal().filter(n -> n == SIGXCPU).isPresent();
		}

		/** The signal that ended the process, named for users: {@code SIGSEGV (segmentation fault)}. */
		Optional<String> signalDescription() {
			return signal().map(n -> SIGNALS.getOrDefault(n, "signal " + n));
		}
	}

	/**
	 * Runs {@code command} in {@code directory} until it exits or {@code timeLimit} passes.
	 *
	 * @throws IOException when the program cannot be started, or the waiting thread is interrupted (the process
	 *                     is destroyed then)
	 */
	static Outcome run(List<String> command, Path directory, Map<String, String> environment, Duration timeLimit)
			throws IOException {
		ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true);
		builder.environment().putAll(environment);
		Process process = builder.start();
		StringBuilder output = new StringBuilder();
		Thread reader = Thread.ofPlatform().daemon().name("xpiler-tool-output").start(() -> drain(process, output));
		try {
			boolean exited = process.waitFor(timeLimit.toMillis(), TimeUnit.MILLISECONDS);
			if (!exited) {
				destroyTree(process);
			}
			reader.join(OUTPUT_DRAIN_MILLIS);
			String text;
			synchronized (output) {
				text = output.toString();
			}
			return new Outcome(exited ? process.exitValue() : -1, text, !exited);
		} catch (InterruptedException e) {
			destroyTree(process);
			Thread.currentThread().interrupt();
			throw new InterruptedIOException("interrupted while waiting for " + command.get(0));
		}
	}

	/** Whether {@code program} is an executable in a folder of {@code PATH}. */
	static boolean onPath(String program) {
		String path = System.getenv("PATH");
		return path != null && Stream.of(path.split(File.pathSeparator)).filter(dir -> !dir.isEmpty())
				.anyMatch(dir -> Files.isExecutable(Path.of(dir, program)));
	}

	/** Deletes a file or a folder with everything in it; what cannot be deleted is left behind silently. */
	static void deleteRecursively(Path root) {
		if (!Files.exists(root)) {
			return;
		}
		try (Stream<Path> walk = Files.walk(root)) {
			walk.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
		} catch (IOException | UncheckedIOException e) {
			// a temp folder left behind is not worth failing a run for
		}
	}

	private static void drain(Process process, StringBuilder output) {
		char[] chunk = new char[8192];
		try (Reader in = new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)) {
			int read;
			while ((read = in.read(chunk)) >= 0) {
				synchronized (output) {
					int room = OUTPUT_LIMIT_CHARS - output.length();
					output.append(chunk, 0, Math.max(0, Math.min(room, read)));
				}
			}
		} catch (IOException e) {
			// the pipe closes when the process is destroyed: what was read so far is the output
		}
	}

	private static void destroyTree(Process process) {
		process.descendants().forEach(ProcessHandle::destroyForcibly);
		process.destroyForcibly();
		try {
			process.waitFor(OUTPUT_DRAIN_MILLIS, TimeUnit.MILLISECONDS);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
	}

	/** A fresh temporary folder for one compilation or run, deleted on close unless temp files are kept. */
	static final class WorkFolder implements AutoCloseable {
		private final Path path;

		private WorkFolder(Path path) {
			this.path = path;
		}

		/** @param purpose a word for the folder name ({@code native-run}, {@code nvcc}) */
		static WorkFolder create(String purpose) throws IOException {
			return new WorkFolder(Files.createTempDirectory("xpiler-" + purpose + "-"));
		}

		Path path() {
			return path;
		}

		Path resolve(String name) {
			return path.resolve(name);
		}

		@Override
		public void close() {
			if (!KEEP_TEMP) {
				deleteRecursively(path);
			}
		}
	}
}
