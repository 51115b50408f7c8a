package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.Unary;

/**
 * The loop shape the loop passes reason about: {@code for (int v = lower; v < upper; ++v)} (or {@code v++},
 * {@code v += 1}) whose body never assigns {@code v}. Split, reorder, bind, fuse, expansion and contraction
 * all start by asking whether a loop is canonical, what its trip count is and which loop it directly holds.
 */
public record CanonicalLoop(ForStatement loop, String variable, Expression lower, Expression upper) {

	/** The loop's canonical reading, or empty when it has another shape. */
	public static Optional<CanonicalLoop> of(ForStatement loop) {
		if (loop.getInitDeclaration() == null || loop.getInitDeclaration().getDeclarators().size() != 1) {
			return Optional.empty();
		}
		Declarator x = loop.getInitDeclaration().getDeclarators().get(0);
		String v = x.getName();
		if (!(x.getInitializer() instanceof Expression lower) || !x.getPointers().isEmpty()
				|| isAuto(loop.getInitDeclaration().getType())) {
			return Optional.empty(); // an auto variable would change type with a rewritten initializer
		}
		if (!(loop.getCondition() instanceof Binary c) || !c.getOp().equals("<") || !(c.getLeft() instanceof Name n)
				|| !n.getName().equals(v)) {
			return Optional.empty();
		}
		if (!isUnitIncrement(loop.getUpdate(), v) || assignsAny(loop.getBody(), Set.of(v))) {
			return Optional.empty();
		}
		return Optional.of(new CanonicalLoop(loop, v, lower, c.getRight()));
	}

	private static boolean isAuto(TypeSpecifier type) {
		return type instanceof BuiltinType builtin && builtin.getName().equals("auto");
	}

	/** Every canonical loop under {@code root} (itself included), outermost first. */
	public static List<CanonicalLoop> all(EObject root) {
		List<CanonicalLoop> found = new ArrayList<>();
		if (root instanceof ForStatement f) {
			of(f).ifPresent(found::add);
		}
		root.eAllContents().forEachRemaining(o -> {
			if (o instanceof ForStatement f) {
				of(f).ifPresent(found::add);
			}
		});
		return found;
	}

	/** The constant lower bound, when it folds. */
	public OptionalLong constantLower() {
		return new ConstantFolder().fold(lower);
	}

	/** The constant upper bound, when it folds. */
	public OptionalLong constantUpper() {
		return new ConstantFolder().fold(upper);
	}

	/** {@code upper - lower} when both fold (0 for an empty range). */
	public OptionalLong tripCount() {
		OptionalLong lo = constantLower();
		OptionalLong hi = constantUpper();
		return lo.isPresent() && hi.isPresent() ? OptionalLong.of(Math.max(0, hi.getAsLong() - lo.getAsLong()))
				: OptionalLong.empty();
	}

	/** The statements of the body, a block opened. */
	public List<Statement> body() {
		return statementsOf(loop.getBody());
	}

	/** The canonical loop that is the body's only statement (a perfect nest), else empty. */
	public Optional<CanonicalLoop> perfectlyNested() {
		List<Statement> body = body();
		return body.size() == 1 && body.get(0) instanceof ForStatement inner ? of(inner) : Optional.empty();
	}

	/** The statements of {@code s}: a block's list, or {@code s} alone. */
	public static List<Statement> statementsOf(Statement s) {
		return s instanceof CompoundStatement c ? c.getStatements() : List.of(s);
	}

	/**
	 * Whether {@code root} assigns (=, op=, ++, --) one of {@code names} that it does not itself declare: a
	 * variable declared inside is a different one.
	 */
	public static boolean assignsAny(EObject root, Set<String> names) {
		for (var it = root.eAllContents(); it.hasNext();) {
			if (writeTarget(it.next()) instanceof Name n && names.contains(n.getName()) && !declares(root, n.getName())) {
				return true;
			}
		}
		return false;
	}

	/** What {@code o} writes when it is an assignment (=, op=), an increment or a decrement; else null. */
	public static Expression writeTarget(EObject o) {
		return o instanceof Assignment a ? a.getLeft()
				: o instanceof Postfix p ? p.getOperand()
						: o instanceof Unary u && (u.getOp().equals("++") || u.getOp().equals("--")) ? u.getOperand() : null;
	}

	/** Whether {@code root} (itself included) assigns, increments or decrements anything. */
	public static boolean writesAnything(EObject root) {
		return EcoreUtil2.eAllOfType(root, EObject.class).stream().anyMatch(o -> writeTarget(o) != null);
	}

	/** Whether {@code root} declares a variable {@code name} somewhere inside. */
	public static boolean declares(EObject root, String name) {
		for (var it = root.eAllContents(); it.hasNext();) {
			if (it.next() instanceof Declarator d && name.equals(d.getName())) {
				return true;
			}
		}
		return false;
	}

	/** {@code v++}, {@code ++v} or {@code v += 1}. */
	static boolean isUnitIncrement(Expression u, String v) {
		return u instanceof Postfix p && p.getOp().equals("++") && p.getOperand() instanceof Name pn
				&& pn.getName().equals(v)
				|| u instanceof Unary un && un.getOp().equals("++") && un.getOperand() instanceof Name unn
						&& unn.getName().equals(v)
				|| u instanceof Assignment a && a.getOp().equals("+=") && a.getLeft() instanceof Name an
						&& an.getName().equals(v) && a.getRight() instanceof IntLiteral one && one.getValue().equals("1");
	}
}
