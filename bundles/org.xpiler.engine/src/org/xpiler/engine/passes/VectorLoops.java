package org.xpiler.engine.passes;

import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
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
 * Applies when the counter is declared with a constant start in the same block, neither body assigns it, the
 * bound and width fold (file and function constants included), and nothing after the loops reads the counter.
 */
final class VectorLoops {
	private final KernelPrinter printer = Dialect.VNNI.printer();

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
			int declaration = declarationOf(statements, k, i);
			if (i == null || width.isEmpty() || width.getAsLong() < 2 || bound.isEmpty() || declaration < 0) {
				continue;
			}
			Declarator counter = ((DeclarationStatement) statements.get(declaration)).getDeclaration().getDeclarators()
					.get(0);
			OptionalLong start = folder.fold((Expression) counter.getInitializer());
			ForStatement tail = k + 1 < statements.size() && statements.get(k + 1) instanceof ForStatement t
					&& isTail(t, i, bound.getAsLong(), folder) ? t : null;
			int last = tail == null ? k : k + 1;
			if (start.isEmpty() || CanonicalLoop.assignsAny(vector.getBody(), Set.of(i))
					|| tail != null && CanonicalLoop.assignsAny(tail.getBody(), Set.of(i))
					|| statements.subList(last + 1, statements.size()).stream().anyMatch(s -> Snippets.mentions(s, i))) {
				continue;
			}
			long vectors = Math.max(0, (bound.getAsLong() - start.getAsLong()) / width.getAsLong());
			// a loop that runs no iteration for these constant bounds is left out: it would be an empty kernel
			StringBuilder text = new StringBuilder();
			if (vectors > 0) {
				String v = Snippets.freshName(unit, i + "_vector", Dialect.VNNI);
				text.append("for (int " + v + " = 0; " + v + " < " + vectors + "; ++" + v + ") {\n");
				text.append("const int ").append(i).append(" = ")
						.append(start.getAsLong() == 0 ? "" : start.getAsLong() + " + ").append(v).append(" * ")
						.append(width.getAsLong()).append(";\n");
				CanonicalLoop.statementsOf(vector.getBody()).forEach(s -> text.append(printer.statement(s, 1)));
				text.append("}\n");
			}
			long tailStart = start.getAsLong() + vectors * width.getAsLong();
			if (tail != null && tailStart < bound.getAsLong()) {
				text.append("for (int ").append(i).append(" = ").append(tailStart).append("; ").append(i).append(" < ")
						.append(printer.expression(((Binary) tail.getCondition()).getRight())).append("; ++").append(i)
						.append(") {\n");
				CanonicalLoop.statementsOf(tail.getBody()).forEach(s -> text.append(printer.statement(s, 1)));
				text.append("}\n");
			}
			List<Statement> replacement = Snippets.statements(text.toString(), Dialect.VNNI);
			for (int r = last; r >= k; r--) {
				statements.remove(r);
			}
			statements.addAll(k, replacement);
			// nothing between the declaration and the loops, nor after them, reads the counter, and the new loops
			// declare their own
			statements.remove(declaration);
			return true;
		}
		return false;
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

	/** {@code for (; i < N; i++)} over what the vector loop left. */
	private static boolean isTail(ForStatement t, String i, long bound, ConstantFolder folder) {
		return t.getInitDeclaration() == null && t.getInitExpression() == null && t.getCondition() instanceof Binary c
				&& c.getOp().equals("<") && Snippets.isName(c.getLeft(), i) && folder.fold(c.getRight()).orElse(-1) == bound
				&& CanonicalLoop.isUnitIncrement(t.getUpdate(), i);
	}

	/**
	 * The index of {@code int i = start;} before {@code loop} in the same block, when nothing between them
	 * mentions {@code i}; -1 otherwise.
	 */
	private static int declarationOf(List<Statement> statements, int loop, String i) {
		if (i == null) {
			return -1;
		}
		for (int d = loop - 1; d >= 0; d--) {
			Statement s = statements.get(d);
			if (s instanceof DeclarationStatement ds && ds.getDeclaration().getDeclarators().size() == 1
					&& i.equals(ds.getDeclaration().getDeclarators().get(0).getName())) {
				Declarator x = ds.getDeclaration().getDeclarators().get(0);
				return x.getPointers().isEmpty() && x.getDimensions().isEmpty() && x.getInitializer() instanceof Expression
						? d : -1;
			}
			if (Snippets.mentions(s, i)) {
				return -1;
			}
		}
		return -1;
	}
}
