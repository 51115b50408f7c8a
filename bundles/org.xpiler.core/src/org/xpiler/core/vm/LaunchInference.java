package org.xpiler.core.vm;

import java.util.List;
import java.util.Optional;

import org.eclipse.emf.ecore.EObject;
import org.xpiler.lang.cuda.LaunchBounds;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * The launch shape of a bare {@code __global__} entry, one without a host wrapper, as generated kernels
 * (TVM's {@code __launch_bounds__(1024) default_function_kernel}) come. The block is the kernel's
 * {@code __launch_bounds__} when it reads only {@code threadIdx.x}; each grid dimension the kernel reads ends
 * at the first block that writes no global memory (the kernel guards its index with the tensor's bound), found
 * by running single blocks. A kernel writing from every block, however many, gives no grid: its size is in
 * buffers the file does not declare, and the user must give it.
 */
public final class LaunchInference {
	/** How far (in threads) a probe may reach along an axis, so that an unguarded kernel is given up quickly. */
	private static final long PROBE_THREADS = 1L << 22;
	private static final String[] AXES = { "x", "y", "z" };

	private LaunchInference() {
	}

	/**
	 * The shape to launch the entry with: {@code grid} and {@code block} where given (null otherwise), inferred
	 * where not.
	 *
	 * @throws CompileError naming what the user must give (--grid or --block) when it cannot be inferred
	 */
	public static VirtualMachine.LaunchShape infer(TranslationUnit unit, Dialect dialect, String file,
			Optional<String> entryName, List<Argument> arguments, VmOptions options, InputGenerator inputs,
			int[] grid, int[] block) {
		Program program = new Program(unit, dialect, file);
		FunctionDefinition kernel = EntryPoint.find(unit, entryName).function();
		Site site = program.site(program.site(kernel));
		int[] threads = block != null ? block : block(program, unit, kernel, site);
		if (grid != null) {
			return new VirtualMachine.LaunchShape(grid, threads);
		}
		int[] blocks = { 1, 1, 1 };
		Probe probe = new Probe(unit, dialect, file, entryName, arguments, options.withoutRaceDetection(), inputs, threads);
		for (int axis = 0; axis < 3; axis++) {
			if (reads(unit, axis, "blockIdx", "gridDim")) {
				blocks[axis] = extent(probe, blocks, axis, site);
			}
		}
		return new VirtualMachine.LaunchShape(blocks, threads);
	}

	/** {@code __launch_bounds__(n)} as n threads along x, when the kernel indexes threads along x only. */
	private static int[] block(Program program, TranslationUnit unit, FunctionDefinition kernel, Site site) {
		Optional<LaunchBounds> bounds = kernel.getAttributes().stream().filter(LaunchBounds.class::isInstance)
				.map(LaunchBounds.class::cast).findFirst();
		if (bounds.isEmpty()) {
			throw new CompileError(site, "the entry '" + kernel.getName()
					+ "' is a __global__ kernel without a host wrapper or __launch_bounds__: give its launch shape "
					+ "(--grid and --block)");
		}
		if (reads(unit, 1, "threadIdx", "blockDim") || reads(unit, 2, "threadIdx", "blockDim")) {
			throw new CompileError(site, "the entry '" + kernel.getName()
					+ "' indexes threads in more than one dimension, which __launch_bounds__ does not settle: give "
					+ "its block (--block)");
		}
		long threads = program.constantValue(bounds.get().getMaxThreads(), java.util.Map.of());
		return new int[] { (int) threads, 1, 1 };
	}

	/**
	 * The blocks along {@code axis}: the first block, counting up, that writes no global memory when it is the
	 * last of the grid (blocks run independently, so each probe runs that block alone). Doubling finds a block
	 * past the kernel's guard, bisection the first.
	 */
	private static int extent(Probe probe, int[] blocks, int axis, Site kernel) {
		long threadsPerBlock = (long) probe.threads[0] * probe.threads[1] * probe.threads[2];
		int writing = 0; // block 0 is in every grid
		int idle = 1;
		while (probe.writes(blocks, axis, idle)) {
			writing = idle;
			if ((long) idle * 2 * threadsPerBlock > PROBE_THREADS) {
				throw new CompileError(kernel, "block " + idle + " along " + AXES[axis] + " still writes global memory, so "
						+ "the kernel's grid does not follow from its code (no guard bounds its index): give its launch "
						+ "shape (--grid)");
			}
			idle *= 2;
		}
		while (idle - writing > 1) {
			int middle = writing + (idle - writing) / 2;
			if (probe.writes(blocks, axis, middle)) {
				writing = middle;
			} else {
				idle = middle;
			}
		}
		return idle;
	}

	/** A run of the entry with the given block size, for one block at a time. */
	private record Probe(TranslationUnit unit, Dialect dialect, String file, Optional<String> entryName,
			List<Argument> arguments, VmOptions options, InputGenerator inputs, int[] threads) {

		/** Runs {@code block}, the last of its grid along {@code axis}; whether it wrote global memory. */
		boolean writes(int[] blocks, int axis, int block) {
			int[] grid = blocks.clone();
			grid[axis] = block + 1;
			int[] only = { 0, 0, 0 };
			only[axis] = block;
			WritingBlocks writers = new WritingBlocks();
			VirtualMachine.run(unit, dialect, file, entryName, arguments, new VirtualMachine.LaunchShape(grid, threads),
					options, inputs, false, writers, only);
			return writers.wrote;
		}
	}

	/** Whether the file reads {@code blockIdx.<axis>} or {@code gridDim.<axis>} (or the thread pair). */
	private static boolean reads(TranslationUnit unit, int axis, String index, String extent) {
		for (java.util.Iterator<EObject> it = unit.eAllContents(); it.hasNext();) {
			if (it.next() instanceof MemberAccess m && m.getMember().equals(AXES[axis]) && m.getTarget() instanceof Name n
					&& (n.getName().equals(index) || n.getName().equals(extent))) {
				return true;
			}
		}
		return false;
	}

	/** Whether a lane of a kernel wrote global memory. */
	private static final class WritingBlocks implements MemoryObserver {
		boolean wrote;

		@Override
		public void write(Region region, int offset, int bytes, long bits, Lane lane, int site) {
			wrote |= lane != null && region.space == Space.GLOBAL;
		}
	}
}
