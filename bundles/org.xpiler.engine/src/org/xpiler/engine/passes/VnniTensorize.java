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
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.EmptyStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.FloatLiteral;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.PointerOperator;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.kernel.WhileStatement;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Tensorize: every innermost loop of sequential C++ that is an element-wise float map runs 16 lanes at a time
 * with AVX-512 ({@code __m512}) intrinsics, and a scalar loop finishes the iterations that do not fill a
 * vector. A qualifying loop is canonical ({@code for (int i = A; i < B; i++)}, or {@code ++i} or
 * {@code i += 1}, with {@code B} not written in the loop) and its body holds only assignments
 * {@code P[i + c] = EXPR;} or {@code P[i + c] op= EXPR;} ({@code op} one of {@code + - * /}) to arrays of float,
 * {@code c} a loop-invariant integer expression. {@code EXPR} may use float loads {@code Q[i + c]}, loop-invariant
 * float or integer scalars (names the loop does not assign, literals with an {@code f} suffix, casts of them),
 * {@code + - * /}, unary minus, {@code fmaxf}, {@code fminf}, {@code fabsf}, {@code sqrtf}, and comparisons
 * {@code a > b ? e1 : e2} (a compare to a mask and a blend). A loop that reads an array it writes at any other
 * index than the one it writes, or that uses doubles, integer values, other calls ({@code expf} has no AVX-512
 * instruction) or anything else, is left as it was. Every intrinsic written is checked against the VNNI
 * catalog, and {@code #include <immintrin.h>} is added when missing.
 *
 * <pre>
 * before: for (int i = 0; i &lt; 1000; i++) {
 *             y[i] = fmaxf(x[i], 0.0f);
 *         }
 * after:  {
 *             int i = 0;
 *             for (; i + 16 &lt;= 1000; i += 16) {
 *                 _mm512_storeu_ps(y + i, _mm512_max_ps(_mm512_loadu_ps(x + i), _mm512_set1_ps(0.0f)));
 *             }
 *             for (; i &lt; 1000; i++) {
 *                 y[i] = fmaxf(x[i], 0.0f);
 *             }
 *         }
 * </pre>
 *
 * Knobs: {@code vectorized} = the number of loops rewritten ({@code 2 loops}), {@code width} = {@code 16}
 * (float lanes of a 512-bit vector). Precondition: sequential C++ (VNNI to VNNI) with at least one qualifying
 * loop; otherwise the pass refuses with "no element-wise float loop to vectorize", so the code stays as it
 * was. The oracle decides whether pointer parameters that alias each other made the vector loop differ.
 */
public final class VnniTensorize implements Pass {
	/** Float lanes of a 512-bit vector. */
	public static final int WIDTH = 16;

	private static final Set<String> INTEGER_TYPES = Set.of("int", "unsigned", "unsigned int", "signed", "signed int",
			"long", "long int", "long long", "long long int", "unsigned long", "unsigned long int",
			"unsigned long long", "unsigned long long int", "short", "short int", "unsigned short",
			"unsigned short int", "char", "signed char", "unsigned char", "size_t", "int8_t", "int16_t", "int32_t",
			"int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t");
	private static final Map<String, String> BINARY = Map.of("+", "_mm512_add_ps", "-", "_mm512_sub_ps", "*",
			"_mm512_mul_ps", "/", "_mm512_div_ps");
	/** Predicates with C's meaning: ordered for {@code < <= > >= ==}, unordered for {@code !=}. */
	private static final Map<String, String> COMPARE = Map.of(">", "_CMP_GT_OQ", ">=", "_CMP_GE_OQ", "<",
			"_CMP_LT_OQ", "<=", "_CMP_LE_OQ", "==", "_CMP_EQ_OQ", "!=", "_CMP_NEQ_UQ");
	private static final Map<String, String> UNARY_CALLS = Map.of("fabsf", "_mm512_abs_ps", "sqrtf",
			"_mm512_sqrt_ps");
	private static final Map<String, String> BINARY_CALLS = Map.of("fmaxf", "_mm512_max_ps", "fminf",
			"_mm512_min_ps");

	@Override
	public String name() {
		return "tensorize";
	}

	@Override
	public String summary() {
		return "vectorize element-wise float loops with AVX-512, 16 lanes at a time and a scalar tail";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI || to != Dialect.VNNI) {
			return Optional.of("vectorizes sequential C++ (VNNI to VNNI) only");
		}
		if (plans(unit).isEmpty()) {
			return Optional.of("no element-wise float loop to vectorize");
		}
		return Optional.empty();
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		List<Plan> plans = plans(unit);
		for (Plan plan : plans) {
			List<Statement> parsed = Snippets.statements(plan.text(), Dialect.VNNI);
			EcoreUtil.replace(plan.loop(), parsed.get(0));
		}
		if (!plans.isEmpty()) {
			Snippets.include(unit, "immintrin.h");
		}
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("vectorized", plans.size() + (plans.size() == 1 ? " loop" : " loops"));
		knobs.put("width", Integer.toString(WIDTH));
		return knobs;
	}

	/** A loop to replace and the text of the block that replaces it. */
	private record Plan(ForStatement loop, String text) {
	}

	/** Every qualifying innermost loop of the unit, with its replacement, in source order. */
	private static List<Plan> plans(TranslationUnit unit) {
		List<Plan> plans = new ArrayList<>();
		for (var it = unit.eAllContents(); it.hasNext();) {
			if (it.next() instanceof ForStatement loop && isInnermost(loop)) {
				String text = new LoopAnalysis(loop).vectorized();
				if (text != null) {
					plans.add(new Plan(loop, text));
				}
			}
		}
		return plans;
	}

	private static boolean isInnermost(ForStatement loop) {
		for (var it = loop.getBody().eAllContents(); it.hasNext();) {
			EObject o = it.next();
			if (o instanceof ForStatement || o instanceof WhileStatement || o instanceof DoStatement) {
				return false;
			}
		}
		return !(loop.getBody() instanceof ForStatement || loop.getBody() instanceof WhileStatement
				|| loop.getBody() instanceof DoStatement);
	}

	// ------------------------------------------------------------------ declarations

	/** A declared name's base type (printed) and its levels of pointer or array; null base when unknown. */
	private record Type(String base, int levels) {
		boolean isFloatArray() {
			return "float".equals(base) && levels == 1;
		}
	}

	/**
	 * The types of the names visible in the loop's function: parameters, locals and globals. A name declared
	 * twice with different types is unknown (null), as is any name not declared at all (a macro).
	 */
	private static Map<String, Type> declarations(ForStatement loop) {
		Map<String, Type> types = new HashMap<>();
		Set<String> ambiguous = new HashSet<>();
		EObject f = loop;
		while (f != null && !(f instanceof FunctionDefinition)) {
			f = f.eContainer();
		}
		List<Declarator> declarators = new ArrayList<>();
		TranslationUnit unit = (TranslationUnit) EcoreUtil.getRootContainer(loop) instanceof TranslationUnit t ? t : null;
		if (unit != null) {
			Snippets.topLevelItems(unit).stream().filter(Declaration.class::isInstance)
					.forEach(d -> declarators.addAll(((Declaration) d).getDeclarators()));
		}
		if (f instanceof FunctionDefinition function) {
			for (Parameter p : function.getParams()) {
				declarators.add(p.getDeclarator());
			}
			if (function.getBody() != null) {
				function.getBody().eAllContents().forEachRemaining(o -> {
					if (o instanceof Declarator d) {
						declarators.add(d);
					}
				});
			}
		}
		for (Declarator d : declarators) {
			if (d.getName() == null) {
				continue;
			}
			Type type = typeOf(d);
			Type before = types.putIfAbsent(d.getName(), type);
			if (before != null && !before.equals(type)) {
				ambiguous.add(d.getName());
			}
		}
		ambiguous.forEach(types::remove);
		return types;
	}

	private static Type typeOf(Declarator d) {
		TypeSpecifier spec = d.eContainer() instanceof Parameter p ? p.getType()
				: d.eContainer() instanceof Declaration decl ? decl.getType() : null;
		String base = spec instanceof BuiltinType b ? b.getName() : null;
		int levels = d.getDimensions().size();
		for (PointerOperator p : d.getPointers()) {
			if (!"*".equals(p.getKind())) {
				return new Type(null, 0);
			}
			levels++;
		}
		return new Type(base, levels);
	}

	// ------------------------------------------------------------------ one loop

	/** Thrown (and caught within the analysis) when the loop does not qualify. */
	private static final class NotVectorizable extends RuntimeException {
		private static final long serialVersionUID = 1L;

		NotVectorizable() {
			super(null, null, false, false);
		}
	}

	/** The checks of one loop and the text of its vector form. */
	private static final class LoopAnalysis {
		private final ForStatement loop;
		private final KernelPrinter printer = Dialect.VNNI.printer();
		private Map<String, Type> types;
		private String i;
		/** Arrays the loop writes, with the one index expression (printed) they are written at. */
		private final Map<String, String> written = new HashMap<>();
		/** Addresses ({@code array[index]}, printed) that every iteration touches. */
		private final Set<String> unconditional = new HashSet<>();
		/** Addresses read only inside a branch of a conditional. */
		private final Set<String> conditional = new HashSet<>();
		/** Array loads, as (array, printed index). */
		private final List<String[]> loads = new ArrayList<>();
		private final Set<String> intrinsics = new LinkedHashSet<>();
		private int branchDepth;

		LoopAnalysis(ForStatement loop) {
			this.loop = loop;
		}

		/** The replacing block, or null when the loop does not qualify. */
		String vectorized() {
			try {
				return build();
			} catch (NotVectorizable | ClassCastException | NullPointerException e) {
				return null;
			}
		}

		private String build() {
			i = loopVariable();
			require(i != null);
			types = declarations(loop);
			List<Assignment> assignments = new ArrayList<>();
			List<Statement> statements = loop.getBody() instanceof CompoundStatement block ? block.getStatements()
					: List.of(loop.getBody());
			for (Statement s : statements) {
				if (s instanceof EmptyStatement) {
					continue;
				}
				require(s instanceof ExpressionStatement e && e.getExpression() instanceof Assignment);
				assignments.add((Assignment) ((ExpressionStatement) s).getExpression());
			}
			require(!assignments.isEmpty());
			// the targets first: what the loop writes is known before any value is read
			for (Assignment a : assignments) {
				require(Set.of("=", "+=", "-=", "*=", "/=").contains(a.getOp()));
				Expression left = unparenthesized(a.getLeft());
				require(left instanceof Index);
				Index target = (Index) left;
				require(unparenthesized(target.getTarget()) instanceof Name);
				String array = ((Name) unparenthesized(target.getTarget())).getName();
				Type type = types.get(array);
				require(type != null && type.isFloatArray());
				String index = printer.expression(unparenthesized(target.getIndex()));
				String before = written.putIfAbsent(array, index);
				require(before == null || before.equals(index));
			}
			for (Assignment a : assignments) {
				Index target = (Index) unparenthesized(a.getLeft());
				checkIndex(target.getIndex());
			}
			written.forEach((array, index) -> unconditional.add(array + "[" + index + "]"));
			// the bounds: the end is read every iteration and must not change with the loop's writes
			Binary condition = (Binary) loop.getCondition();
			require(isInvariant(condition.getRight()));
			require(isInvariant((Expression) loop.getInitDeclaration().getDeclarators().get(0).getInitializer()));

			StringBuilder body = new StringBuilder();
			for (Assignment a : assignments) {
				Index target = (Index) unparenthesized(a.getLeft());
				String array = ((Name) unparenthesized(target.getTarget())).getName();
				String address = address(array, target.getIndex());
				String value = vector(a.getRight());
				if (!a.getOp().equals("=")) {
					value = call(BINARY.get(a.getOp().substring(0, 1)), call("_mm512_loadu_ps", address), value);
				}
				body.append("        ").append(call("_mm512_storeu_ps", address, value)).append(";\n");
			}
			// the dependences: an array the loop writes is read only where this iteration writes it
			for (String[] load : loads) {
				String index = written.get(load[0]);
				require(index == null || index.equals(load[1]));
			}
			require(unconditional.containsAll(conditional));
			for (String intrinsic : intrinsics) {
				require(Dialect.VNNI.catalog().knows(intrinsic));
			}
			Declarator x = loop.getInitDeclaration().getDeclarators().get(0);
			String type = ((BuiltinType) loop.getInitDeclaration().getType()).getName();
			String first = printer.expression((Expression) x.getInitializer());
			String end = bound(condition.getRight());
			StringBuilder out = new StringBuilder();
			out.append("{\n");
			out.append("    ").append(type).append(' ').append(i).append(" = ").append(first).append(";\n");
			out.append("    for (; ").append(i).append(" + ").append(WIDTH).append(" <= ").append(end).append("; ")
					.append(i).append(" += ").append(WIDTH).append(") {\n");
			out.append(body);
			out.append("    }\n");
			out.append("    for (; ").append(i).append(" < ").append(end).append("; ").append(i).append("++)\n");
			String tail = printer.statement(loop.getBody(), 1);
			if (!(loop.getBody() instanceof CompoundStatement)) {
				tail = "    {\n" + printer.statement(loop.getBody(), 2) + "    }\n";
			}
			out.append(tail);
			out.append("}\n");
			return out.toString();
		}

		/** {@code for (int i = A; i < B; i++)} (or {@code ++i}, {@code i += 1}) with an integer i: i, else null. */
		private String loopVariable() {
			String name = LoopBind.canonical(loop);
			if (name == null || !(loop.getInitDeclaration().getType() instanceof BuiltinType b)
					|| !INTEGER_TYPES.contains(b.getName()) || !loop.getInitDeclaration().getDeclarators().get(0)
							.getDimensions().isEmpty()) {
				return null;
			}
			return name;
		}

		/** The end bound, parenthesized unless it binds tighter than {@code <=}. */
		private String bound(Expression e) {
			String text = printer.expression(e);
			boolean tight = e instanceof Name || e instanceof IntLiteral || e instanceof Parenthesized
					|| e instanceof Call || e instanceof Index
					|| e instanceof Binary b && Set.of("+", "-", "*", "/", "%", "<<", ">>").contains(b.getOp());
			return tight ? text : "(" + text + ")";
		}

		/** {@code i}, {@code i + c}, {@code c + i}, {@code i - c}, ...: i once, with a plus sign; c invariant. */
		private void checkIndex(Expression index) {
			List<Expression> terms = new ArrayList<>();
			List<Boolean> positive = new ArrayList<>();
			terms(index, true, terms, positive);
			int found = 0;
			for (int k = 0; k < terms.size(); k++) {
				Expression t = terms.get(k);
				if (t instanceof Name n && n.getName().equals(i)) {
					require(positive.get(k));
					found++;
				} else {
					require(isInvariant(t));
				}
			}
			require(found == 1);
		}

		private void terms(Expression e, boolean sign, List<Expression> terms, List<Boolean> positive) {
			e = unparenthesized(e);
			if (e instanceof Binary b && (b.getOp().equals("+") || b.getOp().equals("-"))) {
				terms(b.getLeft(), sign, terms, positive);
				terms(b.getRight(), b.getOp().equals("+") == sign, terms, positive);
			} else {
				terms.add(e);
				positive.add(sign);
			}
		}

		/** The vector's address: {@code P + i} or {@code P + (index)}. */
		private String address(String array, Expression index) {
			Expression bare = unparenthesized(index);
			String text = printer.expression(bare);
			return array + " + " + (bare instanceof Name ? text : "(" + text + ")");
		}

		/**
		 * Whether {@code e} has the same value in every iteration: no loop variable, no name or array the loop
		 * writes, no side effects, and no calls but the pure float functions this pass maps.
		 */
		private boolean isInvariant(Expression e) {
			List<EObject> nodes = new ArrayList<>();
			nodes.add(e);
			e.eAllContents().forEachRemaining(nodes::add);
			for (EObject o : nodes) {
				if (o instanceof Name n && (n.getName().equals(i) || written.containsKey(n.getName()))) {
					return false;
				}
				if (o instanceof Assignment || o instanceof org.xpiler.lang.kernel.Postfix
						|| o instanceof Unary u && (u.getOp().equals("++") || u.getOp().equals("--"))) {
					return false;
				}
				if (o instanceof Call c && !(c.getCallee() instanceof Name n
						&& (UNARY_CALLS.containsKey(n.getName()) || BINARY_CALLS.containsKey(n.getName())))) {
					return false;
				}
				if (!(o instanceof Expression) && !(o instanceof org.xpiler.lang.kernel.TypeName)
						&& !(o instanceof TypeSpecifier) && !(o instanceof PointerOperator)) {
					return false;
				}
				if (o instanceof org.xpiler.lang.kernel.KernelLaunch || o instanceof org.xpiler.lang.kernel.CommaExpression) {
					return false;
				}
			}
			return true;
		}

		/** The type of an invariant scalar: "float" or "int"; anything else (double, half, pointers) refuses. */
		private String scalarType(Expression e) {
			e = unparenthesized(e);
			if (e instanceof FloatLiteral f) {
				String v = f.getValue();
				require(v.endsWith("f") || v.endsWith("F"));
				return "float";
			}
			if (e instanceof IntLiteral) {
				return "int";
			}
			if (e instanceof Name n) {
				Type type = types.get(n.getName());
				require(type != null && type.levels() == 0 && type.base() != null);
				if (type.base().equals("float")) {
					return "float";
				}
				require(INTEGER_TYPES.contains(type.base()));
				return "int";
			}
			if (e instanceof Cast c) {
				require(c.getType().getPointers().isEmpty() && c.getType().getType() instanceof BuiltinType);
				String name = ((BuiltinType) c.getType().getType()).getName();
				String operand = scalarType(c.getOperand());
				if (name.equals("float")) {
					return "float";
				}
				require(INTEGER_TYPES.contains(name) && operand != null);
				return "int";
			}
			if (e instanceof Unary u && (u.getOp().equals("-") || u.getOp().equals("+"))) {
				return scalarType(u.getOperand());
			}
			if (e instanceof Binary b && Set.of("+", "-", "*", "/", "%").contains(b.getOp())) {
				String l = scalarType(b.getLeft());
				String r = scalarType(b.getRight());
				require(!b.getOp().equals("%") || l.equals("int") && r.equals("int"));
				return l.equals("float") || r.equals("float") ? "float" : "int";
			}
			if (e instanceof Index x && unparenthesized(x.getTarget()) instanceof Name n) {
				Type type = types.get(n.getName());
				require(type != null && type.isFloatArray());
				return "float";
			}
			if (e instanceof Call c && c.getCallee() instanceof Name n) {
				int arity = UNARY_CALLS.containsKey(n.getName()) ? 1 : BINARY_CALLS.containsKey(n.getName()) ? 2 : -1;
				require(c.getArgs().size() == arity);
				c.getArgs().forEach(this::scalarType);
				return "float";
			}
			throw new NotVectorizable();
		}

		/** The {@code __m512} form of a float expression of the loop body. */
		private String vector(Expression e) {
			if (isInvariant(e)) {
				scalarType(e);
				return call("_mm512_set1_ps", printer.expression(unparenthesized(e)));
			}
			if (e instanceof Parenthesized p) {
				return vector(p.getExpression());
			}
			if (e instanceof Index index) {
				require(unparenthesized(index.getTarget()) instanceof Name);
				String array = ((Name) unparenthesized(index.getTarget())).getName();
				Type type = types.get(array);
				require(type != null && type.isFloatArray());
				checkIndex(index.getIndex());
				String printed = printer.expression(unparenthesized(index.getIndex()));
				loads.add(new String[] { array, printed });
				(branchDepth > 0 ? conditional : unconditional).add(array + "[" + printed + "]");
				return call("_mm512_loadu_ps", address(array, index.getIndex()));
			}
			if (e instanceof Binary b && BINARY.containsKey(b.getOp())) {
				return call(BINARY.get(b.getOp()), vector(b.getLeft()), vector(b.getRight()));
			}
			if (e instanceof Unary u && u.getOp().equals("+")) {
				return vector(u.getOperand());
			}
			if (e instanceof Unary u && u.getOp().equals("-")) {
				// -x, not 0 - x: the sign of zero follows the operand
				return call("_mm512_mul_ps", vector(u.getOperand()), call("_mm512_set1_ps", "-1.0f"));
			}
			if (e instanceof Cast c && c.getType().getPointers().isEmpty() && c.getType().getType() instanceof BuiltinType t
					&& t.getName().equals("float")) {
				return vector(c.getOperand()); // every varying value is a float already
			}
			if (e instanceof Call c && c.getCallee() instanceof Name n) {
				if (UNARY_CALLS.containsKey(n.getName()) && c.getArgs().size() == 1) {
					return call(UNARY_CALLS.get(n.getName()), vector(c.getArgs().get(0)));
				}
				if (BINARY_CALLS.containsKey(n.getName()) && c.getArgs().size() == 2) {
					return call(BINARY_CALLS.get(n.getName()), vector(c.getArgs().get(0)), vector(c.getArgs().get(1)));
				}
			}
			if (e instanceof Conditional c && unparenthesized(c.getCondition()) instanceof Binary test
					&& COMPARE.containsKey(test.getOp())) {
				String mask = call("_mm512_cmp_ps_mask", vector(test.getLeft()), vector(test.getRight()),
						constant(COMPARE.get(test.getOp())));
				branchDepth++;
				String then = vector(c.getThen());
				String otherwise = vector(c.getElse());
				branchDepth--;
				return call("_mm512_mask_blend_ps", mask, otherwise, then);
			}
			throw new NotVectorizable();
		}

		private String constant(String name) {
			intrinsics.add(name);
			return name;
		}

		private String call(String intrinsic, String... args) {
			intrinsics.add(intrinsic);
			return intrinsic + "(" + String.join(", ", args) + ")";
		}
	}

	private static Expression unparenthesized(Expression e) {
		while (e instanceof Parenthesized p) {
			e = p.getExpression();
		}
		return e;
	}

	private static void require(boolean condition) {
		if (!condition) {
			throw new NotVectorizable();
		}
	}
}
