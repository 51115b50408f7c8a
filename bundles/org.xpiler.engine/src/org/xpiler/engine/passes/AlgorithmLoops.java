package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.FloatLiteral;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * The {@code <algorithm>} and {@code <numeric>} calls of a C++ kernel as the loops they stand for, which every
 * dialect can bind and compile ({@code std::copy} has no device counterpart): {@code copy}, {@code copy_n},
 * {@code fill} and {@code fill_n} become a loop in place of their statement; {@code accumulate},
 * {@code inner_product}, {@code max_element} and {@code min_element} become a loop before their statement that
 * computes their value into a new local, which the statement then reads.
 *
 * <pre>
 * before: std::fill(w, w + 16, 0.0f);          y[0] = std::accumulate(w, w + 16, 0.0f);
 * after:  for (int i = 0; i &lt; 16; ++i) w[i] = 0.0f;
 *         auto sum = 0.0f; for (int i_2 = 0; i_2 &lt; 16; ++i_2) sum = sum + w[i_2];  y[0] = sum;
 * </pre>
 */
final class AlgorithmLoops {
	private static final Set<String> IN_PLACE = Set.of("copy", "copy_n", "fill", "fill_n");
	private static final Set<String> VALUED = Set.of("accumulate", "inner_product", "max_element", "min_element");

	private final Dialect dialect;
	private final KernelPrinter printer;

	AlgorithmLoops(Dialect dialect) {
		this.dialect = dialect;
		this.printer = dialect.printer();
	}

	/** Expands every such call of {@code unit}; returns how many. */
	int expand(TranslationUnit unit) {
		List<Call> calls = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call call && algorithm(call) != null) {
				calls.add(call);
			}
		});
		Set<String> taken = Snippets.takenNames(unit);
		for (Call call : calls) {
			String algorithm = algorithm(call);
			List<String> args = call.getArgs().stream().map(this::operand).toList();
			if (call.getArgs().stream().anyMatch(CanonicalLoop::writesAnything)) {
				throw PassRefusal.at(call, "std::" + algorithm + " has an argument that writes memory; only plain ranges "
						+ "expand to loops");
			}
			Statement statement = Snippets.enclosingStatement(call);
			String index = Snippets.freshName(taken, "i", dialect);
			if (IN_PLACE.contains(algorithm) && statement instanceof ExpressionStatement es && es.getExpression() == call) {
				EcoreUtil.replace(statement, Snippets.statements(inPlace(algorithm, args, index), dialect).get(0));
			} else if (VALUED.contains(algorithm) && evaluatedOnce(call, statement)) {
				String result = Snippets.freshName(taken, algorithm.equals("max_element") ? "largest"
						: algorithm.equals("min_element") ? "smallest" : algorithm.equals("accumulate") ? "sum" : "dot", dialect);
				CompoundStatement block = Snippets.ensureInBlock(statement);
				block.getStatements().addAll(block.getStatements().indexOf(statement),
						Snippets.statements(valued(algorithm, args, index, result), dialect));
				EcoreUtil.replace(call, Snippets.expression(result, dialect));
			} else {
				throw PassRefusal.at(call, "std::" + algorithm + " expands to a loop only as a statement of its own"
						+ (VALUED.contains(algorithm) ? " or a value its statement reads once, unconditionally" : ""));
			}
		}
		return calls.size();
	}

	/** {@code copy} for {@code std::copy(...)} and {@code ::std::copy(...)}, when it takes its usual arguments. */
	private static String algorithm(Call call) {
		String callee = Snippets.callee(call);
		if (callee == null || !callee.matches("(::)?std::\\w+")) {
			return null;
		}
		String name = callee.substring(callee.lastIndexOf(':') + 1);
		int arity = switch (name) {
		case "copy", "copy_n", "fill", "fill_n", "accumulate" -> 3;
		case "inner_product" -> 4;
		case "max_element", "min_element" -> 2;
		default -> -1;
		};
		return call.getArgs().size() == arity ? name : null;
	}

	/** The loop of a copy or fill. */
	private String inPlace(String algorithm, List<String> args, String i) {
		String count = algorithm.endsWith("_n") ? args.get(1) : count(args.get(0), args.get(1));
		String element = args.get(0) + "[" + i + "]";
		String assignment = algorithm.startsWith("copy") ? args.get(2) + "[" + i + "] = " + element
				: element + " = " + args.get(2);
		return loop(i, count, assignment + ";");
	}

	/** The declaration and loop that compute an accumulation or a search into {@code result}. */
	private String valued(String algorithm, List<String> args, String i, String result) {
		String count = count(args.get(0), args.get(1));
		String element = args.get(0) + "[" + i + "]";
		return switch (algorithm) {
		case "accumulate" -> "auto " + result + " = " + args.get(2) + ";\n"
				+ loop(i, count, result + " = " + result + " + " + element + ";");
		case "inner_product" -> "auto " + result + " = " + args.get(3) + ";\n"
				+ loop(i, count, result + " = " + result + " + " + element + " * " + args.get(2) + "[" + i + "];");
		default -> { // the first largest (smallest) element, as the standard picks it
			boolean largest = algorithm.startsWith("max");
			String better = largest ? "*" + result + " < " + element : element + " < *" + result;
			yield "auto " + result + " = " + args.get(0) + ";\n"
					+ loop(i, count, "if (" + better + ")\n    " + result + " = " + args.get(0) + " + " + i + ";");
		}
		};
	}

	private static String loop(String i, String count, String body) {
		return "for (int " + i + " = 0; " + i + " < " + count + "; ++" + i + ")\n    " + body;
	}

	/** {@code n} for the range {@code [x, x + n)}, as written; {@code last - first} otherwise. */
	private String count(String first, String last) {
		Expression end = Snippets.expression(last, dialect);
		if (end instanceof Parenthesized p && p.getExpression() instanceof Binary sum && sum.getOp().equals("+")
				&& operand(sum.getLeft()).equals(first)) {
			return operand(sum.getRight());
		}
		return "(" + last + " - " + first + ")";
	}

	/** An argument as it can stand in an operand's place: parenthesized unless it is a name, literal or postfix form. */
	private String operand(Expression e) {
		Expression bare = Snippets.unparenthesized(e);
		String text = printer.expression(bare);
		return bare instanceof Name || bare instanceof IntLiteral || bare instanceof FloatLiteral || bare instanceof Index
				|| bare instanceof Call || bare instanceof MemberAccess ? text : "(" + text + ")";
	}

	/** Whether {@code statement} evaluates {@code call} exactly once: no {@code ?:}, {@code &&} or {@code ||} around it. */
	private static boolean evaluatedOnce(Call call, Statement statement) {
		if (!(statement instanceof ExpressionStatement || statement instanceof DeclarationStatement
				|| statement instanceof ReturnStatement)) {
			return false;
		}
		return Snippets.evaluatedUnconditionally(call, statement);
	}
}
