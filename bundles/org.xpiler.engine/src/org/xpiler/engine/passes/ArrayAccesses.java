package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BreakStatement;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.ContinueStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.SwitchStatement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.kernel.WhileStatement;

/**
 * Which arrays a statement of a loop body reads and writes, and at which subscripts; which variables of the
 * enclosing code it assigns; and what it does that such a summary cannot describe. Loop expansion (which puts
 * statements of one loop into loops of their own) and loop contraction (which fuses two loops) both reorder
 * statement instances across iterations, and both are legal exactly when no two instances that touch the same
 * memory, one writing, change order: {@link #conflictAtLaterIteration} is that test.
 * <p>
 * A subscript is read as an affine function of the loop variable {@code v}: {@code c * v} plus terms of the
 * variables of inner canonical loops with constant bounds (known only by their range) plus loop-invariant
 * names plus a constant; any other subscript may touch any element. Arrays are the entry's pointer parameters
 * and the local and global arrays, each a distinct object (the corpus contract: every buffer is its own
 * parameter). A pointer declared in the function may point into any of them, so an access through it is an
 * obstacle, like an array used other than by its elements ({@code f(x)}, {@code x + 4}, {@code &x[i]}), a
 * call of a function of the file, a redeclared loop variable, or a jump out of the iteration.
 */
public final class ArrayAccesses {

	/**
	 * One subscripted use {@code X[e]} (or {@code X[a][b]}): the subscripts as affine forms (empty where one is
	 * not affine), whether it reads and writes the element, and the outermost {@code Index} node.
	 */
	public record Access(String array, List<Optional<Affine>> subscripts, boolean reads, boolean writes, Index node) {

		/** The access as written, {@code y[i + 1]}. */
		public String text() {
			return Dialect.VNNI.printer().expression(node);
		}

		/**
		 * Whether this and {@code other} touch one element per iteration, the same one, a different one each
		 * iteration ({@code t[i]} and {@code t[k]} of another loop over the same range).
		 */
		public boolean sameElementEachIteration(Access other) {
			return array.equals(other.array) && subscripts.equals(other.subscripts)
					&& subscripts.stream().allMatch(s -> s.isPresent() && s.get().innerMin() == s.get().innerMax())
					&& subscripts.stream().anyMatch(s -> s.get().loopCoefficient() != 0);
		}
	}

	/**
	 * A subscript {@code loopCoefficient * v + invariants + constant + u} where {@code u}, the inner loop
	 * variables' part, lies in {@code [innerMin, innerMax]}.
	 */
	public record Affine(long loopCoefficient, Map<String, Long> invariants, long constant, long innerMin, long innerMax) {
	}

	/** What the summary cannot describe, and where. */
	public record Obstacle(EObject node, String reason) {
		public String message() {
			return Snippets.location(node) + ": " + reason;
		}
	}

	/**
	 * The names of a function that denote memory: distinct arrays (parameters, locals, globals), pointers that
	 * may point into them (and names declared both as an array and as something else), functions of the file;
	 * and every name the function uses, so that new ones are fresh.
	 */
	public static final class Memory {
		private final Set<String> arrays = new HashSet<>();
		private final Set<String> localArrays = new HashSet<>();
		private final Set<String> pointers = new HashSet<>();
		private final Set<String> functions = new HashSet<>();
		private final Set<String> taken = new HashSet<>();

		private Memory() {
		}

		/** The memory of {@code function}, a function of {@code unit}. */
		public static Memory of(TranslationUnit unit, FunctionDefinition function) {
			Memory memory = new Memory();
			List<Declarator> outside = new ArrayList<>();
			for (var item : Snippets.topLevelItems(unit)) {
				if (item instanceof FunctionDefinition g && g.getBody() != null) {
					memory.functions.add(g.getName());
				} else if (item instanceof Declaration d) {
					outside.addAll(d.getDeclarators());
				}
			}
			memory.functions.remove(function.getName());
			function.getParams().stream().map(Parameter::getDeclarator).filter(x -> x.getName() != null).forEach(outside::add);
			List<Declarator> inside = new ArrayList<>();
			function.getBody().eAllContents().forEachRemaining(o -> {
				if (o instanceof Declarator x) {
					inside.add(x);
				} else if (o instanceof Name n) {
					memory.taken.add(n.getName());
				}
			});
			Map<String, Set<String>> kinds = new HashMap<>();
			for (Declarator x : Stream.concat(outside.stream(), inside.stream()).toList()) {
				boolean parameter = x.eContainer() instanceof Parameter;
				String kind = !x.getPointers().isEmpty() && !parameter ? "pointer"
						: !x.getPointers().isEmpty() || !x.getDimensions().isEmpty() ? "array" : "scalar";
				kinds.computeIfAbsent(x.getName(), k -> new HashSet<>()).add(kind);
			}
			kinds.forEach((name, k) -> {
				if (k.contains("pointer") || k.contains("array") && k.contains("scalar")) {
					memory.pointers.add(name);
				} else if (k.contains("array")) {
					memory.arrays.add(name);
				}
			});
			inside.stream().map(Declarator::getName).filter(memory.arrays::contains).forEach(memory.localArrays::add);
			outside.stream().map(Declarator::getName).forEach(memory.localArrays::remove);
			memory.taken.addAll(kinds.keySet());
			memory.taken.addAll(memory.functions);
			return memory;
		}

		public boolean isArray(String name) {
			return arrays.contains(name);
		}

		/** An array declared in the function's body (not a parameter, not a global). */
		public boolean isLocalArray(String name) {
			return localArrays.contains(name);
		}

		public boolean isPointer(String name) {
			return pointers.contains(name);
		}

		/** {@code base}, or {@code base_2}, ...: a name the function does not use yet; it is taken from now on. */
		public String freshName(String base) {
			return Snippets.freshName(taken, base, Dialect.VNNI);
		}
	}

	private final List<Access> accesses = new ArrayList<>();
	private final Set<String> scalarsWritten = new LinkedHashSet<>();
	private Obstacle obstacle;

	private final CanonicalLoop loop;
	private final Memory memory;
	private final Map<String, Boolean> invariant = new HashMap<>();

	private ArrayAccesses(CanonicalLoop loop, Memory memory) {
		this.loop = loop;
		this.memory = memory;
	}

	/** The accesses of {@code root}: a statement of the body of {@code loop}, or the whole body. */
	public static ArrayAccesses of(EObject root, CanonicalLoop loop, Memory memory) {
		ArrayAccesses result = new ArrayAccesses(loop, memory);
		if (CanonicalLoop.declares(loop.loop().getBody(), loop.variable())) {
			result.obstacle = new Obstacle(loop.loop(), "the body declares another " + loop.variable());
		}
		for (EObject node : EcoreUtil2.eAllOfType(root, EObject.class)) {
			result.visit(node, root);
		}
		return result;
	}

	public List<Access> accesses() {
		return Collections.unmodifiableList(accesses);
	}

	/** The variables declared outside the statement that it assigns. */
	public Set<String> scalarsWritten() {
		return Collections.unmodifiableSet(scalarsWritten);
	}

	public Optional<Obstacle> obstacle() {
		return Optional.ofNullable(obstacle);
	}

	/** Whether the statement writes a variable or an array that {@code expression} reads. */
	public boolean changesAnyOf(EObject expression) {
		if (expression instanceof Name n && writes(n.getName())) {
			return true;
		}
		for (var it = expression.eAllContents(); it.hasNext();) {
			if (it.next() instanceof Name n && writes(n.getName())) {
				return true;
			}
		}
		return false;
	}

	private boolean writes(String name) {
		return scalarsWritten.contains(name) || accesses.stream().anyMatch(a -> a.writes() && a.array().equals(name));
	}

	/**
	 * Whether {@code earlier}, at some iteration after {@code i}, may touch the element that {@code later} touches
	 * at iteration {@code i}, one of them writing. Running all iterations of the earlier statement before any of
	 * the later one (expansion), or interleaving two loops that ran one after the other (contraction), reverses
	 * exactly such pairs.
	 */
	public static boolean conflictAtLaterIteration(Access earlier, Access later) {
		if (!earlier.array().equals(later.array()) || !earlier.writes() && !later.writes()) {
			return false;
		}
		if (earlier.subscripts().size() != later.subscripts().size()) {
			return true;
		}
		for (int d = 0; d < earlier.subscripts().size(); d++) {
			if (!mayMeetAtLaterIteration(earlier.subscripts().get(d), later.subscripts().get(d))) {
				return false;
			}
		}
		return true;
	}

	/** Whether {@code e(j) == l(i)} may hold for some {@code j > i}. */
	private static boolean mayMeetAtLaterIteration(Optional<Affine> e, Optional<Affine> l) {
		if (e.isEmpty() || l.isEmpty()) {
			return true;
		}
		Affine a = e.get();
		Affine b = l.get();
		if (a.loopCoefficient() != b.loopCoefficient() || !a.invariants().equals(b.invariants())) {
			return true;
		}
		// c * (j - i) = (b.constant - a.constant) + (w - u) with u, w the inner parts: is there a t = j - i >= 1?
		long lo = b.constant() - a.constant() + b.innerMin() - a.innerMax();
		long hi = b.constant() - a.constant() + b.innerMax() - a.innerMin();
		long c = a.loopCoefficient();
		if (c == 0) {
			return lo <= 0 && 0 <= hi;
		}
		if (c < 0) {
			long negatedLo = -hi;
			hi = -lo;
			lo = negatedLo;
			c = -c;
		}
		return Math.max(1, Math.ceilDiv(lo, c)) <= Math.floorDiv(hi, c);
	}

	private void visit(EObject node, EObject root) {
		switch (node) {
		case ReturnStatement r -> block(r, "return leaves the loop");
		case BreakStatement b when !isNestedJump(b, true) -> block(b, "break leaves the loop");
		case ContinueStatement c when !isNestedJump(c, false) -> block(c, "continue skips the rest of the iteration");
		case Call call when call.getCallee() instanceof Name f && memory.functions.contains(f.getName()) ->
			block(call, f.getName() + " is a function of this file, whose effects are not analysed");
		case Index index when !(index.getTarget() instanceof Index) && !(index.getTarget() instanceof Name) ->
			block(index, "an expression other than an array is subscripted");
		case Name n when memory.isPointer(n.getName()) ->
			block(n, n.getName() + " is a pointer that may point into another array");
		case Name n when memory.isArray(n.getName()) -> array(n);
		case Name n when !(n.eContainer() instanceof Call c && c.getCallee() == n) -> scalar(n, root);
		default -> {
		}
		}
	}

	private void block(EObject node, String reason) {
		if (obstacle == null) {
			obstacle = new Obstacle(node, reason);
		}
	}

	/** A break or continue that leaves a loop (or for break a switch) inside {@link #loop}, not the loop itself. */
	private boolean isNestedJump(EObject jump, boolean isBreak) {
		for (EObject c = jump.eContainer(); c != null && c != loop.loop(); c = c.eContainer()) {
			if (c instanceof ForStatement || c instanceof WhileStatement || c instanceof DoStatement
					|| isBreak && c instanceof SwitchStatement) {
				return true;
			}
		}
		return false;
	}

	private void array(Name name) {
		List<Expression> subscripts = new ArrayList<>();
		EObject current = name;
		while (current.eContainer() instanceof Index index && index.getTarget() == current) {
			subscripts.add(index.getIndex());
			current = index;
		}
		if (subscripts.isEmpty()) {
			block(name, "the array " + name.getName() + " is used other than by its elements");
			return;
		}
		Index node = (Index) current;
		EObject use = node;
		while (use.eContainer() instanceof Parenthesized) {
			use = use.eContainer();
		}
		EObject context = use.eContainer();
		boolean writes = false;
		boolean reads = true;
		if (context instanceof Assignment a && a.getLeft() == use) {
			writes = true;
			reads = !a.getOp().equals("=");
		} else if (isIncrement(context)) {
			writes = true;
		} else if (context instanceof Unary u && u.getOp().equals("&")) {
			block(node, "the address of an element of " + name.getName() + " is taken");
		} else if (context instanceof MemberAccess) {
			block(node, "a member of an element of " + name.getName() + " is used");
		}
		accesses.add(new Access(name.getName(), subscripts.stream().map(s -> affine(s, node)).toList(), reads, writes, node));
	}

	private void scalar(Name name, EObject root) {
		EObject use = name;
		while (use.eContainer() instanceof Parenthesized) {
			use = use.eContainer();
		}
		EObject context = use.eContainer();
		boolean assigned = context instanceof Assignment a && a.getLeft() == use || isIncrement(context);
		if (context instanceof Unary u && u.getOp().equals("&")) {
			block(name, "the address of " + name.getName() + " is taken");
		} else if (assigned && !CanonicalLoop.declares(root, name.getName())) {
			scalarsWritten.add(name.getName());
		}
	}

	/** {@code x++}, {@code --x}, ... */
	private static boolean isIncrement(EObject node) {
		return node instanceof Postfix || node instanceof Unary u && (u.getOp().equals("++") || u.getOp().equals("--"));
	}

	/** A linear form under construction: the loop variable's coefficient, other names', a constant. */
	private record Linear(long loop, Map<String, Long> names, long constant) {
		static Linear constant(long k) {
			return new Linear(0, Map.of(), k);
		}

		Linear plus(Linear other, long sign) {
			Map<String, Long> sum = new HashMap<>(names);
			other.names.forEach((n, k) -> sum.merge(n, sign * k, Long::sum));
			sum.values().removeIf(k -> k == 0);
			return new Linear(loop + sign * other.loop, sum, constant + sign * other.constant);
		}

		Linear times(long factor) {
			Map<String, Long> scaled = new HashMap<>();
			names.forEach((n, k) -> scaled.put(n, k * factor));
			scaled.values().removeIf(k -> k == 0);
			return new Linear(loop * factor, scaled, constant * factor);
		}

		boolean isConstant() {
			return loop == 0 && names.isEmpty();
		}
	}

	/** {@code subscript} as an affine form, at {@code site} (whose enclosing inner loops give ranges). */
	private Optional<Affine> affine(Expression subscript, EObject site) {
		Map<String, long[]> ranges = new HashMap<>();
		Optional<Linear> linear = linear(subscript, site, ranges);
		if (linear.isEmpty()) {
			return Optional.empty();
		}
		Map<String, Long> invariants = new HashMap<>();
		long innerMin = 0;
		long innerMax = 0;
		for (var term : linear.get().names().entrySet()) {
			long[] range = ranges.get(term.getKey());
			if (range == null) {
				invariants.put(term.getKey(), term.getValue());
			} else {
				long x = term.getValue() * range[0];
				long y = term.getValue() * range[1];
				innerMin += Math.min(x, y);
				innerMax += Math.max(x, y);
			}
		}
		return Optional.of(new Affine(linear.get().loop(), Map.copyOf(invariants), linear.get().constant(), innerMin,
				innerMax));
	}

	private Optional<Linear> linear(Expression e, EObject site, Map<String, long[]> ranges) {
		return switch (e) {
		case IntLiteral literal -> new ConstantFolder().fold(literal).stream().mapToObj(Linear::constant).findFirst();
		case Parenthesized p -> linear(p.getExpression(), site, ranges);
		case Unary u when u.getOp().equals("-") -> linear(u.getOperand(), site, ranges).map(l -> l.times(-1));
		case Unary u when u.getOp().equals("+") -> linear(u.getOperand(), site, ranges);
		case Binary b when b.getOp().equals("+") || b.getOp().equals("-") -> {
			Optional<Linear> l = linear(b.getLeft(), site, ranges);
			Optional<Linear> r = linear(b.getRight(), site, ranges);
			yield l.isPresent() && r.isPresent() ? Optional.of(l.get().plus(r.get(), b.getOp().equals("+") ? 1 : -1))
					: Optional.empty();
		}
		case Binary b when b.getOp().equals("*") -> {
			Optional<Linear> l = linear(b.getLeft(), site, ranges);
			Optional<Linear> r = linear(b.getRight(), site, ranges);
			if (l.isEmpty() || r.isEmpty()) {
				yield Optional.empty();
			}
			yield l.get().isConstant() ? Optional.of(r.get().times(l.get().constant()))
					: r.get().isConstant() ? Optional.of(l.get().times(r.get().constant())) : invariantTerm(b);
		}
		case Name n when n.getName().equals(loop.variable()) -> Optional.of(new Linear(1, Map.of(), 0));
		case Name n -> name(n.getName(), site, ranges);
		default -> invariantTerm(e);
		};
	}

	/**
	 * An expression of names the loop never changes ({@code r * cols}, {@code n / 2}) as one term, known by its
	 * text; otherwise not affine.
	 */
	private Optional<Linear> invariantTerm(Expression e) {
		for (EObject node : EcoreUtil2.eAllOfType(e, EObject.class)) {
			if (node instanceof Assignment || isIncrement(node) || node instanceof Index || node instanceof Call
					|| node instanceof Name n && (n.getName().equals(loop.variable()) || !isInvariant(n.getName()))) {
				return Optional.empty();
			}
		}
		return Optional.of(new Linear(0, Map.of(Dialect.VNNI.printer().expression(e), 1L), 0));
	}

	/** An inner loop's variable (with its range) or a name the loop never changes; otherwise not affine. */
	private Optional<Linear> name(String name, EObject site, Map<String, long[]> ranges) {
		Linear term = new Linear(0, Map.of(name, 1L), 0);
		for (EObject c = site; c.eContainer() != null && c != loop.loop(); c = c.eContainer()) {
			if (c.eContainer() instanceof ForStatement inner && inner.getBody() == c
					&& CanonicalLoop.of(inner).filter(l -> l.variable().equals(name)).isPresent()) {
				CanonicalLoop l = CanonicalLoop.of(inner).get();
				if (l.constantLower().isEmpty() || l.constantUpper().isEmpty()
						|| l.constantUpper().getAsLong() <= l.constantLower().getAsLong()) {
					return Optional.empty();
				}
				ranges.put(name, new long[] { l.constantLower().getAsLong(), l.constantUpper().getAsLong() - 1 });
				return Optional.of(term);
			}
		}
		return isInvariant(name) ? Optional.of(term) : Optional.empty();
	}

	/** A scalar declared outside the loop that the loop never assigns. */
	private boolean isInvariant(String name) {
		return invariant.computeIfAbsent(name,
				n -> !memory.isArray(n) && !memory.isPointer(n) && !CanonicalLoop.declares(loop.loop().getBody(), n)
						&& !CanonicalLoop.assignsAny(loop.loop().getBody(), Set.of(n)));
	}
}
