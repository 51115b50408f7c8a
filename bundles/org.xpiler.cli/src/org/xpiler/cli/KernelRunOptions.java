package org.xpiler.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.xpiler.devices.Device;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.Devices;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.RunRequest;
import org.xpiler.engine.pipeline.Translator;
import org.xpiler.lang.dialect.Dialect;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options {@code run} and {@code verify} share: device, scalar arguments, seed, launch shape, limits. */
class KernelRunOptions {
	@Option(names = "--device", paramLabel = "ID", defaultValue = "vm",
			description = "Where to run: vm (the virtual device, default), native (g++ on this CPU, VNNI/C++ only) or"
					+ " gpu (nvcc on this machine's NVIDIA GPU, CUDA programs with a host wrapper only).")
	String device;

	@Mixin
	ScalarArguments scalarArguments;

	@Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the random inputs (default 1).")
	long seed;

	@Option(names = "--entry", paramLabel = "NAME",
			description = "The function to run (default: the extern \"C\" function, else the kernel).")
	String entry;

	@Mixin
	LaunchShapeOptions launchShape;

	@Option(names = "--tasks", paramLabel = "N", defaultValue = "0",
			description = "BANG tasks for a __mlu_global__ entry (default: the device model's 4 clusters x 4 cores).")
	int tasks;

	@Option(names = "--time-limit", paramLabel = "SECONDS", defaultValue = "120",
			description = "Stop a run after this many seconds (default 120).")
	long timeLimit;

	Device device() {
		Device chosen = Devices.byId(device).orElseThrow(() -> new UserException("unknown device '" + device
				+ "' (known: " + String.join(", ", Devices.all().stream().map(Device::id).toList()) + ")"));
		Optional<String> unavailable = chosen.unavailableReason();
		if (unavailable.isPresent()) {
			throw new UserException("the device '" + device + "' cannot be used here: " + unavailable.get());
		}
		if (!chosen.canRun()) {
			throw new UserException("the device '" + device + "' only compiles kernels: run them with --device vm");
		}
		return chosen;
	}

	Map<String, String> scalars() {
		return scalarArguments.values();
	}

	static void printAssumed(PrintWriter out, Map<String, String> assumed) {
		if (!assumed.isEmpty()) {
			out.println("  assumed " + Translator.assignments(assumed) + " (--args gives others)");
		}
	}

	RunRequest request() {
		return new RunRequest(Optional.ofNullable(entry), List.of(), launchShape.grid(), launchShape.block(), tasks,
				Duration.ofSeconds(timeLimit));
	}

	static KernelSource source(Path file) {
		Dialect dialect = Dialect.fromFile(file).orElseThrow(() -> new UserException(file
				+ ": unknown extension (expected .cu, .hip, .mlu, .cpp or .cc)"));
		try {
			return new KernelSource(file, dialect, Files.readString(file));
		} catch (IOException e) {
			throw new UserException(file + ": cannot read the file (" + e.getMessage() + ")");
		}
	}

	/** A device's refusal as the user's problem: the message and its located findings, one per line. */
	static UserException failure(DeviceException e) {
		StringBuilder message = new StringBuilder(e.getMessage());
		e.diagnostics().stream().map(d -> d.format()).filter(line -> !e.getMessage().contains(line))
				.forEach(line -> message.append(System.lineSeparator()).append(line));
		return new UserException(message.toString());
	}
}
