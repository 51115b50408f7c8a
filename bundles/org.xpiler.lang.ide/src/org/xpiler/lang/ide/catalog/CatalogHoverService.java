package org.xpiler.lang.ide.catalog;

import java.util.Optional;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.lsp4j.Hover;
import org.eclipse.lsp4j.HoverParams;
import org.eclipse.lsp4j.MarkupContent;
import org.eclipse.lsp4j.MarkupKind;
import org.eclipse.lsp4j.Range;
import org.eclipse.xtext.ide.server.Document;
import org.eclipse.xtext.ide.server.hover.HoverService;
import org.eclipse.xtext.nodemodel.ILeafNode;
import org.eclipse.xtext.nodemodel.util.NodeModelUtils;
import org.eclipse.xtext.resource.XtextResource;
import org.eclipse.xtext.util.CancelIndicator;
import org.xpiler.lang.catalog.CatalogDocumentation;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.TemplateCall;
import org.xpiler.lang.kernel.TypeSpecifier;

/**
 * Hover over an intrinsic, builtin variable, constant or type: its signatures, element types, summary and
 * rules from the dialect's catalog. Names are plain identifiers in our grammars (not cross-references), so
 * the hovered word is found through the node model.
 */
public class CatalogHoverService extends HoverService {

	@Override
	public Hover hover(Document document, XtextResource resource, HoverParams params, CancelIndicator cancel) {
		Optional<Dialect> dialect = DialectOfResource.of(resource);
		if (dialect.isEmpty() || resource.getParseResult() == null) {
			return EMPTY_HOVER;
		}
		int offset = document.getOffSet(params.getPosition());
		ILeafNode leaf = NodeModelUtils.findLeafNodeAtOffset(resource.getParseResult().getRootNode(), offset);
		if (leaf == null || leaf.isHidden()) {
			return EMPTY_HOVER;
		}
		EObject element = NodeModelUtils.findActualSemanticObjectFor(leaf);
		String name = switch (element) {
		case Name n -> n.getName();
		case TemplateCall call -> call.getFunction();
		case TypeSpecifier type -> type.getName();
		case null, default -> null;
		};
		Optional<String> markdown = name == null ? Optional.empty()
				: CatalogDocumentation.markdown(dialect.get().catalog(), name);
		if (markdown.isEmpty()) {
			return EMPTY_HOVER;
		}
		Range range = new Range(document.getPosition(leaf.getOffset()), document.getPosition(leaf.getEndOffset()));
		return new Hover(new MarkupContent(MarkupKind.MARKDOWN, markdown.get()), range);
	}
}
