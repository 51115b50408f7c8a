package org.xpiler.engine.passes;

import java.util.Map;
import java.util.Optional;

import org.xpiler.core.vm.VirtualMachine;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Loop recovery: the parallel variables of the source become sequential loops, giving a plain C++ program
 * (VNNI's dialect without intrinsics) that computes the same outputs. For CUDA and HIP the host wrapper's
 * launches become block and thread loops, split at barriers ({@link SimtLoops}); for BANG C the task index
 * becomes a loop over the launch's tasks ({@link TaskLoops}, after detensorize), the tasks of each launch of a
 * CNRT host wrapper when there is one.
 *
 * <pre>
 * before (CUDA): __global__ void relu(const float* x, float* y) { int i = blockIdx.x * 256 + threadIdx.x; ... }
 *                extern "C" void relu_kernel(const float* x, float* y) { ... relu<<<192, 256>>>(d_x, d_y); ... }
 * after  (C++):  extern "C" void relu_kernel(const float* x, float* y) {
 *                    for (int blockIdx_x = 0; blockIdx_x < 192; ++blockIdx_x)
 *                        for (int threadIdx_x = 0; threadIdx_x < 256; ++threadIdx_x) { int i = ...; ... } }
 * </pre>
 *
 * Calls of pure one-line functions are inlined on the way ({@link PureFunctionInliner}), so that the loops
 * show their arithmetic. Knobs: none; the launch configuration is the source's. A bare {@code __global__}
 * entry (no host wrapper) is lifted for the grid and block it is launched with (given, or inferred by the
 * virtual device), which the record shows as {@code grid} and {@code block}; the entry keeps its name and
 * parameters. Precondition: a CUDA/HIP host wrapper whose launch configurations are compile-time constants or
 * a bare kernel with its launch shape, or a BANG kernel whose intrinsics were detensorized, entered directly
 * or through a CNRT host wrapper with constant launch dimensions.
 */
public final class LoopRecovery implements Pass {
	/** The grid and block of a bare {@code __global__} entry; null when the source launches from a host wrapper. */
	private final VirtualMachine.LaunchShape bareLaunch;

	public LoopRecovery() {
		this(null);
	}

	/** Loop recovery of a source whose entry is a {@code __global__} kernel launched with {@code bareLaunch}. */
	public LoopRecovery(VirtualMachine.LaunchShape bareLaunch) {
		this.bareLaunch = bareLaunch;
	}

	@Override
	public String name() {
		return "loop-recovery";
	}

	@Override
	public String summary() {
		return "turn threadIdx/blockIdx or taskId into sequential loops, giving plain C++";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from == Dialect.VNNI) {
			return Optional.of("the source is already sequential C++");
		}
		return Optional.empty();
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		if (from == Dialect.HIP) {
			HipLegacyNames.normalize(unit);
		}
		String text = from == Dialect.BANG ? new TaskLoops().recover(unit) : new SimtLoops(from, bareLaunch).recover(unit);
		Snippets.replaceFile(unit, text, Dialect.VNNI);
		int inlined = new PureFunctionInliner().inline(unit);
		Map<String, String> knobs = new java.util.LinkedHashMap<>();
		if (bareLaunch != null && from != Dialect.BANG) {
			knobs.put("grid", extents(bareLaunch.grid()));
			knobs.put("block", extents(bareLaunch.block()));
		}
		if (inlined > 0) {
			knobs.put("inlined", Integer.toString(inlined));
		}
		return knobs;
	}

	private static String extents(int[] extents) {
		return extents[0] + "x" + extents[1] + "x" + extents[2];
	}
}
