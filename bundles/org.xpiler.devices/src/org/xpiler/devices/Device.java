package org.xpiler.devices;

import java.util.Optional;

/**
 * Where a kernel runs or is checked: the virtual device (always there), the local CPU through g++, and the
 * compile-only toolchains. A device that cannot run kernels answers {@link #run} with
 * {@link DeviceException}; one that is not installed says why in {@link #unavailableReason()}.
 */
public interface Device {

	/** What users type after {@code --device}: {@code vm}, {@code native}, {@code nvcc}, ... */
	String id();

	/** One line for listings and reports. */
	String description();

	/** Empty when the device works on this machine, otherwise why not ("g++ is not installed"). */
	Optional<String> unavailableReason();

	/** Whether the device can execute kernels, not only compile them. */
	boolean canRun();

	/** Compiles (or checks) the kernel; diagnostics are located in the kernel file, not in generated text. */
	CompileResult compile(KernelSource source);

	/**
	 * Runs the kernel's entry on the request's arguments and returns every buffer as the run left it.
	 *
	 * @throws DeviceException when the kernel cannot run (a compile error, a fault with its location, a time
	 *                         or memory limit)
	 */
	RunResult run(KernelSource source, RunRequest request);
}
