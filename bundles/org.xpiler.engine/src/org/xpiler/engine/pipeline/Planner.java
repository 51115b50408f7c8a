package org.xpiler.engine.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

import org.xpiler.core.vm.VirtualMachine;
import org.xpiler.engine.passes.BangDetensorize;
import org.xpiler.engine.passes.BangMatmulTensorize;
import org.xpiler.engine.passes.BangTensorize;
import org.xpiler.engine.passes.Cache;
import org.xpiler.engine.passes.LoopBind;
import org.xpiler.engine.passes.LoopContraction;
import org.xpiler.engine.passes.LoopExpansion;
import org.xpiler.engine.passes.LoopFuse;
import org.xpiler.engine.passes.LoopRecovery;
import org.xpiler.engine.passes.Pass;
import org.xpiler.engine.passes.Pipeline;
import org.xpiler.engine.passes.ProgramAnnotation;
import org.xpiler.engine.passes.ReferenceSubstitution;
import org.xpiler.engine.passes.SimtMatrixTensorize;
import org.xpiler.engine.passes.SimtRuntimeMapping;
import org.xpiler.engine.passes.VnniDetensorize;
import org.xpiler.engine.passes.VnniDotTensorize;
import org.xpiler.engine.passes.VnniTensorize;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Turns a direction into the plans to try, best first. A plan is a sequence of stages; a stage holds the
 * alternative passes (or knob values) for one position, tried in order until the oracle accepts one. Between
 * the two SIMT dialects one mapping suffices; every other direction lifts the source to sequential C++
 * (detensorize, loop recovery, loop fuse), annotates its loop nests, reshapes them for the target (loop
 * expansion before tensorizing, loop contraction before binding to CUDA/HIP) and lowers it (loop bind, then
 * tensorize where the target has vector or matrix intrinsics for the loops; on BANG also pipeline and cache).
 */
public final class Planner {
	/** Operands of a BANG kernel worth trying to stage in NRAM: each try is a run on the virtual device. */
	private static final int CACHE_CANDIDATES = 2;

	/**
	 * One position of a plan: the alternatives and the dialect their output is written in. An optional stage
	 * (an improvement such as fusing or tensorizing) leaves the code as it was when no alternative holds. Most
	 * stages know their alternatives up front; a stage whose knob values depend on the code (which loop to
	 * reorder, which operand to cache) enumerates them from the code it gets, and tries the first few.
	 */
	public record Stage(Function<TranslationUnit, List<? extends Pass>> options, Dialect output, boolean optional,
			boolean readsCode) {

		public Stage(List<? extends Pass> alternatives, Dialect output, boolean optional) {
			this(code -> alternatives, output, optional, false);
		}

		public Stage(List<? extends Pass> alternatives, Dialect output) {
			this(alternatives, output, false);
		}

		/** An optional stage whose alternatives are the first {@code limit} options for the code it gets. */
		public static Stage fromCode(Function<TranslationUnit, List<? extends Pass>> options, int limit, Dialect output) {
			return new Stage(code -> options.apply(code).stream().limit(limit).toList(), output, true, true);
		}

		/** The alternatives to try on {@code code} (parsed only when the stage reads it). */
		public List<? extends Pass> alternatives(Supplier<TranslationUnit> code) {
			return options.apply(readsCode ? code.get() : null);
		}
	}

	/**
	 * The candidate plans from {@code from} to {@code to}.
	 *
	 * @param buffers what the source's run showed of each pointer parameter of its entry
	 */
	public List<List<Stage>> plans(Dialect from, Dialect to, List<LoopBind.Buffer> buffers) {
		return plans(from, to, buffers, null);
	}

	/**
	 * The candidate plans for a source whose entry is a bare {@code __global__} kernel launched with
	 * {@code bareLaunch} (null when the source has a host wrapper or is not CUDA or HIP). A BANG output of a
	 * bare kernel is a bare {@code __mlu_global__} entry first, the CNRT host wrapper the fallback.
	 */
	public List<List<Stage>> plans(Dialect from, Dialect to, List<LoopBind.Buffer> buffers,
			VirtualMachine.LaunchShape bareLaunch) {
		List<List<Stage>> plans = new ArrayList<>();
		if (from == to) {
			return plans;
		}
		if ((from == Dialect.CUDA || from == Dialect.HIP) && (to == Dialect.CUDA || to == Dialect.HIP)) {
			plans.add(List.of(new Stage(List.of(new SimtRuntimeMapping()), to)));
		}
		List<Stage> lifted = new ArrayList<>(lift(from, bareLaunch));
		lifted.add(new Stage(List.of(new ProgramAnnotation(to)), Dialect.VNNI, true));
		if (to == Dialect.VNNI || to == Dialect.BANG) {
			// one loop per kind of statement, so that tensorize finds loops of element-wise stores alone; no new
			// arrays for locals: spilling per-iteration index arithmetic to memory is no code to accept in review
			lifted.add(Stage.fromCode(code -> LoopExpansion.options(code, false), 1, Dialect.VNNI));
		} else {
			// a producer loop merged into its consumer: one kernel less, a temporary array less
			lifted.add(Stage.fromCode(LoopContraction::options, 1, Dialect.VNNI));
		}
		if (to == Dialect.VNNI) {
			lifted.add(new Stage(List.of(new VnniTensorize()), Dialect.VNNI, true));
			lifted.add(new Stage(VnniDotTensorize.options(), Dialect.VNNI, true));
		} else {
			List<LoopBind> bindings = LoopBind.options(to, buffers);
			if (bareLaunch != null) {
				bindings = bindings.stream().sorted(java.util.Comparator.comparing(LoopBind::writesHostWrapper)).toList();
			}
			lifted.add(new Stage(bindings, to));
		}
		if (to == Dialect.HIP || to == Dialect.CUDA) {
			lifted.add(new Stage(SimtMatrixTensorize.options(to), to, true));
		}
		if (to == Dialect.BANG) {
			lifted.add(new Stage(BangTensorize.options(), Dialect.BANG, true));
			lifted.add(new Stage(BangMatmulTensorize.options(), Dialect.BANG, true));
			lifted.add(new Stage(Pipeline.options(), Dialect.BANG, true));
			lifted.add(Stage.fromCode(code -> Cache.options(code, Dialect.BANG, Dialect.BANG), CACHE_CANDIDATES,
					Dialect.BANG));
		}
		plans.add(lifted);
		return plans;
	}

	/** The stages that turn {@code from} into sequential C++ (VNNI's dialect without intrinsics). */
	private static List<Stage> lift(Dialect from, VirtualMachine.LaunchShape bareLaunch) {
		// references bound to elements hide them from the analyses that read array accesses
		Stage references = new Stage(List.of(new ReferenceSubstitution()), Dialect.VNNI, true);
		return switch (from) {
		case CUDA, HIP -> List.of(new Stage(List.of(new LoopRecovery(bareLaunch)), Dialect.VNNI), references,
				new Stage(List.of(new LoopFuse()), Dialect.VNNI, true));
		case BANG -> List.of(new Stage(List.of(new BangDetensorize()), Dialect.BANG),
				new Stage(List.of(new LoopRecovery()), Dialect.VNNI), references);
		case VNNI -> List.of(new Stage(VnniDetensorize.options(), Dialect.VNNI), references);
		};
	}
}
