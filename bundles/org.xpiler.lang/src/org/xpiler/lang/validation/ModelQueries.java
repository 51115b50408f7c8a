package org.xpiler.lang.validation;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.nodemodel.INode;
import org.eclipse.xtext.nodemodel.util.NodeModelUtils;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.parsing.Namespaces;

/** Small questions about the model that several checks ask. */
final class ModelQueries {
	private ModelQueries() {
	}

	/** Every identifier read in the subtree (not member names, not type names). */
	static List<Name> names(EObject root) {
		List<Name> names = new ArrayList<>();
		if (root instanceof Name name) {
			names.add(name);
		}
		root.eAllContents().forEachRemaining(o -> {
			if (o instanceof Name name) {
				names.add(name);
			}
		});
		return names;
	}

	/** The first identifier in the subtree that satisfies the predicate, or null. */
	static Name firstName(EObject root, Predicate<String> matching) {
		return names(root).stream().filter(n -> matching.test(n.getName())).findFirst().orElse(null);
	}

	/** The called function's name when the callee is a plain identifier, else null. */
	static String calleeName(Call call) {
		return call.getCallee() instanceof Name name ? name.getName() : null;
	}

	/** The file's top-level items with {@code extern "C" { ... }} and namespace blocks opened. */
	static List<TopLevel> topLevels(List<TopLevel> items) {
		List<TopLevel> opened = new ArrayList<>();
		Namespaces.forEachItem(items, (item, namespaces) -> opened.add(item));
		return opened;
	}

	/** The element's source text with whitespace normalised, for messages ({@code tid < s}); "?" if unknown. */
	static String sourceText(EObject object) {
		INode node = NodeModelUtils.findActualNodeFor(object);
		return node == null ? "?" : NodeModelUtils.getTokenText(node);
	}

	/** The line the element starts on, 0 if unknown. */
	static int line(EObject object) {
		INode node = NodeModelUtils.findActualNodeFor(object);
		return node == null ? 0 : node.getStartLine();
	}
}
