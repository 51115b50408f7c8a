package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.ArrayDimension;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.InitializerList;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.StandardLibrary;
import org.xpiler.lang.parsing.TemplateArguments;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * A C++ kernel's {@code std::array<T, N>} variables as the plain arrays {@code T x[N]} they are laid out as,
 * which every dialect holds: subscripts stay, {@code x.size()} is {@code N}, {@code x.data()} and
 * {@code x.begin()} are {@code x}, {@code x.end()} is {@code (x + N)}, and {@code x.fill(v);} is a loop.
 *
 * <pre>
 * before: std::array&lt;float, 9&gt; win; win.fill(0.0f); m = *std::max_element(win.begin(), win.end());
 * after:  float win[9]; for (int i = 0; i &lt; 9; ++i) win[i] = 0.0f; m = *std::max_element(win, (win + 9));
 * </pre>
 */
final class StdArrays {
	private final Dialect dialect;
	private final KernelPrinter printer;

	StdArrays(Dialect dialect) {
		this.dialect = dialect;
		this.printer = dialect.printer();
	}

	/** Rewrites every {@code std::array} variable of {@code unit}; returns how many. */
	int flatten(TranslationUnit unit) {
		for (Parameter p : EcoreUtil2.getAllContentsOfType(unit, Parameter.class)) {
			if (isStdArray(p.getType())) {
				throw PassRefusal.at(p, "the parameter " + p.getDeclarator().getName() + " is a std::array; only local "
						+ "and file-scope std::array variables become plain arrays");
			}
		}
		Map<Declarator, String> lengths = new LinkedHashMap<>();
		for (Declaration d : EcoreUtil2.getAllContentsOfType(unit, Declaration.class)) {
			if (isStdArray(d.getType())) {
				NamedType array = (NamedType) d.getType();
				if (!array.getTemplateArgs().get(0).getType().getPointers().isEmpty()) {
					throw PassRefusal.at(d, "a std::array of pointers does not become a plain array here");
				}
				String length = printer.expression(TemplateArguments.value(array.getTemplateArgs().get(1)));
				for (Declarator x : d.getDeclarators()) {
					if (!x.getPointers().isEmpty()) {
						throw PassRefusal.at(x, x.getName() + " points to a std::array; only std::array variables become "
								+ "plain arrays");
					}
					lengths.put(x, length);
				}
				d.setType(EcoreUtil.copy(array.getTemplateArgs().get(0).getType().getType()));
			}
		}
		Set<String> taken = Snippets.takenNames(unit);
		lengths.forEach((declarator, length) -> {
			ArrayDimension dimension = KernelFactory.eINSTANCE.createArrayDimension();
			dimension.setSize(Snippets.expression(length, dialect));
			declarator.getDimensions().add(dimension);
			if (declarator.getInitializer() instanceof InitializerList list && list.getElements().size() == 1
					&& list.getElements().get(0) instanceof InitializerList inner) {
				declarator.setInitializer(EcoreUtil.copy(inner)); // std::array<float, 3> w = {{1, 2, 3}}
			}
			EObject scope = EcoreUtil2.getContainerOfType(declarator, FunctionDefinition.class);
			for (Call call : memberCalls(scope != null ? scope : EcoreUtil2.getContainerOfType(declarator,
					TranslationUnit.class), declarator.getName())) {
				rewrite(call, declarator.getName(), "(" + length + ")", taken);
			}
		});
		return lengths.size();
	}

	private static boolean isStdArray(EObject type) {
		return type instanceof NamedType named && StandardLibrary.isArray(named);
	}

	/** The calls {@code name.member(...)} under {@code root}. */
	private static List<Call> memberCalls(EObject root, String name) {
		List<Call> calls = new ArrayList<>();
		root.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call call && call.getCallee() instanceof MemberAccess access && !access.isArrow()
					&& access.getTarget() instanceof Name target && target.getName().equals(name)) {
				calls.add(call);
			}
		});
		return calls;
	}

	private void rewrite(Call call, String name, String length, Set<String> taken) {
		String member = ((MemberAccess) call.getCallee()).getMember();
		String value = switch (member) {
		case "size", "max_size" -> length;
		case "data", "begin" -> name;
		case "end" -> "(" + name + " + " + length + ")";
		default -> null;
		};
		if (value != null && call.getArgs().isEmpty()) {
			EcoreUtil.replace(call, Snippets.expression(value, dialect));
			return;
		}
		Statement statement = Snippets.enclosingStatement(call);
		if (member.equals("fill") && call.getArgs().size() == 1 && statement instanceof ExpressionStatement es
				&& es.getExpression() == call) {
			String i = Snippets.freshName(taken, "i", dialect);
			EcoreUtil.replace(statement, Snippets.statements("for (int " + i + " = 0; " + i + " < " + length + "; ++" + i
					+ ")\n    " + name + "[" + i + "] = " + printer.expression(call.getArgs().get(0)) + ";", dialect).get(0));
			return;
		}
		throw PassRefusal.at(call, "std::array's " + member + "() has no plain-array counterpart here");
	}
}
