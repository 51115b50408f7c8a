package org.xpiler.lang.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/** Every kernel of our corpus reads without an error: the grammars cover what real kernels use. */
public class CorpusParsingTest {
	private static final KernelParser PARSER = new KernelParser();

	static Stream<Path> corpusFiles() {
		return Corpus.files().stream();
	}

	@Test
	public void corpusHasEveryDialectAndTheOperatorsOfThePaper() {
		for (Dialect dialect : Dialect.values()) {
			List<Path> files = Corpus.files(dialect);
			assertTrue(files.size() >= 42, () -> dialect + " has " + files.size() + " corpus files");
		}
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("corpusFiles")
	public void corpusFileParsesAndValidatesClean(Path file) {
		ParsedKernel parsed = PARSER.parse(file, Optional.empty());
		assertEquals(List.of(), parsed.diagnostics(), () -> "diagnostics in " + file);
		assertNotNull(parsed.unit());
		String entry = file.getFileName().toString().replaceAll("_[0-9x]+\\.[a-z]+$", "_kernel");
		assertTrue(hasFunctionNamed(parsed, entry), () -> file + " defines " + entry);
	}

	private static boolean hasFunctionNamed(ParsedKernel parsed, String name) {
		var contents = parsed.unit().eAllContents();
		while (contents.hasNext()) {
			if (contents.next() instanceof FunctionDefinition function && name.equals(function.getName())) {
				return true;
			}
		}
		return false;
	}
}
