package org.xpiler.lang.validation;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.xpiler.lang.catalog.CatalogEntries.CatalogVariable;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.catalog.IntrinsicCatalog;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.SwitchStatement;
import org.xpiler.lang.kernel.WhileStatement;

/**
 * A barrier ({@code __syncthreads}, {@code __sync_cluster}, ... marked {@code barrier} in the catalog) must be
 * reached by every thread of its scope. Reaching it under a condition that depends on the thread, or after a
 * {@code return} taken by only some threads, hangs or races on real hardware: a warning names the condition.
 * A value depends on the thread when it is computed from a thread-dependent builtin (threadIdx, taskId, ...)
 * directly or through local variables.
 */
final class BarrierCheck {
	private final IntrinsicCatalog catalog;
	private final Reporter reporter;

	BarrierCheck(Dialect dialect, Reporter reporter) {
		this.catalog = dialect.catalog();
		this.reporter = reporter;
	}

	void check(FunctionDefinition function) {
		if (function.getBody() == null) {
			return;
		}
		Set<String> dependent = threadDependentNames(function);
		new Walker(dependent).statement(function.getBody());
	}

	/** The builtins plus every local computed from them, to a fixed point. */
	private Set<String> threadDependentNames(FunctionDefinition function) {
		Set<String> dependent = new HashSet<>();
		catalog.variables().stream().filter(CatalogVariable::threadDependent).map(CatalogVariable::name)
				.forEach(dependent::add);
		boolean grew = true;
		while (grew) {
			grew = false;
			for (EObject object : (Iterable<EObject>) function.getBody()::eAllContents) {
				String target = null;
				EObject value = null;
				if (object instanceof Declarator declarator && declarator.getInitializer() != null) {
					target = declarator.getName();
					value = declarator.getInitializer();
				} else if (object instanceof Assignment assignment && assignment.getLeft() instanceof Name name) {
					target = name.getName();
					value = assignment.getRight();
				}
				if (target != null && !dependent.contains(target) && mentions(value, dependent)) {
					grew |= dependent.add(target);
				}
			}
		}
		return dependent;
	}

	private boolean isBarrier(Call call) {
		String name = ModelQueries.calleeName(call);
		return name != null && catalog.function(name).map(CatalogFunction::barrier).orElse(false);
	}

	private static boolean mentions(EObject expression, Set<String> names) {
		return ModelQueries.firstName(expression, names::contains) != null;
	}

	private final class Walker {
		private final Set<String> dependent;
		/** Thread-dependent conditions around the current statement, innermost last. */
		private final Deque<Expression> conditions = new ArrayDeque<>();
		/** A thread-dependent early return seen so far in the function, if any. */
		private ReturnStatement divergentReturn;

		Walker(Set<String> dependent) {
			this.dependent = dependent;
		}

		void statement(EObject statement) {
			switch (statement) {
			case IfStatement s -> guarded(s.getCondition(), s.getThen(), s.getElse());
			case WhileStatement s -> guarded(s.getCondition(), s.getBody());
			case DoStatement s -> guarded(s.getCondition(), s.getBody());
			case SwitchStatement s -> guarded(s.getCondition(), s.getBody());
			case ForStatement s -> {
				scan(s.getInitDeclaration());
				scan(s.getInitExpression());
				guarded(s.getCondition(), s.getBody(), s.getUpdate());
			}
			case ReturnStatement r -> {
				scan(r);
				if (!conditions.isEmpty() && divergentReturn == null) {
					divergentReturn = r;
				}
			}
			case CompoundStatement block -> block.getStatements().forEach(this::statement);
			default -> scan(statement);
			}
		}

		private void guarded(Expression condition, EObject... bodies) {
			scan(condition);
			boolean divergent = condition != null && mentions(condition, dependent);
			if (divergent) {
				conditions.addLast(condition);
			}
			for (EObject body : bodies) {
				if (body instanceof Expression expression) {
					scan(expression);
				} else if (body != null) {
					statement(body);
				}
			}
			if (divergent) {
				conditions.removeLast();
			}
		}

		/** Looks for barrier calls inside an expression or a simple statement. */
		private void scan(EObject root) {
			if (root == null) {
				return;
			}
			if (root instanceof Call call) {
				barrier(call);
			}
			for (EObject object : (Iterable<EObject>) root::eAllContents) {
				if (object instanceof Call call) {
					barrier(call);
				} else if (object instanceof Conditional conditional && mentions(conditional.getCondition(), dependent)
						&& (contains(conditional.getThen()) || contains(conditional.getElse()))) {
					warn(firstBarrier(conditional), conditional.getCondition());
				}
			}
		}

		private void barrier(Call call) {
			if (!isBarrier(call)) {
				return;
			}
			String name = ModelQueries.calleeName(call);
			if (!conditions.isEmpty()) {
				warn(call, conditions.peekLast());
			} else if (divergentReturn != null) {
				reporter.warning("'" + name + "()' comes after a return that only some threads take (line "
						+ ModelQueries.line(divergentReturn) + "): the threads that returned never reach the barrier", call,
						"divergent-barrier");
			}
		}

		private boolean contains(Expression expression) {
			return firstBarrier(expression) != null;
		}

		private Call firstBarrier(EObject root) {
			for (EObject object : (Iterable<EObject>) root::eAllContents) {
				if (object instanceof Call call && isBarrier(call)) {
					return call;
				}
			}
			return null;
		}

		private void warn(Call call, Expression condition) {
			if (call == null) {
				return;
			}
			String text = "'" + ModelQueries.sourceText(condition) + "'";
			Name cause = ModelQueries.firstName(condition, dependent::contains);
			reporter.warning("'" + ModelQueries.calleeName(call) + "()' is reached under " + text + " (line "
					+ ModelQueries.line(condition) + "), which depends on the thread through '" + cause.getName()
					+ "': threads that skip the barrier make the others wait forever or race", call,
					"divergent-barrier");
		}

	}
}
