package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * The lane-wise vector loops of AVX-512 C++ become the scalar loops they vectorize: one iteration per float lane
 * instead of one per vector of 16, each vector a float, each intrinsic its lane's expression from the catalog's
 * reference body ({@code result[i] = a[i] + b[i];}), a load or store through {@code x + i} the element
 * {@code x[i]}. The output is the loop a porting engineer would write, which every target binds and tensorizes
 * as it does the loops of C++ sources, rather than vectors emulated in byte arrays.
 *
 * <pre>
 * before: int i = 0;
 *         for (; i + 16 &lt;= n; i += 16) {
 *             __m512 v = _mm512_loadu_ps(x + i);
 *             _mm512_storeu_ps(y + i, _mm512_max_ps(v, zero));   // const __m512 zero = _mm512_setzero_ps();
 *         }
 * after:  int i = 0;
 *         for (; i + 1 &lt;= 49152; i += 1) {                    // n = 49152: the vectors' elements
 *             float v = x[i];
 *             y[i] = (v) &gt; (0.0f) ? (v) : (0.0f);
 *         }
 * </pre>
 *
 * Applies to a loop {@code for ([int] i = a; i + 16 <= n; i += 16)} (or {@code i < n} with n - a a whole number
 * of vectors) with constant bounds whose body only declares, assigns and stores {@code __m512} vectors: each
 * vector is declared in the body (a value carried from one vector to the next is not lane-wise), or declared
 * before the loop from scalars alone ({@code _mm512_set1_ps}, {@code _mm512_setzero_ps}) and never assigned; every
 * intrinsic's reference body is one lane loop {@code result[i] = f(a[i], ..., s)}; loads and stores go through a
 * float array plus {@code i} (coefficient 1), and {@code i} appears nowhere else. Other loops stay vectors.
 */
final class LaneLoops {
	/** Float lanes of a {@code __m512}, the loop's step. */
	private static final int LANES = 16;
	private static final String VECTOR = "__m512";
	private static final Set<String> LOADS = Set.of("_mm512_loadu_ps", "_mm512_load_ps");
	private static final Set<String> STORES = Set.of("_mm512_storeu_ps", "_mm512_store_ps");

	/** A name, an element or a number: an operand that needs no parentheses. */
	private static final Pattern SIMPLE = Pattern
			.compile("[A-Za-z_]\\w*(\\[[^\\[\\]]*\\])?|[0-9][\\w.]*");

	/** A catalog reference body that computes each lane from the same lane of its operands. */
	private static final Pattern LANE_LOOP = Pattern
			.compile("for \\(int i = 0; i < 16; \\+\\+i\\) result\\[i\\] = (.*);");

	private final KernelPrinter printer = Dialect.VNNI.printer();

	/** Rewrites every such loop of {@code unit}; returns how many. */
	int scalarize(TranslationUnit unit) {
		int loops = 0;
		for (FunctionDefinition f : Snippets.definedFunctions(unit)) {
			ConstantFolder folder = ConstantFolder.withConstantsOf(unit, f);
			for (ForStatement loop : EcoreUtil2.eAllOfType(f.getBody(), ForStatement.class)) {
				// a loop inside one rewritten before is no longer part of the function
				if (EcoreUtil.isAncestor(f, loop) && scalarize(f, loop, folder)) {
					loops++;
				}
			}
		}
		return loops;
	}

	private boolean scalarize(FunctionDefinition f, ForStatement loop, ConstantFolder folder) {
		Optional<Range> range = range(loop, folder);
		if (range.isEmpty()) {
			return false;
		}
		String i = range.get().counter();
		Lanes lanes = new Lanes(f, loop, i);
		StringBuilder body = new StringBuilder();
		for (Statement s : CanonicalLoop.statementsOf(loop.getBody())) {
			String scalar = lanes.statement(s);
			if (scalar == null) {
				return false;
			}
			body.append(scalar);
		}
		if (!lanes.elementsStayApart()) {
			return false;
		}
		String header = loop.getInitDeclaration() != null
				? "for (int " + i + " = " + range.get().start() + "; " + i + " < " + range.get().end() + "; ++" + i + ")"
				// the counter lives on after the loop: VectorLoops makes the pair with the tail canonical
				: "for (; " + i + " + 1 <= " + range.get().end() + "; " + i + " += 1)";
		EcoreUtil.replace(loop, Snippets.statements(header + " {\n" + body + "}\n", Dialect.VNNI).get(0));
		lanes.uniformVectors.forEach(LaneLoops::removeIfUnused);
		return true;
	}

	/** The counter, its constant start and the end of the vectors' elements. */
	private record Range(String counter, long start, long end) {
	}

	private static Optional<Range> range(ForStatement loop, ConstantFolder folder) {
		if (!(loop.getCondition() instanceof Binary condition) || !(loop.getUpdate() instanceof Assignment step)
				|| !step.getOp().equals("+=") || !(step.getLeft() instanceof Name counter)
				|| folder.fold(step.getRight()).orElse(0) != LANES
				|| CanonicalLoop.assignsAny(loop.getBody(), Set.of(counter.getName()))) {
			return Optional.empty();
		}
		String i = counter.getName();
		OptionalLong start = loop.getInitDeclaration() != null ? initial(loop, i, folder) : declaredBefore(loop, i, folder);
		OptionalLong end;
		if (condition.getOp().equals("<=") && condition.getLeft() instanceof Binary sum && sum.getOp().equals("+")
				&& Snippets.isName(sum.getLeft(), i) && folder.fold(sum.getRight()).orElse(0) == LANES) {
			end = folder.fold(condition.getRight());
			if (start.isPresent() && end.isPresent()) {
				end = OptionalLong.of(start.getAsLong() + Math.max(0, end.getAsLong() - start.getAsLong()) / LANES * LANES);
			}
		} else if (condition.getOp().equals("<") && Snippets.isName(condition.getLeft(), i)) {
			end = folder.fold(condition.getRight());
			if (start.isPresent() && end.isPresent() && (end.getAsLong() - start.getAsLong()) % LANES != 0) {
				return Optional.empty(); // the last vector reaches past n: its lanes are not the scalar loop's
			}
		} else {
			return Optional.empty();
		}
		return start.isPresent() && end.isPresent() ? Optional.of(new Range(i, start.getAsLong(), end.getAsLong()))
				: Optional.empty();
	}

	private static OptionalLong initial(ForStatement loop, String i, ConstantFolder folder) {
		List<Declarator> declarators = loop.getInitDeclaration().getDeclarators();
		return declarators.size() == 1 && declarators.get(0).getName().equals(i)
				&& declarators.get(0).getInitializer() instanceof Expression e ? folder.fold(e) : OptionalLong.empty();
	}

	/** The constant start of a counter declared just before the loop in its block, nothing between reading it. */
	private static OptionalLong declaredBefore(ForStatement loop, String i, ConstantFolder folder) {
		if (loop.getInitExpression() != null || !(loop.eContainer() instanceof CompoundStatement block)) {
			return OptionalLong.empty();
		}
		List<Statement> statements = block.getStatements();
		for (int d = statements.indexOf(loop) - 1; d >= 0; d--) {
			if (statements.get(d) instanceof DeclarationStatement ds && ds.getDeclaration().getDeclarators().size() == 1
					&& ds.getDeclaration().getDeclarators().get(0).getName().equals(i)) {
				return ds.getDeclaration().getDeclarators().get(0).getInitializer() instanceof Expression e
						? folder.fold(e) : OptionalLong.empty();
			}
			if (Snippets.mentions(statements.get(d), i)) {
				return OptionalLong.empty();
			}
		}
		return OptionalLong.empty();
	}

	/** A vector declared before the loop, from scalars alone, that only the loop's lanes now read. */
	private static void removeIfUnused(DeclarationStatement declaration) {
		String name = declaration.getDeclaration().getDeclarators().get(0).getName();
		FunctionDefinition f = EcoreUtil2.getContainerOfType(declaration, FunctionDefinition.class);
		if (f != null && EcoreUtil2.eAllOfType(f.getBody(), Name.class).stream().noneMatch(n -> n.getName().equals(name))) {
			EcoreUtil.remove(declaration);
		}
	}

	/** The lanes of one loop's body: statements and expressions as their lane's scalar code. */
	private final class Lanes {
		private final FunctionDefinition function;
		private final ForStatement loop;
		private final String counter;
		/** Vectors declared in the body so far. */
		private final Set<String> bodyVectors = new HashSet<>();
		/** Vectors declared before the loop from scalars alone, never assigned: their one lane value. */
		private final Map<String, String> uniform = new HashMap<>();
		private final List<DeclarationStatement> uniformVectors = new ArrayList<>();
		/** The elements (as written, {@code x[i]}) the body stores and loads. */
		private final Set<String> stored = new HashSet<>();
		private final Set<String> loaded = new HashSet<>();

		Lanes(FunctionDefinition function, ForStatement loop, String counter) {
			this.function = function;
			this.loop = loop;
			this.counter = counter;
		}

		/** The statement's lane code, or null when it is not lane-wise. */
		String statement(Statement s) {
			if (s instanceof DeclarationStatement d && d.getDeclaration().getDeclarators().size() == 1
					&& VECTOR.equals(d.getDeclaration().getType().getName())) {
				Declarator x = d.getDeclaration().getDeclarators().get(0);
				String value = x.getInitializer() instanceof Expression e && x.getPointers().isEmpty()
						&& x.getDimensions().isEmpty() ? lane(e) : null;
				bodyVectors.add(x.getName());
				return value == null ? null : "float " + x.getName() + " = " + value + ";\n";
			}
			if (s instanceof ExpressionStatement es && es.getExpression() instanceof Assignment a && a.getOp().equals("=")
					&& a.getLeft() instanceof Name target && bodyVectors.contains(target.getName())) {
				String value = lane(a.getRight());
				return value == null ? null : target.getName() + " = " + value + ";\n";
			}
			if (s instanceof ExpressionStatement es && es.getExpression() instanceof Call store
					&& STORES.contains(Snippets.callee(store)) && store.getArgs().size() == 2) {
				String element = element(store.getArgs().get(0));
				String value = lane(store.getArgs().get(1));
				if (element != null) {
					stored.add(element);
				}
				return element == null || value == null ? null : element + " = " + value + ";\n";
			}
			// anything else now runs once per lane: only a scalar declaration that reads neither vectors nor the
			// counter and writes nothing
			boolean scalar = s instanceof DeclarationStatement d && !VECTOR.equals(d.getDeclaration().getType().getName())
					&& !Snippets.mentions(s, counter) && !CanonicalLoop.writesAnything(s)
					&& EcoreUtil2.eAllOfType(s, Name.class).stream().noneMatch(n -> isVector(n.getName()));
			return scalar ? printer.statement(s, 1) : null;
		}

		/**
		 * Whether every element the loop stores is the only one of its array the loop touches in that iteration:
		 * a vector loads all its lanes before it stores any, so {@code x[i - 1]} read next to {@code x[i]} stored
		 * would see the new value one lane at a time.
		 */
		boolean elementsStayApart() {
			for (String element : stored) {
				String array = element.substring(0, element.indexOf('['));
				boolean other = Stream.concat(stored.stream(), loaded.stream())
						.anyMatch(e -> e.startsWith(array + "[") && !e.equals(element));
				if (other) {
					return false;
				}
			}
			return true;
		}

		/** The lane value of a vector expression, or null when it is not lane-wise. */
		private String lane(Expression e) {
			Expression x = Snippets.unparenthesized(e);
			if (x instanceof Name n) {
				return bodyVectors.contains(n.getName()) ? n.getName() : uniform(n.getName());
			}
			if (!(x instanceof Call call) || Snippets.callee(call) == null) {
				return null;
			}
			String callee = Snippets.callee(call);
			if (LOADS.contains(callee) && call.getArgs().size() == 1) {
				String element = element(call.getArgs().get(0));
				if (element != null) {
					loaded.add(element);
				}
				return element;
			}
			Optional<CatalogFunction> function = Dialect.VNNI.catalog().function(callee);
			if (function.isEmpty() || function.get().signatures().size() != 1) {
				return null;
			}
			CatalogFunction.Signature signature = function.get().signatures().get(0);
			String reference = signature.reference() != null ? signature.reference() : function.get().reference();
			if (!VECTOR.equals(signature.returns()) || reference == null
					|| signature.params().size() != call.getArgs().size()) {
				return null;
			}
			var lanePattern = LANE_LOOP.matcher(reference.strip());
			if (!lanePattern.matches()) {
				return null;
			}
			Expression body = Snippets.expression(lanePattern.group(1), Dialect.VNNI);
			Map<String, String> arguments = new HashMap<>();
			for (int p = 0; p < call.getArgs().size(); p++) {
				CatalogFunction.Parameter param = signature.params().get(p);
				String value = VECTOR.equals(param.type()) ? lane(call.getArgs().get(p))
						: scalarArgument(call.getArgs().get(p));
				if (value == null) {
					return null;
				}
				arguments.put(param.name(), SIMPLE.matcher(value).matches() ? value : "(" + value + ")");
			}
			return substituted(body, arguments);
		}

		/** The reference's lane expression with {@code a[i]} and scalar {@code a} replaced by the arguments. */
		private String substituted(Expression body, Map<String, String> arguments) {
			List<EObject> uses = new ArrayList<>();
			EcoreUtil2.eAllOfType(body, EObject.class).forEach(o -> { // the body itself included
				if (o instanceof Index index && index.getTarget() instanceof Name n && arguments.containsKey(n.getName())
						&& Snippets.isName(index.getIndex(), "i")) {
					uses.add(index);
				} else if (o instanceof Name n && arguments.containsKey(n.getName())
						&& !(n.eContainer() instanceof Index index && index.getTarget() == n)) {
					uses.add(n);
				}
			});
			// lane-wise: the lane index appears only as the subscript of an operand's lane
			boolean otherLanes = EcoreUtil2.eAllOfType(body, Name.class).stream()
					.anyMatch(n -> n.getName().equals("result") || n.getName().equals("i")
							&& !(n.eContainer() instanceof Index index && uses.contains(index)));
			if (otherLanes) {
				return null;
			}
			EObject root = body;
			for (EObject use : uses) {
				String name = use instanceof Index index ? ((Name) index.getTarget()).getName() : ((Name) use).getName();
				Expression value = Snippets.expression(arguments.get(name), Dialect.VNNI);
				if (use == root) {
					root = value;
				} else {
					EcoreUtil.replace(use, value);
				}
			}
			return printer.expression((Expression) root);
		}

		/** A scalar argument: neither vectors nor the counter. */
		private String scalarArgument(Expression e) {
			boolean scalar = !Snippets.mentions(e, counter)
					&& EcoreUtil2.eAllOfType(e, Name.class).stream().noneMatch(n -> isVector(n.getName()));
			return scalar ? printer.expression(e) : null;
		}

		/**
		 * {@code x[e]} for the address {@code x + e} (or {@code &x[e]}) of a float array, where {@code e} holds the
		 * counter once with coefficient 1; else null.
		 */
		private String element(Expression address) {
			Expression a = Snippets.unparenthesized(address);
			Expression base;
			Expression offset;
			if (a instanceof Binary sum && sum.getOp().equals("+")) {
				boolean leftIsArray = Snippets.unparenthesized(sum.getLeft()) instanceof Name;
				base = Snippets.unparenthesized(leftIsArray ? sum.getLeft() : sum.getRight());
				offset = leftIsArray ? sum.getRight() : sum.getLeft();
			} else if (a instanceof Unary u && u.getOp().equals("&") && u.getOperand() instanceof Index index) {
				base = index.getTarget();
				offset = index.getIndex();
			} else {
				return null;
			}
			if (!(base instanceof Name array) || !"float".equals(floatArray(array.getName()))
					|| !unitCoefficient(offset)) {
				return null;
			}
			return array.getName() + "[" + printer.expression(offset) + "]";
		}

		/** Whether {@code e} holds the counter exactly once, added (not subtracted, scaled or under a call). */
		private boolean unitCoefficient(Expression e) {
			List<Name> uses = new ArrayList<>(EcoreUtil2.eAllOfType(e, Name.class)); // e itself included
			uses.removeIf(n -> !n.getName().equals(counter));
			if (uses.size() != 1) {
				return false;
			}
			for (EObject o = uses.get(0); o != e; o = o.eContainer()) {
				EObject parent = o.eContainer();
				boolean added = parent instanceof Parenthesized
						|| parent instanceof Binary b && (b.getOp().equals("+") || b.getOp().equals("-") && b.getLeft() == o);
				if (!added) {
					return false;
				}
			}
			return true;
		}

		/** The element type of a pointer parameter or local array named {@code name}, or null. */
		private String floatArray(String name) {
			List<Declarator> found = new ArrayList<>();
			function.getParams().forEach(p -> {
				if (name.equals(p.getDeclarator().getName())) {
					found.add(p.getDeclarator());
				}
			});
			EcoreUtil2.eAllOfType(function.getBody(), Declarator.class).stream().filter(x -> name.equals(x.getName()))
					.forEach(found::add);
			if (found.size() != 1 || found.get(0).getPointers().size() + found.get(0).getDimensions().size() != 1) {
				return null;
			}
			return NestClassifier.elementType(found.get(0));
		}

		/** Whether the function assigns {@code name} or takes its address anywhere. */
		private boolean assigned(String name) {
			return EcoreUtil2.eAllOfType(function.getBody(), EObject.class).stream().anyMatch(o -> {
				Expression target = o instanceof Unary u && u.getOp().equals("&") ? u.getOperand()
						: CanonicalLoop.writeTarget(o);
				return target != null && Snippets.isName(Snippets.unparenthesized(target), name);
			});
		}

		private boolean isVector(String name) {
			return bodyVectors.contains(name) || declaredVector(name) != null;
		}

		/** The lane value of a vector declared before the loop from scalars alone and never assigned, or null. */
		private String uniform(String name) {
			if (uniform.containsKey(name)) {
				return uniform.get(name);
			}
			DeclarationStatement declaration = declaredVector(name);
			if (declaration == null || assigned(name)) {
				return null;
			}
			// the value is now computed in the loop: what it reads must not change in between
			Declarator x = declaration.getDeclaration().getDeclarators().get(0);
			if (!(x.getInitializer() instanceof Expression init) || EcoreUtil2.eAllOfType(init, Name.class).stream()
					.anyMatch(n -> isVector(n.getName()) || assigned(n.getName()))) {
				return null;
			}
			String value = lane(init);
			if (value != null && !Snippets.mentions(Snippets.expression(value, Dialect.VNNI), counter)) {
				uniform.put(name, value);
				uniformVectors.add(declaration);
				return value;
			}
			return null;
		}

		/** The declaration of a vector named {@code name} in the function outside the loop, when it is the only one. */
		private DeclarationStatement declaredVector(String name) {
			List<DeclarationStatement> found = EcoreUtil2.eAllOfType(function.getBody(), DeclarationStatement.class).stream()
					.filter(d -> VECTOR.equals(d.getDeclaration().getType().getName())
							&& d.getDeclaration().getDeclarators().size() == 1
							&& d.getDeclaration().getDeclarators().get(0).getName().equals(name)
							&& !EcoreUtil.isAncestor(loop, d))
					.toList();
			return found.size() == 1 ? found.get(0) : null;
		}
	}
}
