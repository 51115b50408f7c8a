package org.xpiler.cli;

import picocli.CommandLine.Option;

/**
 * {@code --grid} and {@code --block}: the launch shape of a bare {@code __global__} entry (no host wrapper). What
 * is not given is inferred: the block from {@code __launch_bounds__}, the grid from the guard on the kernel's
 * index.
 */
class LaunchShapeOptions {
	@Option(names = "--grid", paramLabel = "X[,Y[,Z]]", split = ",",
			description = "Blocks per grid, for a __global__ entry without a host wrapper (default: inferred from the "
					+ "bound the kernel guards its index with).")
	int[] grid;

	@Option(names = "--block", paramLabel = "X[,Y[,Z]]", split = ",",
			description = "Threads per block, for a __global__ entry without a host wrapper (default: its "
					+ "__launch_bounds__).")
	int[] block;

	/** The grid given as x, y, z (missing ones 1), or null. */
	int[] grid() {
		return dims(grid);
	}

	/** The block given as x, y, z (missing ones 1), or null. */
	int[] block() {
		return dims(block);
	}

	private static int[] dims(int[] given) {
		if (given == null) {
			return null;
		}
		if (given.length > 3) {
			throw new UserException("a launch dimension has at most 3 values (x,y,z)");
		}
		int[] dims = { 1, 1, 1 };
		System.arraycopy(given, 0, dims, 0, given.length);
		return dims;
	}
}
