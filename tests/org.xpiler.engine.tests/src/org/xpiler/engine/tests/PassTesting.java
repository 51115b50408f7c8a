package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.xpiler.devices.KernelRuns;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/** What the pass tests share: reading a small program and checking a rewrite against it on the virtual device. */
final class PassTesting {
	private PassTesting() {
	}

	/** The model of {@code text}, which must read without errors. */
	static TranslationUnit parse(String text, Dialect dialect) {
		ParsedKernel parsed = new KernelParser().parse("t." + dialect.fileExtensions().get(0), text, dialect);
		assertFalse(parsed.hasErrors(), () -> parsed.errors() + "\n" + text);
		return parsed.unit();
	}

	/** {@code output} reads back and computes what {@code source} computes (seed 3, as the translator checks). */
	static void assertVerifies(String source, Dialect from, String output, Dialect to) {
		parse(output, to);
		KernelSource reference = new KernelSource(Path.of("source." + from.fileExtensions().get(0)), from, source);
		RunRequest request = RunRequest.of(List.of());
		Oracle.Verdict verdict = new Oracle().verify(reference,
				new KernelSource(Path.of("output." + to.fileExtensions().get(0)), to, output), new VirtualDevice(),
				new KernelRuns().assumedScalars(reference, Map.of(), request), 3, request);
		assertTrue(verdict.matches(), () -> verdict.summary() + "\n" + output);
	}
}
