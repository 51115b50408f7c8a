package org.xpiler.core.vm;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.eclipse.emf.ecore.EObject;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.catalog.IntrinsicCatalog;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.BreakStatement;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.ContinueStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.Unary;

/**
 * Runs the catalog reference of an element-wise intrinsic so that uninitialized elements propagate instead of
 * faulting, as a vector unit computes garbage in lanes it was given garbage for. BANG C code pads a ragged tail
 * for the vector unit and stores only the real elements:
 *
 * <pre>
 * __memcpy(x, src, tail * sizeof(float), GDRAM2NRAM);
 * __bang_active_relu(x, x, tail_align);           // lanes tail .. tail_align - 1: garbage in, garbage out
 * __memcpy(dst, x, tail * sizeof(float), NRAM2GDRAM);
 * </pre>
 *
 * Each iteration of the reference loop is one lane: an iteration that reads an uninitialized byte leaves every
 * byte it writes uninitialized, where the reference loop would otherwise fault ({@link Memory#beginLane}). The
 * garbage faults when it is consumed: when a lane would carry it into memory a kernel's caller can see (GDRAM,
 * global or host memory: {@code __memcpy} is element-wise too), or when a scalar read, a reduction, a matmul or
 * any other intrinsic that is not element-wise reads it.
 * <p>
 * A reference is element-wise when its body is statements that touch no memory, then one counted loop
 * {@code for (int i = ...; cond; ++i)} whose body
 * <ul>
 * <li>assigns no variable it does not declare itself, so iterations share nothing but memory, where the device
 * tracks what is defined (an accumulator declared before the loop disqualifies it);</li>
 * <li>writes only elements of pointer parameters ({@code dst[i] = ...}, not a vector {@code result} that is
 * returned), in assignments that are statements of its top level, so that every iteration makes all its writes
 * and none depends on a garbage condition ({@code if (src[i] > 0) dst[i] = 1;} disqualifies it);</li>
 * <li>has no {@code break}, {@code continue} or {@code return} and calls no function that takes a pointer.</li>
 * </ul>
 * Element {@code i} of the result may read any elements (the broadcast operand of {@code __bang_cycle_add}), and
 * an iteration may compute one element from a group ({@code __bang_reduce_sum} sums each 128-byte group into one
 * element): the iteration's writes are uninitialized if any of its reads was. A reduction to a single value
 * ({@code __bang_sum}, {@code __bang_max}) keeps state across iterations, or reads before its loop, and faults.
 */
public final class LaneWiseLoop {
	private LaneWiseLoop() {
	}

	/**
	 * Whether the reference body {@code statements} is element-wise, as the class comment defines it;
	 * {@code pointers} names the reference's pointer parameters.
	 */
	public static boolean admits(List<Statement> statements, Set<String> pointers, IntrinsicCatalog catalog) {
		if (statements.isEmpty() || !(statements.get(statements.size() - 1) instanceof ForStatement loop)) {
			return false;
		}
		for (Statement prefix : statements.subList(0, statements.size() - 1)) {
			if (touchesMemory(prefix) || jumps(prefix) || !callsOnlyScalars(prefix, catalog)) {
				return false;
			}
		}
		return countedLoop(loop) && callsOnlyScalars(loop, catalog) && !jumps(loop.getBody())
				&& keepsNoState(loop.getBody()) && writesParametersAtTopLevel(loop.getBody(), pointers);
	}

	/**
	 * The compiled body: the leading statements, then the loop with each iteration run as one lane of
	 * {@link Memory}.
	 */
	static Stmt compile(FunctionCompiler fc, List<Statement> statements) {
		fc.pushScope();
		try {
			Stmt[] prefix = statements.subList(0, statements.size() - 1).stream().map(fc.statements::compile)
					.toArray(Stmt[]::new);
			ForStatement loop = (ForStatement) statements.get(statements.size() - 1);
			Stmt init = fc.statements.declaration(loop.getInitDeclaration());
			Ex condition = fc.expressions.truth(fc.expressions.compile(loop.getCondition()));
			Ex update = fc.expressions.compile(loop.getUpdate());
			fc.pushScope();
			Stmt body = fc.statements.compile(loop.getBody());
			fc.popScope();
			int site = fc.program.site(loop);
			return f -> {
				for (Stmt s : prefix) {
					s.exec(f);
				}
				init.exec(f);
				Memory memory = f.memory;
				Execution execution = f.execution;
				while (condition.l(f) != 0) {
					if (--execution.steps <= 0) {
						execution.tick(f, site);
					}
					memory.beginLane();
					try {
						body.exec(f);
						memory.endLane();
					} finally {
						memory.leaveLane();
					}
					update.l(f);
				}
				return Stmt.NORMAL;
			};
		} finally {
			fc.popScope();
		}
	}

	/** {@code for (int i = start; condition; ++i)} (or {@code i++}) with a condition. */
	private static boolean countedLoop(ForStatement loop) {
		if (loop.getInitDeclaration() == null || loop.getInitDeclaration().getDeclarators().size() != 1
				|| loop.getCondition() == null) {
			return false;
		}
		String counter = loop.getInitDeclaration().getDeclarators().get(0).getName();
		Expression update = loop.getUpdate();
		EObject incremented = update instanceof Postfix postfix && "++".equals(postfix.getOp()) ? postfix.getOperand()
				: update instanceof Unary unary && "++".equals(unary.getOp()) ? unary.getOperand() : null;
		return incremented instanceof Name name && name.getName().equals(counter);
	}

	private static boolean touchesMemory(EObject node) {
		return contents(node).anyMatch(o -> o instanceof Index || o instanceof MemberAccess access && access.isArrow()
				|| o instanceof Unary unary && "*".equals(unary.getOp()));
	}

	private static boolean jumps(EObject node) {
		return contents(node).anyMatch(o -> o instanceof BreakStatement || o instanceof ContinueStatement
				|| o instanceof ReturnStatement);
	}

	/** Calls only catalog functions none of whose forms takes a pointer ({@code expf}, {@code __float2half_tz}). */
	private static boolean callsOnlyScalars(EObject node, IntrinsicCatalog catalog) {
		return contents(node).allMatch(o -> !(o instanceof Call call) || call.getCallee() instanceof Name callee
				&& catalog.function(callee.getName()).filter(LaneWiseLoop::scalarOnly).isPresent());
	}

	private static boolean scalarOnly(CatalogFunction function) {
		return function.signatures().stream().flatMap(s -> s.params().stream()).noneMatch(p -> p.type().contains("*"));
	}

	/** Whether every variable the loop body assigns is declared in it. */
	private static boolean keepsNoState(Statement body) {
		Set<String> declared = new HashSet<>();
		contents(body).forEach(o -> {
			if (o instanceof Declarator declarator && declarator.getName() != null) {
				declared.add(declarator.getName());
			}
		});
		return contents(body).allMatch(o -> {
			EObject target = assigned(o);
			return !(target instanceof Name name) || declared.contains(name.getName());
		});
	}

	/**
	 * Whether every write to memory is an assignment statement of the body's top level to an element of a pointer
	 * parameter ({@code dst[i]}, {@code ((char *)dst)[i]}).
	 */
	private static boolean writesParametersAtTopLevel(Statement body, Set<String> pointers) {
		List<Statement> top = body instanceof CompoundStatement block ? block.getStatements() : List.of(body);
		return contents(body).allMatch(o -> {
			EObject target = assigned(o);
			return target == null || target instanceof Name
					|| o instanceof Assignment && o.eContainer() instanceof ExpressionStatement statement
							&& top.contains(statement) && target instanceof Index element
							&& uncast(element.getTarget()) instanceof Name base && pointers.contains(base.getName());
		});
	}

	private static EObject uncast(EObject expression) {
		EObject e = strip(expression);
		while (e instanceof Cast cast) {
			e = strip(cast.getOperand());
		}
		return e;
	}

	/** What an assignment, increment or decrement assigns, or null when {@code node} is none of them. */
	private static EObject assigned(EObject node) {
		return switch (node) {
		case Assignment assignment -> strip(assignment.getLeft());
		case Postfix postfix -> strip(postfix.getOperand());
		case Unary unary when "++".equals(unary.getOp()) || "--".equals(unary.getOp()) -> strip(unary.getOperand());
		default -> null;
		};
	}

	private static EObject strip(EObject expression) {
		EObject e = expression;
		while (e instanceof Parenthesized p) {
			e = p.getExpression();
		}
		return e;
	}

	/** The node and everything under it. */
	private static Stream<EObject> contents(EObject node) {
		Stream.Builder<EObject> all = Stream.builder();
		all.add(node);
		node.eAllContents().forEachRemaining(all::add);
		return all.build();
	}
}
