package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.ContinueStatement;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;

/**
 * A guard that decides alone whether the iterations of the loops around it do anything becomes the bounds of
 * those loops. Loop recovery of a CUDA kernel leaves the launch's padding threads as iterations that test
 * {@code if (row < M && col < N)} and do nothing else; as bounds ({@code row < M}, {@code col < N}) the loops
 * say what they compute, and tensorize and bind see their true trip counts.
 * <p>
 * A guard {@code if (c) S} (no else) qualifies when, from the guard up to each loop it bounds, every block holds
 * besides the guard (or the loop) only declarations that compute values without side effects, and each loop is
 * canonical with a constant bound and is the body of the loop above it: then an iteration in which a conjunct
 * {@code v < E} of {@code c} fails does nothing at all. {@code if (c) continue;} works the same with the
 * disjuncts {@code v >= E} of {@code c}, where the statements after the guard are skipped too. {@code E} must
 * fold to a constant no larger than the loop's bound, or the bound must be {@code E} rounded up to a multiple
 * of a block ({@code gridDim_x * 256} with {@code gridDim_x = (n + 255) / 256} for {@code E = n}); the conjunct
 * then becomes the bound and leaves the guard.
 */
final class GuardBounds {
	private GuardBounds() {
	}

	/** The rewrite of {@code guard} into loop bounds, or null when no conjunct qualifies. */
	static Runnable of(IfStatement guard) {
		if (guard.getElse() != null) {
			return null;
		}
		boolean skip = CanonicalLoop.statementsOf(guard.getThen()).size() == 1
				&& CanonicalLoop.statementsOf(guard.getThen()).get(0) instanceof ContinueStatement;
		Map<String, CanonicalLoop> loops = decidedLoops(guard, skip);
		if (loops.isEmpty()) {
			return null;
		}
		FunctionDefinition function = EcoreUtil2.getContainerOfType(guard, FunctionDefinition.class);
		ConstantFolder folder = ConstantFolder.withConstantsOf(EcoreUtil2.getContainerOfType(guard, TranslationUnit.class),
				function);
		List<Expression> terms = new ArrayList<>();
		split(guard.getCondition(), skip ? "||" : "&&", terms);
		Map<Expression, Bound> bounds = new HashMap<>();
		for (Expression term : terms) {
			Bound bound = bound(term, skip, loops, folder);
			if (bound != null && bounds.values().stream().noneMatch(b -> b.loop() == bound.loop())) {
				bounds.put(term, bound);
			}
		}
		if (bounds.isEmpty()) {
			return null;
		}
		return () -> {
			bounds.values().forEach(Bound::apply);
			List<Expression> rest = terms.stream().filter(t -> !bounds.containsKey(t)).toList();
			if (!rest.isEmpty()) {
				guard.setCondition(join(rest, skip ? "||" : "&&"));
			} else if (skip) {
				EcoreUtil.remove(guard);
			} else {
				unwrap(guard);
			}
		};
	}

	/** A loop whose bound becomes {@code limit}. */
	private record Bound(CanonicalLoop loop, Expression limit) {
		void apply() {
			((Binary) loop.loop().getCondition()).setRight(EcoreUtil.copy(limit));
		}
	}

	/**
	 * The loops (by variable) whose iterations do nothing when the guard fails: walking up from the guard, each
	 * block holds only side-effect-free declarations besides it (after a continue guard, anything may follow in
	 * its own block), and each loop is canonical and the whole body of the next one up.
	 */
	private static Map<String, CanonicalLoop> decidedLoops(IfStatement guard, boolean skip) {
		Map<String, CanonicalLoop> loops = new HashMap<>();
		Statement at = guard;
		boolean first = true;
		while (true) {
			EObject container = at.eContainer();
			if (container instanceof CompoundStatement block) {
				List<Statement> siblings = block.getStatements();
				int position = siblings.indexOf(at);
				for (int k = 0; k < siblings.size(); k++) {
					boolean skipped = first && skip && k > position;
					if (k != position && !skipped && !isPureDeclaration(siblings.get(k))) {
						return loops;
					}
				}
				at = block;
				container = block.eContainer();
			}
			if (!(container instanceof ForStatement f) || f.getBody() != at) {
				return loops;
			}
			var loop = CanonicalLoop.of(f);
			if (loop.isEmpty() || loops.containsKey(loop.get().variable())) {
				return loops;
			}
			loops.put(loop.get().variable(), loop.get());
			at = f;
			first = false;
		}
	}

	/** {@code v < E} (or {@code E > v}; for a continue guard {@code v >= E}, {@code E <= v}) that bounds a loop. */
	private static Bound bound(Expression term, boolean skip, Map<String, CanonicalLoop> loops, ConstantFolder folder) {
		if (!(Snippets.unparenthesized(term) instanceof Binary c)) {
			return null;
		}
		String below = skip ? ">=" : "<";
		String above = skip ? "<=" : ">";
		boolean variableLeft = c.getOp().equals(below);
		if (!variableLeft && !c.getOp().equals(above)) {
			return null;
		}
		Expression limit = variableLeft ? c.getRight() : c.getLeft();
		if (!(Snippets.unparenthesized(variableLeft ? c.getLeft() : c.getRight()) instanceof Name v)
				|| !loops.containsKey(v.getName())) {
			return null;
		}
		CanonicalLoop loop = loops.get(v.getName());
		OptionalLong value = folder.fold(limit);
		OptionalLong upper = folder.fold(loop.upper());
		// the guard's own words when they mean the same at the loop's header, else the value
		Set<String> names = new HashSet<>();
		EcoreUtil2.eAllOfType(limit, Name.class).forEach(n -> names.add(n.getName()));
		boolean visible = names.stream().noneMatch(n -> CanonicalLoop.declares(loop.loop(), n))
				&& !CanonicalLoop.assignsAny(loop.loop(), names);
		if (value.isPresent() && upper.isPresent()) {
			return value.getAsLong() > upper.getAsLong() ? null
					: new Bound(loop, visible ? limit : Snippets.expression(Long.toString(value.getAsLong()), Dialect.VNNI));
		}
		return visible && value.isEmpty() && roundsUp(loop.upper(), limit, folder) ? new Bound(loop, limit) : null;
	}

	/**
	 * Whether {@code upper} is {@code G * B} (or {@code B * G}) for a constant {@code B} and a {@code const} local
	 * {@code G} that is {@code limit} divided by {@code B} rounded up ({@code (limit + B - 1) / B} or
	 * {@code (limit - 1) / B + 1}): then {@code upper} is at least {@code limit}, whatever its value (the grid of
	 * a launch sized at run time, {@code (n + 255) / 256} blocks of 256 threads, covers {@code n}).
	 */
	private static boolean roundsUp(Expression upper, Expression limit, ConstantFolder folder) {
		if (!(Snippets.unparenthesized(upper) instanceof Binary times) || !times.getOp().equals("*")) {
			return false;
		}
		for (int side = 0; side < 2; side++) {
			Expression g = side == 0 ? times.getLeft() : times.getRight();
			OptionalLong b = folder.fold(side == 0 ? times.getRight() : times.getLeft());
			if (b.isPresent() && b.getAsLong() > 0 && Snippets.unparenthesized(g) instanceof Name name) {
				Declarator declared = ConstantFolder.constantScalar(name);
				if (declared != null && declared.getInitializer() instanceof Expression quotient
						&& isCeilingOf(quotient, limit, b.getAsLong(), folder)) {
					return true;
				}
			}
		}
		return false;
	}

	/** {@code (x + B - 1) / B} or {@code (x - 1) / B + 1}, where {@code x} reads as {@code limit}. */
	private static boolean isCeilingOf(Expression e, Expression limit, long b, ConstantFolder folder) {
		Expression q = Snippets.unparenthesized(e);
		if (q instanceof Binary plus && plus.getOp().equals("+") && folder.fold(plus.getRight()).orElse(0) == 1) {
			return isQuotientOf(plus.getLeft(), limit, b, -1, folder); // (x - 1) / B + 1
		}
		return isQuotientOf(q, limit, b, b - 1, folder);
	}

	/** {@code (x + offset) / B}, the offset written as any sum of constants. */
	private static boolean isQuotientOf(Expression e, Expression limit, long b, long offset, ConstantFolder folder) {
		if (!(Snippets.unparenthesized(e) instanceof Binary div) || !div.getOp().equals("/")
				|| folder.fold(div.getRight()).orElse(0) != b) {
			return false;
		}
		List<Expression> variable = new ArrayList<>();
		long constant = 0;
		List<Expression> terms = new ArrayList<>();
		List<Boolean> negated = new ArrayList<>();
		addends(div.getLeft(), false, terms, negated);
		for (int k = 0; k < terms.size(); k++) {
			OptionalLong value = folder.fold(terms.get(k));
			if (value.isPresent()) {
				constant += negated.get(k) ? -value.getAsLong() : value.getAsLong();
			} else if (negated.get(k)) {
				return false;
			} else {
				variable.add(terms.get(k));
			}
		}
		var printer = Dialect.VNNI.printer();
		return constant == offset && variable.size() == 1
				&& printer.expression(Snippets.unparenthesized(variable.get(0)))
						.equals(printer.expression(Snippets.unparenthesized(limit)));
	}

	/** The terms of a sum or difference, each with whether it is subtracted. */
	private static void addends(Expression e, boolean negative, List<Expression> terms, List<Boolean> negated) {
		if (Snippets.unparenthesized(e) instanceof Binary b && (b.getOp().equals("+") || b.getOp().equals("-"))) {
			addends(b.getLeft(), negative, terms, negated);
			addends(b.getRight(), b.getOp().equals("-") != negative, terms, negated);
		} else {
			terms.add(e);
			negated.add(negative);
		}
	}

	private static void split(Expression e, String op, List<Expression> terms) {
		if (Snippets.unparenthesized(e) instanceof Binary b && b.getOp().equals(op)) {
			split(b.getLeft(), op, terms);
			split(b.getRight(), op, terms);
		} else {
			terms.add(e);
		}
	}

	private static Expression join(List<Expression> terms, String op) {
		Expression joined = EcoreUtil.copy(terms.get(0));
		for (Expression term : terms.subList(1, terms.size())) {
			Binary b = KernelFactory.eINSTANCE.createBinary();
			b.setOp(op);
			b.setLeft(joined);
			b.setRight(EcoreUtil.copy(term));
			joined = b;
		}
		return joined;
	}

	/** The guard replaced by its statements, spliced into its block when no declared name would clash. */
	private static void unwrap(IfStatement guard) {
		List<Statement> then = new ArrayList<>(CanonicalLoop.statementsOf(guard.getThen()));
		if (guard.eContainer() instanceof CompoundStatement block && !clashes(then, block, guard)) {
			int at = block.getStatements().indexOf(guard);
			block.getStatements().remove(at);
			block.getStatements().addAll(at, then);
		} else {
			EcoreUtil.replace(guard, guard.getThen());
		}
	}

	private static boolean clashes(List<Statement> then, CompoundStatement block, IfStatement guard) {
		Set<String> declared = new HashSet<>();
		block.getStatements().stream().filter(s -> s != guard)
				.forEach(s -> EcoreUtil2.eAllOfType(s, Declarator.class).forEach(d -> declared.add(d.getName())));
		return then.stream().anyMatch(s -> EcoreUtil2.eAllOfType(s, Declarator.class).stream()
				.anyMatch(d -> declared.contains(d.getName())));
	}

	/** A declaration whose initializers call nothing and assign nothing. */
	private static boolean isPureDeclaration(Statement s) {
		return s instanceof DeclarationStatement d && EcoreUtil2.eAllOfType(d, EObject.class).stream()
				.noneMatch(o -> o instanceof Call || o instanceof Assignment || o instanceof Postfix
						|| o instanceof Unary u && (u.getOp().equals("++") || u.getOp().equals("--")));
	}
}
