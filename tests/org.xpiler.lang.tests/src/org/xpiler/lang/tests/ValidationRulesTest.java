package org.xpiler.lang.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * One file per validation rule under {@code invalid/}: each states, in {@code // expect line:column severity:
 * message} comments, exactly the diagnostics it must produce, no more and no fewer.
 */
public class ValidationRulesTest {
	private static final KernelParser PARSER = new KernelParser();
	private static final Pattern EXPECT = Pattern.compile("^// expect (\\d+:\\d+ (error|warning): .*)$");

	static Stream<Path> invalidFiles() throws IOException {
		Path dir = Path.of(System.getProperty("xpiler.invalid", "invalid"));
		try (Stream<Path> files = Files.list(dir)) {
			return files.sorted().toList().stream();
		}
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("invalidFiles")
	public void fileYieldsExactlyItsExpectedDiagnostics(Path file) {
		List<String> expected = expectations(file);
		assertFalse(expected.isEmpty(), "the file states what it expects");
		ParsedKernel parsed = PARSER.parse(file, Optional.empty());
		List<String> actual = parsed.diagnostics().stream().map(ValidationRulesTest::located).toList();
		assertEquals(expected, actual);
	}

	private static String located(Diagnostic d) {
		return d.line() + ":" + d.column() + " " + d.severity().label() + ": " + d.message();
	}

	private static List<String> expectations(Path file) {
		try {
			return Files.readAllLines(file).stream().map(EXPECT::matcher).filter(Matcher::matches)
					.map(m -> m.group(1)).toList();
		} catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}
}
