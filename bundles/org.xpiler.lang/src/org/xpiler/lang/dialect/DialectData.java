package org.xpiler.lang.dialect;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.xpiler.lang.catalog.IntrinsicCatalog;

/** The data files of a dialect, read on first use and kept: they never change while the tool runs. */
record DialectData(String prelude, IntrinsicCatalog catalog, Set<String> preludeNames) {
	private static final Map<Dialect, DialectData> LOADED = new EnumMap<>(Dialect.class);

	static synchronized DialectData of(Dialect dialect) {
		return LOADED.computeIfAbsent(dialect, DialectData::load);
	}

	private static DialectData load(Dialect dialect) {
		String catalogText = dialect.resourceText("catalog.json");
		IntrinsicCatalog catalog = IntrinsicCatalog.read(
				new ByteArrayInputStream(catalogText.getBytes(StandardCharsets.UTF_8)),
				"dialects/" + dialect.id() + "/catalog.json");
		Set<String> names = dialect.optionalResourceText("prelude-names.txt")
				.map(text -> text.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
						.collect(Collectors.toUnmodifiableSet()))
				.orElse(Set.of());
		return new DialectData(dialect.resourceText("prelude.h"), catalog, names);
	}
}
