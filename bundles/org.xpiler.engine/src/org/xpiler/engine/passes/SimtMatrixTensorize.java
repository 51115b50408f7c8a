package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.StringJoiner;
import java.util.stream.Stream;

import org.eclipse.emf.common.util.EList;
import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.engine.passes.DotProductNest.Factor;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.KernelLaunch;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypedefDeclaration;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Tensorize for HIP and CUDA. On HIP, the matrix products that loop bind leaves in a kernel
 * ({@link DotProductNest} inside its grid-stride loop) run on AMD's matrix cores with
 * {@code __builtin_amdgcn_mfma_f32_16x16x4f32}, which multiplies
 * a 16x4 by a 4x16 float matrix and adds a 16x16 one across the 64 lanes of a wavefront. Each wavefront takes
 * 16x16 tiles of the output; for every 4 reduction steps each lane loads its element of the row factor (row
 * {@code lane % 16}, step {@code lane / 16}) and of the column factor (step {@code lane / 16}, column
 * {@code lane % 16}) by declaring the nest's own loop variables with those values, so the factors' subscripts are
 * used as written: any layout (transposed, strided, offset) works. After the reduction each lane runs the nest's
 * finish (a store, a bias, an activation) for the four outputs it holds, rows {@code 4 * (lane / 16) + r}, column
 * {@code lane % 16}. The accumulators start at the nest's initial value and the products are added in increasing
 * reduction order, as the scalar loop adds them (each with one rounding, so the last bits may differ: the
 * oracle's tolerance decides). Rows, columns and steps beyond the bounds load zeros and
 * store nothing: the guards sit around the loads and the stores, never around the call, which all 64 lanes must
 * execute.
 *
 * <pre>
 * before: __global__ void gemm(const float *A, const float *B, float *C) {
 *             for (int i = blockIdx.x * blockDim.x + threadIdx.x; i &lt; 64; i += gridDim.x * blockDim.x) {
 *                 for (int j = 0; j &lt; 128; j++) {
 *                     float acc = 0.0f;
 *                     for (int k = 0; k &lt; 96; k++) { acc += A[i * 96 + k] * B[k * 128 + j]; }
 *                     C[i * 128 + j] = acc; } } }
 *         ... gemm&lt;&lt;&lt;1, 256&gt;&gt;&gt;(d_A, d_B, d_C);
 * after:  typedef float floatx4 __attribute__((ext_vector_type(4)));
 *         __global__ void gemm(const float *A, const float *B, float *C) {
 *             for (int tile = (blockIdx.x * blockDim.x + threadIdx.x) / 64; tile &lt; 32;
 *                     tile += gridDim.x * blockDim.x / 64) {
 *                 int lane = threadIdx.x % 64;
 *                 int tile_row = tile / 8 * 16;
 *                 int tile_col = tile % 8 * 16;
 *                 floatx4 acc_tile;
 *                 for (int r = 0; r &lt; 4; ++r) { acc_tile[r] = 0.0f; }
 *                 for (int k0 = 0; k0 &lt; 96; k0 += 4) {
 *                     int i = tile_row + lane % 16;
 *                     int j = tile_col + lane % 16;
 *                     int k = k0 + lane / 16;
 *                     acc_tile = __builtin_amdgcn_mfma_f32_16x16x4f32(A[i * 96 + k], B[k * 128 + j], acc_tile, 0, 0, 0); }
 *                 for (int r = 0; r &lt; 4; ++r) {
 *                     int i = tile_row + 4 * (lane / 16) + r;
 *                     int j = tile_col + lane % 16;
 *                     float acc = acc_tile[r];
 *                     C[i * 128 + j] = acc; } } }
 *         ... gemm&lt;&lt;&lt;8, 256&gt;&gt;&gt;(d_A, d_B, d_C);
 * </pre>
 *
 * When the grid-stride loop runs over the rows, its iterations become the output tiles, strided over all the
 * wavefronts of the launch. When it runs over an outer loop (a batch), it is strided over wavefronts instead of
 * threads and the tiles of each of its iterations follow one another in a loop that replaces the loop over rows.
 * Every launch of the kernel gets blocks of {@code 64 * waves} threads and enough blocks for one tile (or batch)
 * per wavefront.
 * <p>
 * On CUDA, products of half factors accumulated in float run on the tensor cores with {@code nvcuda::wmma}
 * (m16n16k16), one warp per 16x16 tile, in the same grid-stride arrangement. A wmma fragment's layout across the
 * lanes is opaque, so the lanes stage each 16x16 slice of the factors in shared memory (one slice per warp of the
 * block), element by element with the nest's own subscripts, and {@code load_matrix_sync} reads it from there;
 * the initial values enter and the results leave the accumulator fragment the same way, each lane then finishing
 * outputs {@code lane, lane + 32, ...} of the tile:
 * <pre>
 * for (int k0 = 0; k0 &lt; 72; k0 += 16) {
 *     __syncwarp();
 *     for (int e = lane; e &lt; 256; e += 32) { int i = tile_row + e / 16; int k = k0 + e % 16;
 *         row_tiles[warp][e] = (i &lt; 40 &amp;&amp; k &lt; 72) ? A[i * 72 + k] : (__half)0.0f; }
 *     for (int e = lane; e &lt; 256; e += 32) { ... column_tiles[warp][e] = ... B[k * 48 + j] ...; }
 *     __syncwarp();
 *     nvcuda::wmma::load_matrix_sync(row_frag, row_tiles[warp], 16);
 *     nvcuda::wmma::load_matrix_sync(column_frag, column_tiles[warp], 16);
 *     nvcuda::wmma::mma_sync(acc_frag, row_frag, column_frag, acc_frag); }
 * </pre>
 * <p>
 * Knob: {@code waves} (HIP) or {@code warps} (CUDA), lane groups per block; {@link #options} enumerates 4 (on
 * HIP the 256 threads of loop bind's block) and 1. The knob values report the intrinsic and the number of nests.
 * <p>
 * Precondition: HIP to HIP or CUDA to CUDA, a {@code __global__} kernel whose grid-stride loop (as loop bind writes
 * it) holds, through loops that hold nothing else, a loop over rows around a dot-product nest; float factors and
 * accumulator (HIP) or half factors and a float accumulator (CUDA: float factors would lose precision); one
 * factor indexed by the rows and not the columns, the other by the columns and not the rows; constant bounds
 * for rows, columns and the reduction; a finish that assigns only its locals, the accumulator and elements of
 * the kernel's pointer parameters or file-scope arrays, each array with one subscript that gives every output an
 * element of its own, which the factors do not read and the initial value reads only there ({@code C += A * B});
 * no other use of the thread and block indices in the kernel; every use of the kernel a
 * {@code kernel<<<grid, block>>>(...)} launch. Nests that do not fit stay as they are; with none that fits the
 * pass refuses with the reason for the first (GEMV, whose outputs form one column, has no loop over columns and
 * is refused: its reductions gain nothing from 16x16 tiles).
 */
public final class SimtMatrixTensorize implements Pass {
	/** Rows and columns of the output tile of one MFMA. */
	private static final int TILE = 16;
	/** Launches stay within the grid size that loop bind uses. */
	private static final long MAX_BLOCKS = 65535;
	private static final String VECTOR_TYPE = "floatx4";
	private static final String GLOBAL_INDEX = "blockIdx.x * blockDim.x + threadIdx.x";
	private static final String GLOBAL_STRIDE = "gridDim.x * blockDim.x";
	private static final Set<String> THREAD_BUILTINS = Set.of("threadIdx", "blockIdx", "blockDim", "gridDim",
			"warpSize");

	/** The matrix instruction that computes the tiles, and what its dialect and operands are. */
	public enum MatrixCore {
		/** AMD's MFMA: float factors and accumulator, a 16x16 tile per wavefront of 64 lanes, 4 steps a call. */
		MFMA(Dialect.HIP, 64, 4, "__builtin_amdgcn_mfma_f32_16x16x4f32", "float", "waves"),
		/** NVIDIA's wmma: half factors, float accumulator, a 16x16 tile per warp of 32 lanes, 16 steps a call. */
		WMMA(Dialect.CUDA, 32, 16, "nvcuda::wmma::mma_sync", "half", "warps");

		private final Dialect dialect;
		/** Lanes that execute one call together. */
		private final int lanes;
		/** Reduction steps of one call. */
		private final int steps;
		private final String intrinsic;
		private final String factorType;
		/** The knob that counts the lane groups (wavefronts, warps) of a block. */
		private final String groupKnob;

		/** Whether the core multiplies the nest's factors and accumulates as it does. */
		boolean takes(DotProductNest nest) {
			return nest.accumulatorType().equals("float") && nest.left().elementType().equals(factorType)
					&& nest.right().elementType().equals(factorType);
		}

		MatrixCore(Dialect dialect, int lanes, int steps, String intrinsic, String factorType, String groupKnob) {
			this.dialect = dialect;
			this.lanes = lanes;
			this.steps = steps;
			this.intrinsic = intrinsic;
			this.factorType = factorType;
			this.groupKnob = groupKnob;
		}
	}

	private final MatrixCore core;
	private final int groups;
	private final KernelPrinter printer;

	/** @param groups wavefronts (MFMA) or warps (wmma) per block */
	public SimtMatrixTensorize(MatrixCore core, int groups) {
		this.core = core;
		this.groups = groups;
		this.printer = core.dialect.printer();
	}

	/**
	 * The options for {@code target}'s matrix core: four lane groups per block (256 threads on HIP, loop bind's
	 * block; 128 on CUDA), then one; none for a target without one.
	 */
	public static List<SimtMatrixTensorize> options(Dialect target) {
		for (MatrixCore core : MatrixCore.values()) {
			if (core.dialect == target) {
				return List.of(new SimtMatrixTensorize(core, 4), new SimtMatrixTensorize(core, 1));
			}
		}
		return List.of();
	}

	/**
	 * Whether {@code loop} holds a matrix product whose operands the matrix cores of {@code target} take, so that
	 * loop bind leaves the loops around it for this pass.
	 */
	static boolean takesProductsIn(ForStatement loop, Dialect target) {
		return Stream.of(MatrixCore.values()).filter(core -> core.dialect == target)
				.anyMatch(core -> CanonicalLoop.all(loop).stream().map(DotProductNest::of).flatMap(Optional::stream)
						.anyMatch(core::takes));
	}

	@Override
	public String name() {
		return "tensorize";
	}

	@Override
	public String summary() {
		return "compute matrix products on the matrix cores: HIP's MFMA 16x16x4 on float, one wavefront per tile; "
				+ "CUDA's wmma m16n16k16 on half, one warp per tile";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != core.dialect || to != core.dialect) {
			String dialect = core.dialect.displayName();
			return Optional.of("tensorizes " + dialect + " kernels (" + dialect + " to " + dialect + ") only");
		}
		return PassRefusal.of(() -> plans(unit));
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		List<Plan> plans = plans(unit);
		// the new names are locals of one kernel: each kernel may reuse them
		Set<String> names = Snippets.takenNames(unit);
		if (core == MatrixCore.WMMA) {
			Snippets.include(unit, "mma.h");
		}
		for (Plan plan : plans) {
			Set<String> taken = new HashSet<>(names);
			String tile = fresh(taken, "tile");
			String body;
			if (core == MatrixCore.MFMA) {
				String vectorType = vectorType(plan.kernel(), taken);
				names.add(vectorType);
				body = mfmaTileBody(plan, tile, vectorType, taken);
			} else {
				StagingTiles staging = stagingTiles(plan.kernel(), taken);
				names.addAll(staging.names());
				body = wmmaTileBody(plan, tile, staging, taken);
			}
			rewrite(plan, tile, body);
		}
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("intrinsic", core.intrinsic);
		knobs.put(core.groupKnob, Integer.toString(groups));
		knobs.put("nests", Integer.toString(plans.size()));
		return knobs;
	}

	// ------------------------------------------------------------------ what fits

	/**
	 * The loop that loop bind strides over the whole launch: {@code for (int v = [(lo) +] blockIdx.x * blockDim.x
	 * + threadIdx.x; v < upper; v += gridDim.x * blockDim.x)}; {@code lower} is null for 0.
	 */
	private record GridStrideLoop(ForStatement loop, String variable, Expression lower, Expression upper) {
		static Optional<GridStrideLoop> of(ForStatement loop) {
			if (loop.getInitDeclaration() == null || loop.getInitDeclaration().getDeclarators().size() != 1
					|| !(loop.getInitDeclaration().getDeclarators().get(0).getInitializer() instanceof Expression init)
					|| !(loop.getCondition() instanceof Binary condition) || !condition.getOp().equals("<")
					|| !(loop.getUpdate() instanceof Assignment update) || !update.getOp().equals("+=")) {
				return Optional.empty();
			}
			String v = loop.getInitDeclaration().getDeclarators().get(0).getName();
			if (!Snippets.isName(condition.getLeft(), v) || !Snippets.isName(update.getLeft(), v)
					|| !sameExpression(update.getRight(), GLOBAL_STRIDE)
					|| CanonicalLoop.assignsAny(loop.getBody(), Set.of(v))) {
				return Optional.empty();
			}
			if (sameExpression(init, GLOBAL_INDEX)) {
				return Optional.of(new GridStrideLoop(loop, v, null, condition.getRight()));
			}
			// (lo) + blockIdx.x * blockDim.x + threadIdx.x reads ((lo) + blockIdx.x * blockDim.x) + threadIdx.x
			if (init instanceof Binary outer && outer.getOp().equals("+") && sameExpression(outer.getRight(), "threadIdx.x")
					&& outer.getLeft() instanceof Binary inner && inner.getOp().equals("+")
					&& sameExpression(inner.getRight(), "blockIdx.x * blockDim.x")) {
				return Optional.of(new GridStrideLoop(loop, v, inner.getLeft(), condition.getRight()));
			}
			return Optional.empty();
		}

		private static boolean sameExpression(Expression e, String pattern) {
			return EcoreUtil.equals(e, Snippets.expression(pattern, Dialect.HIP));
		}
	}

	/**
	 * A half-open constant range of a loop variable, covered by blocks of {@code block} values: the 16 rows or
	 * columns of a tile, the 4 steps of one MFMA.
	 */
	private record Range(String variable, long lower, long upper, int block) {
		long size() {
			return Math.max(0, upper - lower);
		}

		long blocks() {
			return (size() + block - 1) / block;
		}

		/** Whether the last block runs past the range, so that its lanes need a guard. */
		boolean ragged() {
			return size() % block != 0;
		}

		String guard() {
			return variable + " < " + upper;
		}
	}

	/**
	 * One nest to put on the matrix cores: the kernel, its grid-stride loop, the loop over rows (the grid-stride
	 * loop itself, or a loop inside it), the nest, the ranges and the roles of the factors, what the launch
	 * strides over (one item per wavefront: the tiles, or the bound loop's iterations) and the launches to resize.
	 */
	private record Plan(FunctionDefinition kernel, GridStrideLoop bound, ForStatement rowLoop, DotProductNest nest,
			Range rows, Range columns, Range steps, Factor rowFactor, Factor columnFactor, long items,
			List<KernelLaunch> launches) {

		boolean rowsAreBound() {
			return rowLoop == bound.loop();
		}

		long tiles() {
			return rows.blocks() * columns.blocks();
		}
	}

	private List<Plan> plans(TranslationUnit unit) {
		List<Plan> plans = new ArrayList<>();
		PassRefusal first = null;
		for (FunctionDefinition kernel : Snippets.definedFunctions(unit)) {
			if (!EntryPoint.hasQualifier(kernel, "__global__")) {
				continue;
			}
			for (ForStatement loop : EcoreUtil2.eAllOfType(kernel.getBody(), ForStatement.class)) {
				Optional<GridStrideLoop> bound = GridStrideLoop.of(loop);
				if (bound.isEmpty()) {
					continue;
				}
				for (CanonicalLoop candidate : CanonicalLoop.all(loop)) {
					Optional<DotProductNest> nest = DotProductNest.of(candidate);
					if (nest.isEmpty()) {
						continue;
					}
					try {
						plans.add(plan(unit, kernel, bound.get(), nest.get()));
					} catch (PassRefusal refused) {
						first = first == null ? refused : first;
					}
				}
			}
		}
		if (plans.isEmpty()) {
			throw first != null ? first
					: new PassRefusal("no matrix product (for j { acc = init; for k: acc += x[..] * y[..]; finish }) "
							+ "inside a loop over rows in the grid-stride loop of a __global__ kernel");
		}
		return plans;
	}

	private Plan plan(TranslationUnit unit, FunctionDefinition kernel, GridStrideLoop bound, DotProductNest nest) {
		ForStatement columnLoop = nest.outputs().loop();
		ForStatement rowLoop = enclosingLoop(columnLoop);
		if (rowLoop == null || onlyStatement(rowLoop) != columnLoop) {
			throw PassRefusal.at(columnLoop, "the dot-product nest is not the only statement of a loop over rows");
		}
		for (ForStatement inner = rowLoop; inner != bound.loop();) {
			ForStatement outer = enclosingLoop(inner);
			if (outer == null || onlyStatement(outer) != inner) {
				throw PassRefusal.at(inner, "the loop shares its enclosing loop with other statements, which every lane "
						+ "of a wavefront would run");
			}
			inner = outer;
		}
		ConstantFolder folder = nest.folder();
		Range outermost = range(bound.loop(), bound.variable(),
				bound.lower() == null ? OptionalLong.of(0) : folder.fold(bound.lower()), folder.fold(bound.upper()), TILE);
		Range rows = outermost;
		if (rowLoop != bound.loop()) {
			CanonicalLoop canonical = CanonicalLoop.of(rowLoop)
					.orElseThrow(() -> PassRefusal.at(rowLoop, "the loop over rows is not for (int i = a; i < b; i++)"));
			rows = range(rowLoop, canonical.variable(), folder.fold(canonical.lower()), folder.fold(canonical.upper()),
					TILE);
		}
		Range columns = range(columnLoop, nest.outputs().variable(), folder.fold(nest.outputs().lower()),
				folder.fold(nest.outputs().upper()), TILE);
		Range steps = range(nest.reduction().loop(), nest.reduction().variable(), folder.fold(nest.reduction().lower()),
				folder.fold(nest.reduction().upper()), core.steps);
		if (!core.takes(nest)) {
			throw PassRefusal.at(nest.reduction().loop(), "the product of " + nest.left().elementType() + " and "
					+ nest.right().elementType() + " accumulated in " + nest.accumulatorType() + " is not the "
					+ core.factorType + " product accumulated in float of " + core.intrinsic);
		}
		Factor rowFactor = indexedByOnly(nest, rows, columns);
		Factor columnFactor = indexedByOnly(nest, columns, rows);
		if (rowFactor == null || columnFactor == null) {
			throw PassRefusal.at(nest.reduction().loop(), "the factors are not one indexed by the rows ("
					+ rows.variable() + ") and one by the columns (" + columns.variable() + ")");
		}
		checkFinish(kernel, unit, nest, rows, columns);
		checkThreadIndices(kernel, bound);
		long items = rowLoop == bound.loop() ? rows.blocks() * columns.blocks() : outermost.size();
		return new Plan(kernel, bound, rowLoop, nest, rows, columns, steps, rowFactor, columnFactor, items,
				launches(unit, kernel));
	}

	private static Range range(ForStatement loop, String variable, OptionalLong lower, OptionalLong upper, int block) {
		if (lower.isEmpty() || upper.isEmpty()) {
			throw PassRefusal.at(loop, "the bounds of the loop over " + variable + " are not constant");
		}
		return new Range(variable, lower.getAsLong(), upper.getAsLong(), block);
	}

	/** The factor whose subscript mentions {@code own}'s variable and not {@code other}'s, or null. */
	private static Factor indexedByOnly(DotProductNest nest, Range own, Range other) {
		for (Factor factor : List.of(nest.left(), nest.right())) {
			Expression subscript = factor.subscript();
			if (Snippets.mentions(subscript, own.variable()) && !Snippets.mentions(subscript, other.variable())) {
				return factor;
			}
		}
		return null;
	}

	/**
	 * The initial values of a whole tile are read before its reduction steps, and the finish runs after them for
	 * its outputs in no particular order: the finish may assign only its own locals, the accumulator and elements
	 * of output arrays that every output writes apart; the factors may not read those arrays, and the initial
	 * value and the finish only the element of their own output.
	 */
	private static void checkFinish(FunctionDefinition kernel, TranslationUnit unit, DotProductNest nest, Range rows,
			Range columns) {
		Statement finish = nest.finish();
		Map<String, String> subscripts = new LinkedHashMap<>();
		for (EObject o : EcoreUtil2.eAllOfType(finish, EObject.class)) {
			Expression target = CanonicalLoop.writeTarget(o);
			if (target == null || target instanceof Name n
					&& (n.getName().equals(nest.accumulator()) || CanonicalLoop.declares(finish, n.getName()))) {
				continue;
			}
			if (!(target instanceof Index element) || !(element.getTarget() instanceof Name array)
					|| !isSharedArray(array.getName(), kernel, unit)) {
				throw PassRefusal.at(o, "the finish assigns " + Dialect.HIP.printer().expression(target)
						+ ", which is not an element of a pointer parameter or file-scope array");
			}
			OptionalLong perRow = nest.coefficient(element.getIndex(), rows.variable());
			OptionalLong perColumn = nest.coefficient(element.getIndex(), columns.variable());
			if (perRow.orElse(0) == 0 || perColumn.orElse(0) == 0
					|| !apart(perRow.getAsLong(), perColumn.getAsLong(), columns.size())
							&& !apart(perColumn.getAsLong(), perRow.getAsLong(), rows.size())) {
				throw PassRefusal.at(o, "the store to " + array.getName() + " does not give every output ("
						+ rows.variable() + ", " + columns.variable() + ") an element of its own");
			}
			subscripts.put(array.getName(), Dialect.HIP.printer().expression(element.getIndex()));
		}
		// the initial value and the finish may read the element their output stores (C = C + A * B), no other
		for (Expression read : List.of(nest.left().load(), nest.right().load())) {
			for (String array : subscripts.keySet()) {
				if (Snippets.mentions(read, array)) {
					throw PassRefusal.at(read, "the product reads " + array + ", which its finish writes");
				}
			}
		}
		for (EObject scope : List.of(nest.initial(), finish)) {
			for (Name use : EcoreUtil2.eAllOfType(scope, Name.class)) {
				String own = subscripts.get(use.getName());
				if (own != null && !(use.eContainer() instanceof Index element && element.getTarget() == use
						&& own.equals(Dialect.HIP.printer().expression(element.getIndex())))) {
					throw PassRefusal.at(use, "the nest uses an element of " + use.getName() + " other than the one its "
							+ "output stores, which another output of the tile may change first");
				}
			}
		}
	}

	/**
	 * Whether outputs stay apart: {@code outer * a + inner * b} differs for all {@code b} in a range of
	 * {@code innerCount} when {@code |inner| * (innerCount - 1) < |outer|}.
	 */
	private static boolean apart(long outer, long inner, long innerCount) {
		return Math.abs(inner) * Math.max(0, innerCount - 1) < Math.abs(outer);
	}

	/** Whether {@code name} is a pointer parameter of the kernel or an array declared at file scope. */
	private static boolean isSharedArray(String name, FunctionDefinition kernel, TranslationUnit unit) {
		for (Parameter p : kernel.getParams()) {
			if (name.equals(p.getDeclarator().getName())) {
				return !p.getDeclarator().getPointers().isEmpty();
			}
		}
		return Snippets.topLevelItems(unit).stream().filter(Declaration.class::isInstance)
				.flatMap(d -> ((Declaration) d).getDeclarators().stream())
				.anyMatch(x -> name.equals(x.getName()) && !x.getDimensions().isEmpty());
	}

	/**
	 * The launch changes shape and the wavefronts take the bound loop's stride: the kernel may read the thread and
	 * block indices nowhere else.
	 */
	private static void checkThreadIndices(FunctionDefinition kernel, GridStrideLoop bound) {
		ForStatement loop = bound.loop();
		for (Name n : EcoreUtil2.eAllOfType(kernel.getBody(), Name.class)) {
			boolean header = EcoreUtil.isAncestor(loop.getInitDeclaration(), n)
					|| EcoreUtil.isAncestor(loop.getUpdate(), n);
			if (THREAD_BUILTINS.contains(n.getName()) && !header) {
				throw PassRefusal.at(n, "the kernel " + kernel.getName() + " reads " + n.getName()
						+ " outside its grid-stride loop's header; wavefronts would change what it means");
			}
		}
	}

	/** Every launch of {@code kernel}, each {@code kernel<<<grid, block, ...>>>(...)}. */
	private static List<KernelLaunch> launches(TranslationUnit unit, FunctionDefinition kernel) {
		List<KernelLaunch> launches = new ArrayList<>();
		for (Name n : EcoreUtil2.eAllOfType(unit, Name.class)) {
			if (!n.getName().equals(kernel.getName())) {
				continue;
			}
			if (!(n.eContainer() instanceof KernelLaunch launch) || launch.getKernel() != n
					|| launch.getConfig().size() < 2) {
				throw PassRefusal.at(n, "the kernel " + kernel.getName() + " is used other than by a launch "
						+ kernel.getName() + "<<<grid, block>>>(...) whose block size the pass can set");
			}
			launches.add(launch);
		}
		if (launches.isEmpty()) {
			throw PassRefusal.at(kernel, "the kernel " + kernel.getName() + " is not launched in this file");
		}
		return launches;
	}

	private static ForStatement enclosingLoop(Statement s) {
		return EcoreUtil2.getContainerOfType(s.eContainer(), ForStatement.class);
	}

	/** The only statement of the loop's body, or null. */
	private static Statement onlyStatement(ForStatement loop) {
		List<Statement> body = CanonicalLoop.statementsOf(loop.getBody());
		return body.size() == 1 ? body.get(0) : null;
	}

	// ------------------------------------------------------------------ the rewrite

	/**
	 * The grid-stride loop strided over lane groups, each running {@code body} for its tile number {@code tile},
	 * and the launches resized.
	 */
	private void rewrite(Plan plan, String tile, String body) {
		String waveIndex = "(" + GLOBAL_INDEX + ") / " + core.lanes;
		String waveStride = GLOBAL_STRIDE + " / " + core.lanes;
		ForStatement bound = plan.bound().loop();
		Declarator variable = bound.getInitDeclaration().getDeclarators().get(0);
		if (plan.rowsAreBound()) {
			variable.setName(tile);
			variable.setInitializer(expression(waveIndex));
			bound.setCondition(expression(tile + " < " + plan.tiles()));
			bound.setUpdate(expression(tile + " += " + waveStride));
			bound.setBody(Snippets.statements("{\n" + body + "}\n", core.dialect).get(0));
		} else {
			Expression lower = plan.bound().lower();
			variable.setInitializer(
					expression(lower == null ? waveIndex : "(" + printer.expression(lower) + ") + " + waveIndex));
			bound.setUpdate(expression(plan.bound().variable() + " += " + waveStride));
			EcoreUtil.replace(plan.rowLoop(), Snippets.statements("for (int " + tile + " = 0; " + tile + " < " + plan.tiles()
					+ "; ++" + tile + ") {\n" + body + "}\n", core.dialect).get(0));
		}
		long blocks = Math.min(MAX_BLOCKS, Math.max(1, (plan.items() + groups - 1) / groups));
		for (KernelLaunch launch : plan.launches()) {
			launch.getConfig().set(0, expression(Long.toString(blocks)));
			launch.getConfig().set(1, expression(Integer.toString(core.lanes * groups)));
		}
	}

	/**
	 * One wavefront's 16x16 tile number {@code tile}: the accumulators from the initial value, the MFMA steps over
	 * the reduction, the finish for each lane's four outputs.
	 */
	private String mfmaTileBody(Plan plan, String tile, String vectorType, Set<String> taken) {
		DotProductNest nest = plan.nest();
		Range rows = plan.rows();
		Range columns = plan.columns();
		Range steps = plan.steps();
		String i = rows.variable();
		String j = columns.variable();
		String k = steps.variable();
		TileFrame frame = frame(plan, taken);
		String lane = frame.lane();
		String tileRow = frame.tileRow();
		String tileColumn = frame.tileColumn();
		String accumulators = fresh(taken, nest.accumulator() + "_tile");
		String r = fresh(taken, "r");
		String outputRow = "int " + i + " = " + tileRow + " + 4 * (" + lane + " / 16) + " + r + ";\n";
		String outputColumn = "int " + j + " = " + tileColumn + " + " + lane + " % 16;\n";
		StringBuilder text = new StringBuilder();
		text.append(tileOrigin(plan, tile, frame));
		// the accumulators: each lane's four outputs start at the initial value
		text.append(vectorType).append(' ').append(accumulators).append(";\n");
		text.append(forEachRegister(r)).append(Snippets.mentions(nest.initial(), i) ? outputRow : "")
				.append(Snippets.mentions(nest.initial(), j) ? outputColumn : "").append(accumulators).append("[").append(r)
				.append("] = ").append(guarded(nest.initial(), raggedOf(nest.initial(), rows, columns), "0.0f")).append(";\n}\n");
		// the reduction: lane l loads row l % 16 and column l % 16 of step l / 16
		text.append(stepLoop(plan, frame));
		text.append("int ").append(i).append(" = ").append(tileRow).append(" + ").append(lane).append(" % 16;\n");
		text.append(outputColumn);
		text.append("int ").append(k).append(" = ").append(frame.step()).append(" + ").append(lane).append(" / 16;\n");
		// a step beyond the reduction must add nothing, whichever factor reads it
		text.append(accumulators).append(" = ").append(core.intrinsic).append("(")
				.append(guarded(plan.rowFactor().load(), ragged(rows, steps), "0.0f")).append(", ")
				.append(guarded(plan.columnFactor().load(), ragged(columns, steps), "0.0f")).append(", ").append(accumulators)
				.append(", 0, 0, 0);\n}\n");
		// the finish: lane l holds rows 4 * (l / 16) + r of column l % 16
		text.append(forEachRegister(r)).append(outputRow).append(outputColumn);
		List<Range> outputGuards = ragged(rows, columns);
		String finish = "float " + nest.accumulator() + " = " + accumulators + "[" + r + "];\n"
				+ printer.statement(nest.finish(), 0);
		text.append(outputGuards.isEmpty() ? finish : "if (" + conjunction(outputGuards) + ") {\n" + finish + "}\n");
		text.append("}\n");
		return text.toString();
	}

	/** The names a tile body gives its lane, the first row and column of its tile and its first reduction step. */
	private record TileFrame(String lane, String tileRow, String tileColumn, String step) {
	}

	private TileFrame frame(Plan plan, Set<String> taken) {
		return new TileFrame(fresh(taken, "lane"), fresh(taken, "tile_row"), fresh(taken, "tile_col"),
				fresh(taken, plan.steps().variable() + "0"));
	}

	/** The lane within its group, and the first row and column of the group's tile number {@code tile}. */
	private String tileOrigin(Plan plan, String tile, TileFrame frame) {
		long columnTiles = plan.columns().blocks();
		return "int " + frame.lane() + " = threadIdx.x % " + core.lanes + ";\n"
				+ "int " + frame.tileRow() + " = " + offset(plan.rows().lower()) + tile + " / " + columnTiles + " * " + TILE
				+ ";\n" + "int " + frame.tileColumn() + " = " + offset(plan.columns().lower()) + tile + " % " + columnTiles
				+ " * " + TILE + ";\n";
	}

	/** The head of the loop over the reduction, one call's steps at a time. */
	private String stepLoop(Plan plan, TileFrame frame) {
		Range steps = plan.steps();
		return "for (int " + frame.step() + " = " + steps.lower() + "; " + frame.step() + " < " + steps.upper() + "; "
				+ frame.step() + " += " + core.steps + ") {\n";
	}

	/**
	 * Shared memory through which a warp's lanes hand wmma its tiles: per warp of the block a 16x16 tile of each
	 * factor (half) and of the accumulator (float), row-major. The lanes fill them element by element with the
	 * nest's own subscripts, so that any layout of the factors works.
	 */
	private record StagingTiles(String rowFactor, String columnFactor, String accumulator) {
		List<String> names() {
			return List.of(rowFactor, columnFactor, accumulator);
		}
	}

	/** Declares the staging tiles of {@code warps} warps at the top of the kernel. */
	private StagingTiles stagingTiles(FunctionDefinition kernel, Set<String> taken) {
		StagingTiles tiles = new StagingTiles(fresh(taken, "row_tiles"), fresh(taken, "column_tiles"),
				fresh(taken, "accumulator_tiles"));
		String size = "[" + groups + "][" + TILE * TILE + "];\n";
		kernel.getBody().getStatements().addAll(0, Snippets.statements("__shared__ __half " + tiles.rowFactor() + size
				+ "__shared__ __half " + tiles.columnFactor() + size + "__shared__ float " + tiles.accumulator() + size,
				core.dialect));
		return tiles;
	}

	/**
	 * One warp's 16x16 tile number {@code tile}: the accumulator fragment loaded from the initial values, for every
	 * 16 reduction steps the factors' 16x16 slices staged and multiplied into it, then the finish for the 8 outputs
	 * of each lane, read back from shared memory. {@code __syncwarp()} orders the lanes' stores and the warp-wide
	 * loads between them.
	 */
	private String wmmaTileBody(Plan plan, String tile, StagingTiles staging, Set<String> taken) {
		DotProductNest nest = plan.nest();
		Range rows = plan.rows();
		Range columns = plan.columns();
		Range steps = plan.steps();
		String i = rows.variable();
		String j = columns.variable();
		String k = steps.variable();
		TileFrame frame = frame(plan, taken);
		String lane = frame.lane();
		String tileRow = frame.tileRow();
		String tileColumn = frame.tileColumn();
		String warp = fresh(taken, "warp");
		String element = fresh(taken, "e");
		String accumulator = fresh(taken, nest.accumulator() + "_frag");
		String rowFragment = fresh(taken, "row_frag");
		String columnFragment = fresh(taken, "column_frag");
		String wmma = "nvcuda::wmma::";
		String eachElement = "for (int " + element + " = " + lane + "; " + element + " < " + TILE * TILE + "; " + element
				+ " += " + core.lanes + ") {\n";
		String outputRow = "int " + i + " = " + tileRow + " + " + element + " / " + TILE + ";\n";
		String outputColumn = "int " + j + " = " + tileColumn + " + " + element + " % " + TILE + ";\n";
		String accumulators = staging.accumulator() + "[" + warp + "]";
		StringBuilder text = new StringBuilder(tileOrigin(plan, tile, frame));
		text.append("int ").append(warp).append(" = threadIdx.x / ").append(core.lanes).append(";\n");
		text.append(wmma).append("fragment<").append(wmma).append("accumulator, 16, 16, 16, float> ").append(accumulator)
				.append(";\n");
		// the initial values, through shared memory into the accumulator fragment
		text.append(eachElement).append(Snippets.mentions(nest.initial(), i) ? outputRow : "")
				.append(Snippets.mentions(nest.initial(), j) ? outputColumn : "").append(accumulators).append("[")
				.append(element).append("] = ").append(guarded(nest.initial(), raggedOf(nest.initial(), rows, columns), "0.0f"))
				.append(";\n}\n__syncwarp();\n");
		text.append(wmma).append("load_matrix_sync(").append(accumulator).append(", ").append(accumulators).append(", ")
				.append(TILE).append(", ").append(wmma).append("mem_row_major);\n");
		// the reduction: 16 steps a call; steps beyond the reduction load zeros, whichever factor reads them
		text.append(stepLoop(plan, frame)).append("__syncwarp();\n");
		text.append(eachElement).append(outputRow).append("int ").append(k).append(" = ").append(frame.step()).append(" + ")
				.append(element).append(" % ").append(TILE).append(";\n").append(staging.rowFactor()).append("[")
				.append(warp).append("][").append(element).append("] = ")
				.append(guarded(plan.rowFactor().load(), ragged(rows, steps), "(__half)0.0f")).append(";\n}\n");
		text.append(eachElement).append("int ").append(k).append(" = ").append(frame.step()).append(" + ").append(element)
				.append(" / ").append(TILE).append(";\n").append(outputColumn).append(staging.columnFactor()).append("[")
				.append(warp).append("][").append(element).append("] = ")
				.append(guarded(plan.columnFactor().load(), ragged(columns, steps), "(__half)0.0f")).append(";\n}\n");
		text.append("__syncwarp();\n");
		text.append(wmma).append("fragment<").append(wmma).append("matrix_a, 16, 16, 16, __half, ").append(wmma)
				.append("row_major> ").append(rowFragment).append(";\n");
		text.append(wmma).append("fragment<").append(wmma).append("matrix_b, 16, 16, 16, __half, ").append(wmma)
				.append("row_major> ").append(columnFragment).append(";\n");
		text.append(wmma).append("load_matrix_sync(").append(rowFragment).append(", ").append(staging.rowFactor())
				.append("[").append(warp).append("], ").append(TILE).append(");\n");
		text.append(wmma).append("load_matrix_sync(").append(columnFragment).append(", ").append(staging.columnFactor())
				.append("[").append(warp).append("], ").append(TILE).append(");\n");
		text.append(core.intrinsic).append("(").append(accumulator).append(", ").append(rowFragment).append(", ")
				.append(columnFragment).append(", ").append(accumulator).append(");\n}\n");
		// the finish: lane l holds outputs l, l + 32, ... of the tile, row-major
		text.append(wmma).append("store_matrix_sync(").append(accumulators).append(", ").append(accumulator).append(", ")
				.append(TILE).append(", ").append(wmma).append("mem_row_major);\n__syncwarp();\n");
		text.append(eachElement).append(outputRow).append(outputColumn);
		List<Range> outputGuards = ragged(rows, columns);
		String finish = "float " + nest.accumulator() + " = " + accumulators + "[" + element + "];\n"
				+ printer.statement(nest.finish(), 0);
		text.append(outputGuards.isEmpty() ? finish : "if (" + conjunction(outputGuards) + ") {\n" + finish + "}\n");
		text.append("}\n__syncwarp();\n"); // the next tile's initial values overwrite the accumulator tile
		return text.toString();
	}

	/** The ranges whose last block runs past their bound: their lanes need a guard. */
	private static List<Range> ragged(Range... ranges) {
		return Stream.of(ranges).filter(Range::ragged).toList();
	}

	/** The ragged ranges whose variable {@code e} reads. */
	private static List<Range> raggedOf(Expression e, Range... ranges) {
		return ragged(ranges).stream().filter(range -> Snippets.mentions(e, range.variable())).toList();
	}

	private static String forEachRegister(String r) {
		return "for (int " + r + " = 0; " + r + " < 4; ++" + r + ") {\n";
	}

	/** {@code e}, or {@code (guards) ? e : zero} so that lanes beyond the bounds read nothing. */
	private String guarded(Expression e, List<Range> guards, String zero) {
		return guards.isEmpty() ? printer.expression(e)
				: "(" + conjunction(guards) + ") ? " + printer.expression(e) + " : " + zero;
	}

	private static String conjunction(List<Range> guards) {
		StringJoiner all = new StringJoiner(" && ");
		guards.forEach(g -> all.add(g.guard()));
		return all.toString();
	}

	/** {@code lower + }, or nothing for 0. */
	private static String offset(long lower) {
		return lower == 0 ? "" : lower + " + ";
	}

	/**
	 * The name of the 4-float vector type the accumulators use: a typedef the file already has, or one added
	 * before the kernel.
	 */
	private String vectorType(FunctionDefinition kernel, Set<String> taken) {
		String wanted = "typedef float %s __attribute__((ext_vector_type(4)));\n";
		for (TopLevel item : Snippets.topLevelItems(EcoreUtil2.getContainerOfType(kernel, TranslationUnit.class))) {
			if (item instanceof TypedefDeclaration typedef && typedef.getDeclarators().size() == 1) {
				String name = typedef.getDeclarators().get(0).getName();
				if (printer.topLevel(typedef).strip().equals(wanted.formatted(name).strip())) {
					return name;
				}
			}
		}
		String name = fresh(taken, VECTOR_TYPE);
		TopLevel typedef = Snippets.file(wanted.formatted(name), Dialect.HIP).getItems().get(0);
		@SuppressWarnings("unchecked")
		EList<TopLevel> siblings = (EList<TopLevel>) kernel.eContainer().eGet(kernel.eContainingFeature());
		siblings.add(siblings.indexOf(kernel), typedef);
		return name;
	}

	private Expression expression(String text) {
		return Snippets.expression(text, core.dialect);
	}

	private String fresh(Set<String> taken, String base) {
		return Snippets.freshName(taken, base, core.dialect);
	}
}
