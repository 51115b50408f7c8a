package org.xpiler.lang.parsing;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.xpiler.lang.kernel.StructDefinition;
import org.xpiler.lang.kernel.TopLevel;

/** The names a struct definition gives its type, and the struct a file defines under a name. */
public final class StructDefinitions {
	private StructDefinitions() {
	}

	/** {@code Pair} for {@code struct Pair {...};}; both names for {@code typedef struct P {...} Pair;}. */
	public static List<String> typeNames(StructDefinition struct) {
		List<String> names = new ArrayList<>();
		if (struct.getName() != null) {
			names.add(struct.getName());
		}
		if (struct.isTypedef() && struct.getAlias() != null) {
			names.add(struct.getAlias());
		}
		return names;
	}

	/** The struct that a file's {@code items} (in namespaces too) define as {@code name}. */
	public static Optional<StructDefinition> named(List<TopLevel> items, String name) {
		List<StructDefinition> found = new ArrayList<>();
		Namespaces.forEachItem(items, (item, namespaces) -> {
			if (item instanceof StructDefinition struct && typeNames(struct).contains(name)) {
				found.add(struct);
			}
		});
		return found.stream().findFirst();
	}
}
