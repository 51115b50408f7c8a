package org.xpiler.lang.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * Bad input never escapes as an exception: it becomes diagnostics with locations, or one clean "cannot read"
 * message. Includes a bounded, seeded mutation fuzzer over the corpus.
 */
public class ParserRobustnessTest {
	private static final KernelParser PARSER = new KernelParser();
	private static final String PUNCTUATION = "{}()[];,<>*&=+-#\"'\\/";

	@TempDir
	Path dir;

	private Path write(String name, byte[] bytes) throws IOException {
		Path file = dir.resolve(name);
		Files.write(file, bytes);
		return file;
	}

	private static void assertLocated(ParsedKernel parsed) {
		assertTrue(parsed.hasErrors(), "bad input must give an error");
		for (Diagnostic d : parsed.diagnostics()) {
			assertTrue(d.line() >= 1 || "unreadable".equals(d.code()), () -> "located: " + d);
			assertTrue(d.format().startsWith(parsed.file()), d::format);
		}
	}

	@Test
	public void syntaxErrorIsReportedAtItsLineAndColumn() {
		ParsedKernel parsed = PARSER.parse("k.cu", "__global__ void k(float *a) {\n  a[0] = ;\n}\n", Dialect.CUDA);
		Diagnostic first = parsed.errors().get(0);
		assertEquals(2, first.line(), first::format);
		assertEquals(10, first.column(), first::format);
		assertTrue(first.format().startsWith("k.cu:2:10: error: "), first::format);
	}

	@Test
	public void anotherDialectsQualifierIsASyntaxErrorInThisDialect() {
		ParsedKernel parsed = PARSER.parse("k.cu", "__mlu_global__ void k(float *a) { a[0] = 1.0f; }\n",
				Dialect.CUDA);
		assertLocated(parsed);
		assertEquals(1, parsed.errors().get(0).line());
	}

	@Test
	public void nonUtf8BytesAreReportedWhereTheyAre() throws IOException {
		byte[] bytes = "__global__ void k() {\n  // caf\u00e9\n}\n".getBytes(StandardCharsets.ISO_8859_1);
		ParsedKernel parsed = PARSER.parse(write("latin1.cu", bytes), Optional.empty());
		assertEquals(1, parsed.diagnostics().size());
		Diagnostic d = parsed.diagnostics().get(0);
		assertEquals("encoding", d.code());
		assertEquals(2, d.line());
		assertEquals(9, d.column());
		assertTrue(d.message().contains("0xE9"), d::message);
	}

	@Test
	public void missingFileAndUnknownExtensionAreCleanMessages() throws IOException {
		ParsedKernel missing = PARSER.parse(dir.resolve("nope.cu"), Optional.empty());
		assertEquals("cannot read: no such file", missing.diagnostics().get(0).message());
		ParsedKernel unknown = PARSER.parse(write("kernel.txt", new byte[] { 'x' }), Optional.empty());
		assertTrue(unknown.diagnostics().get(0).message().startsWith("cannot tell the dialect"));
	}

	@Test
	public void deeplyNestedExpressionIsRefusedAtTheBracketThatCrossesTheLimit() {
		String expression = "(".repeat(5000) + "1" + ")".repeat(5000);
		ParsedKernel parsed = PARSER.parse("deep.cu", "__global__ void k(int *a) {\n  a[0] = " + expression + ";\n}\n",
				Dialect.CUDA);
		Diagnostic d = parsed.diagnostics().get(0);
		assertEquals("nesting", d.code());
		assertEquals(2, d.line());
	}

	@Test
	public void nestingThatRealKernelsUseIsAccepted() {
		String expression = "(".repeat(200) + "1" + ")".repeat(200);
		ParsedKernel parsed = PARSER.parse("nested.cu", "__global__ void k(int *a) { a[0] = " + expression + "; }\n",
				Dialect.CUDA);
		assertEquals(List.of(), parsed.errors());
	}

	@Test
	public void randomBytesGiveDiagnosticsNotExceptions() throws IOException {
		Random random = new Random(42);
		for (int i = 0; i < 20; i++) {
			byte[] bytes = new byte[1 + random.nextInt(4096)];
			random.nextBytes(bytes);
			assertLocated(PARSER.parse(write("random" + i + ".mlu", bytes), Optional.empty()));
		}
	}

	@Test
	public void tenMegabyteFileIsReadCompletely() {
		String kernel = "__global__ void k%d(float *a) { for (int i = 0; i < 16; ++i) { a[i] = a[i] * 2.0f; } }\n";
		StringBuilder text = new StringBuilder();
		for (int i = 0; text.length() < 10_000_000; i++) {
			text.append("// ").append("padding ".repeat(120)).append('\n');
			if (i % 16 == 0) {
				text.append(String.format(kernel, i));
			}
		}
		text.append("__global__ void last(float *a) { a[0] = ; }\n");
		ParsedKernel parsed = PARSER.parse("big.cu", text.toString(), Dialect.CUDA);
		assertEquals(1, parsed.errors().size(), () -> parsed.errors().toString());
		assertEquals(text.toString().split("\n", -1).length - 1, parsed.errors().get(0).line());
	}

	/** Seeded mutations of corpus files (delete, duplicate, swap and truncate), bounded by a count. */
	@Test
	public void mutatedCorpusFilesNeverThrow() {
		Random random = new Random(2026);
		List<Path> corpus = Corpus.files();
		for (int round = 0; round < 300; round++) {
			Path original = corpus.get(random.nextInt(corpus.size()));
			String text;
			try {
				text = Files.readString(original);
			} catch (IOException e) {
				throw new AssertionError(e);
			}
			String mutant = mutate(text, random);
			Dialect dialect = Dialect.fromFile(original).orElseThrow();
			ParsedKernel parsed = PARSER.parse(original.getFileName().toString(), mutant, dialect);
			for (Diagnostic d : parsed.diagnostics()) {
				assertTrue(d.line() >= 1, () -> "located: " + d);
			}
			assertFalse(parsed.diagnostics().stream().anyMatch(d -> "unreadable".equals(d.code())),
					() -> "the parser must not give up: " + parsed.diagnostics());
		}
	}

	private static String mutate(String text, Random random) {
		StringBuilder out = new StringBuilder(text);
		int edits = 1 + random.nextInt(5);
		for (int i = 0; i < edits && out.length() > 2; i++) {
			int at = random.nextInt(out.length());
			int length = Math.min(out.length() - at, 1 + random.nextInt(20));
			switch (random.nextInt(4)) {
			case 0 -> out.delete(at, at + length);
			case 1 -> out.insert(random.nextInt(out.length()), out.substring(at, at + length));
			case 2 -> out.setCharAt(at, PUNCTUATION.charAt(random.nextInt(PUNCTUATION.length())));
			default -> out.setLength(at);
			}
		}
		return out.toString();
	}
}
