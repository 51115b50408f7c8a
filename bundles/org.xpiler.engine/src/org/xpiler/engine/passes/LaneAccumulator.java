package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.FloatLiteral;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.InitializerList;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * A {@code __m512} that a vectorized reduction carries from one vector to the next: each lane holds the partial
 * result of the lanes it saw, and {@code _mm512_reduce_add_ps} (max, min) combines the 16 at the end. In the
 * scalar loops of {@link LaneLoops} it is one float that holds, at every point, what that reduce would return:
 * the update {@code acc = _mm512_fmadd_ps(v, v, acc)} becomes {@code acc = fmaf(v, v, acc)} once per element,
 * and {@code _mm512_reduce_add_ps(acc)} the float itself. A sum is then added in another order (element by
 * element rather than lane by lane and a tree), equal up to float rounding; a maximum or minimum is exact.
 * <p>
 * A candidate is a vector declared once in the function, whose every other use is an assignment {@code acc = ...}
 * (a statement of its own) or the operand of one of the three reduces, all the same. An assignment that does not
 * read {@code acc} starts it anew, as its initializer does: the start must be 0 for a sum (any lane-uniform value
 * for max and min, which repeating it does not change). Whether every other one has the reduction's shape
 * ({@code acc + x}, {@code x + acc}, {@code acc - x}, {@code fmaf(a, b, acc)}; {@code acc > x ? acc : x} for max; a
 * scalar {@code ?:} between such updates or {@code acc} itself) is read on its lane expression, where the lane
 * loop translates it.
 */
record LaneAccumulator(String name, Reduction reduction, DeclarationStatement declaration, List<ExpressionStatement> updates,
		List<Call> reads) {
	private static final String VECTOR = "__m512";

	/** How the lanes are combined, with the reduce that ends it. */
	enum Reduction {
		SUM("_mm512_reduce_add_ps", null), MAX("_mm512_reduce_max_ps", ">"), MIN("_mm512_reduce_min_ps", "<");

		private final String reduce;
		/** The comparison of {@code a OP b ? a : b}, the lane of max_ps and min_ps. */
		private final String comparison;

		Reduction(String reduce, String comparison) {
			this.reduce = reduce;
			this.comparison = comparison;
		}

		static Optional<Reduction> endedBy(String callee) {
			return Arrays.stream(values()).filter(r -> r.reduce.equals(callee)).findFirst();
		}

		/** Whether a lane's start may be {@code lane}: 0 for a sum, whose reduce adds every lane's start. */
		boolean startsWith(Expression lane) {
			return this != SUM || isZero(lane);
		}

		/** Whether the lane expression {@code update} folds one more value into {@code acc} this way. */
		boolean accumulates(Expression update, String acc, KernelPrinter printer) {
			Expression e = Snippets.unparenthesized(update);
			if (e instanceof Conditional choice && !Snippets.mentions(choice.getCondition(), acc)) {
				return (isAcc(choice.getThen(), acc) || accumulates(choice.getThen(), acc, printer))
						&& (isAcc(choice.getElse(), acc) || accumulates(choice.getElse(), acc, printer));
			}
			if (this == SUM) {
				return e instanceof Binary b && (b.getOp().equals("+") && (isAcc(b.getLeft(), acc) && !Snippets.mentions(b.getRight(), acc)
						|| isAcc(b.getRight(), acc) && !Snippets.mentions(b.getLeft(), acc))
						|| b.getOp().equals("-") && isAcc(b.getLeft(), acc) && !Snippets.mentions(b.getRight(), acc))
						|| e instanceof Call fma && Snippets.isCallOf(fma, "fmaf") && fma.getArgs().size() == 3
								&& isAcc(fma.getArgs().get(2), acc) && !Snippets.mentions(fma.getArgs().get(0), acc)
								&& !Snippets.mentions(fma.getArgs().get(1), acc);
			}
			// a > b ? a : b, with acc as a or b
			return e instanceof Conditional choice && Snippets.unparenthesized(choice.getCondition()) instanceof Binary c
					&& c.getOp().equals(comparison)
					&& printer.expression(c.getLeft()).equals(printer.expression(choice.getThen()))
					&& printer.expression(c.getRight()).equals(printer.expression(choice.getElse()))
					&& (isAcc(c.getLeft(), acc) && !Snippets.mentions(c.getRight(), acc)
							|| isAcc(c.getRight(), acc) && !Snippets.mentions(c.getLeft(), acc));
		}
	}

	/**
	 * Whether the update {@code offLane} (its value in a lane that a tail's mask leaves out: zero-masked loads
	 * read 0) leaves {@code acc} as it is: {@code acc + 0}, {@code fmaf(0, x, acc)}. Products of 0 are taken as 0,
	 * which holds for the finite values the lanes outside the data hold.
	 */
	static boolean leavesAlone(Expression offLane, String acc) {
		Expression e = Snippets.unparenthesized(offLane);
		return isAcc(e, acc)
				|| e instanceof Conditional choice && leavesAlone(choice.getThen(), acc) && leavesAlone(choice.getElse(), acc)
				|| e instanceof Binary b && (b.getOp().equals("+") && (isAcc(b.getLeft(), acc) && isZero(b.getRight())
						|| isZero(b.getLeft()) && isAcc(b.getRight(), acc))
						|| b.getOp().equals("-") && isAcc(b.getLeft(), acc) && isZero(b.getRight()))
				|| e instanceof Call fma && Snippets.isCallOf(fma, "fmaf") && fma.getArgs().size() == 3
						&& isAcc(fma.getArgs().get(2), acc) && (isZero(fma.getArgs().get(0)) || isZero(fma.getArgs().get(1)));
	}

	private static boolean isAcc(Expression e, String acc) {
		return Snippets.isName(Snippets.unparenthesized(e), acc);
	}

	/** Whether {@code e} is 0 whatever finite values its names hold. */
	static boolean isZero(Expression expression) {
		Expression e = Snippets.unparenthesized(expression);
		return switch (e) {
		case IntLiteral literal -> literal.getValue().matches("0+[uUlL]*");
		case FloatLiteral literal -> Double.parseDouble(literal.getValue().replaceAll("[fFlL]$", "")) == 0;
		case Unary u when u.getOp().equals("-") || u.getOp().equals("+") -> isZero(u.getOperand());
		case Binary b when b.getOp().equals("*") -> isZero(b.getLeft()) || isZero(b.getRight());
		case Binary b when b.getOp().equals("/") -> isZero(b.getLeft());
		case Binary b when b.getOp().equals("+") || b.getOp().equals("-") -> isZero(b.getLeft()) && isZero(b.getRight());
		case Conditional choice -> isZero(choice.getThen()) && isZero(choice.getElse());
		case Call fma when Snippets.isCallOf(fma, "fmaf") && fma.getArgs().size() == 3 ->
			(isZero(fma.getArgs().get(0)) || isZero(fma.getArgs().get(1))) && isZero(fma.getArgs().get(2));
		default -> false;
		};
	}

	/** The candidates of {@code f} by name: their uses have the shape of a reduction's; the lanes are checked later. */
	static Map<String, LaneAccumulator> candidates(FunctionDefinition f) {
		Map<String, LaneAccumulator> found = new LinkedHashMap<>();
		for (DeclarationStatement d : EcoreUtil2.eAllOfType(f.getBody(), DeclarationStatement.class)) {
			List<Declarator> declarators = d.getDeclaration().getDeclarators();
			if (VECTOR.equals(d.getDeclaration().getType().getName()) && declarators.size() == 1
					&& !(declarators.get(0).getInitializer() instanceof InitializerList)
					&& declarators.get(0).getConstructorArgs().isEmpty() && declarators.get(0).getPointers().isEmpty()
					&& declarators.get(0).getDimensions().isEmpty() && declaredOnce(f, declarators.get(0).getName())) {
				String name = declarators.get(0).getName();
				uses(f, d, name).ifPresent(a -> found.put(name, a));
			}
		}
		return found;
	}

	private static boolean declaredOnce(FunctionDefinition f, String name) {
		return EcoreUtil2.eAllOfType(f, Declarator.class).stream().filter(x -> name.equals(x.getName())).count() == 1;
	}

	private static Optional<LaneAccumulator> uses(FunctionDefinition f, DeclarationStatement declaration, String name) {
		List<ExpressionStatement> updates = new ArrayList<>();
		List<Call> reads = new ArrayList<>();
		Set<Reduction> reductions = EnumSet.noneOf(Reduction.class);
		for (Name use : EcoreUtil2.eAllOfType(f.getBody(), Name.class)) {
			if (!use.getName().equals(name)) {
				continue;
			}
			EObject operand = use;
			while (operand.eContainer() instanceof Parenthesized p) {
				operand = p;
			}
			Optional<Reduction> reduce = operand.eContainer() instanceof Call call && call.getArgs().size() == 1
					? Reduction.endedBy(Snippets.callee(call)) : Optional.empty();
			ExpressionStatement update = updateOf(use, name);
			if (reduce.isPresent()) {
				reads.add((Call) operand.eContainer());
				reductions.add(reduce.get());
			} else if (update == null) {
				return Optional.empty(); // read for something else: its lanes matter one by one
			} else if (!updates.contains(update)) {
				updates.add(update);
			}
		}
		return reductions.size() == 1
				? Optional.of(new LaneAccumulator(name, reductions.iterator().next(), declaration, updates, reads))
				: Optional.empty();
	}

	/** The statement {@code name = ...;} that {@code use} is the target of or is read in, else null. */
	private static ExpressionStatement updateOf(Name use, String name) {
		Assignment assignment = EcoreUtil2.getContainerOfType(use, Assignment.class);
		return assignment != null && assignment.getOp().equals("=") && Snippets.isName(assignment.getLeft(), name)
				&& assignment.eContainer() instanceof ExpressionStatement statement ? statement : null;
	}
}
