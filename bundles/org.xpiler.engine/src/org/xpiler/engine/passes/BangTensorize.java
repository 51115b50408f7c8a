package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.DeclSpecifier;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.FloatLiteral;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Tensorize ({@code tensorize}) turns the task-strided scalar loops of a BANG C kernel into the BANG idiom:
 * each task takes one contiguous chunk of the iteration space (split evenly over {@code taskDim}), walks it in
 * tiles of {@code tile} floats staged in file-scope {@code __nram__} arrays with {@code __memcpy}
 * ({@code GDRAM2NRAM} / {@code NRAM2GDRAM}), and computes each tile with {@code __bang_*} vector intrinsics.
 * The vector operations run on the element count padded to the next multiple of 32 floats (128 bytes, the
 * length rule of the vector intrinsics); the padding lanes of loaded tiles are zeroed first so that no
 * uninitialised NRAM is read. Copies move only the real {@code n} elements.
 * <p>
 * Supported loop bodies: statements {@code P[i] = E;} (also {@code +=, -=, *=, /=}) with {@code P} a
 * {@code float *} parameter, where {@code E} is built from loads {@code Q[i]} of {@code float *} parameters,
 * loop-invariant scalars (literals, scalar parameters and locals, and arithmetic on them), {@code + - * /}
 * ({@code __bang_add/sub/mul/div}, or the {@code _scalar} forms with a scalar operand), unary minus, and the
 * calls whose catalog reference is the same math: {@code fmaxf(e, 0.0f)} ({@code __bang_active_relu}),
 * {@code expf}, {@code logf}, {@code sqrtf}, {@code fabsf}, {@code tanhf}, {@code sinf}, {@code cosf}
 * ({@code __bang_active_*}) and {@code 1.0f / (1.0f + expf(-e))} ({@code __bang_active_sigmoid}). Anything
 * else (another index than {@code i}, {@code erff}, conditionals, integer data) leaves the loop alone.
 * <p>
 * Knobs: {@code tile} = floats per NRAM tile (a multiple of 32; halved until all tiles fit the usable NRAM of
 * the catalog's default device model), {@code loops} = loops tensorized. Precondition: a BANG C
 * {@code __mlu_global__} kernel with loops {@code for (int i = A + taskId; i < B; i += taskDim)} (as written by
 * {@code loop-bind}), {@code A} and {@code B} integer expressions that the loop does not write.
 *
 * <pre>
 * before: extern "C" __mlu_global__ void relu_kernel(const float *input, float *output) {
 *             for (int i = (0) + taskId; i &lt; 49152; i += taskDim) { output[i] = fmaxf(input[i], 0.0f); } }
 * after:  __nram__ float input_nram[4096];
 *         __nram__ float output_nram[4096];
 *         extern "C" __mlu_global__ void relu_kernel(const float *input, float *output) {
 *             { int start = (0); int total = (49152) - start;
 *               if (total &gt; 0) { ... int first = ..., end = ...;   // this task's contiguous range
 *                 for (int t = first; t &lt; end; t += 4096) {
 *                     int n = end - t &lt; 4096 ? end - t : 4096;  int padded = (n + 31) / 32 * 32;
 *                     if (n &lt; padded) { __bang_write_zero(input_nram, padded); }
 *                     __memcpy(input_nram, input + t, n * sizeof(float), GDRAM2NRAM);
 *                     __bang_active_relu(output_nram, input_nram, padded);
 *                     __memcpy(output + t, output_nram, n * sizeof(float), NRAM2GDRAM); } } } }
 * </pre>
 */
public final class BangTensorize implements Pass {
	private static final String NONE = "no element-wise loop to tensorize";

	/** One-argument math functions whose catalog activation has the same reference formula. */
	private static final Map<String, String> ACTIVATIONS = Map.of("expf", "__bang_active_exp", "logf",
			"__bang_active_log", "sqrtf", "__bang_active_sqrt", "fabsf", "__bang_active_abs", "tanhf",
			"__bang_active_tanh", "sinf", "__bang_active_sin", "cosf", "__bang_active_cos");

	/** Scalar math a loop-invariant scalar may call (computed by scalar code). */
	private static final Set<String> SCALAR_MATH = Set.of("expf", "logf", "sqrtf", "fabsf", "tanhf", "sinf", "cosf",
			"fmaxf", "fminf", "powf", "erff", "floorf", "exp2f", "log2f");

	private static final Map<String, String> VECTOR_OPS = Map.of("+", "__bang_add", "-", "__bang_sub", "*",
			"__bang_mul", "/", "__bang_div");

	private final int tile;

	/** @param tile floats per NRAM tile, a positive multiple of 32 */
	public BangTensorize(int tile) {
		if (tile <= 0 || tile % 32 != 0) {
			throw new IllegalArgumentException("tile must be a positive multiple of 32 floats: " + tile);
		}
		this.tile = tile;
	}

	public BangTensorize() {
		this(4096);
	}

	/** The tile sizes a tuner may enumerate. */
	public static List<BangTensorize> options() {
		return List.of(new BangTensorize(4096), new BangTensorize(1024), new BangTensorize(16384));
	}

	@Override
	public String name() {
		return "tensorize";
	}

	@Override
	public String summary() {
		return "stage task-strided element-wise loops through NRAM tiles and compute them with __bang_* vector intrinsics";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.BANG || to != Dialect.BANG) {
			return Optional.of("tensorizes BANG C into BANG C only");
		}
		List<String> reasons = new ArrayList<>();
		if (!candidates(unit, reasons).isEmpty()) {
			return Optional.empty();
		}
		return Optional.of(reasons.isEmpty() ? NONE : NONE + " (" + reasons.get(0) + ")");
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		List<Plan> plans = candidates(unit, new ArrayList<>());
		Map<String, String> knobs = new LinkedHashMap<>();
		if (plans.isEmpty()) {
			knobs.put("tile", Integer.toString(tile));
			knobs.put("loops", "0");
			return knobs;
		}
		Set<String> taken = Snippets.takenNames(unit);
		Names names = new Names(taken);
		// tile names are shared by all loops (they run one after the other in a task)
		List<String> tileNames = new ArrayList<>();
		List<String> bodies = new ArrayList<>();
		String tileSize = "TZ_TILE_PLACEHOLDER";
		for (Plan plan : plans) {
			Codegen gen = new Codegen(plan, names, tileNames, tileSize);
			bodies.add(gen.loop());
		}
		long usable = Dialect.BANG.catalog().defaultDeviceModel().map(d -> d.usableBytes("nram")).orElse(655360L);
		long used = existingNramBytes(unit);
		int size = tile;
		while (size > 32 && used + (long) tileNames.size() * size * 4 > usable) {
			size = Math.max(32, size / 2 / 32 * 32);
		}
		if (used + (long) tileNames.size() * size * 4 > usable) {
			throw new IllegalStateException("tensorize: " + tileNames.size() + " NRAM tiles do not fit the NRAM");
		}
		for (int k = 0; k < plans.size(); k++) {
			Plan plan = plans.get(k);
			String text = bodies.get(k).replace(tileSize, Integer.toString(size));
			Statement block = Snippets.statements(text, Dialect.BANG).get(0);
			EcoreUtil.replace(plan.loop, block);
		}
		StringBuilder declarations = new StringBuilder();
		for (String t : tileNames) {
			declarations.append("__nram__ float ").append(t).append('[').append(size).append("];\n");
		}
		TopLevel first = topLevel(plans.get(0).function);
		int at = unit.getItems().indexOf(first);
		TranslationUnit fresh = Snippets.file(declarations.toString(), Dialect.BANG);
		unit.getItems().addAll(Math.max(at, 0), new ArrayList<>(fresh.getItems()));
		knobs.put("tile", Integer.toString(size));
		knobs.put("loops", Integer.toString(plans.size()));
		return knobs;
	}

	// ------------------------------------------------------------------ analysis

	/** A loop that qualifies, with what its body needs. */
	private record Plan(FunctionDefinition function, ForStatement loop, String index, Expression start,
			Expression end, boolean inclusive, List<Assignment> statements) {
	}

	private static List<Plan> candidates(TranslationUnit unit, List<String> reasons) {
		List<Plan> plans = new ArrayList<>();
		List<ForStatement> loops = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof ForStatement f) {
				loops.add(f);
			}
		});
		for (ForStatement loop : loops) {
			if (plans.stream().anyMatch(p -> EcoreUtil.isAncestor(p.loop, loop))) {
				continue;
			}
			String why = analyse(loop, plans);
			if (why != null) {
				reasons.add(Snippets.location(loop) + ": " + why);
			}
		}
		return plans;
	}

	/** Adds the loop's plan, or says why it does not qualify. */
	private static String analyse(ForStatement loop, List<Plan> plans) {
		FunctionDefinition function = EcoreUtil2.getContainerOfType(loop.eContainer(), FunctionDefinition.class);
		if (function == null || !hasSpecifier(function.getSpecifiers(), "__mlu_global__")) {
			return "not in a __mlu_global__ kernel";
		}
		Declaration init = loop.getInitDeclaration();
		if (init == null || init.getDeclarators().size() != 1 || !isInteger(init.getType())) {
			return "the loop does not declare an int index";
		}
		Declarator d = init.getDeclarators().get(0);
		String index = d.getName();
		if (!d.getPointers().isEmpty() || !d.getDimensions().isEmpty() || !(d.getInitializer() instanceof Expression first)) {
			return "the loop does not declare an int index";
		}
		Expression start = withoutTaskId(Snippets.unparenthesized(first));
		if (start == null) {
			return "the index does not start at A + taskId";
		}
		if (!(Snippets.unparenthesized(loop.getCondition()) instanceof Binary cond)) {
			return "the condition is not i < B";
		}
		Expression end;
		boolean inclusive;
		if (Snippets.isName(cond.getLeft(), index) && (cond.getOp().equals("<") || cond.getOp().equals("<="))) {
			end = cond.getRight();
			inclusive = cond.getOp().equals("<=");
		} else if (Snippets.isName(cond.getRight(), index) && (cond.getOp().equals(">") || cond.getOp().equals(">="))) {
			end = cond.getLeft();
			inclusive = cond.getOp().equals(">=");
		} else {
			return "the condition is not i < B";
		}
		if (!isTaskStride(Snippets.unparenthesized(loop.getUpdate()), index)) {
			return "the index does not step by taskDim";
		}
		List<Assignment> statements = new ArrayList<>();
		String why = body(loop.getBody(), statements);
		if (why != null) {
			return why;
		}
		Set<String> pointers = floatPointers(function);
		Set<String> scalars = scalars(function, loop);
		Set<String> written = new HashSet<>();
		for (Assignment a : statements) {
			if (!(a.getLeft() instanceof Index ix) || !(Snippets.unparenthesized(ix.getTarget()) instanceof Name p)
					|| !pointers.contains(p.getName()) || !Snippets.isName(ix.getIndex(), index)) {
				return Snippets.location(a) + ": the store is not P[" + index + "] of a float * parameter";
			}
			if (!Set.of("=", "+=", "-=", "*=", "/=").contains(a.getOp())) {
				return "unsupported assignment " + a.getOp();
			}
			written.add(p.getName());
		}
		for (Expression bound : List.of(start, end)) {
			String bad = invariant(bound, index, written);
			if (bad != null) {
				return "the bound " + Dialect.BANG.printer().expression(bound) + " " + bad;
			}
		}
		for (Assignment a : statements) {
			String bad = vectorizable(a.getRight(), index, pointers, scalars);
			if (bad != null) {
				return Snippets.location(a) + ": " + bad;
			}
		}
		plans.add(new Plan(function, loop, index, start, end, inclusive, statements));
		return null;
	}

	private static String body(Statement s, List<Assignment> out) {
		if (s instanceof CompoundStatement block) {
			for (Statement inner : block.getStatements()) {
				String why = body(inner, out);
				if (why != null) {
					return why;
				}
			}
			return null;
		}
		if (s instanceof ExpressionStatement e && e.getExpression() instanceof Assignment a) {
			out.add(a);
			return null;
		}
		if (s instanceof org.xpiler.lang.kernel.EmptyStatement) {
			return null;
		}
		return Snippets.location(s) + ": the body holds more than element-wise stores";
	}

	/** Why {@code e} cannot be computed with vector intrinsics, or null. */
	private static String vectorizable(Expression e, String index, Set<String> pointers, Set<String> scalars) {
		if (isScalar(e, index, scalars)) {
			return null;
		}
		e = Snippets.unparenthesized(e);
		if (e instanceof Index ix) {
			if (Snippets.unparenthesized(ix.getTarget()) instanceof Name p && pointers.contains(p.getName())) {
				return Snippets.isName(ix.getIndex(), index) ? null
						: "a dependence: " + Dialect.BANG.printer().expression(ix) + " reads another element than ["
								+ index + "]";
			}
			return Dialect.BANG.printer().expression(ix) + " is not a load of a float * parameter";
		}
		if (e instanceof Cast c) {
			return isFloatType(c.getType()) ? vectorizable(c.getOperand(), index, pointers, scalars)
					: "a cast to " + Dialect.BANG.printer().expression(c) + " is not float";
		}
		if (e instanceof Unary u && (u.getOp().equals("-") || u.getOp().equals("+"))) {
			return vectorizable(u.getOperand(), index, pointers, scalars);
		}
		if (e instanceof Binary b && VECTOR_OPS.containsKey(b.getOp())) {
			if (sigmoidArgument(b) != null) {
				return vectorizable(sigmoidArgument(b), index, pointers, scalars);
			}
			String left = vectorizable(b.getLeft(), index, pointers, scalars);
			return left != null ? left : vectorizable(b.getRight(), index, pointers, scalars);
		}
		if (reluArgument(e) != null) {
			return vectorizable(reluArgument(e), index, pointers, scalars);
		}
		if (e instanceof Call call && Snippets.callee(call) != null) {
			String name = Snippets.callee(call);
			if (ACTIVATIONS.containsKey(name) && call.getArgs().size() == 1) {
				return vectorizable(call.getArgs().get(0), index, pointers, scalars);
			}
			return name + " has no vector intrinsic with the same semantics";
		}
		return Dialect.BANG.printer().expression(e) + " has no vector form";
	}

	/** Loop-invariant scalar: literals, scalar variables and arithmetic or math calls on them. */
	private static boolean isScalar(Expression e, String index, Set<String> scalars) {
		e = Snippets.unparenthesized(e);
		if (e instanceof FloatLiteral || e instanceof IntLiteral) {
			return true;
		}
		if (e instanceof Name n) {
			return !n.getName().equals(index) && scalars.contains(n.getName());
		}
		if (e instanceof Unary u && (u.getOp().equals("-") || u.getOp().equals("+"))) {
			return isScalar(u.getOperand(), index, scalars);
		}
		if (e instanceof Cast c) {
			return c.getType().getPointers().isEmpty() && c.getType().getType() instanceof BuiltinType
					&& isScalar(c.getOperand(), index, scalars);
		}
		if (e instanceof Binary b && Set.of("+", "-", "*", "/").contains(b.getOp())) {
			return isScalar(b.getLeft(), index, scalars) && isScalar(b.getRight(), index, scalars);
		}
		if (e instanceof Call call && Snippets.callee(call) != null && SCALAR_MATH.contains(Snippets.callee(call))) {
			return call.getArgs().stream().allMatch(a -> isScalar(a, index, scalars));
		}
		return false;
	}

	/** {@code x} of {@code fmaxf(x, 0)} or {@code fmaxf(0, x)}, else null. */
	/** {@code x} of {@code fmaxf(x, 0.0f)}, {@code fmaxf(0.0f, x)} or {@code x > 0.0f ? x : 0.0f} (also {@code >=}), else null. */
	private static Expression reluArgument(Expression e) {
		if (e instanceof Call call && "fmaxf".equals(Snippets.callee(call)) && call.getArgs().size() == 2) {
			if (isZero(call.getArgs().get(1))) {
				return call.getArgs().get(0);
			}
			return isZero(call.getArgs().get(0)) ? call.getArgs().get(1) : null;
		}
		if (e instanceof Conditional c && isZero(c.getElse())
				&& Snippets.unparenthesized(c.getCondition()) instanceof Binary test
				&& (test.getOp().equals(">") || test.getOp().equals(">=")) && isZero(test.getRight())
				&& EcoreUtil.equals(Snippets.unparenthesized(test.getLeft()), Snippets.unparenthesized(c.getThen()))) {
			return c.getThen();
		}
		return null;
	}

	/** {@code x} of {@code 1 / (1 + expf(-x))}, else null. */
	private static Expression sigmoidArgument(Binary b) {
		if (!b.getOp().equals("/") || !isOne(b.getLeft()) || !(Snippets.unparenthesized(b.getRight()) instanceof Binary sum)
				|| !sum.getOp().equals("+")) {
			return null;
		}
		Expression other = isOne(sum.getLeft()) ? sum.getRight() : isOne(sum.getRight()) ? sum.getLeft() : null;
		if (other != null && Snippets.unparenthesized(other) instanceof Call call && "expf".equals(Snippets.callee(call))
				&& call.getArgs().size() == 1 && Snippets.unparenthesized(call.getArgs().get(0)) instanceof Unary u && u.getOp().equals("-")) {
			return u.getOperand();
		}
		return null;
	}

	private static boolean isZero(Expression e) {
		return literal(e) instanceof Double v && v == 0.0;
	}

	private static boolean isOne(Expression e) {
		return literal(e) instanceof Double v && v == 1.0;
	}

	private static Double literal(Expression e) {
		e = Snippets.unparenthesized(e);
		String text = e instanceof FloatLiteral f ? f.getValue() : e instanceof IntLiteral i ? i.getValue() : null;
		if (text == null) {
			return null;
		}
		try {
			return Double.parseDouble(text.replaceAll("[fFlLuU]+$", ""));
		} catch (NumberFormatException ex) {
			return null;
		}
	}

	/** Why a bound is not loop-invariant integer arithmetic, or null. */
	private static String invariant(Expression bound, String index, Set<String> written) {
		List<EObject> nodes = new ArrayList<>();
		nodes.add(bound);
		bound.eAllContents().forEachRemaining(nodes::add);
		for (EObject o : nodes) {
			if (o instanceof Assignment || o instanceof Postfix || o instanceof Call
					|| o instanceof Unary u && (u.getOp().equals("++") || u.getOp().equals("--"))) {
				return "has side effects or calls";
			}
			if (o instanceof Name n && (n.getName().equals(index) || n.getName().equals("taskId")
					|| n.getName().equals("taskDim") || written.contains(n.getName()))) {
				return "depends on " + n.getName();
			}
		}
		return null;
	}

	/** {@code A} of {@code A + taskId}, {@code taskId + A} or {@code taskId} (then the literal 0), else null. */
	private static Expression withoutTaskId(Expression e) {
		if (Snippets.isName(e, "taskId")) {
			return Snippets.expression("0", Dialect.BANG);
		}
		if (e instanceof Binary b && b.getOp().equals("+")) {
			if (Snippets.isName(b.getRight(), "taskId")) {
				return b.getLeft();
			}
			if (Snippets.isName(b.getLeft(), "taskId")) {
				return b.getRight();
			}
		}
		return null;
	}

	private static boolean isTaskStride(Expression e, String index) {
		if (e instanceof Assignment a && Snippets.isName(a.getLeft(), index)) {
			if (a.getOp().equals("+=")) {
				return Snippets.isName(a.getRight(), "taskDim");
			}
			if (a.getOp().equals("=") && Snippets.unparenthesized(a.getRight()) instanceof Binary b && b.getOp().equals("+")) {
				return Snippets.isName(b.getLeft(), index) && Snippets.isName(b.getRight(), "taskDim")
						|| Snippets.isName(b.getLeft(), "taskDim") && Snippets.isName(b.getRight(), index);
			}
		}
		return false;
	}

	private static Set<String> floatPointers(FunctionDefinition f) {
		Set<String> names = new HashSet<>();
		for (Parameter p : f.getParams()) {
			Declarator d = p.getDeclarator();
			if (d.getName() != null && d.getPointers().size() == 1 && d.getDimensions().isEmpty()
					&& p.getType() instanceof BuiltinType t && t.getName().equals("float")) {
				names.add(d.getName());
			}
		}
		return names;
	}

	/** Scalar variables of arithmetic type visible in the loop: parameters, locals of the function, globals. */
	private static Set<String> scalars(FunctionDefinition f, ForStatement loop) {
		Set<String> names = new HashSet<>();
		for (Parameter p : f.getParams()) {
			Declarator d = p.getDeclarator();
			if (d.getName() != null && d.getPointers().isEmpty() && d.getDimensions().isEmpty()
					&& isArithmetic(p.getType())) {
				names.add(d.getName());
			}
		}
		List<Declaration> declarations = new ArrayList<>();
		f.eAllContents().forEachRemaining(o -> {
			if (o instanceof DeclarationStatement ds && !EcoreUtil.isAncestor(loop, ds)) {
				declarations.add(ds.getDeclaration());
			}
		});
		TranslationUnit unit = EcoreUtil2.getContainerOfType(f.eContainer(), TranslationUnit.class);
		if (unit != null) {
			for (TopLevel item : unit.getItems()) {
				if (item instanceof Declaration d) {
					declarations.add(d);
				} else if (item instanceof org.xpiler.lang.kernel.ItemBlock block) {
					block.getItems().stream().filter(Declaration.class::isInstance).map(Declaration.class::cast)
							.forEach(declarations::add);
				}
			}
		}
		for (Declaration d : declarations) {
			if (!isArithmetic(d.getType()) || d.getSpecifiers().stream().anyMatch(s -> s instanceof Specifier sp
					&& sp.getName().startsWith("__") )) {
				continue;
			}
			for (Declarator x : d.getDeclarators()) {
				if (x.getPointers().isEmpty() && x.getDimensions().isEmpty()) {
					names.add(x.getName());
				}
			}
		}
		return names;
	}

	private static boolean isArithmetic(org.xpiler.lang.kernel.TypeSpecifier t) {
		return t instanceof BuiltinType b && !b.getName().equals("void") && !b.getName().equals("bool");
	}

	private static boolean isInteger(org.xpiler.lang.kernel.TypeSpecifier t) {
		return isArithmetic(t) && !Set.of("float", "double", "half").contains(((BuiltinType) t).getName());
	}

	private static boolean isFloatType(org.xpiler.lang.kernel.TypeName t) {
		return t.getPointers().isEmpty() && t.getType() instanceof BuiltinType b && b.getName().equals("float");
	}

	private static boolean hasSpecifier(List<DeclSpecifier> specifiers, String name) {
		return specifiers.stream().anyMatch(s -> s instanceof Specifier sp && sp.getName().equals(name));
	}

	private static TopLevel topLevel(EObject o) {
		EObject c = o;
		while (c.eContainer() != null && !(c.eContainer() instanceof TranslationUnit)) {
			c = c.eContainer();
		}
		return (TopLevel) c;
	}

	/** Bytes of the file's {@code __nram__} arrays with literal sizes. */
	private static long existingNramBytes(TranslationUnit unit) {
		long[] bytes = { 0 };
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Declaration d && hasSpecifier(d.getSpecifiers(), "__nram__")) {
				int element = d.getType() instanceof BuiltinType b
						? switch (b.getName()) {
							case "char", "int8_t", "uint8_t", "signed char", "unsigned char" -> 1;
							case "half", "short", "int16_t", "uint16_t", "bfloat16_t" -> 2;
							case "double", "long long", "int64_t", "uint64_t" -> 8;
							default -> 4;
						}
						: 4;
				for (Declarator x : d.getDeclarators()) {
					long count = 1;
					for (var dim : x.getDimensions()) {
						Double v = dim.getSize() == null ? null : literal(dim.getSize());
						count *= v == null ? 1 : v.longValue();
					}
					bytes[0] += count * element;
				}
			}
		});
		return bytes[0];
	}

	// ------------------------------------------------------------------ code generation

	/** Fresh identifiers, avoiding every name of the file and of the catalog. */
	private static final class Names {
		private final Set<String> taken;

		Names(Set<String> taken) {
			this.taken = new HashSet<>(taken);
		}

		String fresh(String base) {
			String candidate = base;
			for (int k = 2; taken.contains(candidate) || Dialect.BANG.catalog().knows(candidate); k++) {
				candidate = base + "_" + k;
			}
			taken.add(candidate);
			return candidate;
		}
	}

	/** An NRAM tile during code generation: the variables whose current {@code [i]} values it holds. */
	private static final class Tile {
		final String name;
		final Set<String> holds = new HashSet<>();

		Tile(String name) {
			this.name = name;
		}
	}

	/** A value: a tile, or a scalar expression's text. */
	private record Operand(Tile tile, String scalar) {
	}

	/** Writes one loop's replacement; the tiles it needs are added to the shared list of tile names. */
	private static final class Codegen {
		private final Plan plan;
		private final Names names;
		private final List<String> tileNames;
		private final String tileSize;
		private final KernelPrinter printer = Dialect.BANG.printer();
		private final List<Tile> free = new ArrayList<>();
		private final Map<String, Tile> current = new HashMap<>();
		private final Set<String> written = new LinkedHashSet<>();
		private final StringBuilder code = new StringBuilder();
		private final Map<String, String> local = new HashMap<>();
		private int next;

		Codegen(Plan plan, Names names, List<String> tileNames, String tileSize) {
			this.plan = plan;
			this.names = names;
			this.tileNames = tileNames;
			this.tileSize = tileSize;
		}

		private String v(String role) {
			return local.computeIfAbsent(role, names::fresh);
		}

		String loop() {
			for (String tile : tileNames) {
				free.add(new Tile(tile));
			}
			String start = v("start"), total = v("total"), base = v("base"), rest = v("rest"), first = v("first"),
					end = v("end"), t = v("t");
			v("n");
			v("padded");
			StringBuilder body = new StringBuilder();
			for (Assignment a : plan.statements) {
				statement(a);
			}
			for (String p : written) {
				code.append("__memcpy(").append(p).append(" + ").append(t).append(", ").append(current.get(p).name)
						.append(", ").append(v("n")).append(" * sizeof(float), NRAM2GDRAM);\n");
			}
			String endText = "(" + printer.expression(Snippets.unparenthesized(plan.end)) + ")" + (plan.inclusive ? " + 1" : "");
			body.append("{\n");
			body.append("int ").append(start).append(" = (").append(printer.expression(Snippets.unparenthesized(plan.start))).append(");\n");
			body.append("int ").append(total).append(" = ").append(endText).append(" - ").append(start).append(";\n");
			body.append("if (").append(total).append(" > 0) {\n");
			body.append("int ").append(base).append(" = ").append(total).append(" / taskDim;\n");
			body.append("int ").append(rest).append(" = ").append(total).append(" % taskDim;\n");
			body.append("int ").append(first).append(" = ").append(start).append(" + taskId * ").append(base)
					.append(" + (taskId < ").append(rest).append(" ? taskId : ").append(rest).append(");\n");
			body.append("int ").append(end).append(" = ").append(first).append(" + ").append(base)
					.append(" + (taskId < ").append(rest).append(" ? 1 : 0);\n");
			body.append("for (int ").append(t).append(" = ").append(first).append("; ").append(t).append(" < ")
					.append(end).append("; ").append(t).append(" += ").append(tileSize).append(") {\n");
			body.append("int ").append(v("n")).append(" = ").append(end).append(" - ").append(t).append(" < ")
					.append(tileSize).append(" ? ").append(end).append(" - ").append(t).append(" : ").append(tileSize)
					.append(";\n");
			body.append("int ").append(v("padded")).append(" = (").append(v("n")).append(" + 31) / 32 * 32;\n");
			body.append(code);
			body.append("}\n}\n}\n");
			return body.toString();
		}

		private void statement(Assignment a) {
			Index ix = (Index) a.getLeft();
			String p = ((Name) Snippets.unparenthesized(ix.getTarget())).getName();
			Operand value;
			if (a.getOp().equals("=")) {
				value = expression(a.getRight(), p);
			} else {
				Operand left = load(p);
				Operand right = expression(a.getRight(), null);
				value = binary(a.getOp().substring(0, 1), left, right, p);
			}
			Tile result;
			if (value.tile == null) {
				result = allocate(p);
				code.append("__bang_write_value(").append(result.name).append(", ").append(v("padded"))
						.append(", (float)(").append(value.scalar).append("));\n");
			} else {
				result = value.tile;
			}
			Tile old = current.get(p);
			if (old != null && old != result) {
				old.holds.remove(p);
				release(old);
			}
			result.holds.add(p);
			current.put(p, result);
			written.remove(p);
			written.add(p);
		}

		private Operand expression(Expression e, String hint) {
			if (isScalar(e, plan.index, scalars(plan.function, plan.loop))) {
				return new Operand(null, printer.expression(Snippets.unparenthesized(e)));
			}
			e = Snippets.unparenthesized(e);
			if (e instanceof Index ix) {
				return load(((Name) Snippets.unparenthesized(ix.getTarget())).getName());
			}
			if (e instanceof Cast c) {
				return expression(c.getOperand(), hint);
			}
			if (e instanceof Unary u) {
				Operand a = expression(u.getOperand(), hint);
				if (u.getOp().equals("+")) {
					return a;
				}
				Tile dst = destination(a.tile, hint);
				code.append("__bang_mul_scalar(").append(dst.name).append(", ").append(a.tile.name).append(", -1.0f, ")
						.append(v("padded")).append(");\n");
				return new Operand(dst, null);
			}
			if (e instanceof Binary b) {
				Expression x = sigmoidArgument(b);
				if (x != null) {
					return unary("__bang_active_sigmoid", expression(x, hint), hint);
				}
				Operand left = expression(b.getLeft(), null);
				Operand right = expression(b.getRight(), null);
				return binary(b.getOp(), left, right, hint);
			}
			if (reluArgument(e) != null) {
				return unary("__bang_active_relu", expression(reluArgument(e), hint), hint);
			}
			Call call = (Call) e;
			String name = Snippets.callee(call);
			return unary(ACTIVATIONS.get(name), expression(call.getArgs().get(0), hint), hint);
		}

		private Operand unary(String intrinsic, Operand a, String hint) {
			Tile dst = destination(a.tile, hint);
			code.append(intrinsic).append('(').append(dst.name).append(", ").append(a.tile.name).append(", ")
					.append(v("padded")).append(");\n");
			return new Operand(dst, null);
		}

		private Operand binary(String op, Operand a, Operand b, String hint) {
			String n = v("padded");
			if (a.tile != null && b.tile != null) {
				Tile dst = a.tile.holds.isEmpty() ? a.tile : b.tile.holds.isEmpty() ? b.tile : allocate(hint);
				code.append(VECTOR_OPS.get(op)).append('(').append(dst.name).append(", ").append(a.tile.name)
						.append(", ").append(b.tile.name).append(", ").append(n).append(");\n");
				if (a.tile != dst) {
					release(a.tile);
				}
				if (b.tile != dst) {
					release(b.tile);
				}
				return new Operand(dst, null);
			}
			if (a.tile != null) {
				Tile dst = destination(a.tile, hint);
				code.append(VECTOR_OPS.get(op)).append("_scalar(").append(dst.name).append(", ").append(a.tile.name)
						.append(", (float)(").append(b.scalar).append("), ").append(n).append(");\n");
				return new Operand(dst, null);
			}
			// scalar op vector
			Tile vector = b.tile;
			String s = "(float)(" + a.scalar + ")";
			if (op.equals("+") || op.equals("*")) {
				Tile dst = destination(vector, hint);
				code.append(VECTOR_OPS.get(op)).append("_scalar(").append(dst.name).append(", ").append(vector.name)
						.append(", ").append(s).append(", ").append(n).append(");\n");
				return new Operand(dst, null);
			}
			if (op.equals("-")) {
				Tile dst = destination(vector, hint);
				code.append("__bang_mul_scalar(").append(dst.name).append(", ").append(vector.name).append(", -1.0f, ")
						.append(n).append(");\n");
				code.append("__bang_add_scalar(").append(dst.name).append(", ").append(dst.name).append(", ").append(s)
						.append(", ").append(n).append(");\n");
				return new Operand(dst, null);
			}
			Tile dst = allocate(hint);
			code.append("__bang_write_value(").append(dst.name).append(", ").append(n).append(", ").append(s)
					.append(");\n");
			code.append("__bang_div(").append(dst.name).append(", ").append(dst.name).append(", ").append(vector.name)
					.append(", ").append(n).append(");\n");
			release(vector);
			return new Operand(dst, null);
		}

		/** Where a unary result goes: in place into a temporary, else a new tile. */
		private Tile destination(Tile source, String hint) {
			return source.holds.isEmpty() ? source : allocate(hint);
		}

		private Operand load(String p) {
			Tile tile = current.get(p);
			if (tile == null) {
				tile = allocate(p);
				tile.holds.add(p);
				current.put(p, tile);
				code.append("if (").append(v("n")).append(" < ").append(v("padded")).append(") {\n__bang_write_zero(")
						.append(tile.name).append(", ").append(v("padded")).append(");\n}\n");
				code.append("__memcpy(").append(tile.name).append(", ").append(p).append(" + ").append(v("t"))
						.append(", ").append(v("n")).append(" * sizeof(float), GDRAM2NRAM);\n");
			}
			return new Operand(tile, null);
		}

		private Tile allocate(String hint) {
			if (!free.isEmpty()) {
				return free.remove(0);
			}
			String name = names.fresh((hint != null ? hint : "tmp" + (next++ == 0 ? "" : Integer.toString(next - 1)))
					+ "_nram");
			tileNames.add(name);
			return new Tile(name);
		}

		private void release(Tile tile) {
			if (tile.holds.isEmpty() && !free.contains(tile)) {
				free.add(tile);
			}
		}
	}
}
