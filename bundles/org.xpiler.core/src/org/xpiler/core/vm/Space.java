package org.xpiler.core.vm;

/**
 * The memory spaces of the four dialects, named as the intrinsic catalogs name them in {@code space(p)} rules.
 */
public enum Space {
	HOST("host"), GLOBAL("global"), SHARED("shared"), CONSTANT("constant"), LOCAL("local"), GDRAM("gdram"),
	NRAM("nram"), WRAM("wram"), SRAM("sram"), LDRAM("ldram");

	private final String catalogName;

	Space(String catalogName) {
		this.catalogName = catalogName;
	}

	public String catalogName() {
		return catalogName;
	}

	/** Spaces that several threads or tasks share, where a data race can happen. */
	public boolean shared() {
		return this == GLOBAL || this == SHARED || this == GDRAM || this == SRAM;
	}

	/**
	 * Whether memory of {@code actual} satisfies a requirement for this space: host code's locals are host
	 * memory, and CUDA-style global memory stands for GDRAM.
	 */
	public boolean accepts(Space actual) {
		return actual == this || this == HOST && actual == LOCAL || this == GDRAM && actual == GLOBAL;
	}

	public static Space ofCatalogName(String name) {
		for (Space space : values()) {
			if (space.catalogName.equals(name)) {
				return space;
			}
		}
		return null;
	}
}
