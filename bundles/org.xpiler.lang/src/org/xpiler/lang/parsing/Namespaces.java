package org.xpiler.lang.parsing;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

import org.xpiler.lang.kernel.ItemBlock;
import org.xpiler.lang.kernel.NamespaceBlock;
import org.xpiler.lang.kernel.TopLevel;

/**
 * How a file may name what its namespaces declare. The file is one program and its namespaces rarely declare a
 * name twice, so a declaration is known by its plain name as well as by each qualified one: {@code blocks},
 * {@code ops::blocks}, {@code outer::ops::blocks}. An anonymous namespace adds no qualifier.
 */
public final class Namespaces {
	private Namespaces() {
	}

	/** The names of {@code name} declared in {@code namespaces} (outermost first). */
	public static List<String> qualifiedNames(String name, List<String> namespaces) {
		List<String> names = new ArrayList<>(List.of(name));
		for (int i = namespaces.size() - 1; i >= 0; i--) {
			names.add(String.join("::", namespaces.subList(i, namespaces.size())) + "::" + name);
		}
		return names;
	}

	/**
	 * Visits the file's items with {@code extern "C" { }} and namespace blocks opened, each with the named
	 * namespaces around it (outermost first).
	 */
	public static void forEachItem(List<TopLevel> items, BiConsumer<TopLevel, List<String>> visit) {
		forEachItem(items, List.of(), visit);
	}

	private static void forEachItem(List<TopLevel> items, List<String> around, BiConsumer<TopLevel, List<String>> visit) {
		for (TopLevel item : items) {
			if (item instanceof NamespaceBlock block) {
				forEachItem(block.getItems(), block.getName() == null ? around
						: Stream.concat(around.stream(), Stream.of(block.getName())).toList(), visit);
			} else if (item instanceof ItemBlock block) {
				forEachItem(block.getItems(), around, visit);
			} else {
				visit.accept(item, around);
			}
		}
	}
}
