package org.xpiler.devices;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.xpiler.core.vm.Argument;

/**
 * What to run: the entry (the file's default when empty), its arguments in parameter order (every buffer with
 * its full contents), the launch shape for a bare {@code __global__} entry, the BANG task count, and limits.
 *
 * @param grid      blocks per grid (x, y, z) for a {@code __global__} entry without a host wrapper
 * @param block     threads per block (x, y, z) for such an entry
 * @param taskDim   BANG tasks (clusters x cores); 0 for the device model's default
 * @param timeLimit wall-clock limit of the run
 */
public record RunRequest(Optional<String> entry, List<Argument> arguments, int[] grid, int[] block, int taskDim,
		Duration timeLimit) {

	public static RunRequest of(List<Argument> arguments) {
		return new RunRequest(Optional.empty(), arguments, null, null, 0, Duration.ofSeconds(60));
	}

	/** The same request for another entry (null: the file's default entry). */
	public RunRequest withEntry(String name) {
		return new RunRequest(Optional.ofNullable(name), arguments, grid, block, taskDim, timeLimit);
	}

	/** The same request launching a bare {@code __global__} entry with this grid and block. */
	public RunRequest withLaunchShape(int[] newGrid, int[] newBlock) {
		return new RunRequest(entry, arguments, newGrid, newBlock, taskDim, timeLimit);
	}

	public RunRequest withArguments(List<Argument> newArguments) {
		return new RunRequest(entry, newArguments, grid, block, taskDim, timeLimit);
	}
}
