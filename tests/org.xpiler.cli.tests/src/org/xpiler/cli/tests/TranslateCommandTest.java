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

/** {@code xpiler translate}: a verified output and a record, or exit 1 with the reason and no output. */
public class TranslateCommandTest {
	private static final Path CORPUS = Path.of(System.getProperty("xpiler.corpus", "../corpus"));

	@TempDir
	Path work;

	@Test
	public void aVerifiedTranslationWritesTheOutputAndTheRecord() throws Exception {
		Path output = work.resolve("softmax.hip");
		Path record = work.resolve("run.json");
		Outcome outcome = HeadlessApplicationTest.runXpiler("translate", "--to", "hip",
				CORPUS.resolve("cuda/softmax_64x128.cu").toString(), "-o", output.toString(), "--record", record.toString());
		assertEquals(0, outcome.exitCode(), outcome.err());
		assertTrue(outcome.out().contains("verified (simt-runtime-mapping)"), outcome.out());
		assertTrue(Files.readString(output).contains("hipMemcpy("), Files.readString(output));
		JsonNode run = new ObjectMapper().readTree(record.toFile());
		assertTrue(run.get("verified").asBoolean());
		JsonNode step = run.get("steps").get(0);
		assertEquals("accepted", step.get("verdict").asText());
		assertTrue(step.get("before").asText().contains("cudaMemcpy("));
		assertEquals(Files.readString(output), step.get("after").asText());
	}

	@Test
	public void aFailedTranslationExitsOneWithTheReasonAndLeavesNoOutput() throws Exception {
		Path output = work.resolve("gemv.cu");
		Path record = work.resolve("run.json");
		Outcome outcome = HeadlessApplicationTest.runXpiler("translate", "--to", "cuda",
				CORPUS.resolve("hip/gemv_1024x256.hip").toString(), "-o", output.toString(), "--record", record.toString());
		assertEquals(1, outcome.exitCode(), outcome.out());
		assertTrue(outcome.err().contains("not translated to CUDA C: simt-runtime-mapping rejected: 'y' differs"),
				outcome.err());
		assertFalse(Files.exists(output));
		assertFalse(new ObjectMapper().readTree(record.toFile()).get("verified").asBoolean());
	}
}
