package org.xpiler.cli.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xpiler.cli.tests.HeadlessApplicationTest.Outcome;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** {@code xpiler eval}: a folder translated and measured; a broken kernel is a failure, not the end of the run. */
public class EvalCommandTest {
	private static final Path CORPUS = Path.of(System.getProperty("xpiler.corpus", "../corpus"));

	@TempDir
	Path work;

	@Test
	public void aFolderWithABrokenKernelIsEvaluatedToTheEnd() throws Exception {
		Path kernels = Files.createDirectories(work.resolve("kernels"));
		Files.copy(CORPUS.resolve("cuda/add_64x768.cu"), kernels.resolve("add_64x768.cu"));
		Files.copy(CORPUS.resolve("cuda/relu_64x768.cu"), kernels.resolve("relu_64x768.cu"));
		Files.writeString(kernels.resolve("broken.cu"), "__global__ void broken(float *a) {\n  a[threadIdx.x] = ;\n}\n");
		Files.writeString(kernels.resolve("bare.cu"), "__global__ void bare(float *a) {\n  a[threadIdx.x] = 1.0f;\n}\n");
		Files.writeString(kernels.resolve("notes.txt"), "not a kernel");
		Path report = work.resolve("out/report.json");

		Outcome outcome = HeadlessApplicationTest.runXpiler("eval", "--from", "cuda", "--to", "hip", "--jobs", "2",
				"--seed", "3", "--report", report.toString(), kernels.toString());

		assertEquals(0, outcome.exitCode(), outcome.out() + outcome.err());
		String out = outcome.out();
		assertTrue(out.contains("Evaluating 4 CUDA C kernels"), out);
		assertTrue(out.matches("(?s).*\\nFAILED\\s+broken\\.cu\\s+\\d+ ms  the source has errors: .*"), out);
		assertTrue(out.matches("(?s).*\\n(ok|NOT COMPILED)\\s+add_64x768\\.cu\\s+\\d+ ms.*"), out);
		assertTrue(out.matches("(?s).*\\nSOURCE DOES NOT RUN\\s+bare\\.cu\\s+\\d+ ms  the source does not run on the virtual device.*"),
				out);
		assertTrue(out.contains("1 of 4 kernels left out"), out);
		assertTrue(out.contains("direction"), out);
		assertTrue(out.contains("cuda -> hip"), out);
		assertTrue(out.contains("66.7% (2/3)"), "computation accuracy: 2 of 3 verified\n" + out);

		JsonNode json = new ObjectMapper().readTree(report.toFile());
		assertEquals("cuda", json.get("from").asText());
		assertEquals(4, json.get("kernels").size());
		JsonNode add = json.get("kernels").get(0);
		assertEquals("add_64x768.cu", add.get("file").asText());
		assertTrue(add.get("verified").asBoolean(), add.toString());
		assertEquals("simt-runtime-mapping", add.get("passes").get(0).asText());
		assertTrue(add.get("parallel").asBoolean(), add.toString());
		assertEquals("SOURCE DOES NOT RUN", json.get("kernels").get(1).get("status").asText());
		JsonNode broken = json.get("kernels").get(2);
		assertEquals("broken.cu", broken.get("file").asText());
		assertFalse(broken.get("verified").asBoolean());
		assertTrue(broken.get("reason").asText().startsWith("the source has errors"), broken.toString());
		JsonNode summary = json.get("summary");
		assertEquals(4, summary.get("kernels").asInt());
		assertEquals(1, summary.get("sourceDoesNotRun").asInt());
		assertEquals(3, summary.get("evaluated").asInt());
		assertEquals(2, summary.get("verified").asInt());
		assertEquals("hipcc", summary.get("compiler").asText());
		try (var files = Files.list(report.getParent())) {
			assertEquals(1, files.count(), "no temporary file is left beside the report");
		}
	}

	@Test
	public void aMissingFolderIsAUsageError() {
		Path missing = work.resolve("nowhere");
		Outcome outcome = HeadlessApplicationTest.runXpiler("eval", "--from", "cuda", "--to", "hip", missing.toString());
		assertEquals(1, outcome.exitCode(), outcome.out());
		assertEquals("xpiler eval: " + missing + ": no such directory", outcome.err().strip());
		assertEquals("", outcome.out());
	}
}
