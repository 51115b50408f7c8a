package org.xpiler.lang.parsing;

import java.util.ArrayList;
import java.util.List;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.linking.lazy.LazyLinkingResource;
import org.eclipse.xtext.parser.IParseResult;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.TemplateArgument;
import org.xpiler.lang.kernel.TypeName;

/**
 * The resource of every dialect's files: after each parse (a file read, or an editor's reparse) it settles what
 * the grammar leaves open. A template argument that is a lone name ({@code k<T>}, {@code k<BLOCK>}) becomes a
 * type name, whether it names a type or a constant, as readers of template arguments expect; and HIP's
 * {@code HIP_DYNAMIC_SHARED} becomes the declaration it expands to ({@link HipDynamicShared}).
 */
public class KernelResource extends LazyLinkingResource {
	@Override
	protected void updateInternalState(IParseResult newParseResult) {
		EObject root = newParseResult.getRootASTElement();
		if (root != null) {
			loneNamesAsTypes(root);
			HipDynamicShared.expand(root);
		}
		super.updateInternalState(newParseResult);
	}

	private static void loneNamesAsTypes(EObject root) {
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
}
