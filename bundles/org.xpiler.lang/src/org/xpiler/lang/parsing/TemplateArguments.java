package org.xpiler.lang.parsing;

import java.util.ArrayList;
import java.util.List;

import org.eclipse.emf.ecore.EObject;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.TemplateArgument;
import org.xpiler.lang.kernel.TypeName;

/**
 * The two readings of a template argument that is a lone name: {@code k<T>} names a type and {@code k<BLOCK>}
 * a constant, which parsing cannot tell apart. After parsing, such an argument is a type name
 * ({@link #loneNamesAsTypes}); a reader that expects a value reads it as the constant of that name
 * ({@link #value}).
 */
public final class TemplateArguments {
	private TemplateArguments() {
	}

	/** Makes every template argument under {@code root} that is a lone name a type name. */
	static void loneNamesAsTypes(EObject root) {
		List<TemplateArgument> arguments = new ArrayList<>();
		root.eAllContents().forEachRemaining(o -> {
			if (o instanceof TemplateArgument a && a.getValue() instanceof Name) {
				arguments.add(a);
			}
		});
		for (TemplateArgument argument : arguments) {
			NamedType named = KernelFactory.eINSTANCE.createNamedType();
			named.setName(((Name) argument.getValue()).getName());
			TypeName type = KernelFactory.eINSTANCE.createTypeName();
			type.setType(named);
			argument.setValue(null);
			argument.setType(type);
		}
	}

	/**
	 * The value {@code argument} gives a non-type template parameter: its expression, or the name of the
	 * constant that a lone-name argument spells (a new, detached {@link Name}); null for any other type.
	 */
	public static Expression value(TemplateArgument argument) {
		if (argument.getValue() != null) {
			return argument.getValue();
		}
		TypeName type = argument.getType();
		if (type != null && type.getSpecifiers().isEmpty() && type.getPointers().isEmpty()
				&& type.getType() instanceof NamedType named && named.getTemplateArgs().isEmpty()) {
			Name name = KernelFactory.eINSTANCE.createName();
			name.setName(named.getName());
			return name;
		}
		return null;
	}
}
