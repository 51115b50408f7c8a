package org.xpiler.lang.tests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.xpiler.lang.dialect.Dialect;

/** The kernel corpus of the repository (tests/corpus/<dialect>/), located by the build. */
final class Corpus {
	private Corpus() {
	}

	static Path root() {
		String location = System.getProperty("xpiler.corpus");
		if (location == null) {
			throw new IllegalStateException("-Dxpiler.corpus=<tests/corpus> is not set (the test pom sets it)");
		}
		return Path.of(location);
	}

	/** Every kernel file of every dialect, sorted. */
	static List<Path> files() {
		return Stream.of(Dialect.values()).flatMap(d -> files(d).stream()).toList();
	}

	static List<Path> files(Dialect dialect) {
		Path dir = root().resolve(dialect.id());
		try (Stream<Path> listing = Files.list(dir)) {
			return listing.filter(p -> Dialect.fromFile(p).orElse(null) == dialect).sorted().toList();
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}
}
