package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.ArrayDimension;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.CxxCast;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.FloatLiteral;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Reads what the loop nests of one function compute, from the shape of their statements and subscripts only
 * (never from names): every assignment to data is one {@link Computation}, named by a platform-neutral
 * operation. Assignments to index bookkeeping (integer variables that flow into subscripts, loop headers or
 * pointers), to pointers and to flags are not computations. Names are resolved by C scope.
 * <ul>
 * <li>An update {@code T += E}, {@code T = T + E}, {@code T = fmaxf(T, E)}, {@code T = E > T ? E : T} or
 * {@code if (E > T) T = E} is a reduction over the enclosing loops that the place it finally lands in does not
 * depend on: a private accumulator is followed through the copies ({@code out[i] = acc}) and combinations
 * ({@code sum += partial}) written after it, and a variable declared inside a loop depends on that loop.</li>
 * <li>A sum of products of two reads is a contraction: a sliding window in either operand (below) makes it a
 * {@code conv}; otherwise the operands' own non-reduction index terms decide {@code matmul} (both have one),
 * {@code matvec} (one has) or {@code reduce(dot)}; equal factors are {@code reduce(sumsq)}.</li>
 * <li>A sum, maximum or minimum of one read with a sliding window is a {@code pool}, else a {@code reduce}.</li>
 * <li>A plain write is {@code fill} (a constant), {@code copy} (one read, perhaps guarded by a condition on
 * indices), {@code other(recurrence)} (it reads its own array at another element) or {@code elementwise(f)},
 * with f from the expression's calls and operators.</li>
 * </ul>
 * A sliding window: the read's address, as a linear form over loop variables and the index expressions that
 * are not linear, has a reduction variable r and a term o that depends on no reduction, o's coefficient q
 * times r's with 1 &lt;= q &lt;= trip(r). Windows overlap when q &lt; trip(r) ({@code x[(oh + kh) * W + ...]});
 * two such pairs in different dimensions ({@code x[(oh * 2 + kh) * W + ow * 2 + kw]}) make a non-overlapping
 * window. A single non-overlapping pair is a plain row-major dimension ({@code A[i * K + k]}), so a
 * one-dimensional pool with stride = window reads as a reduction.
 */
public final class NestClassifier {
	private static final int DEPTH = 8; // how far definitions, pointers and callees are followed
	private static final Pattern DEFINE = Pattern.compile("#\\s*define\\s+(\\w+)\\s+([^/]+?)\\s*(//.*)?");
	private static final Map<String, String> FAMILIES = Map.ofEntries(Map.entry("expf", "exp"), Map.entry("exp", "exp"),
			Map.entry("__expf", "exp"), Map.entry("logf", "log"), Map.entry("log", "log"), Map.entry("__logf", "log"),
			Map.entry("sqrtf", "sqrt"), Map.entry("sqrt", "sqrt"), Map.entry("rsqrtf", "rsqrt"),
			Map.entry("tanhf", "tanh"), Map.entry("tanh", "tanh"), Map.entry("erff", "erf"), Map.entry("erf", "erf"),
			Map.entry("fabsf", "abs"), Map.entry("fabs", "abs"), Map.entry("abs", "abs"), Map.entry("fmaxf", "max"),
			Map.entry("fmax", "max"), Map.entry("max", "max"), Map.entry("fminf", "min"), Map.entry("fmin", "min"),
			Map.entry("min", "min"), Map.entry("sinf", "sin"), Map.entry("cosf", "cos"), Map.entry("powf", "pow"),
			Map.entry("floorf", "floor"));
	private static final Map<String, String> OPERATORS = Map.of("+", "add", "-", "sub", "*", "mul", "/", "div", "%",
			"mod");
	private static final Set<String> INTEGERS = Set.of("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
			"uint64");

	/** The operations, most telling first: a nest is named after its computation of the first kind here. */
	public enum Kind {
		MATMUL, MATVEC, CONV, POOL, REDUCE, ELEMENTWISE, COPY, FILL, OTHER;

		public String label() {
			return name().toLowerCase(Locale.ROOT);
		}
	}

	/**
	 * One computation: its operation ({@code kind} and {@code variant}, such as reduce and max), the statement,
	 * the loops around it ({@code i<32}), those it reduces over, and the element types it reads and writes.
	 */
	public record Computation(Kind kind, String variant, String statement, List<String> loops, List<String> reduced,
			List<String> operandTypes, String resultType) {

		/** {@code matmul}, {@code reduce(max)}, {@code elementwise(sub, mul)}. */
		public String operation() {
			return variant == null ? kind.label() : kind.label() + "(" + variant + ")";
		}

		/** {@code float}, or {@code uint8, int8 → int32} when what is read differs from what is written. */
		public String types() {
			return operandTypes.isEmpty() || operandTypes.equals(List.of(resultType)) ? resultType
					: String.join(", ", operandTypes) + " → " + resultType;
		}

		/** One line: {@code matmul C[i] += A[k] * B[k] over i<32, k<64 reducing k, float}. */
		public String describe() {
			return operation() + " " + statement + (loops.isEmpty() ? "" : " over " + String.join(", ", loops))
					+ (reduced.isEmpty() ? "" : " reducing " + String.join(", ", reduced)) + ", " + types();
		}
	}

	/**
	 * How an update combines into its target: sum, prod, max or min, with the value combined; guarded for
	 * {@code if (E > T) T = E}.
	 */
	private record Update(String combine, Expression value, boolean guarded) {
	}

	/** Where a private accumulator's value finally lands, and whether it was divided by a constant there. */
	private record Destination(Expression target, boolean divided) {
	}

	private final FunctionDefinition function;
	private final TranslationUnit unit;
	private final KernelPrinter printer;
	private final Set<Declarator> locals = new HashSet<>();
	private final Set<Declarator> loopVariables = new HashSet<>();
	private final Map<Declarator, List<Expression>> writes = new HashMap<>(); // a null value: combined into
	private final List<ExpressionStatement> assignments = new ArrayList<>(); // in document order
	private final ConstantFolder constants = new ConstantFolder();
	private final Set<Declarator> indexVariables;
	private final Map<Declarator, Set<String>> dependences = new HashMap<>();
	private final Map<String, Set<String>> termDependences = new HashMap<>();

	public NestClassifier(FunctionDefinition function, TranslationUnit unit, KernelPrinter printer) {
		this.function = function;
		this.unit = unit;
		this.printer = printer;
		function.getBody().eAllContents().forEachRemaining(o -> {
			switch (o) {
			case ForStatement f -> loopVariable(f).ifPresent(loopVariables::add);
			case Declarator d -> {
				locals.add(d);
				if (d.getInitializer() instanceof Expression init) {
					writes.computeIfAbsent(d, k -> new ArrayList<>()).add(init);
				}
			}
			case Assignment a -> write(a.getLeft(), a.getOp().equals("=") ? a.getRight() : null);
			case Postfix p -> write(p.getOperand(), null);
			case Unary u when u.getOp().equals("++") || u.getOp().equals("--") -> write(u.getOperand(), null);
			default -> {
			}
			}
			if (o instanceof ExpressionStatement s && s.getExpression() instanceof Assignment) {
				assignments.add(s);
			}
		});
		defineConstants();
		indexVariables = indexVariables();
	}

	/** The computations of {@code nest} (a loop of this function), in order. */
	public List<Computation> computations(Statement nest) {
		List<Computation> found = new ArrayList<>();
		nest.eAllContents().forEachRemaining(o -> {
			if (o instanceof ExpressionStatement s && s.getExpression() instanceof Assignment a) {
				Computation c = classify(s, a, nest);
				if (c != null) {
					found.add(c);
				}
			}
		});
		return found;
	}

	// ------------------------------------------------------------------ one computation

	private Computation classify(ExpressionStatement statement, Assignment a, Statement nest) {
		Expression target = a.getLeft();
		if (!isDataTarget(target)) {
			return null;
		}
		List<ForStatement> loops = enclosingLoops(statement, nest);
		List<String> loopTexts = loops.stream().map(this::describeLoop).toList();
		String result = elementType(variable(target));
		Update update = update(a, statement);
		String text = update != null && update.guarded()
				? "if (" + printer.expression(guard(statement).getCondition()) + ") " + printer.expression(a)
				: printer.expression(a);
		if (update != null) {
			Destination destination = destination(statement, target);
			Set<String> landing = locationDependences(destination.target());
			List<String> reduced = loops.stream().map(this::loopName).filter(v -> !landing.contains(v)).toList();
			if (!reduced.isEmpty()) {
				return reduction(text, update, destination, loops, loopTexts, reduced, result);
			}
		}
		if (target instanceof Name) {
			return null; // a scalar temporary: what it holds is read where it is used
		}
		if (!a.getOp().equals("=")) { // in place: y[i] *= s
			List<String> operands = readTypes(a.getRight(), List.of(variable(target)));
			String op = OPERATORS.get(a.getOp().substring(0, a.getOp().length() - 1));
			return new Computation(op == null ? Kind.OTHER : Kind.ELEMENTWISE, op, text, loopTexts, List.of(), operands,
					result);
		}
		Expression value = resolve(a.getRight(), 0);
		List<String> operands = readTypes(a.getRight(), List.of());
		if (isSign(value)) {
			return new Computation(Kind.ELEMENTWISE, "sign", text, loopTexts, List.of(), operands, result);
		}
		if (!mentionsVariables(value)) {
			return new Computation(Kind.FILL, null, text, loopTexts, List.of(), List.of(), result);
		}
		if (readsElsewhere(target, value)) {
			return new Computation(Kind.OTHER, "recurrence", text, loopTexts, List.of(), operands, result);
		}
		if (isRead(value)) {
			return new Computation(Kind.COPY, null, text, loopTexts, List.of(), operands, result);
		}
		String function = variant(value);
		boolean named = !function.equals("other");
		return new Computation(named ? Kind.ELEMENTWISE : Kind.OTHER, named ? function : null, text, loopTexts,
				List.of(), operands, result);
	}

	private Computation reduction(String text, Update update, Destination destination, List<ForStatement> loops,
			List<String> loopTexts, List<String> reduced, String result) {
		Map<String, Long> trips = new HashMap<>();
		for (ForStatement loop : loops) {
			tripCount(loop).ifPresent(n -> trips.put(loopName(loop), n));
		}
		Expression value = resolve(update.value(), 0);
		List<String> operands = readTypes(update.value(), List.of());
		if (update.combine().equals("sum") && value instanceof Binary product && product.getOp().equals("*")) {
			Expression x = resolve(product.getLeft(), 0);
			Expression y = resolve(product.getRight(), 0);
			if (same(x, y)) {
				return new Computation(Kind.REDUCE, "sumsq", text, loopTexts, reduced, operands, result);
			}
			if (x instanceof Index xr && y instanceof Index yr) {
				Map<String, Long> ax = address(xr);
				Map<String, Long> ay = address(yr);
				if (dependsOnAny(ax.keySet(), reduced) && dependsOnAny(ay.keySet(), reduced)) {
					List<String> types = Stream.of(xr, yr).map(r -> elementType(variable(r))).distinct().toList();
					Kind kind = contraction(ax, ay, reduced, trips);
					return new Computation(kind, kind == Kind.REDUCE ? "dot" : null, text, loopTexts, reduced, types,
							result);
				}
			}
		}
		if (value instanceof Index read && !update.combine().equals("prod")
				&& windowed(address(read), reduced, trips)) {
			String kind = destination.divided() && update.combine().equals("sum") ? "avg" : update.combine();
			return new Computation(Kind.POOL, kind, text, loopTexts, reduced, operands, result);
		}
		return new Computation(Kind.REDUCE, update.combine(), text, loopTexts, reduced, operands, result);
	}

	private Kind contraction(Map<String, Long> x, Map<String, Long> y, List<String> reduced, Map<String, Long> trips) {
		if (windowed(x, reduced, trips) || windowed(y, reduced, trips)) {
			return Kind.CONV;
		}
		boolean xOwn = x.keySet().stream().anyMatch(t -> !y.containsKey(t) && !dependsOnAny(Set.of(t), reduced));
		boolean yOwn = y.keySet().stream().anyMatch(t -> !x.containsKey(t) && !dependsOnAny(Set.of(t), reduced));
		return xOwn && yOwn ? Kind.MATMUL : xOwn || yOwn ? Kind.MATVEC : Kind.REDUCE;
	}

	// ------------------------------------------------------------------ updates and where they land

	/** The reduction form of {@code a}, or null for a plain write. */
	private Update update(Assignment a, ExpressionStatement statement) {
		Expression target = strip(a.getLeft());
		switch (a.getOp()) {
		case "+=", "-=":
			return new Update("sum", a.getRight(), false);
		case "*=":
			return new Update("prod", a.getRight(), false);
		case "=":
			break;
		default:
			return null;
		}
		Expression value = strip(a.getRight());
		if (value instanceof Binary b && (b.getOp().equals("+") || b.getOp().equals("*"))) {
			String combine = b.getOp().equals("+") ? "sum" : "prod";
			return same(strip(b.getLeft()), target) ? new Update(combine, b.getRight(), false)
					: same(strip(b.getRight()), target) ? new Update(combine, b.getLeft(), false) : null;
		}
		if (value instanceof Binary b && b.getOp().equals("-")) {
			return same(strip(b.getLeft()), target) ? new Update("sum", b.getRight(), false) : null;
		}
		if (value instanceof Call call && call.getArgs().size() == 2
				&& Set.of("max", "min").contains(FAMILIES.getOrDefault(Snippets.callee(call), ""))) {
			for (int i = 0; i < 2; i++) {
				if (same(strip(call.getArgs().get(i)), target)) {
					return new Update(FAMILIES.get(Snippets.callee(call)), call.getArgs().get(1 - i), false);
				}
			}
			return null;
		}
		if (value instanceof Conditional c && strip(c.getCondition()) instanceof Binary test) {
			String picked = selection(test, c.getThen(), c.getElse());
			boolean keepsThen = same(strip(c.getThen()), target);
			return picked != null && (keepsThen || same(strip(c.getElse()), target))
					? new Update(picked, keepsThen ? c.getElse() : c.getThen(), false)
					: null;
		}
		IfStatement guard = guard(statement);
		if (guard != null && strip(guard.getCondition()) instanceof Binary test) { // if (E > T) T = E;
			String picked = selection(test, a.getRight(), target);
			return picked != null ? new Update(picked, a.getRight(), true) : null;
		}
		return null;
	}

	/** The if without else whose only statement is {@code statement}, or null. */
	private static IfStatement guard(ExpressionStatement statement) {
		EObject container = statement.eContainer();
		if (container instanceof CompoundStatement block && block.getStatements().size() == 1) {
			container = block.eContainer();
		}
		return container instanceof IfStatement guard && guard.getElse() == null ? guard : null;
	}

	/**
	 * Whether taking {@code chosen} when {@code test} holds, and {@code other} otherwise, is the maximum or the
	 * minimum of the two (test compares exactly them); null when it is neither.
	 */
	private String selection(Binary test, Expression chosen, Expression other) {
		boolean greater = test.getOp().equals(">") || test.getOp().equals(">=");
		if (!greater && !test.getOp().equals("<") && !test.getOp().equals("<=")) {
			return null;
		}
		Expression l = strip(test.getLeft());
		Expression r = strip(test.getRight());
		if (same(l, strip(chosen)) && same(r, strip(other))) {
			return greater ? "max" : "min";
		}
		if (same(r, strip(chosen)) && same(l, strip(other))) {
			return greater ? "min" : "max";
		}
		return null;
	}

	/**
	 * Follows a private accumulator through the copies and combinations written after {@code from}
	 * ({@code sum += partial}, {@code out[i] = sum}, {@code out[i] = sum / 4}) to where its value lands.
	 */
	private Destination destination(ExpressionStatement from, Expression target) {
		Expression current = target;
		boolean divided = false;
		for (int i = assignments.indexOf(from) + 1; i < assignments.size() && isPrivate(current); i++) {
			Assignment next = (Assignment) assignments.get(i).getExpression();
			if (variable(next.getLeft()) == variable(current)) {
				continue;
			}
			Expression value = strip(next.getRight());
			boolean copy = same(value, strip(current)) && (next.getOp().equals("=") || next.getOp().equals("+="));
			boolean scaled = next.getOp().equals("=") && value instanceof Binary b && b.getOp().equals("/")
					&& same(strip(b.getLeft()), strip(current)) && !mentionsVariables(b.getRight());
			if (copy || scaled) {
				current = next.getLeft();
				divided |= scaled;
			}
		}
		return new Destination(current, divided);
	}

	/** A variable of the function itself, not a pointer into memory that outlives it. */
	private boolean isPrivate(Expression target) {
		Declarator d = variable(target);
		return d != null && locals.contains(d) && d.getPointers().isEmpty();
	}

	/** The loop variables that pick the element {@code target} names (its subscripts and its variable's scope). */
	private Set<String> locationDependences(Expression target) {
		Set<String> deps = new LinkedHashSet<>();
		Expression e = strip(target);
		while (e instanceof Index ix) {
			deps.addAll(dependencesOf(ix.getIndex()));
			e = strip(ix.getTarget());
		}
		Declarator d = e instanceof Name n ? declaration(n) : null;
		if (d != null && locals.contains(d)) {
			deps.addAll(scopeLoops(d));
			if (!d.getPointers().isEmpty()) {
				for (Expression value : writes.getOrDefault(d, List.of())) {
					deps.addAll(value == null ? Set.of() : dependencesOf(value));
				}
			}
		}
		return deps;
	}

	// ------------------------------------------------------------------ what a value is

	/** Names a computed value: a recognised activation, the top call's function, or its operators in order. */
	private String variant(Expression value) {
		Expression v = inline(strip(value), 0);
		if (hasShape(v, this::isGelu)) {
			return "gelu";
		}
		if (hasShape(v, this::isSigmoid)) {
			return "sigmoid";
		}
		if (v instanceof Call call) {
			String family = family(call);
			return family.equals("max") && call.getArgs().stream().anyMatch(NestClassifier::isZero) ? "relu" : family;
		}
		if (v instanceof Conditional c && strip(c.getCondition()) instanceof Binary test) {
			String picked = selection(test, c.getThen(), c.getElse());
			if (picked != null) {
				return picked.equals("max") && (isZero(c.getThen()) || isZero(c.getElse())) ? "relu" : picked;
			}
		}
		List<String> operations = new ArrayList<>();
		operations(v, operations);
		return operations.isEmpty() ? "other" : String.join(", ", operations.stream().distinct().toList());
	}

	/** The operators and functions of {@code e} in evaluation order (not subscripts, call arguments, constants). */
	private void operations(Expression e, List<String> out) {
		if (!mentionsVariables(e)) {
			return; // a constant: folded, not computed per element
		}
		switch (strip(e)) {
		case Binary b when OPERATORS.containsKey(b.getOp()) -> {
			operations(b.getLeft(), out);
			operations(b.getRight(), out);
			out.add(OPERATORS.get(b.getOp()));
		}
		case Unary u when u.getOp().equals("-") -> {
			operations(u.getOperand(), out);
			out.add("neg");
		}
		case Call call -> out.add(family(call));
		case Conditional c -> out.add("select");
		default -> {
		}
		}
	}

	/** x * (1 + erf(..)) or x * (1 + tanh(..)): the gelu. */
	private boolean isGelu(Expression e) {
		Predicate<Expression> curve = t -> strip(t) instanceof Call c && Set.of("erf", "tanh").contains(family(c));
		return e instanceof Binary b && b.getOp().equals("*") && Stream.of(b.getLeft(), b.getRight())
				.anyMatch(f -> strip(f) instanceof Binary sum && sum.getOp().equals("+")
						&& (curve.test(sum.getLeft()) || curve.test(sum.getRight())));
	}

	/** c / (c + exp(-x)): the logistic sigmoid. */
	private boolean isSigmoid(Expression e) {
		return e instanceof Binary b && b.getOp().equals("/") && strip(b.getRight()) instanceof Binary sum
				&& sum.getOp().equals("+") && Stream.of(sum.getLeft(), sum.getRight())
						.anyMatch(t -> strip(t) instanceof Call c && family(c).equals("exp") && c.getArgs().size() == 1
								&& strip(c.getArgs().get(0)) instanceof Unary u && u.getOp().equals("-"));
	}

	private static boolean hasShape(Expression e, Predicate<Expression> shape) {
		return EcoreUtil2.eAllOfType(e, Expression.class).stream().anyMatch(shape);
	}

	private static String family(Call call) {
		String callee = Snippets.callee(call);
		String plain = callee == null ? "call" : callee.replaceFirst("^std::", "");
		return FAMILIES.getOrDefault(plain, plain);
	}

	/** A call of a function of this file whose body is one return: that return's expression. */
	private Expression inline(Expression e, int depth) {
		if (depth < DEPTH && e instanceof Call call && Snippets.callee(call) != null) {
			for (var item : Snippets.topLevelItems(unit)) {
				if (item instanceof FunctionDefinition f && f.getName().equals(Snippets.callee(call))
						&& f.getBody() != null && f.getBody().getStatements().size() == 1
						&& f.getBody().getStatements().get(0) instanceof ReturnStatement r && r.getValue() != null) {
					return inline(strip(r.getValue()), depth + 1);
				}
			}
		}
		return e;
	}

	/**
	 * sign: the value is chosen among -1, 0 and 1 by comparisons with zero, in a conditional expression or in
	 * the writes of a local variable.
	 */
	private boolean isSign(Expression value) {
		Set<Double> chosen = new HashSet<>();
		if (value instanceof Conditional c) {
			return signChoice(c, chosen) && chosen.size() > 1;
		}
		Declarator d = value instanceof Name n ? declaration(n) : null;
		if (d == null || !locals.contains(d) || writes.getOrDefault(d, List.of()).size() < 2) {
			return false;
		}
		EObject scope = d.eContainer();
		while (scope != null && !(scope instanceof CompoundStatement)) {
			scope = scope.eContainer();
		}
		for (Expression w : writes.get(d)) {
			OptionalDouble constant = w == null ? OptionalDouble.empty() : numeric(w);
			if (constant.isEmpty() || !isUnit(constant.getAsDouble()) || !guardsCompareWithZero(w, scope)) {
				return false;
			}
			chosen.add(constant.getAsDouble());
		}
		return chosen.size() > 1;
	}

	private static boolean signChoice(Expression e, Set<Double> chosen) {
		Expression v = strip(e);
		if (v instanceof Conditional c) {
			return comparesWithZero(c.getCondition()) && signChoice(c.getThen(), chosen)
					&& signChoice(c.getElse(), chosen);
		}
		OptionalDouble constant = numeric(v);
		constant.ifPresent(chosen::add);
		return constant.isPresent() && isUnit(constant.getAsDouble());
	}

	private static boolean isUnit(double value) {
		return value == -1 || value == 0 || value == 1;
	}

	/** Whether every if around {@code node} inside {@code scope} tests a value against zero. */
	private static boolean guardsCompareWithZero(EObject node, EObject scope) {
		for (EObject c = node.eContainer(); c != null && c != scope; c = c.eContainer()) {
			if (c instanceof IfStatement guard && !comparesWithZero(guard.getCondition())) {
				return false;
			}
		}
		return true;
	}

	private static boolean comparesWithZero(Expression condition) {
		return strip(condition) instanceof Binary b && Set.of("<", "<=", ">", ">=").contains(b.getOp())
				&& (isZero(b.getLeft()) || isZero(b.getRight()));
	}

	/**
	 * One read: an element, a variable, or one of them against a constant under a condition on indices only
	 * ({@code k < K ? A[k] : 0.0f}, padding).
	 */
	private boolean isRead(Expression value) {
		Expression v = strip(value);
		if (v instanceof Conditional c) {
			Expression then = resolve(c.getThen(), 0);
			Expression otherwise = resolve(c.getElse(), 0);
			return !readsData(c.getCondition())
					&& (isRead(then) && !mentionsVariables(otherwise) || isRead(otherwise) && !mentionsVariables(then));
		}
		return v instanceof Index || v instanceof Name && isData(v);
	}

	/** Whether {@code e} reads data (an element of a data array, or a data variable), not only indices. */
	private boolean readsData(Expression e) {
		return EcoreUtil2.eAllOfType(e, EObject.class).stream()
				.anyMatch(o -> (o instanceof Index || o instanceof Name) && isData((Expression) o)
						&& !(o.eContainer() instanceof Index p && p.getTarget() == o));
	}

	/** An access (an element or a variable) of a declared variable that is neither a loop nor an index variable. */
	private boolean isData(Expression access) {
		Declarator d = variable(access);
		return d != null && !loopVariables.contains(d) && !indexVariables.contains(d);
	}

	/** Whether {@code value} reads the target's array at another element: an iteration depends on another. */
	private boolean readsElsewhere(Expression target, Expression value) {
		Declarator array = variable(target);
		String element = printer.expression(strip(target));
		return EcoreUtil2.eAllOfType(value, EObject.class).stream()
				.anyMatch(o -> o instanceof Index ix && !(ix.eContainer() instanceof Index p && p.getTarget() == ix)
						&& variable(ix) == array && !printer.expression(ix).equals(element));
	}

	/** Whether {@code e} names a variable (so it is not a constant; a name defined by a constant is one). */
	private boolean mentionsVariables(Expression e) {
		return EcoreUtil2.eAllOfType(e, EObject.class).stream().anyMatch(o -> o instanceof Name n
				&& !(o.eContainer() instanceof Call c && c.getCallee() == o) && declaration(n) != null
				&& constants.fold(n).isEmpty()
				&& (definition(declaration(n)) == null || mentionsVariables(definition(declaration(n)))));
	}

	/** The element types that {@code value} reads (through the temporaries it names), then {@code extra}'s. */
	private List<String> readTypes(Expression value, List<Declarator> extra) {
		Set<Declarator> read = new LinkedHashSet<>();
		reads(value, read, 0);
		read.addAll(extra);
		return read.stream().map(NestClassifier::elementType).distinct().toList();
	}

	private void reads(Expression e, Set<Declarator> read, int depth) {
		Expression x = strip(e);
		if (x instanceof Index) {
			read.add(variable(x)); // its subscripts are index reads, not data
		} else if (x instanceof Name n) {
			Declarator d = declaration(n);
			if (definition(d) != null && d.getPointers().isEmpty() && depth < DEPTH) {
				reads(definition(d), read, depth + 1);
			} else if (isData(x) && constants.fold(x).isEmpty()) {
				read.add(d);
			}
		} else {
			for (EObject child : x.eContents()) {
				if (child instanceof Expression c && !(x instanceof Call call && call.getCallee() == c)) {
					reads(c, read, depth);
				}
			}
		}
		read.remove(null);
	}

	// ------------------------------------------------------------------ addresses as linear forms

	/** The address {@code read} reads, as coefficients of its index terms (constants dropped). */
	private Map<String, Long> address(Index read) {
		List<Expression> subscripts = new ArrayList<>();
		Expression e = read;
		while (strip(e) instanceof Index ix) {
			subscripts.add(0, ix.getIndex());
			e = ix.getTarget();
		}
		Map<String, Long> terms = new LinkedHashMap<>();
		Declarator array = variable(read);
		List<Long> extents = array == null ? List.of() : extents(array);
		if (array != null && array.getPointers().isEmpty() && extents.size() == subscripts.size()) {
			long stride = 1; // row-major over the declared extents
			for (int i = subscripts.size() - 1; i >= 0; i--) {
				add(terms, linear(subscripts.get(i), 0), stride);
				stride *= extents.get(i);
			}
			return terms;
		}
		Expression pointer = read.getTarget();
		if (subscripts.size() == 1) {
			add(terms, offset(pointer, 0), 1);
		} else { // an element of an array of pointers: which pointer is a term of unknown stride
			String term = printer.expression(strip(pointer));
			terms.put(term, 0L);
			termDependences.putIfAbsent(term, dependencesOf(pointer));
		}
		add(terms, linear(read.getIndex(), 0), 1);
		return terms;
	}

	/** The declared constant extents of an array ({@code float t[16][16]}: 16, 16); empty when one is not. */
	private List<Long> extents(Declarator array) {
		List<Long> extents = new ArrayList<>();
		for (ArrayDimension d : array.getDimensions()) {
			OptionalLong n = d.getSize() == null ? OptionalLong.empty() : constants.fold(d.getSize());
			if (n.isEmpty()) {
				return List.of();
			}
			extents.add(n.getAsLong());
		}
		return extents;
	}

	/** A pointer's offset from the array it points into ({@code in = input + c * 128}: c * 128). */
	private Map<String, Long> offset(Expression pointer, int depth) {
		Map<String, Long> terms = new LinkedHashMap<>();
		Expression p = strip(pointer);
		if (p instanceof Binary b && (b.getOp().equals("+") || b.getOp().equals("-")) && depth < DEPTH) {
			boolean left = isPointer(b.getLeft());
			add(terms, left ? offset(b.getLeft(), depth + 1) : linear(b.getLeft(), depth + 1), 1);
			add(terms, left ? linear(b.getRight(), depth + 1) : offset(b.getRight(), depth + 1),
					b.getOp().equals("-") ? -1 : 1);
		} else if (p instanceof Name n && definition(declaration(n)) != null && depth < DEPTH) {
			add(terms, offset(definition(declaration(n)), depth + 1), 1);
		}
		return terms;
	}

	/** Whether {@code e} is an address: a pointer or an array, or an element of an array of pointers. */
	private boolean isPointer(Expression e) {
		Expression x = strip(e);
		Declarator d = variable(x);
		return d != null && depth(x) < d.getPointers().size() + d.getDimensions().size()
				|| x instanceof Binary b && (isPointer(b.getLeft()) || isPointer(b.getRight()));
	}

	/** {@code e} as a linear form: constants fold, single definitions open, anything else is one term. */
	private Map<String, Long> linear(Expression e, int depth) {
		Expression x = strip(e);
		Map<String, Long> terms = new LinkedHashMap<>();
		if (constants.fold(x).isPresent()) {
			return terms;
		}
		if (x instanceof Binary b && (b.getOp().equals("+") || b.getOp().equals("-")) && depth < DEPTH) {
			add(terms, linear(b.getLeft(), depth + 1), 1);
			add(terms, linear(b.getRight(), depth + 1), b.getOp().equals("-") ? -1 : 1);
			return terms;
		}
		if (x instanceof Binary b && b.getOp().equals("*") && depth < DEPTH) {
			OptionalLong l = constants.fold(b.getLeft());
			OptionalLong r = constants.fold(b.getRight());
			if (l.isPresent() || r.isPresent()) {
				add(terms, linear(l.isPresent() ? b.getRight() : b.getLeft(), depth + 1),
						l.isPresent() ? l.getAsLong() : r.getAsLong());
				return terms;
			}
		}
		Declarator d = x instanceof Name n ? declaration(n) : null;
		if (d != null && definition(d) != null && d.getPointers().isEmpty() && depth < DEPTH) {
			return linear(definition(d), depth + 1);
		}
		String term = printer.expression(x);
		termDependences.putIfAbsent(term, dependencesOf(x));
		terms.put(term, 1L);
		return terms;
	}

	private static void add(Map<String, Long> into, Map<String, Long> terms, long factor) {
		terms.forEach((term, c) -> into.merge(term, c * factor, Long::sum));
	}

	/**
	 * Whether the address slides a window: a reduction variable r and a term o that depends on no reduction,
	 * o's coefficient q times r's with 1 &lt;= q &lt;= trip(r); overlapping (q &lt; trip) or in two dimensions.
	 */
	private boolean windowed(Map<String, Long> terms, List<String> reduced, Map<String, Long> trips) {
		Set<String> windows = new HashSet<>();
		Set<String> outputs = new HashSet<>();
		for (String r : reduced) {
			Long step = terms.get(r);
			Long trip = trips.get(r);
			if (step == null || step <= 0 || trip == null) {
				continue;
			}
			for (var term : terms.entrySet()) {
				long c = term.getValue();
				if (c <= 0 || c % step != 0 || c / step > trip || dependsOnAny(Set.of(term.getKey()), reduced)) {
					continue;
				}
				if (c / step < trip) {
					return true;
				}
				windows.add(r);
				outputs.add(term.getKey());
			}
		}
		return windows.size() > 1 && outputs.size() > 1;
	}

	private boolean dependsOnAny(Set<String> terms, List<String> variables) {
		return terms.stream().anyMatch(t -> variables.contains(t)
				|| termDependences.getOrDefault(t, Set.of()).stream().anyMatch(variables::contains));
	}

	// ------------------------------------------------------------------ variables

	/**
	 * Records that {@code target} is given {@code value} (null: combined into), when that changes the variable
	 * itself or an element of its own array, not memory that a pointer points to.
	 */
	private void write(Expression target, Expression value) {
		Declarator d = variable(target);
		if (d != null && depth(target) <= d.getDimensions().size()) {
			writes.computeIfAbsent(d, k -> new ArrayList<>()).add(value);
		}
	}

	/** The initializer of a local that nothing else writes: what the name stands for, else null. */
	private Expression definition(Declarator d) {
		List<Expression> values = d == null ? List.of() : writes.getOrDefault(d, List.of());
		boolean single = values.size() == 1 && d.getInitializer() == values.get(0);
		return locals.contains(d) && single && d.getDimensions().isEmpty() ? values.get(0) : null;
	}

	/** A temporary's value in place of its name (the outermost expression, casts and parentheses dropped). */
	private Expression resolve(Expression e, int depth) {
		Expression x = strip(e);
		Declarator d = x instanceof Name n ? declaration(n) : null;
		if (d != null && definition(d) != null && d.getPointers().isEmpty() && depth < DEPTH) {
			return resolve(definition(d), depth + 1);
		}
		return x;
	}

	/**
	 * Names with an integer value that is the same wherever they are in scope ({@code const int K = 3;},
	 * {@code #define K 3}), so that bounds and strides fold.
	 */
	private void defineConstants() {
		Map<String, List<Expression>> candidates = new HashMap<>();
		Set<String> varying = new HashSet<>();
		List<Declarator> declared = new ArrayList<>(locals);
		function.getParams().forEach(p -> declared.add(p.getDeclarator()));
		for (var item : Snippets.topLevelItems(unit)) {
			if (item instanceof Declaration d) {
				declared.addAll(d.getDeclarators());
			} else if (item instanceof Directive directive) {
				Matcher define = DEFINE.matcher(directive.getText().strip());
				if (define.matches()) {
					try {
						candidates.computeIfAbsent(define.group(1), k -> new ArrayList<>())
								.add(Snippets.expression(define.group(2), Dialect.VNNI));
					} catch (IllegalArgumentException notAnExpression) {
						varying.add(define.group(1)); // a statement macro: nothing to fold
					}
				}
			}
		}
		for (Declarator d : declared) {
			if (d == null || d.getName() == null) {
				continue;
			}
			List<Expression> values = writes.getOrDefault(d, List.of());
			if (values.size() == 1 && d.getInitializer() == values.get(0) && d.getPointers().isEmpty()
					&& d.getDimensions().isEmpty() && INTEGERS.contains(elementType(d))) {
				candidates.computeIfAbsent(d.getName(), k -> new ArrayList<>()).add(values.get(0));
			} else {
				varying.add(d.getName());
			}
		}
		candidates.keySet().removeAll(varying);
		Set<String> defined = new HashSet<>();
		for (boolean more = true; more;) { // constants defined by constants: const int KC = K * C;
			more = false;
			for (var entry : candidates.entrySet()) {
				List<OptionalLong> folded = entry.getValue().stream().map(constants::fold).distinct().toList();
				if (!defined.contains(entry.getKey()) && folded.size() == 1 && folded.get(0).isPresent()) {
					constants.define(entry.getKey(), folded.get(0).getAsLong());
					defined.add(entry.getKey());
					more = true;
				}
			}
		}
	}

	/**
	 * Integer variables that decide addresses (in subscripts, loop headers, pointer initializers, or flowing
	 * into those): index bookkeeping rather than data.
	 */
	private Set<Declarator> indexVariables() {
		Set<Declarator> found = new HashSet<>();
		List<EObject> pending = new ArrayList<>();
		function.getBody().eAllContents().forEachRemaining(o -> {
			if (o instanceof Index ix) {
				pending.add(ix.getIndex());
			} else if (o instanceof ForStatement f) {
				Stream.of(f.getInitDeclaration(), f.getInitExpression(), f.getCondition(), f.getUpdate())
						.filter(x -> x != null).forEach(pending::add);
			} else if (o instanceof Declarator d && !d.getPointers().isEmpty() && d.getInitializer() != null) {
				pending.add(d.getInitializer());
			}
		});
		while (!pending.isEmpty()) {
			EObject next = pending.remove(pending.size() - 1);
			for (EObject o : EcoreUtil2.eAllOfType(next, EObject.class).stream().toList()) {
				Declarator d = o instanceof Name n ? declaration(n) : null;
				if (d != null && d.getPointers().isEmpty() && INTEGERS.contains(elementType(d)) && found.add(d)) {
					writes.getOrDefault(d, List.of()).stream().filter(v -> v != null).forEach(pending::add);
				}
			}
		}
		return found;
	}

	/** The loop variables that the value of index variable {@code d} depends on, its scope's loops included. */
	private Set<String> dependences(Declarator d) {
		if (loopVariables.contains(d)) {
			return Set.of(d.getName());
		}
		Set<String> known = dependences.get(d);
		if (known != null) {
			return known;
		}
		Set<String> deps = new LinkedHashSet<>(scopeLoops(d));
		dependences.put(d, deps); // a variable that feeds itself adds nothing more
		writes.getOrDefault(d, List.of()).stream().filter(v -> v != null).forEach(v -> deps.addAll(dependencesOf(v)));
		return deps;
	}

	private Set<String> dependencesOf(EObject expression) {
		Set<String> deps = new LinkedHashSet<>();
		for (EObject o : EcoreUtil2.eAllOfType(expression, EObject.class).stream().toList()) {
			Declarator d = o instanceof Name n ? declaration(n) : null;
			if (d != null && locals.contains(d)) {
				deps.addAll(dependences(d));
			}
		}
		return deps;
	}

	/** The variables of the loops around a local's declaration: it is a fresh variable in each of their steps. */
	private Set<String> scopeLoops(Declarator d) {
		Set<String> loops = new LinkedHashSet<>();
		for (EObject c = d.eContainer(); c != null && c != function; c = c.eContainer()) {
			if (c instanceof ForStatement f && f.getInitDeclaration() != d.eContainer()) {
				loops.add(loopName(f));
			}
		}
		loops.remove(null);
		return loops;
	}

	/** The declaration that {@code name} refers to where it stands, by C scope; null for functions and macros. */
	private Declarator declaration(Name name) {
		String wanted = name.getName();
		EObject child = name;
		for (EObject c = name.eContainer(); c != null; child = c, c = c.eContainer()) {
			if (c instanceof CompoundStatement block) {
				int position = block.getStatements().indexOf(child);
				for (int i = (position < 0 ? block.getStatements().size() : position) - 1; i >= 0; i--) {
					if (block.getStatements().get(i) instanceof DeclarationStatement s) {
						Declarator d = declared(s.getDeclaration(), wanted);
						if (d != null) {
							return d;
						}
					}
				}
			} else if (c instanceof ForStatement f && f.getInitDeclaration() != null
					&& child != f.getInitDeclaration()) {
				Declarator d = declared(f.getInitDeclaration(), wanted);
				if (d != null) {
					return d;
				}
			} else if (c instanceof FunctionDefinition f) {
				for (Parameter p : f.getParams()) {
					if (p.getDeclarator() != null && wanted.equals(p.getDeclarator().getName())) {
						return p.getDeclarator();
					}
				}
			}
		}
		for (var item : Snippets.topLevelItems(unit)) {
			Declarator d = item instanceof Declaration global ? declared(global, wanted) : null;
			if (d != null) {
				return d;
			}
		}
		return null;
	}

	private static Declarator declared(Declaration declaration, String name) {
		return declaration.getDeclarators().stream().filter(d -> name.equals(d.getName())).findFirst().orElse(null);
	}

	/** The variable an access starts from: {@code a} for {@code a[i][j]}, {@code s} for {@code s}; else null. */
	private Declarator variable(Expression access) {
		Expression x = strip(access);
		while (x instanceof Index ix) {
			x = strip(ix.getTarget());
		}
		return x instanceof Name n ? declaration(n) : null;
	}

	/** A normalised element type: float, half, int8, uint8, int16, int32, ... (as written otherwise). */
	static String elementType(Declarator d) {
		TypeSpecifier type = Snippets.declaredType(d);
		return normalisedType(type instanceof BuiltinType b ? b.getName() : type instanceof NamedType n ? n.getName() : "?");
	}

	/** A type as spelled ({@code unsigned char}, {@code int32_t}) in the normalised spelling of {@link #elementType}. */
	static String normalisedType(String spelled) {
		String plain = spelled.replaceAll("\\s+", " ").strip();
		return switch (plain) {
		case "half", "__half", "_Float16" -> "half";
		case "int8_t", "signed char", "char" -> "int8";
		case "uint8_t", "unsigned char" -> "uint8";
		case "int16_t", "short", "short int", "signed short" -> "int16";
		case "uint16_t", "unsigned short" -> "uint16";
		case "int", "int32_t", "signed", "signed int" -> "int32";
		case "unsigned", "unsigned int", "uint32_t" -> "uint32";
		case "long long", "int64_t", "long", "size_t" -> "int64";
		case "uint64_t", "unsigned long", "unsigned long long" -> "uint64";
		default -> plain;
		};
	}

	// ------------------------------------------------------------------ loops and syntax

	/** The variable a for loop steps: the one it declares, else the one its update changes (declared before it). */
	private Optional<Declarator> loopVariable(ForStatement loop) {
		if (loop.getInitDeclaration() != null && loop.getInitDeclaration().getDeclarators().size() == 1) {
			return Optional.of(loop.getInitDeclaration().getDeclarators().get(0));
		}
		Expression update = loop.getUpdate();
		Expression changed = update instanceof Postfix p ? p.getOperand()
				: update instanceof Unary u ? u.getOperand() : update instanceof Assignment a ? a.getLeft() : null;
		return Optional.ofNullable(changed instanceof Name n ? declaration(n) : null);
	}

	private String loopName(ForStatement loop) {
		return loopVariable(loop).map(Declarator::getName).orElse(null);
	}

	private OptionalLong tripCount(ForStatement loop) {
		Optional<CanonicalLoop> canonical = CanonicalLoop.of(loop);
		if (canonical.isEmpty()) {
			return OptionalLong.empty();
		}
		OptionalLong lower = constants.fold(canonical.get().lower());
		OptionalLong upper = constants.fold(canonical.get().upper());
		return lower.isPresent() && upper.isPresent()
				? OptionalLong.of(Math.max(0, upper.getAsLong() - lower.getAsLong()))
				: OptionalLong.empty();
	}

	private boolean isDataTarget(Expression target) {
		Declarator d = variable(target);
		if (d == null) {
			return false;
		}
		return !loopVariables.contains(d) && !indexVariables.contains(d) && !elementType(d).equals("bool")
				&& depth(target) == d.getPointers().size() + d.getDimensions().size();
	}

	/** The loops around {@code statement} up to and including {@code nest}, outermost first. */
	private List<ForStatement> enclosingLoops(EObject statement, Statement nest) {
		List<ForStatement> loops = new ArrayList<>();
		for (EObject c = statement; c != null; c = c.eContainer()) {
			if (c instanceof ForStatement f && loopVariable(f).isPresent()) {
				loops.add(0, f);
			}
			if (c == nest) {
				break;
			}
		}
		return loops;
	}

	/** {@code k<256} (a constant bound folded), or the variable alone when the loop has another shape. */
	private String describeLoop(ForStatement loop) {
		String v = loopName(loop);
		if (strip(loop.getCondition()) instanceof Binary c && c.getOp().equals("<")
				&& strip(c.getLeft()) instanceof Name n && n.getName().equals(v)) {
			OptionalLong bound = constants.fold(c.getRight());
			return v + "<" + (bound.isPresent() ? Long.toString(bound.getAsLong()) : printer.expression(c.getRight()));
		}
		return v;
	}

	private boolean same(Expression a, Expression b) {
		return printer.expression(a).equals(printer.expression(b));
	}

	/** Drops parentheses and casts. */
	private static Expression strip(Expression e) {
		return switch (e) {
		case Parenthesized p -> strip(p.getExpression());
		case Cast c -> strip(c.getOperand());
		case CxxCast c -> strip(c.getOperand());
		case null, default -> e;
		};
	}

	private static int depth(Expression e) {
		return strip(e) instanceof Index ix ? 1 + depth(ix.getTarget()) : 0;
	}

	private static boolean isZero(Expression e) {
		return numeric(e).orElse(1) == 0;
	}

	private static OptionalDouble numeric(Expression e) {
		Expression x = strip(e);
		try {
			return switch (x) {
			case IntLiteral i -> OptionalDouble.of(Long.decode(i.getValue().replaceAll("[uUlL]+$", "")));
			case FloatLiteral f -> OptionalDouble.of(Double.parseDouble(f.getValue().replaceAll("[fFlL]$", "")));
			case Unary u when u.getOp().equals("-") -> {
				OptionalDouble v = numeric(u.getOperand());
				yield v.isPresent() ? OptionalDouble.of(-v.getAsDouble()) : v;
			}
			case null, default -> OptionalDouble.empty();
			};
		} catch (NumberFormatException notANumber) {
			return OptionalDouble.empty();
		}
	}
}
