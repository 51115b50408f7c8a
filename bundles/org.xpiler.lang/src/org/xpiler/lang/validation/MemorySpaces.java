package org.xpiler.lang.validation;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.xpiler.lang.kernel.DeclSpecifier;
import org.xpiler.lang.kernel.Specifier;

/** The memory spaces declarations name with qualifiers, and how messages call them. */
final class MemorySpaces {
	private static final Map<String, String> SPACE_OF_QUALIFIER = Map.of("__nram__", "nram", "__wram__", "wram",
			"__mlu_shared__", "sram", "__ldram__", "ldram", "__shared__", "shared");
	private static final Map<String, String> DISPLAY = Map.of("nram", "NRAM", "wram", "WRAM", "sram", "SRAM",
			"gdram", "GDRAM", "ldram", "LDRAM", "shared", "shared memory", "global", "global memory");

	private MemorySpaces() {
	}

	/** The qualifier among the specifiers that places a declaration in a memory space, if any. */
	static Optional<String> qualifier(List<DeclSpecifier> specifiers) {
		return specifiers.stream().filter(s -> s instanceof Specifier q && SPACE_OF_QUALIFIER.containsKey(q.getName()))
				.map(s -> ((Specifier) s).getName()).reduce((first, second) -> second);
	}

	/** The space of a qualifier: {@code __nram__} is {@code nram}. */
	static String of(String qualifier) {
		return SPACE_OF_QUALIFIER.get(qualifier);
	}

	static String display(String space) {
		return DISPLAY.getOrDefault(space, space);
	}
}
