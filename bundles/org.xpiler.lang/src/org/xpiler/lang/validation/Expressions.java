package org.xpiler.lang.validation;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import org.eclipse.emf.ecore.EObject;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Name;

/** Small questions about expressions that several checks ask. */
final class Expressions {
	private Expressions() {
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
}
