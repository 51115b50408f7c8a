package org.xpiler.engine.passes;

import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
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
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * The vector loops of SIMD C++ become canonical loops once detensorized: the vector width is C++'s parallel
 * variable, as the thread index is CUDA's. {@code int i = 0; for (; i + 16 <= total; i += 16) {...} for (; i <
 * total; i++) {...}} with constant bounds becomes a loop over the vectors and a loop over the tail, each with its
 * own variable, so that loop bind can spread the vectors over threads or tasks:
 *
 * <pre>
 * for (int i_vector = 0; i_vector < 3072; ++i_vector) {
 *     const int i = i_vector * 16;
 *     ... }
 * for (int i = 49152; i < total; ++i) { ... }     // total = 49160; left out when the tail is empty
 * </pre>
 *
 * Applies when the counter is declared in the same block and set to a constant start there (by its declaration or
 * by {@code i = start;}, nothing in between reading it), neither body assigns it, the bound and width fold (file
 * and function constants included), and nothing after the loops reads the counter before setting it anew. The
 * counter's declaration goes once only such loops, which declare their own, follow it.
 */
final class VectorLoops {
	private final KernelPrinter printer = Dialect.VNNI.printer();
	/** The statements written here: each declares the counter it reads. */
	private final Set<Statement> written = new HashSet<>();

	/** Rewrites every such pair in {@code unit}; returns how many vector loops became canonical. */
	int normalize(TranslationUnit unit) {
		int normalized = 0;
		for (FunctionDefinition f : Snippets.definedFunctions(unit)) {
			ConstantFolder folder = ConstantFolder.withConstantsOf(unit, f);
			for (CompoundStatement block : EcoreUtil2.eAllOfType(f.getBody(), CompoundStatement.class)) {
				while (normalizeOne(unit, block, folder)) {
					normalized++;
				}
			}
			// one at a time: a rewritten loop is a new tree, whose inner loops are looked at next
			while (EcoreUtil2.eAllOfType(f.getBody(), ForStatement.class).stream()
					.anyMatch(loop -> normalizeStrided(unit, loop, folder))) {
				normalized++;
			}
		}
		return normalized;
	}

	private boolean normalizeOne(TranslationUnit unit, CompoundStatement block, ConstantFolder folder) {
		List<Statement> statements = block.getStatements();
		for (int k = 0; k < statements.size(); k++) {
			if (!(statements.get(k) instanceof ForStatement vector) || vector.getInitDeclaration() != null
					|| vector.getInitExpression() != null) {
				continue;
			}
			String i = counterOf(vector);
			OptionalLong width = stepOf(vector.getUpdate(), i, folder);
			OptionalLong bound = vectorBound(vector.getCondition(), i, width, folder);
			int set = i == null ? -1 : startOf(statements, k, i);
			if (width.isEmpty() || width.getAsLong() < 1 || bound.isEmpty() || set < 0) {
				continue;
			}
			OptionalLong start = folder.fold(startValue(statements.get(set)));
			OptionalLong tailBound = k + 1 < statements.size() ? tailBound(statements.get(k + 1), i, folder)
					: OptionalLong.empty();
			Statement tail = tailBound.isPresent() ? statements.get(k + 1) : null;
			int last = tail == null ? k : k + 1;
			if (start.isEmpty() || CanonicalLoop.assignsAny(vector.getBody(), Set.of(i))
					|| tail != null && CanonicalLoop.assignsAny(tailBody(tail), Set.of(i))
					|| !deadAfter(statements, last, i)) {
				continue;
			}
			long vectors = Math.max(0, (bound.getAsLong() - start.getAsLong()) / width.getAsLong());
			// a loop that runs no iteration for these constant bounds is left out: it would be an empty kernel
			StringBuilder text = new StringBuilder();
			if (vectors > 0 && width.getAsLong() == 1) {
				// a loop over the lanes of the vectors (see LaneLoops): a plain loop
				text.append("for (int ").append(i).append(" = ").append(start.getAsLong()).append("; ").append(i)
						.append(" < ").append(bound.getAsLong()).append("; ++").append(i).append(") {\n");
				CanonicalLoop.statementsOf(vector.getBody()).forEach(s -> text.append(printer.statement(s, 1)));
				text.append("}\n");
			} else if (vectors > 0) {
				String v = Snippets.freshName(unit, i + "_vector", Dialect.VNNI);
				text.append("for (int " + v + " = 0; " + v + " < " + vectors + "; ++" + v + ") {\n");
				text.append("const int ").append(i).append(" = ")
						.append(start.getAsLong() == 0 ? "" : start.getAsLong() + " + ").append(v).append(" * ")
						.append(width.getAsLong()).append(";\n");
				CanonicalLoop.statementsOf(vector.getBody()).forEach(s -> text.append(printer.statement(s, 1)));
				text.append("}\n");
			}
			long tailStart = start.getAsLong() + vectors * width.getAsLong();
			if (tail instanceof ForStatement loop && tailStart < tailBound.getAsLong()) {
				text.append("for (int ").append(i).append(" = ").append(tailStart).append("; ").append(i).append(" < ")
						.append(printer.expression(((Binary) loop.getCondition()).getRight())).append("; ++").append(i)
						.append(") {\n");
				CanonicalLoop.statementsOf(loop.getBody()).forEach(s -> text.append(printer.statement(s, 1)));
				text.append("}\n");
			} else if (tail instanceof IfStatement masked && tailStart < tailBound.getAsLong()) {
				// the last, partial vector, handled once (with a mask) at what the vectors left
				text.append("{\nconst int ").append(i).append(" = ").append(tailStart).append(";\n");
				CanonicalLoop.statementsOf(masked.getThen()).forEach(s -> text.append(printer.statement(s, 1)));
				text.append("}\n");
			}
			List<Statement> replacement = Snippets.statements(text.toString(), Dialect.VNNI);
			for (int r = last; r >= k; r--) {
				statements.remove(r);
			}
			statements.addAll(k, replacement);
			written.addAll(replacement);
			// the new loops declare their own counter and start it themselves
			if (statements.get(set) instanceof ExpressionStatement) {
				statements.remove(set);
			}
			removeIfUnread(statements, i);
			return true;
		}
		return false;
	}

	/**
	 * A loop that declares its own counter and steps it by a constant, {@code for (int n0 = 0; n0 < N; n0 += 16)}
	 * or {@code for (int i = 0; i + 16 <= N; i += 16)}, with constant bounds and a body that leaves the counter
	 * alone, becomes a loop over its steps: {@code for (int n0_step = 0; n0_step < 3; ++n0_step) { const int n0
	 * = n0_step * 16; ... }}.
	 */
	private boolean normalizeStrided(TranslationUnit unit, ForStatement loop, ConstantFolder folder) {
		if (loop.getInitDeclaration() == null || loop.getInitDeclaration().getDeclarators().size() != 1
				|| !(loop.getInitDeclaration().getDeclarators().get(0).getInitializer() instanceof Expression init)
				|| !(loop.getCondition() instanceof Binary condition)) {
			return false;
		}
		String i = loop.getInitDeclaration().getDeclarators().get(0).getName();
		OptionalLong start = folder.fold(init);
		OptionalLong step = stepOf(loop.getUpdate(), i, folder);
		if (start.isEmpty() || step.isEmpty() || step.getAsLong() < 2 || CanonicalLoop.assignsAny(loop.getBody(), Set.of(i))) {
			return false;
		}
		long steps;
		if (condition.getOp().equals("<") && Snippets.isName(condition.getLeft(), i)
				&& folder.fold(condition.getRight()).isPresent()) {
			long span = folder.fold(condition.getRight()).getAsLong() - start.getAsLong();
			steps = span <= 0 ? 0 : (span + step.getAsLong() - 1) / step.getAsLong();
		} else if (i.equals(counterOf(loop)) && condition.getLeft() instanceof Binary sum
				&& folder.fold(sum.getRight()).isPresent() && folder.fold(condition.getRight()).isPresent()) {
			long room = folder.fold(condition.getRight()).getAsLong() - folder.fold(sum.getRight()).getAsLong()
					- start.getAsLong();
			steps = room < 0 ? 0 : room / step.getAsLong() + 1;
		} else {
			return false;
		}
		String v = Snippets.freshName(unit, i + "_step", Dialect.VNNI);
		StringBuilder text = new StringBuilder("for (int " + v + " = 0; " + v + " < " + steps + "; ++" + v + ") {\n");
		text.append("const int ").append(i).append(" = ").append(start.getAsLong() == 0 ? "" : start.getAsLong() + " + ")
				.append(v).append(" * ").append(step.getAsLong()).append(";\n");
		CanonicalLoop.statementsOf(loop.getBody()).forEach(st -> text.append(printer.statement(st, 1)));
		text.append("}\n");
		EcoreUtil.replace(loop, Snippets.statements(text.toString(), Dialect.VNNI).get(0));
		return true;
	}

	/** The name in {@code i + W <= N}. */
	private static String counterOf(ForStatement loop) {
		if (loop.getCondition() instanceof Binary c && c.getOp().equals("<=") && c.getLeft() instanceof Binary sum
				&& sum.getOp().equals("+") && sum.getLeft() instanceof Name n) {
			return n.getName();
		}
		return null;
	}

	/** W of {@code i += W}. */
	private static OptionalLong stepOf(Expression update, String i, ConstantFolder folder) {
		if (i != null && update instanceof Assignment a && a.getOp().equals("+=") && a.getLeft() instanceof Name n
				&& n.getName().equals(i)) {
			return folder.fold(a.getRight());
		}
		return OptionalLong.empty();
	}

	/** N of {@code i + W <= N}, with the same W as the step. */
	private static OptionalLong vectorBound(Expression condition, String i, OptionalLong width, ConstantFolder folder) {
		if (width.isEmpty() || !(condition instanceof Binary c) || !(c.getLeft() instanceof Binary sum)
				|| folder.fold(sum.getRight()).orElse(-1) != width.getAsLong()) {
			return OptionalLong.empty();
		}
		return folder.fold(c.getRight());
	}

	/**
	 * The constant bound {@code N} of a tail: {@code for (; i < N; i++)} over what the vector loop left, or
	 * {@code if (i < N) {...}} for the one partial vector left (a masked load and store); empty for anything else.
	 */
	private static OptionalLong tailBound(Statement t, String i, ConstantFolder folder) {
		if (t instanceof IfStatement masked && masked.getElse() == null) {
			return bound(masked.getCondition(), i, folder);
		}
		return t instanceof ForStatement loop && loop.getInitDeclaration() == null && loop.getInitExpression() == null
				&& CanonicalLoop.isUnitIncrement(loop.getUpdate(), i) ? bound(loop.getCondition(), i, folder)
						: OptionalLong.empty();
	}

	/** N of {@code i < N}, when it folds. */
	private static OptionalLong bound(Expression condition, String i, ConstantFolder folder) {
		return condition instanceof Binary c && c.getOp().equals("<") && Snippets.isName(c.getLeft(), i)
				? folder.fold(c.getRight()) : OptionalLong.empty();
	}

	private static Statement tailBody(Statement tail) {
		return tail instanceof IfStatement masked ? masked.getThen() : ((ForStatement) tail).getBody();
	}

	/**
	 * The index of the statement before {@code loop} that sets the counter {@code i} it starts from: its declaration
	 * {@code int i = start;}, or {@code i = start;} when it is declared earlier in the same block; nothing in
	 * between mentions {@code i}. -1 when there is none.
	 */
	static int startOf(List<Statement> statements, int loop, String i) {
		for (int d = loop - 1; d >= 0; d--) {
			Statement s = statements.get(d);
			if (counterDeclaration(s, i) != null) {
				return counterDeclaration(s, i).getInitializer() instanceof Expression ? d : -1;
			}
			if (s instanceof ExpressionStatement e && e.getExpression() instanceof Assignment a && a.getOp().equals("=")
					&& Snippets.isName(a.getLeft(), i) && !Snippets.mentions(a.getRight(), i)) {
				return statements.subList(0, d).stream().anyMatch(earlier -> counterDeclaration(earlier, i) != null) ? d : -1;
			}
			if (Snippets.mentions(s, i)) {
				return -1;
			}
		}
		return -1;
	}

	/** The value a statement found by {@link #startOf} sets the counter to. */
	static Expression startValue(Statement start) {
		return start instanceof ExpressionStatement e ? ((Assignment) e.getExpression()).getRight()
				: (Expression) ((DeclarationStatement) start).getDeclaration().getDeclarators().get(0).getInitializer();
	}

	/**
	 * Whether nothing after statement {@code last} reads the value {@code i} has there: the next statement that
	 * mentions it, if any, sets it anew. {@code i} is declared in this block.
	 */
	static boolean deadAfter(List<Statement> statements, int last, String i) {
		for (Statement s : statements.subList(last + 1, statements.size())) {
			if (s instanceof ExpressionStatement e && e.getExpression() instanceof Assignment a && a.getOp().equals("=")
					&& Snippets.isName(a.getLeft(), i) && !Snippets.mentions(a.getRight(), i)) {
				return true;
			}
			if (Snippets.mentions(s, i)) {
				return false;
			}
		}
		return true;
	}

	/** {@code int i [= constant];} alone in its declaration, a scalar; else null. */
	private static Declarator counterDeclaration(Statement s, String i) {
		if (s instanceof DeclarationStatement ds && ds.getDeclaration().getDeclarators().size() == 1
				&& i.equals(ds.getDeclaration().getDeclarators().get(0).getName())) {
			Declarator x = ds.getDeclaration().getDeclarators().get(0);
			return x.getPointers().isEmpty() && x.getDimensions().isEmpty() ? x : null;
		}
		return null;
	}

	/** Removes the declaration of {@code i} when all that follows it and mentions {@code i} was written here. */
	private void removeIfUnread(List<Statement> statements, String i) {
		for (int d = 0; d < statements.size(); d++) {
			Declarator counter = counterDeclaration(statements.get(d), i);
			if (counter != null) {
				boolean unread = statements.subList(d + 1, statements.size()).stream()
						.allMatch(s -> written.contains(s) || !Snippets.mentions(s, i));
				if (unread && (counter.getInitializer() == null
						|| counter.getInitializer() instanceof Expression e && !CanonicalLoop.writesAnything(e)
								&& EcoreUtil2.eAllOfType(e, Call.class).isEmpty())) {
					statements.remove(d);
				}
				return;
			}
		}
	}
}
