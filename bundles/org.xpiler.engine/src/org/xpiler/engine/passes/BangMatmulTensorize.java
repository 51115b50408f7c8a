package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.engine.passes.DotProductNest.Factor;
import org.xpiler.lang.catalog.CatalogEntries.CatalogVariable;
import org.xpiler.lang.catalog.CatalogEntries.DeviceModel;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Tensorize for dot products on BANG: the nests at the core of matrix and matrix-vector products
 * ({@link DotProductNest}) in a {@code __mlu_global__} kernel run on the MLU's tensor unit with
 * {@code __bang_matmul}, instead of reading GDRAM one scalar at a time. The product's two factors take the roles
 * of the intrinsic's operands: the <b>row operand</b> {@code A}, indexed by the row and the reduction (contiguous
 * in the reduction), and the <b>column operand</b> {@code B}, indexed by the reduction and the output column
 * (contiguous in either). The loop over rows is the loop directly around the nest whose variable {@code A}'s
 * subscript reads (a task loop, or a canonical loop); without one the nest computes one row ({@code y = x·B}).
 * Either the rows or the output columns may be the task loop that loop bind wrote: their iterations are
 * independent (the nest writes each output once, and nothing the product reads), so each task takes one
 * contiguous block of rows (of 64-column groups for columns) instead of every {@code taskDim}-th.
 * <p>
 * Per task, the output columns are walked in chunks of {@code W} (a multiple of 64, all of them when they fit),
 * each staged once in WRAM as the {@code W × K'} matrix {@code __bang_matmul} reads ({@code K'} is the reduction
 * rounded up to 16 floats, {@code W} the chunk's columns rounded up to 64, the padding zero): a column-major
 * {@code B} goes through NRAM in one strided {@code __memcpy}; a reduction-major {@code B} is loaded
 * {@code S} reduction steps by {@code W} at a time, transposed with {@code __bang_transpose} and copied into its
 * columns of WRAM by a strided {@code __memcpy} ({@code S = K'}, one slice, when NRAM allows). Then for each
 * block of at most {@code rows} rows one strided {@code __memcpy} loads {@code A}'s rows with the pitch
 * {@code K'} (their padding zeroed once), {@code __bang_matmul} multiplies them into an NRAM result of
 * {@code rows × W}, and the finish uses it: a plain store {@code C[..] = acc} of an accumulator started at 0
 * becomes one strided {@code __memcpy} of the real columns back to GDRAM; any other finish (a bias, an
 * activation, a scale, a start value) keeps its row and column loops and reads {@code acc = init + result[..]}.
 * The zero padding adds exact zeros, and the model accumulates in float in reduction order, so a plain store
 * gives the scalar loop's sums bit for bit; {@code init + sum} rounds differently from the scalar
 * {@code init + p0 + p1 + ...} (the oracle's tolerance decides).
 *
 * <pre>
 * before: for (int row = taskId; row &lt; M; row += taskDim) {          // const int M = 48, N = 80, K = 96;
 *             for (int col = 0; col &lt; N; ++col) {
 *                 float sum = 0.0f;
 *                 for (int k = 0; k &lt; K; ++k) { sum += A[row * K + k] * B[k * N + col]; }
 *                 C[row * N + col] = sum; } }
 * after:  __nram__ float A_nram[4608]; __nram__ float B_nram[12288]; __nram__ float B_t_nram[12288];
 *         __nram__ float sum_nram[6144]; __wram__ float B_wram[12288];    // before the kernel
 *         { int row_begin = 48 * taskId / taskDim; int row_end = 48 * (taskId + 1) / taskDim;
 *           int col_begin = 0; int col_end = 80;
 *           if (row_begin &lt; row_end) {
 *             for (int col0 = col_begin; col0 &lt; col_end; col0 += 128) {
 *               int col_count = col_end - col0 &lt; 128 ? col_end - col0 : 128;
 *               int col_padded = (col_count + 63) / 64 * 64;
 *               if (col_count &lt; col_padded) { __bang_write_value(B_nram, 96 * col_padded, 0.0f); }
 *               __memcpy(B_nram, B + (0 * N + col0), col_count * sizeof(float), GDRAM2NRAM,
 *                        col_padded * sizeof(float), 80 * sizeof(float), 95);
 *               __bang_transpose(B_t_nram, B_nram, 96, col_padded);
 *               __memcpy(B_wram, B_t_nram, col_padded * 96 * sizeof(float), NRAM2WRAM);
 *               for (int row0 = row_begin; row0 &lt; row_end; row0 += 48) {
 *                 int row_count = row_end - row0 &lt; 48 ? row_end - row0 : 48;
 *                 __memcpy(A_nram, A + (row0 * K + 0), 96 * sizeof(float), GDRAM2NRAM,
 *                          96 * sizeof(float), 96 * sizeof(float), row_count - 1);
 *                 __bang_matmul(sum_nram, A_nram, B_wram, row_count, 96, col_padded);
 *                 __memcpy(C + (row0 * N + col0), sum_nram, col_count * sizeof(float), NRAM2GDRAM,
 *                          80 * sizeof(float), col_padded * sizeof(float), row_count - 1); } } } }
 * </pre>
 *
 * Tiles: {@code K'} and the 64-column padding follow {@code __bang_matmul}'s rules (K·4 bytes a multiple of 64,
 * N a multiple of 64); the buffers are file-scope {@code __nram__}/{@code __wram__} arrays (64-byte aligned)
 * always passed at their start (WRAM is written at column offsets by {@code __memcpy} only). They are sized for
 * the smallest NRAM and the smallest WRAM that the catalog's device models leave for arrays (the kernel may run
 * on any of them), less the file's arrays and those of the nests planned before. With {@code rows} rows per call
 * (halved while nothing fits), {@code W} is the widest chunk WRAM holds, narrowed by 64 until the NRAM buffers
 * fit, and {@code S} the longest slice left room for; the nest is refused when one row and 64 columns do not fit.
 * <p>
 * Knobs: {@code rows} = rows of {@code A} per {@code __bang_matmul} call at most (capped by the rows there are);
 * {@link #options()} gives 64, 256, 16. {@code apply} reports it with the number of nests rewritten and, per
 * nest, the tile used as {@code rows x K' x W}. Precondition: a BANG C kernel with a dot-product nest of float
 * factors summed in float; constant bounds of the rows, columns and reduction; subscripts affine in them with
 * constant coefficients, {@code A} contiguous in the reduction, {@code B} contiguous in the reduction or the
 * columns, neither with overlapping rows; a finish that stores each output once ({@code X[..] op= expr}) into
 * none of the factors, reading {@code X} only at that element, with no other side effect; GDRAM (kernel pointer
 * parameter) factors, and for the plain store a GDRAM output; no task builtin in the nest when its rows or columns
 * move between tasks. Anything else is refused with its line.
 */
public final class BangMatmulTensorize implements Pass {
	private static final String NONE = "no dot-product nest to compute with __bang_matmul";
	/** {@code __bang_matmul} needs K·sizeof(float) a multiple of 64 bytes: the reduction pads to 16 floats. */
	private static final long REDUCTION_ALIGN = 16;
	/** ... and N a multiple of 64: output columns pad, and split over tasks, in groups of 64. */
	private static final long COLUMN_ALIGN = 64;
	private static final long FLOAT_BYTES = 4;
	/** Fills may share the vector length rule on hardware: multiples of 128 bytes. */
	private static final long VECTOR_FLOATS = 32;

	private final int rows;
	private final KernelPrinter printer = Dialect.BANG.printer();

	/** @param rows rows of the row operand per {@code __bang_matmul} call at most, positive */
	public BangMatmulTensorize(int rows) {
		if (rows <= 0) {
			throw new IllegalArgumentException("rows must be positive: " + rows);
		}
		this.rows = rows;
	}

	/**
	 * 64 rows per call first (a task's share of most products, and room left for wide column chunks), then
	 * 256 (fewer calls for tall products), then 16 (the least NRAM).
	 */
	public static List<BangMatmulTensorize> options() {
		return List.of(new BangMatmulTensorize(64), new BangMatmulTensorize(256), new BangMatmulTensorize(16));
	}

	@Override
	public String name() {
		return "tensorize";
	}

	@Override
	public String summary() {
		return "compute dot-product nests (matrix and matrix-vector products) of BANG kernels with __bang_matmul";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.BANG || to != Dialect.BANG) {
			return Optional.of("tensorizes BANG C into BANG C only");
		}
		List<String> reasons = new ArrayList<>();
		return plans(unit, reasons).isEmpty() ? Optional.of(none(reasons)) : Optional.empty();
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		List<String> reasons = new ArrayList<>();
		List<Plan> plans = plans(unit, reasons);
		if (plans.isEmpty()) {
			throw new PassRefusal(none(reasons));
		}
		Set<String> taken = Snippets.takenNames(unit);
		List<String> tiles = new ArrayList<>();
		for (Plan plan : plans) {
			Buffers buffers = new Buffers(plan, taken);
			String text = new Codegen(plan, buffers, taken).text();
			EObject kernelItem = plan.kernel();
			while (!(kernelItem.eContainer() instanceof TranslationUnit)) {
				kernelItem = kernelItem.eContainer();
			}
			unit.getItems().addAll(unit.getItems().indexOf(kernelItem),
					new ArrayList<>(Snippets.file(buffers.declarations(), Dialect.BANG).getItems()));
			EcoreUtil.replace(plan.replaced(), Snippets.statements(text, Dialect.BANG).get(0));
			tiles.add(plan.tile().rowsPerCall() + "x" + plan.paddedReduction() + "x" + plan.tile().chunk());
		}
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("rows", Integer.toString(rows));
		knobs.put("nests", Integer.toString(plans.size()));
		knobs.put("tiles", String.join(", ", tiles));
		return knobs;
	}

	private static String none(List<String> reasons) {
		return reasons.isEmpty() ? NONE : NONE + " (" + reasons.get(0) + ")";
	}

	// ------------------------------------------------------------------ analysis

	/**
	 * A loop's iteration space {@code [lower, upper)}, and whether it is a task loop (each task runs every
	 * {@code taskDim}-th iteration; this pass gives each a contiguous block instead) or every task runs it whole.
	 */
	private record Range(ForStatement loop, String variable, long lower, long upper, boolean overTasks) {
		long trips() {
			return upper - lower;
		}
	}

	/**
	 * A factor read by {@code __memcpy}: its array (a GDRAM pointer parameter) and element, and the stride in
	 * elements between the segments copied (a row of {@code A}, a reduction step or a column of {@code B}).
	 */
	private record Operand(Factor factor, long stride) {
	}

	/**
	 * How a nest is cut: {@code rowsPerCall} rows per {@code __bang_matmul}, {@code chunk} columns (a multiple of
	 * 64) staged in WRAM at a time, and a reduction-major column operand transposed {@code slice} reduction steps
	 * (a multiple of 16) at a time.
	 */
	private record Tile(int rowsPerCall, long chunk, long slice) {
	}

	/**
	 * A nest to rewrite: its row loop (null for one row), its columns, the row operand {@code lhs}, the column
	 * operand {@code rhs} (to transpose when reduction-major), the plain store (null for a finish kept as
	 * code) with its row stride, the reduction's range and padded length, and the tile.
	 */
	private record Plan(DotProductNest nest, FunctionDefinition kernel, Range rowRange, Range columns, Operand lhs,
			Operand rhs, boolean transpose, Index store, long storeRowStride, long reductionLower, long reduction,
			long paddedReduction, Tile tile) {

		Statement replaced() {
			return rowRange != null ? rowRange.loop() : nest.outputs().loop();
		}
	}

	/** NRAM and WRAM left for this pass's buffers, on the device model that has least of each. */
	private static final class Budget {
		final DeviceModel nramModel = smallest("nram");
		final DeviceModel wramModel = smallest("wram");
		long nram;
		long wram;

		Budget(TranslationUnit unit, ConstantFolder folder) {
			nram = nramModel.usableBytes("nram") - onChipBytes(unit, "__nram__", folder);
			wram = wramModel.usableBytes("wram") - onChipBytes(unit, "__wram__", folder);
		}

		private static DeviceModel smallest(String space) {
			return Dialect.BANG.catalog().deviceModels().stream()
					.min(Comparator.comparingLong(model -> model.usableBytes(space))).orElseThrow();
		}
	}

	/** The plans for the kernels' nests in order; the reasons (with lines) why the others are not rewritten. */
	private List<Plan> plans(TranslationUnit unit, List<String> reasons) {
		List<Plan> plans = new ArrayList<>();
		Budget budget = null;
		for (FunctionDefinition kernel : Snippets.definedFunctions(unit)) {
			if (!isKernel(kernel)) {
				continue;
			}
			for (ForStatement loop : EcoreUtil2.eAllOfType(kernel.getBody(), ForStatement.class)) {
				Optional<CanonicalLoop> outputs = CanonicalLoop.of(loop).or(() -> taskLoop(loop));
				Optional<DotProductNest> nest = outputs.flatMap(DotProductNest::of);
				if (nest.isEmpty()) {
					continue;
				}
				try {
					if (budget == null) {
						budget = new Budget(unit, nest.get().folder());
					}
					plans.add(plan(nest.get(), kernel, CanonicalLoop.of(loop).isEmpty(), budget));
				} catch (PassRefusal refused) {
					reasons.add(refused.getMessage());
				}
			}
		}
		return plans;
	}

	private Plan plan(DotProductNest nest, FunctionDefinition kernel, boolean columnsOverTasks, Budget budget) {
		ForStatement at = nest.outputs().loop();
		ConstantFolder folder = nest.folder();
		if (!nest.accumulatorType().equals("float") || !nest.left().elementType().equals("float")
				|| !nest.right().elementType().equals("float")) {
			throw PassRefusal.at(at, nest.left().elementType() + " × " + nest.right().elementType() + " summed in "
					+ nest.accumulatorType() + ": tensorizes float products summed in float only");
		}
		Range columns = range(nest.outputs(), columnsOverTasks, folder);
		String col = columns.variable();
		String k = nest.reduction().variable();
		boolean leftVaries = Snippets.mentions(nest.left().subscript(), col);
		if (leftVaries == Snippets.mentions(nest.right().subscript(), col)) {
			throw PassRefusal.at(at, (leftVaries ? "both factors" : "neither factor") + " of the product "
					+ printer.expression(nest.left().load()) + " * " + printer.expression(nest.right().load())
					+ " read" + (leftVaries ? "" : "s") + " the output column " + col
					+ "; __bang_matmul needs exactly one");
		}
		Factor lhs = leftVaries ? nest.right() : nest.left();
		Factor rhs = leftVaries ? nest.left() : nest.right();
		Range rowRange = rowRange(nest, lhs, folder);
		if (rowRange != null && rowRange.overTasks() && columns.overTasks()) {
			throw PassRefusal.at(rowRange.loop(), "both the rows and the columns are task loops");
		}
		String row = rowRange == null ? null : rowRange.variable();
		if (row != null && Snippets.mentions(rhs.subscript(), row)) {
			throw PassRefusal.at(rhs.load(), printer.expression(rhs.load()) + " reads the row " + row
					+ " as well as the column " + col);
		}
		long reductionLower = folded(folder, nest.reduction().lower(), at, "the reduction's lower bound");
		long reduction = folded(folder, nest.reduction().upper(), at, "the reduction's upper bound") - reductionLower;
		if (reduction <= 0 || columns.trips() <= 0 || rowRange != null && rowRange.trips() <= 0) {
			throw PassRefusal.at(at, "an empty loop: nothing to tensorize");
		}
		long lhsRowStride = row == null ? 0 : coefficient(nest, lhs, row);
		if (coefficient(nest, lhs, k) != 1 || row != null && lhsRowStride < reduction) {
			throw PassRefusal.at(lhs.load(), printer.expression(lhs.load()) + " is not contiguous in " + k
					+ (row == null ? "" : " with rows of " + reduction + " per " + row) + " (coefficients "
					+ coefficient(nest, lhs, k) + " and " + lhsRowStride + ")");
		}
		long rhsReductionStride = coefficient(nest, rhs, k);
		long rhsColumnStride = coefficient(nest, rhs, col);
		boolean transpose = rhsColumnStride == 1 && rhsReductionStride >= columns.trips();
		if (!transpose && !(rhsReductionStride == 1 && rhsColumnStride >= reduction)) {
			throw PassRefusal.at(rhs.load(), printer.expression(rhs.load()) + " is neither contiguous in " + col
					+ " with rows of " + columns.trips() + " per " + k + " nor contiguous in " + k + " with rows of "
					+ reduction + " per " + col + " (coefficients " + rhsReductionStride + " and " + rhsColumnStride + ")");
		}
		for (Factor factor : List.of(lhs, rhs)) {
			requireGdramPointer(kernel, factor.array(), factor.load());
		}
		Index target = finishTarget(nest, lhs, rhs);
		long storeRowStride = row == null ? 0 : coefficientOf(nest, target.getIndex(), row, target);
		long storeColumnStride = coefficientOf(nest, target.getIndex(), col, target);
		if (!storesEachOnce(storeRowStride, rowRange == null ? 1 : rowRange.trips(), storeColumnStride, columns.trips())) {
			throw PassRefusal.at(target, printer.expression(target) + " may store two outputs into one element");
		}
		if ((columns.overTasks() || rowRange != null && rowRange.overTasks())
				&& taskBuiltins().stream().anyMatch(name -> Snippets.mentions(nest.outputs().loop().getBody(), name))) {
			throw PassRefusal.at(at, "the nest reads the task index: its iterations cannot move to other tasks");
		}
		boolean plainStore = nest.plainStore().isPresent() && nest.startsAtZero() && "float".equals(nest.storeType())
				&& storeColumnStride == 1 && isPointerParameter(kernel, ((Name) target.getTarget()).getName());
		long paddedReduction = roundUp(reduction, REDUCTION_ALIGN);
		Tile tile = tile(budget, rowRange == null ? 1 : rowRange.trips(), paddedReduction, transpose, columns.trips());
		if (tile == null) {
			throw PassRefusal.at(at, "one 64-column chunk of " + rhs.array() + " (64 × " + paddedReduction
					+ " floats) with one row does not fit: " + budget.nram + " bytes of NRAM are left on the "
					+ budget.nramModel.name() + " and " + budget.wram + " bytes of WRAM on the " + budget.wramModel.name());
		}
		budget.nram -= nramBytes(tile, paddedReduction, transpose);
		budget.wram -= tile.chunk() * paddedReduction * FLOAT_BYTES;
		return new Plan(nest, kernel, rowRange, columns, new Operand(lhs, lhsRowStride),
				new Operand(rhs, transpose ? rhsReductionStride : rhsColumnStride), transpose,
				plainStore ? target : null, storeRowStride, reductionLower, reduction, paddedReduction, tile);
	}

	/**
	 * The loop over rows: the loop directly around the nest (alone in its body), canonical or a task loop, when
	 * the row operand's subscript reads its variable; else null (the nest computes one row).
	 */
	private Range rowRange(DotProductNest nest, Factor lhs, ConstantFolder folder) {
		EObject up = nest.outputs().loop().eContainer();
		if (up instanceof CompoundStatement block && block.getStatements().size() == 1) {
			up = block.eContainer();
		}
		if (!(up instanceof ForStatement loop)) {
			return null;
		}
		Optional<CanonicalLoop> canonical = CanonicalLoop.of(loop);
		Optional<CanonicalLoop> reading = canonical.or(() -> taskLoop(loop));
		if (reading.isEmpty() || !Snippets.mentions(lhs.subscript(), reading.get().variable())) {
			return null;
		}
		return range(reading.get(), canonical.isEmpty(), folder);
	}

	private Range range(CanonicalLoop loop, boolean overTasks, ConstantFolder folder) {
		String what = "a bound of the loop over " + loop.variable();
		return new Range(loop.loop(), loop.variable(), folded(folder, loop.lower(), loop.loop(), what),
				folded(folder, loop.upper(), loop.loop(), what), overTasks);
	}

	/**
	 * {@code for (int v = A + taskId; v < B; v += taskDim)} (loop bind's task loop; {@code A} may be absent) read
	 * as the range {@code [A, B)} it covers over all tasks; empty for other loops.
	 */
	private static Optional<CanonicalLoop> taskLoop(ForStatement loop) {
		if (loop.getInitDeclaration() == null || loop.getInitDeclaration().getDeclarators().size() != 1) {
			return Optional.empty();
		}
		Declarator x = loop.getInitDeclaration().getDeclarators().get(0);
		String v = x.getName();
		Expression start = x.getInitializer() instanceof Expression e ? Snippets.unparenthesized(e) : null;
		Expression lower = Snippets.isName(start, "taskId") ? Snippets.expression("0", Dialect.BANG)
				: start instanceof Binary plus && plus.getOp().equals("+") && Snippets.isName(plus.getRight(), "taskId")
						? plus.getLeft()
						: null;
		boolean strided = loop.getUpdate() instanceof Assignment step && step.getOp().equals("+=")
				&& Snippets.isName(step.getLeft(), v) && Snippets.isName(step.getRight(), "taskDim");
		if (lower == null || !strided || !x.getPointers().isEmpty() || !(loop.getCondition() instanceof Binary below)
				|| !below.getOp().equals("<") || !Snippets.isName(below.getLeft(), v)
				|| CanonicalLoop.assignsAny(loop.getBody(), Set.of(v))) {
			return Optional.empty();
		}
		return Optional.of(new CanonicalLoop(loop, v, lower, below.getRight()));
	}

	/**
	 * The element the finish writes: {@code X[e] op= expr;} into an array the product does not read, reading
	 * {@code X} only at that element, with no other assignment and no call of the file's functions (which
	 * could write anything) in it or in the start value.
	 */
	private Index finishTarget(DotProductNest nest, Factor lhs, Factor rhs) {
		Statement finish = nest.finish();
		if (!(finish instanceof ExpressionStatement st) || !(st.getExpression() instanceof Assignment store)
				|| !(store.getLeft() instanceof Index target) || !(target.getTarget() instanceof Name array)) {
			throw PassRefusal.at(finish, "the finish is not a store of one array element");
		}
		String output = array.getName();
		if (output.equals(lhs.array()) || output.equals(rhs.array())) {
			throw PassRefusal.at(finish, "the finish stores into " + output + ", which the product reads");
		}
		Set<String> defined = Snippets.definedFunctions(EcoreUtil2.getContainerOfType(finish, TranslationUnit.class))
				.stream().map(FunctionDefinition::getName).collect(Collectors.toSet());
		String subscript = printer.expression(target.getIndex());
		for (Expression root : List.of(store.getRight(), target.getIndex(), nest.initial())) {
			List<EObject> nodes = new ArrayList<>(List.of(root));
			nodes.addAll(EcoreUtil2.eAllOfType(root, EObject.class));
			for (EObject o : nodes) {
				if (o instanceof Assignment || o instanceof Postfix
						|| o instanceof Unary u && (u.getOp().equals("++") || u.getOp().equals("--"))
						|| o instanceof Call call && defined.contains(Snippets.callee(call))) {
					throw PassRefusal.at(o, printer.expression((Expression) o) + " may write more than the output");
				}
				if (o instanceof Index read && Snippets.isName(read.getTarget(), output)
						&& !printer.expression(read.getIndex()).equals(subscript)) {
					throw PassRefusal.at(o, printer.expression(read) + " reads another element of the output "
							+ output + " than the one stored");
				}
			}
		}
		return target;
	}

	/** Whether {@code r·rowStride + c·columnStride} differs for all rows {@code r} and columns {@code c}. */
	private static boolean storesEachOnce(long rowStride, long rowCount, long columnStride, long columnCount) {
		if (rowCount == 1) {
			return columnCount == 1 || columnStride >= 1;
		}
		if (columnCount == 1) {
			return rowStride >= 1;
		}
		return columnStride >= 1 && rowStride >= columnStride * columnCount
				|| rowStride >= 1 && columnStride >= rowStride * rowCount;
	}

	private long coefficient(DotProductNest nest, Factor factor, String variable) {
		return coefficientOf(nest, factor.subscript(), variable, factor.load());
	}

	private long coefficientOf(DotProductNest nest, Expression subscript, String variable, EObject at) {
		OptionalLong c = nest.coefficient(subscript, variable);
		if (c.isEmpty()) {
			throw PassRefusal.at(at, "the subscript " + printer.expression(subscript) + " is not affine in " + variable
					+ " with constant coefficients");
		}
		return c.getAsLong();
	}

	private long folded(ConstantFolder folder, Expression e, EObject at, String what) {
		OptionalLong value = folder.fold(e);
		if (value.isEmpty()) {
			throw PassRefusal.at(at, what + " (" + printer.expression(e) + ") does not fold to a constant");
		}
		return value.getAsLong();
	}

	private static void requireGdramPointer(FunctionDefinition kernel, String array, EObject at) {
		if (!isPointerParameter(kernel, array)) {
			throw PassRefusal.at(at, array + " is not a pointer parameter of the kernel (GDRAM), which __memcpy "
					+ "could stage");
		}
	}

	private static boolean isPointerParameter(FunctionDefinition kernel, String name) {
		for (Parameter p : kernel.getParams()) {
			Declarator d = p.getDeclarator();
			if (name.equals(d.getName()) && d.getPointers().size() == 1 && d.getDimensions().isEmpty()) {
				return true;
			}
		}
		return false;
	}

	private static boolean isKernel(FunctionDefinition f) {
		return f.getSpecifiers().stream().anyMatch(s -> s instanceof Specifier q
				&& (q.getName().equals("__mlu_global__") || q.getName().equals("__mlu_entry__")));
	}

	/** The catalog's builtins that differ from task to task ({@code taskId}, {@code coreId}, ...). */
	private static List<String> taskBuiltins() {
		return Dialect.BANG.catalog().variables().stream().filter(CatalogVariable::threadDependent)
				.map(CatalogVariable::name).toList();
	}

	// ------------------------------------------------------------------ tiles

	/**
	 * The tile for {@code rowCount} rows: at most {@code rows} rows per call (halved while nothing fits), then the
	 * widest chunk of columns WRAM holds, narrowed by 64 until its NRAM buffers fit, then the longest slice of the
	 * reduction the transpose buffers can take; null when not even one row and 64 columns fit.
	 */
	private Tile tile(Budget budget, long rowCount, long paddedReduction, boolean transpose, long columns) {
		long widest = Math.min(roundUp(columns, COLUMN_ALIGN), budget.wram / (paddedReduction * FLOAT_BYTES));
		for (int rowsPerCall = (int) Math.min(rows, rowCount); ; rowsPerCall /= 2) {
			for (long chunk = widest / COLUMN_ALIGN * COLUMN_ALIGN; chunk >= COLUMN_ALIGN; chunk -= COLUMN_ALIGN) {
				long left = budget.nram - nramBytes(new Tile(rowsPerCall, chunk, 0), paddedReduction, transpose);
				long slice = transpose ? Math.min(paddedReduction,
						left / (2 * chunk * FLOAT_BYTES) / REDUCTION_ALIGN * REDUCTION_ALIGN) : paddedReduction;
				if (left >= 0 && slice > 0) {
					return new Tile(rowsPerCall, chunk, slice);
				}
			}
			if (rowsPerCall == 1) {
				return null;
			}
		}
	}

	/**
	 * NRAM of one nest's buffers: the rows of the row operand (a whole number of 128-byte vectors, the length
	 * the fill zeroes), the result, and the column operand staged as a whole chunk, or as one slice of the
	 * reduction and its transpose.
	 */
	private static long nramBytes(Tile tile, long paddedReduction, boolean transpose) {
		long staged = transpose ? 2 * tile.slice() * tile.chunk() : paddedReduction * tile.chunk();
		return FLOAT_BYTES * (rowBufferLength(tile, paddedReduction) + tile.rowsPerCall() * tile.chunk() + staged);
	}

	private static long rowBufferLength(Tile tile, long paddedReduction) {
		return roundUp(tile.rowsPerCall() * paddedReduction, VECTOR_FLOATS);
	}

	/**
	 * Bytes of the file's arrays declared with {@code qualifier} ({@code __nram__}, {@code __wram__}); refuses
	 * when a size does not fold, as the room left would then be unknown.
	 */
	private static long onChipBytes(TranslationUnit unit, String qualifier, ConstantFolder folder) {
		long total = 0;
		for (Declaration d : EcoreUtil2.eAllOfType(unit, Declaration.class)) {
			if (d.getSpecifiers().stream().noneMatch(s -> s instanceof Specifier q && q.getName().equals(qualifier))) {
				continue;
			}
			for (Declarator x : d.getDeclarators()) {
				OptionalLong bytes = x.getPointers().isEmpty()
						? folder.fold(Snippets.expression("sizeof(" + d.getType().getName() + ")", Dialect.BANG))
						: OptionalLong.of(8);
				for (var dimension : x.getDimensions()) {
					OptionalLong length = dimension.getSize() == null ? OptionalLong.empty() : folder.fold(dimension.getSize());
					bytes = bytes.isEmpty() || length.isEmpty() ? OptionalLong.empty()
							: OptionalLong.of(bytes.getAsLong() * length.getAsLong());
				}
				if (bytes.isEmpty()) {
					throw PassRefusal.at(x, "the size of the " + qualifier + " array " + x.getName()
							+ " does not fold, so the room left for tiles is unknown");
				}
				total += bytes.getAsLong();
			}
		}
		return total;
	}

	private static long roundUp(long n, long unit) {
		return (n + unit - 1) / unit * unit;
	}

	// ------------------------------------------------------------------ code generation

	/** The file-scope buffers of one nest, named after the arrays they hold. */
	private static final class Buffers {
		final String lhs;
		final String rhs;
		final String transposed;
		final String weights;
		final String result;
		private final Plan plan;

		Buffers(Plan plan, Set<String> taken) {
			this.plan = plan;
			String columnOperand = plan.rhs().factor().array();
			lhs = fresh(taken, plan.lhs().factor().array() + "_nram");
			rhs = fresh(taken, columnOperand + "_nram");
			transposed = plan.transpose() ? fresh(taken, columnOperand + "_t_nram") : null;
			weights = fresh(taken, columnOperand + "_wram");
			result = fresh(taken, plan.nest().accumulator() + "_nram");
		}

		String declarations() {
			Tile tile = plan.tile();
			long staged = (plan.transpose() ? tile.slice() : plan.paddedReduction()) * tile.chunk();
			StringBuilder text = new StringBuilder();
			text.append(array("__nram__", lhs, rowBufferLength(tile, plan.paddedReduction())));
			text.append(array("__nram__", rhs, staged));
			if (transposed != null) {
				text.append(array("__nram__", transposed, staged));
			}
			text.append(array("__nram__", result, tile.rowsPerCall() * tile.chunk()));
			text.append(array("__wram__", weights, plan.paddedReduction() * tile.chunk()));
			return text.toString();
		}

		private static String array(String space, String name, long length) {
			return space + " float " + name + "[" + length + "];\n";
		}
	}

	/** Writes one nest's replacement (a block) as BANG C text. */
	private final class Codegen {
		private final Plan plan;
		private final Tile tile;
		private final Buffers buffers;
		private final String row;
		private final String col;
		private final String k;
		private final String rowBegin;
		private final String rowEnd;
		private final String row0;
		private final String rowCount;
		private final String colBegin;
		private final String colEnd;
		private final String col0;
		private final String colCount;
		private final String colPadded;
		private final String k0;
		private final String kCount;
		private final String kPadded;

		Codegen(Plan plan, Buffers buffers, Set<String> taken) {
			this.plan = plan;
			this.tile = plan.tile();
			this.buffers = buffers;
			row = plan.rowRange() == null ? null : plan.rowRange().variable();
			col = plan.columns().variable();
			k = plan.nest().reduction().variable();
			rowBegin = row == null ? null : fresh(taken, row + "_begin");
			rowEnd = row == null ? null : fresh(taken, row + "_end");
			row0 = row == null ? null : fresh(taken, row + "0");
			rowCount = row == null ? "1" : fresh(taken, row + "_count");
			colBegin = fresh(taken, col + "_begin");
			colEnd = fresh(taken, col + "_end");
			col0 = fresh(taken, col + "0");
			colCount = fresh(taken, col + "_count");
			colPadded = fresh(taken, col + "_padded");
			boolean sliced = plan.transpose() && tile.slice() < plan.paddedReduction();
			k0 = sliced ? fresh(taken, k + "0") : null;
			kCount = sliced ? fresh(taken, k + "_count") : Long.toString(plan.reduction());
			kPadded = sliced ? fresh(taken, k + "_padded") : Long.toString(plan.paddedReduction());
		}

		String text() {
			StringBuilder text = new StringBuilder("{\n");
			if (row != null) {
				text.append(share(plan.rowRange(), rowBegin, rowEnd, 1));
			}
			text.append(share(plan.columns(), colBegin, colEnd, COLUMN_ALIGN));
			StringBuilder work = new StringBuilder();
			if (plan.paddedReduction() > plan.reduction()) {
				// the padding columns of the row operand stay zero: the copies fill only the first K of each row
				work.append(zero(buffers.lhs, Long.toString(rowBufferLength(tile, plan.paddedReduction()))));
			}
			if (row == null) {
				work.append(loadRows()); // the one row, for all chunks
			}
			work.append(loop(col0, colBegin, colEnd, tile.chunk()));
			work.append(count(colCount, colEnd, col0, Long.toString(tile.chunk())));
			work.append("int ").append(colPadded).append(" = (").append(colCount).append(" + 63) / 64 * 64;\n");
			work.append(stageColumns());
			if (row == null) {
				work.append(multiplyAndFinish());
			} else {
				work.append(loop(row0, rowBegin, rowEnd, tile.rowsPerCall()))
						.append(count(rowCount, rowEnd, row0, Integer.toString(tile.rowsPerCall()))).append(loadRows())
						.append(multiplyAndFinish()).append("}\n");
			}
			work.append("}\n");
			Range split = row != null && plan.rowRange().overTasks() ? plan.rowRange()
					: plan.columns().overTasks() ? plan.columns() : null;
			if (split != null) {
				// a task without a share stages nothing
				String begin = split == plan.columns() ? colBegin : rowBegin;
				String end = split == plan.columns() ? colEnd : rowEnd;
				text.append("if (").append(begin).append(" < ").append(end).append(") {\n").append(work).append("}\n");
			} else {
				text.append(work);
			}
			return text.append("}\n").toString();
		}

		/**
		 * {@code begin} and {@code end} of this task's part of {@code range}: all of it, or for a task loop a
		 * contiguous share of whole groups of {@code unit} iterations, balanced over the tasks.
		 */
		private static String share(Range range, String begin, String end, long unit) {
			if (!range.overTasks()) {
				return "int " + begin + " = " + range.lower() + ";\nint " + end + " = " + range.upper() + ";\n";
			}
			long groups = (range.trips() + unit - 1) / unit;
			String offset = (range.lower() == 0 ? "" : range.lower() + " + ") + (unit == 1 ? "" : unit + " * ");
			String text = "int " + begin + " = " + part(offset, groups + " * taskId / taskDim") + ";\nint " + end + " = "
					+ part(offset, groups + " * (taskId + 1) / taskDim") + ";\n";
			return range.trips() % unit == 0 ? text
					: text + "if (" + end + " > " + range.upper() + ") {\n" + end + " = " + range.upper() + ";\n}\n";
		}

		private static String part(String offset, String tasksShare) {
			return offset.isEmpty() ? tasksShare : offset + "(" + tasksShare + ")";
		}

		private static String loop(String variable, String begin, String end, long step) {
			return "for (int " + variable + " = " + begin + "; " + variable + " < " + end + "; " + variable + " += " + step
					+ ") {\n";
		}

		/** {@code int count = end - start < most ? end - start : most;} */
		private static String count(String count, String end, String start, String most) {
			return "int " + count + " = " + end + " - " + start + " < " + most + " ? " + end + " - " + start + " : "
					+ most + ";\n";
		}

		/**
		 * The chunk of the column operand into WRAM as {@code colPadded × K'} through zeroed NRAM (zeroed again
		 * for each chunk with padding: the previous copy overwrote it, in another layout): column-major, copied
		 * whole; reduction-major, slice by slice of the reduction, each transposed and copied to its columns of
		 * WRAM.
		 */
		private String stageColumns() {
			String stride = plan.rhs().stride() + " * sizeof(float)";
			if (!plan.transpose()) {
				String source = address(plan.rhs().factor().load(), Map.of(col, col0, k, reductionStart("0")));
				return padded(buffers.rhs, colCount + " < " + colPadded, plan.paddedReduction() + " * " + colPadded)
						+ copy(buffers.rhs, source, kCount, "GDRAM2NRAM", plan.paddedReduction() + " * sizeof(float)",
								stride, last(colCount))
						+ "__memcpy(" + buffers.weights + ", " + buffers.rhs + ", " + colPadded + " * "
						+ plan.paddedReduction() + " * sizeof(float), NRAM2WRAM);\n";
			}
			StringBuilder text = new StringBuilder();
			String padding = colCount + " < " + colPadded;
			String weights = buffers.weights;
			if (k0 != null) {
				text.append(loop(k0, "0", Long.toString(plan.paddedReduction()), tile.slice()));
				text.append(count(kPadded, Long.toString(plan.paddedReduction()), k0, Long.toString(tile.slice())));
				text.append(count(kCount, Long.toString(plan.reduction()), k0, kPadded));
				padding = kCount + " < " + kPadded + " || " + padding;
				weights = buffers.weights + " + " + k0;
			}
			String source = address(plan.rhs().factor().load(), Map.of(col, col0, k, reductionStart(k0 == null ? "0" : k0)));
			text.append(padded(buffers.rhs, padding, kPadded + " * " + colPadded));
			text.append(copy(buffers.rhs, source, colCount, "GDRAM2NRAM", colPadded + " * sizeof(float)", stride,
					last(kCount)));
			text.append("__bang_transpose(").append(buffers.transposed).append(", ").append(buffers.rhs).append(", ")
					.append(kPadded).append(", ").append(colPadded).append(");\n");
			text.append(k0 == null
					? "__memcpy(" + weights + ", " + buffers.transposed + ", " + colPadded + " * " + kPadded
							+ " * sizeof(float), NRAM2WRAM);\n"
					: copy(weights, buffers.transposed, kPadded, "NRAM2WRAM", plan.paddedReduction() + " * sizeof(float)",
							kPadded + " * sizeof(float)", last(colPadded)));
			return k0 == null ? text.toString() : text.append("}\n").toString();
		}

		/**
		 * Zeroes {@code elements} of {@code buffer} where the copy leaves padding: always when the reduction is
		 * padded (a constant {@code kCount}), else when {@code condition} holds.
		 */
		private String padded(String buffer, String condition, String elements) {
			boolean alwaysPadded = k0 == null && plan.paddedReduction() > plan.reduction();
			return alwaysPadded ? zero(buffer, elements) : "if (" + condition + ") {\n" + zero(buffer, elements) + "}\n";
		}

		/** The reduction variable's value at {@code offset} steps from its lower bound. */
		private String reductionStart(String offset) {
			return plan.reductionLower() == 0 ? offset
					: offset.equals("0") ? Long.toString(plan.reductionLower()) : plan.reductionLower() + " + " + offset;
		}

		/** The rows {@code row0 ..} of the row operand (or its one row) into NRAM with the pitch {@code K'}. */
		private String loadRows() {
			Map<String, String> at = row == null ? Map.of(k, reductionStart("0")) : Map.of(row, row0, k, reductionStart("0"));
			String source = address(plan.lhs().factor().load(), at);
			String count = Long.toString(plan.reduction());
			return row == null ? "__memcpy(" + buffers.lhs + ", " + source + ", " + count + " * sizeof(float), GDRAM2NRAM);\n"
					: copy(buffers.lhs, source, count, "GDRAM2NRAM", plan.paddedReduction() + " * sizeof(float)",
							plan.lhs().stride() + " * sizeof(float)", last(rowCount));
		}

		private String multiplyAndFinish() {
			StringBuilder text = new StringBuilder("__bang_matmul(").append(buffers.result).append(", ")
					.append(buffers.lhs).append(", ").append(buffers.weights).append(", ").append(rowCount).append(", ")
					.append(plan.paddedReduction()).append(", ").append(colPadded).append(");\n");
			if (plan.store() != null) {
				String target = address(plan.store(), row == null ? Map.of(col, col0) : Map.of(row, row0, col, col0));
				return text.append(row == null
						? "__memcpy(" + target + ", " + buffers.result + ", " + colCount + " * sizeof(float), NRAM2GDRAM);\n"
						: copy(target, buffers.result, colCount, "NRAM2GDRAM", plan.storeRowStride() + " * sizeof(float)",
								colPadded + " * sizeof(float)", last(rowCount)))
						.toString();
			}
			// the finish as it was, for each output of the block, on its sum
			DotProductNest nest = plan.nest();
			String element = buffers.result + "[" + (row == null ? "" : "(" + row + " - " + row0 + ") * " + colPadded + " + ")
					+ "(" + col + " - " + col0 + ")]";
			String sum = nest.startsAtZero() ? element : "(" + printer.expression(nest.initial()) + ") + " + element;
			String columns = "for (int " + col + " = " + col0 + "; " + col + " < " + col0 + " + " + colCount + "; ++"
					+ col + ") {\nfloat " + nest.accumulator() + " = " + sum + ";\n" + printer.statement(nest.finish(), 0)
					+ "}\n";
			return text.append(row == null ? columns
					: "for (int " + row + " = " + row0 + "; " + row + " < " + row0 + " + " + rowCount + "; ++" + row
							+ ") {\n" + columns + "}\n")
					.toString();
		}

		/** {@code X + (e)}: the element's address, the loop variables in {@code at} given those values. */
		private String address(Index element, Map<String, String> at) {
			Expression subscript = EcoreUtil.copy(element.getIndex());
			String base = printer.expression(element.getTarget());
			if (Snippets.unparenthesized(subscript) instanceof Name alone && at.containsKey(alone.getName())) {
				String value = at.get(alone.getName());
				return value.equals("0") ? base : base + " + " + value;
			}
			for (Name n : new ArrayList<>(EcoreUtil2.eAllOfType(subscript, Name.class))) {
				String value = at.get(n.getName());
				if (value != null) {
					boolean atomic = value.matches("[A-Za-z_0-9]+");
					EcoreUtil.replace(n, Snippets.expression(atomic ? value : "(" + value + ")", Dialect.BANG));
				}
			}
			return base + " + (" + printer.expression(subscript) + ")";
		}
	}

	/** A strided {@code __memcpy} of {@code segnum + 1} segments of {@code count} floats. */
	private static String copy(String dst, String src, String count, String direction, String dstStride,
			String srcStride, String segnum) {
		return "__memcpy(" + dst + ", " + src + ", " + count + " * sizeof(float), " + direction + ", " + dstStride + ", "
				+ srcStride + ", " + segnum + ");\n";
	}

	/** {@code count - 1}, the {@code segnum} of {@code count} segments. */
	private static String last(String count) {
		return count.matches("[0-9]+") ? Long.toString(Long.parseLong(count) - 1) : count + " - 1";
	}

	private static String zero(String buffer, String elements) {
		return "__bang_write_value(" + buffer + ", " + elements + ", 0.0f);\n";
	}

	private static String fresh(Set<String> taken, String base) {
		return Snippets.freshName(taken, base, Dialect.BANG);
	}
}
