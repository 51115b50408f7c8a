package org.xpiler.lang.parsing;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.linking.lazy.LazyLinkingResource;
import org.eclipse.xtext.parser.IParseResult;

/**
 * The resource of every dialect's files: after each parse (a file read, or an editor's reparse) it settles what
 * the grammar leaves open. A template argument that is a lone name ({@code k<T>}, {@code k<BLOCK>}) becomes a
 * type name ({@link TemplateArguments}), and HIP's {@code HIP_DYNAMIC_SHARED} becomes the declaration it
 * expands to ({@link HipDynamicShared}).
 */
public class KernelResource extends LazyLinkingResource {
	@Override
	protected void updateInternalState(IParseResult newParseResult) {
		EObject root = newParseResult.getRootASTElement();
		if (root != null) {
			TemplateArguments.loneNamesAsTypes(root);
			HipDynamicShared.expand(root);
		}
		super.updateInternalState(newParseResult);
	}
}
