package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TemplateArgument;
import org.xpiler.lang.kernel.TemplateCall;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Inlines the device functions that cooperate with the other threads of the block (they read the thread index,
 * wait at a barrier or shuffle) into the kernels that call them, so that loop recovery sees every barrier in
 * the kernel body: {@code float mean = block_reduce_sum(sdata, local_sum) / C;} becomes a block that binds the
 * parameters, runs the body with its final {@code return e;} turned into {@code block_reduce_sum_result0 = e;},
 * followed by {@code float mean = block_reduce_sum_result0 / C;}.
 */
final class DeviceInliner {
	private static final Set<String> COOPERATIVE_NAMES = Set.of("threadIdx", "blockIdx", "blockDim", "gridDim",
			"warpSize");

	private final Map<String, FunctionDefinition> functions;
	private final Dialect dialect;
	private final KernelPrinter printer;
	private int results;

	DeviceInliner(Map<String, FunctionDefinition> functions, Dialect dialect) {
		this.functions = functions;
		this.dialect = dialect;
		this.printer = dialect.printer();
	}

	/** Whether {@code f} (or a function it calls) uses the thread index, a barrier or a shuffle. */
	static boolean cooperative(FunctionDefinition f, Map<String, FunctionDefinition> functions) {
		return cooperative(f, functions, new HashSet<>());
	}

	private static boolean cooperative(FunctionDefinition f, Map<String, FunctionDefinition> functions,
			Set<String> seen) {
		if (f.getBody() == null || !seen.add(f.getName())) {
			return false;
		}
		for (var it = f.getBody().eAllContents(); it.hasNext();) {
			EObject o = it.next();
			if (o instanceof Name n && COOPERATIVE_NAMES.contains(n.getName())) {
				return true;
			}
			String callee = calleeName(o);
			if (callee != null) {
				if (callee.equals("__syncthreads") || callee.equals("__syncwarp") || callee.startsWith("__shfl")) {
					return true;
				}
				FunctionDefinition g = functions.get(callee);
				if (g != null && cooperative(g, functions, seen)) {
					return true;
				}
			}
		}
		return false;
	}

	/** The function a call or a template call ({@code warpReduce<float>(v)}) names, else null. */
	private static String calleeName(EObject o) {
		return switch (o) {
		case Call c -> Snippets.callee(c);
		case TemplateCall t -> t.getFunction();
		default -> null;
		};
	}

	private static List<Expression> arguments(Expression call) {
		return call instanceof TemplateCall t ? t.getArgs() : ((Call) call).getArgs();
	}

	/**
	 * Inlines every call of a cooperative function in {@code body} (of {@code function}, in {@code unit}), until
	 * none is left; a template's call inlines the instance its template arguments, given or deduced, make.
	 */
	void inlineCooperative(TranslationUnit unit, FunctionDefinition function) {
		CompoundStatement body = function.getBody();
		for (int round = 0; round < 16; round++) {
			Expression call = next(body);
			if (call == null) {
				return;
			}
			FunctionDefinition f = functions.get(calleeName(call));
			if (f.getTemplate() != null) {
				List<TemplateArgument> given = call instanceof TemplateCall t ? t.getTemplateArgs() : List.of();
				f = new TemplateInstances(new LaunchConstants(unit, function, dialect), function, dialect).instance(f, call,
						given, arguments(call));
			}
			inline(call, f);
		}
		throw PassRefusal.at(body, "cooperative device functions call each other too deeply to inline");
	}

	private Expression next(CompoundStatement body) {
		for (var it = body.eAllContents(); it.hasNext();) {
			EObject o = it.next();
			String callee = calleeName(o);
			if (callee != null) {
				FunctionDefinition f = functions.get(callee);
				if (f != null && cooperative(f, functions)) {
					return (Expression) o;
				}
			}
		}
		return null;
	}

	private void inline(Expression call, FunctionDefinition f) {
		List<Expression> args = arguments(call);
		Statement own = EcoreUtil2.getContainerOfType(call, Statement.class);
		if (own instanceof ExpressionStatement || own instanceof DeclarationStatement || own instanceof ReturnStatement) {
			Snippets.ensureInBlock(own); // if (tid < 32) warpReduce(s, tid);
		}
		Statement statement = Snippets.enclosingStatement(call);
		if (!(statement instanceof ExpressionStatement || statement instanceof DeclarationStatement
				|| statement instanceof ReturnStatement) || !(statement.eContainer() instanceof CompoundStatement)) {
			throw PassRefusal.at(call, "the call of " + f.getName() + " must be a statement, an initializer or a "
					+ "return value to be inlined");
		}
		if (f.getParams().size() != args.size()) {
			throw PassRefusal.at(call, f.getName() + " takes " + f.getParams().size() + " arguments");
		}
		FunctionDefinition copy = EcoreUtil.copy(f);
		int id = results++;
		String suffix = "_" + id;
		Set<String> parameters = new HashSet<>();
		copy.getParams().forEach(p -> parameters.add(p.getDeclarator().getName()));
		copy.getBody().eAllContents().forEachRemaining(o -> {
			if (o instanceof Name n && parameters.contains(n.getName())) {
				n.setName(n.getName() + suffix);
			}
		});
		List<Statement> bodyStatements = new ArrayList<>(copy.getBody().getStatements());
		boolean returnsValue = !returnType(copy).equals("void");
		String result = f.getName() + "_result" + id;
		for (var it = copy.getBody().eAllContents(); it.hasNext();) {
			if (it.next() instanceof ReturnStatement r && r != bodyStatements.get(bodyStatements.size() - 1)) {
				throw PassRefusal.at(call, f.getName() + " returns before its end and cannot be inlined");
			}
		}
		StringBuilder text = new StringBuilder();
		if (returnsValue) {
			text.append(returnType(copy)).append(' ').append(result).append(";\n");
		}
		text.append("{\n");
		for (int i = 0; i < copy.getParams().size(); i++) {
			Parameter p = copy.getParams().get(i);
			String declared = printer.parameter(p).replaceFirst("\\b" + p.getDeclarator().getName() + "\\b",
					p.getDeclarator().getName() + suffix);
			text.append(declared).append(" = ").append(printer.expression(args.get(i))).append(";\n");
		}
		for (Statement s : bodyStatements) {
			if (s instanceof ReturnStatement r) {
				if (r.getValue() != null) {
					text.append(result).append(" = ").append(printer.expression(r.getValue())).append(";\n");
				}
			} else {
				text.append(printer.statement(s, 0));
			}
		}
		text.append("}\n");
		CompoundStatement list = (CompoundStatement) statement.eContainer();
		int at = list.getStatements().indexOf(statement);
		list.getStatements().addAll(at, Snippets.statements(text.toString(), dialect));
		if (returnsValue) {
			EcoreUtil.replace(call, Snippets.expression(result, dialect));
		} else if (statement instanceof ExpressionStatement es && es.getExpression() == call) {
			EcoreUtil.remove(statement);
		} else {
			throw PassRefusal.at(call, "the void function " + f.getName() + " is used as a value");
		}
	}

	/** {@code float}: the printed head up to the name, without qualifiers. */
	private String returnType(FunctionDefinition f) {
		String head = Snippets.signature(f, printer);
		head = head.substring(0, head.indexOf(f.getName() + "(")).strip();
		head = head.substring(head.lastIndexOf('\n') + 1);
		for (String q : List.of("__device__", "__host__", "__forceinline__", "__noinline__", "static", "inline")) {
			head = head.replaceAll("\\b" + q + "\\b", "");
		}
		return head.strip();
	}
}
