package org.xpiler.lang.parsing;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.xpiler.lang.kernel.NamespaceBlock;

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

	/** The namespaces inside {@code block}: those around it plus its own name, if it has one. */
	public static List<String> inside(NamespaceBlock block, List<String> around) {
		return block.getName() == null ? around : Stream.concat(around.stream(), Stream.of(block.getName())).toList();
	}
}
