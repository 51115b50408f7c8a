package org.xpiler.devices;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Confines a native kernel run, since a kernel under translation is untrusted code: no network (a fresh,
 * empty network namespace through {@code unshare -rn}, where the machine lets unprivileged users create one),
 * and a CPU-time and an address-space limit ({@code prlimit}, or the shell's {@code ulimit} where prlimit is
 * missing). The working directory is the run's own temporary folder, chosen by the caller. Whether unshare
 * works is probed once per JVM.
 */
final class NativeSandbox {
	private static final Duration PROBE_TIME_LIMIT = Duration.ofSeconds(10);

	/** Probed on first use: running {@code unshare -rn true} succeeds only where user namespaces are allowed. */
	private static final class NetworkIsolation {
		static final boolean AVAILABLE = probe();

		private static boolean probe() {
			if (!ToolProcess.onPath("unshare")) {
				return false;
			}
			try {
				return ToolProcess.run(List.of("unshare", "-rn", "true"), Path.of(System.getProperty("java.io.tmpdir")),
						Map.of(), PROBE_TIME_LIMIT).succeeded();
			} catch (IOException e) {
				return false;
			}
		}
	}

	/** Whether runs are cut off from the network. */
	boolean isolatesNetwork() {
		return NetworkIsolation.AVAILABLE;
	}

	/** What the sandbox does on this machine, for the device's description. */
	String describe() {
		String limits = ToolProcess.onPath("prlimit") ? "prlimit" : "ulimit";
		return isolatesNetwork() ? "no network (unshare -rn), CPU and memory limits (" + limits + ")"
				: "CPU and memory limits (" + limits + "); the network is NOT isolated: unshare -rn is not permitted"
						+ " on this machine";
	}

	/**
	 * The command line that runs {@code command} inside the sandbox.
	 *
	 * @param cpuSeconds        CPU time after which the kernel receives SIGXCPU
	 * @param addressSpaceBytes virtual memory beyond which allocations fail; empty for none (a GPU runtime maps
	 *                          far more address space than it uses)
	 */
	List<String> wrap(List<String> command, long cpuSeconds, OptionalLong addressSpaceBytes) {
		List<String> wrapped = new ArrayList<>();
		if (isolatesNetwork()) {
			wrapped.addAll(List.of("unshare", "-rn"));
		}
		if (ToolProcess.onPath("prlimit")) {
			wrapped.addAll(List.of("prlimit", "--cpu=" + cpuSeconds));
			addressSpaceBytes.ifPresent(bytes -> wrapped.add("--as=" + bytes));
		} else {
			// sh runs the limits, then replaces itself by the command ("$0" "$@" are the command's words)
			String memory = addressSpaceBytes.isPresent() ? " && ulimit -v " + addressSpaceBytes.getAsLong() / 1024 : "";
			wrapped.addAll(List.of("sh", "-c", "ulimit -t " + cpuSeconds + memory + " && exec \"$0\" \"$@\""));
		}
		wrapped.addAll(command);
		return wrapped;
	}
}
