package org.xpiler.lang.ide.catalog;

import java.util.Optional;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.Assignment;
import org.eclipse.xtext.GrammarUtil;
import org.eclipse.xtext.ide.editor.contentassist.ContentAssistContext;
import org.eclipse.xtext.ide.editor.contentassist.ContentAssistEntry;
import org.eclipse.xtext.ide.editor.contentassist.IIdeContentProposalAcceptor;
import org.eclipse.xtext.ide.editor.contentassist.IdeContentProposalProvider;
import org.xpiler.lang.catalog.CatalogDocumentation;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.catalog.IntrinsicCatalog;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.FunctionDefinition;

/**
 * Content assist for identifiers: the dialect's intrinsics, builtin variables and constants from its catalog
 * (with their signature and summary), and the names the file declares. Types are proposed where a type goes.
 */
public class CatalogProposalProvider extends IdeContentProposalProvider {
	private static final Set<String> EXPRESSION_RULES = Set.of("PrimaryExpression");
	private static final Set<String> TYPE_RULES = Set.of("TypeSpecifier", "NamedTypeSpecifier");

	@Override
	protected void _createProposals(Assignment assignment, ContentAssistContext context,
			IIdeContentProposalAcceptor acceptor) {
		super._createProposals(assignment, context, acceptor);
		String rule = GrammarUtil.containingRule(assignment).getName();
		boolean expression = EXPRESSION_RULES.contains(rule) && assignment.getFeature().equals("name");
		boolean type = TYPE_RULES.contains(rule) && assignment.getFeature().equals("name");
		if (!expression && !type) {
			return;
		}
		Optional<Dialect> dialect = DialectOfResource.of(context.getResource());
		if (dialect.isEmpty()) {
			return;
		}
		IntrinsicCatalog catalog = dialect.get().catalog();
		if (type) {
			catalog.types().forEach(t -> accept(context, acceptor, t.name(), "type", t.summary(),
					ContentAssistEntry.KIND_CLASS));
			return;
		}
		for (CatalogFunction function : catalog.functions()) {
			String signature = function.signatures().isEmpty() ? function.name()
					: CatalogDocumentation.declaration(function, function.signatures().get(0));
			accept(context, acceptor, function.name(), signature,
					CatalogDocumentation.markdown(catalog, function.name()).orElse(""), ContentAssistEntry.KIND_FUNCTION);
		}
		catalog.variables().forEach(v -> accept(context, acceptor, v.name(), v.type(), v.summary(),
				ContentAssistEntry.KIND_VARIABLE));
		catalog.constants().forEach(c -> accept(context, acceptor, c.name(), c.type(), c.summary(),
				ContentAssistEntry.KIND_VALUE));
		for (EObject object : (Iterable<EObject>) context.getRootModel()::eAllContents) {
			if (object instanceof Declarator declarator && declarator.getName() != null) {
				accept(context, acceptor, declarator.getName(), "declared in this file", null,
						ContentAssistEntry.KIND_VARIABLE);
			} else if (object instanceof FunctionDefinition function) {
				accept(context, acceptor, function.getName(), "function of this file", null,
						ContentAssistEntry.KIND_FUNCTION);
			}
		}
	}

	private void accept(ContentAssistContext context, IIdeContentProposalAcceptor acceptor, String name,
			String description, String documentation, String kind) {
		if (!name.startsWith(context.getPrefix())) {
			return;
		}
		ContentAssistEntry entry = getProposalCreator().createProposal(name, context, e -> {
			e.setDescription(description);
			e.setDocumentation(documentation);
			e.setKind(kind);
		});
		if (entry != null) {
			acceptor.accept(entry, getProposalPriorities().getDefaultPriority(entry));
		}
	}
}
