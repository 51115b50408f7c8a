package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.LinkageSpecifier;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Inlines the calls of pure one-line functions of sequential C++ ({@code float sigmoidf(float x) { return
 * 1.0f / (1.0f + expf(-x)); }}) into their callers and drops the functions no longer called, so that
 * {@code output[i] = sigmoidf(input[i]);} reads {@code output[i] = (1.0f / (1.0f + expf(-(input[i]))));}: the
 * tensorize passes see the arithmetic they can vectorize instead of a call they cannot. A function qualifies
 * when its body is a single {@code return e;} whose expression assigns nothing and calls no function of the
 * file; a call is inlined when its arguments have no side effects (they may be evaluated more or less often).
 */
final class PureFunctionInliner {
	private static final Set<String> SIDE_EFFECT_OPS = Set.of("++", "--");

	private final KernelPrinter printer = Dialect.VNNI.printer();

	/** Inlines every qualifying call in {@code unit}; returns how many calls were inlined. */
	int inline(TranslationUnit unit) {
		Map<String, FunctionDefinition> functions = Snippets.functionsByName(unit);
		Map<String, FunctionDefinition> pure = new HashMap<>();
		functions.forEach((name, f) -> {
			if (returnedExpression(f, functions) != null && !exported(f)) {
				pure.put(name, f);
			}
		});
		List<Call> calls = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call c && pure.containsKey(Snippets.callee(c)) && inlinable(c, pure.get(Snippets.callee(c)),
					functions)) {
				calls.add(c);
			}
		});
		for (Call call : calls) {
			EcoreUtil.replace(call, inlined(call, pure.get(Snippets.callee(call)), functions));
		}
		for (FunctionDefinition f : new LinkedHashSet<>(pure.values())) {
			List<String> names = pure.entrySet().stream().filter(e -> e.getValue() == f).map(Map.Entry::getKey).toList();
			if (calls.stream().anyMatch(c -> pure.get(Snippets.callee(c)) == f)
					&& names.stream().noneMatch(name -> Snippets.calls(unit, name))) {
				EcoreUtil.remove(f);
			}
		}
		return calls.size();
	}

	/**
	 * The arguments have no side effects, and the names the function reads besides its parameters (globals)
	 * mean the same in the caller: no local of the caller hides them.
	 */
	private static boolean inlinable(Call call, FunctionDefinition f, Map<String, FunctionDefinition> functions) {
		FunctionDefinition caller = EcoreUtil2.getContainerOfType(call, FunctionDefinition.class);
		if (caller == f || f.isVariadic() || f.getParams().size() != call.getArgs().size()
				|| f.getParams().stream().anyMatch(p -> p.getDeclarator().getName() == null)
				|| !call.getArgs().stream().allMatch(a -> sideEffectFree(a, functions))) {
			return false;
		}
		Set<String> parameters = new java.util.HashSet<>();
		f.getParams().forEach(p -> parameters.add(p.getDeclarator().getName()));
		return EcoreUtil2.eAllOfType(returnedExpression(f, functions), Name.class).stream()
				.noneMatch(n -> !parameters.contains(n.getName()) && !(n.eContainer() instanceof Call c && c.getCallee() == n)
						&& CanonicalLoop.declares(caller, n.getName()));
	}

	/** {@code (e)} with each parameter replaced by its argument in parentheses. */
	private Expression inlined(Call call, FunctionDefinition f, Map<String, FunctionDefinition> functions) {
		Parenthesized body = KernelFactory.eINSTANCE.createParenthesized();
		body.setExpression(EcoreUtil.copy(returnedExpression(f, functions)));
		Map<String, Expression> arguments = new HashMap<>();
		List<Parameter> parameters = f.getParams();
		for (int i = 0; i < parameters.size(); i++) {
			arguments.put(parameters.get(i).getDeclarator().getName(), call.getArgs().get(i));
		}
		List<Name> uses = new ArrayList<>();
		body.eAllContents().forEachRemaining(o -> {
			if (o instanceof Name n && arguments.containsKey(n.getName()) && !(o.eContainer() instanceof Call c
					&& c.getCallee() == o)) {
				uses.add(n);
			}
		});
		for (Name use : uses) {
			EcoreUtil.replace(use, Snippets.expression("(" + printer.expression(arguments.get(use.getName())) + ")",
					Dialect.VNNI));
		}
		return body;
	}

	/** The {@code e} of a body that is exactly {@code return e;} with a pure {@code e}, else null. */
	private static Expression returnedExpression(FunctionDefinition f, Map<String, FunctionDefinition> functions) {
		var statements = f.getBody().getStatements();
		if (statements.size() != 1 || !(statements.get(0) instanceof ReturnStatement r) || r.getValue() == null) {
			return null;
		}
		return sideEffectFree(r.getValue(), functions) ? r.getValue() : null;
	}

	/** No assignment, no increment, no call of a function of the file (math library calls are pure). */
	private static boolean sideEffectFree(Expression e, Map<String, FunctionDefinition> functions) {
		for (EObject o : EcoreUtil2.eAllOfType(e, EObject.class)) {
			if (o instanceof Assignment || o instanceof Postfix
					|| o instanceof Unary u && SIDE_EFFECT_OPS.contains(u.getOp())
					|| o instanceof Call c && (Snippets.callee(c) == null || functions.containsKey(Snippets.callee(c)))) {
				return false;
			}
		}
		return true;
	}

	private static boolean exported(FunctionDefinition f) {
		return f.getSpecifiers().stream().anyMatch(s -> s instanceof LinkageSpecifier)
				|| f.eContainer() instanceof org.xpiler.lang.kernel.LinkageBlock;
	}
}
