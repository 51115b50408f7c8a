package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.TemplateArgument;
import org.xpiler.lang.kernel.TemplateParameter;
import org.xpiler.lang.kernel.TypeName;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.parsing.TemplateArguments;

/**
 * The instance of a template function for one launch or call, as the compiler instantiates it: a copy of the
 * function without its template header, each value parameter replaced by its value and each type parameter by
 * its type. Arguments come from the launch or call ({@code layernorm<128, float><<<rows, 128>>>(...)},
 * {@code warpReduce<float>(v)}), else from the parameter's default, else, for a type, from the declared type
 * of the variable passed for a parameter of that type ({@code const T* x} given {@code float* d_x},
 * {@code T v} given {@code float sum}) in the calling function.
 *
 * <pre>
 * template &lt;int BLOCK&gt; __global__ void k(float* y) { __shared__ float s[BLOCK]; ... }   launched k&lt;128&gt;&lt;&lt;&lt;8, 128&gt;&gt;&gt;(d_y)
 * instance:                 __global__ void k(float* y) { __shared__ float s[128]; ... }
 * </pre>
 */
final class TemplateInstances {
	private final LaunchConstants constants;
	private final FunctionDefinition caller;
	private final Dialect dialect;

	/** Instances for launches or calls in {@code caller}, whose values fold with {@code constants}. */
	TemplateInstances(LaunchConstants constants, FunctionDefinition caller, Dialect dialect) {
		this.constants = constants;
		this.caller = caller;
		this.dialect = dialect;
	}

	/**
	 * The instance of {@code function} that {@code site}, a launch or a call, runs with the explicit template
	 * {@code arguments} and the arguments {@code callArgs}.
	 */
	FunctionDefinition instance(FunctionDefinition function, EObject site, List<TemplateArgument> arguments,
			List<Expression> callArgs) {
		List<TemplateParameter> parameters = function.getTemplate().getParams();
		if (arguments.size() > parameters.size()) {
			throw PassRefusal.at(site, function.getName() + " takes " + parameters.size() + " template arguments, not "
					+ arguments.size());
		}
		Map<String, Expression> values = new HashMap<>();
		Map<String, TypeSpecifier> types = new HashMap<>();
		for (int i = 0; i < parameters.size(); i++) {
			TemplateParameter parameter = parameters.get(i);
			TemplateArgument argument = i < arguments.size() ? arguments.get(i) : null;
			if (parameter.getKind() != null) {
				TypeName type = argument != null ? argument.getType() : parameter.getDefaultType();
				types.put(parameter.getName(), type != null ? plainType(type, site) : deduced(function, parameter, site,
						callArgs));
			} else {
				Expression value = argument != null ? TemplateArguments.value(argument) : parameter.getDefaultValue();
				OptionalLong folded = value == null ? OptionalLong.empty() : constants.value(value);
				if (folded.isEmpty()) {
					throw PassRefusal.at(site, "the template argument " + parameter.getName() + " of " + function.getName()
							+ " is not a compile-time constant");
				}
				values.put(parameter.getName(), Snippets.expression(Long.toString(folded.getAsLong()), dialect));
			}
		}
		FunctionDefinition instance = EcoreUtil.copy(function);
		instance.setTemplate(null);
		List<EObject> uses = new ArrayList<>();
		instance.eAllContents().forEachRemaining(uses::add);
		for (EObject use : uses) {
			if (use instanceof TemplateArgument a && TemplateArguments.value(a) instanceof Name n && a.getValue() == null
					&& values.containsKey(n.getName())) {
				// sum<B>(v) in the body: a lone name reads as a type until it is known to be B's value
				a.setType(null);
				a.setValue(EcoreUtil.copy(values.get(n.getName())));
			} else if (use instanceof Name n && values.containsKey(n.getName())) {
				EcoreUtil.replace(n, EcoreUtil.copy(values.get(n.getName())));
			} else if (use instanceof NamedType t && types.containsKey(t.getName())) {
				EcoreUtil.replace(t, EcoreUtil.copy(types.get(t.getName())));
			}
		}
		return instance;
	}

	/** A type argument that replaces a type name alone: no pointers or qualifiers of its own. */
	private static TypeSpecifier plainType(TypeName type, EObject site) {
		if (!type.getPointers().isEmpty() || !type.getSpecifiers().isEmpty()) {
			throw PassRefusal.at(site, "a template type argument with pointers or qualifiers is not lifted");
		}
		return type.getType();
	}

	/** The type {@code parameter} gets from the declared type of a variable the site passes for it. */
	private TypeSpecifier deduced(FunctionDefinition function, TemplateParameter parameter, EObject site,
			List<Expression> callArgs) {
		for (int i = 0; i < function.getParams().size() && i < callArgs.size(); i++) {
			Parameter p = function.getParams().get(i);
			if (p.getType() instanceof NamedType t && t.getName().equals(parameter.getName())
					&& callArgs.get(i) instanceof Name n) {
				TypeSpecifier declared = declaredType(n.getName(), p.getDeclarator().getPointers().size());
				if (declared != null) {
					return declared;
				}
			}
		}
		throw PassRefusal.at(site, "cannot deduce the template parameter " + parameter.getName() + " of "
				+ function.getName() + "; give it at the launch or call");
	}

	/**
	 * The type specifier the caller declares {@code name} with, as a parameter or a local, if it declares it
	 * once and with {@code pointers} levels of pointer.
	 */
	private TypeSpecifier declaredType(String name, int pointers) {
		List<TypeSpecifier> found = new ArrayList<>();
		for (Parameter p : caller.getParams()) {
			if (name.equals(p.getDeclarator().getName()) && p.getDeclarator().getPointers().size() == pointers) {
				found.add(p.getType());
			}
		}
		caller.getBody().eAllContents().forEachRemaining(o -> {
			if (o instanceof DeclarationStatement d) {
				for (Declarator x : d.getDeclaration().getDeclarators()) {
					if (name.equals(x.getName()) && x.getPointers().size() == pointers) {
						found.add(d.getDeclaration().getType());
					}
				}
			}
		});
		return found.size() == 1 ? found.get(0) : null;
	}
}
