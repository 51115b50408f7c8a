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

/** {@code xpiler run} and {@code xpiler verify} as users and scripts see them: output, JSON, exit codes. */
public class RunAndVerifyCommandTest {
	private static final Path CORPUS = Path.of(System.getProperty("xpiler.corpus", "../corpus"));

	@TempDir
	Path work;

	@Test
	public void runShowsTheBuffersAndTheirRoles() {
		Outcome outcome = HeadlessApplicationTest.runXpiler("run", CORPUS.resolve("bang/relu_64x768.mlu").toString());
		assertEquals(0, outcome.exitCode(), outcome.err());
		assertTrue(outcome.out().contains("ran relu_kernel on vm"), outcome.out());
		assertTrue(outcome.out().matches("(?s).*input\\s+float\\[49152\\] input.*"), outcome.out());
		assertTrue(outcome.out().matches("(?s).*output\\s+float\\[49152\\] output: .*"), outcome.out());
	}

	@Test
	public void runJsonGivesEveryOutputValue() throws Exception {
		Outcome outcome = HeadlessApplicationTest.runXpiler("run", "--json", "--seed", "5",
				CORPUS.resolve("cuda/sign_64x256.cu").toString());
		assertEquals(0, outcome.exitCode(), outcome.err());
		JsonNode json = new ObjectMapper().readTree(outcome.out());
		JsonNode output = json.get("buffers").get(1);
		assertEquals("output", output.get("role").asText());
		assertEquals(64 * 256, output.get("values").size());
		for (JsonNode value : output.get("values")) {
			double v = value.asDouble();
			assertTrue(v == 1 || v == -1 || v == 0, "sign gives -1, 0 or 1, not " + v);
		}
	}

	@Test
	public void aKernelFaultIsOneLocatedLineAndExitOne() throws Exception {
		Path kernel = work.resolve("oob.cpp");
		Files.writeString(kernel, """
				extern "C" void oob_kernel(const float* in, float* out)
				{
				    float tmp[4];
				    for (int i = 0; i < 5; i++) {
				        tmp[i] = in[i];
				    }
				    out[0] = tmp[0];
				}
				""");
		Outcome outcome = HeadlessApplicationTest.runXpiler("run", kernel.toString());
		assertEquals(1, outcome.exitCode(), outcome.out());
		assertTrue(outcome.err().contains(kernel + ":5:9: error: out-of-bounds access"), outcome.err());
		assertFalse(outcome.err().contains("\tat "), outcome.err());
	}

	@Test
	public void verifyAcrossDialectsExitsZeroWhenTheOutputsMatch() {
		Outcome outcome = HeadlessApplicationTest.runXpiler("verify", "--reference",
				CORPUS.resolve("cuda/softmax_64x128.cu").toString(), CORPUS.resolve("bang/softmax_64x128.mlu").toString());
		assertEquals(0, outcome.exitCode(), outcome.out() + outcome.err());
		assertTrue(outcome.out().startsWith("match: all 1 output buffer match"), outcome.out());
	}

	@Test
	public void verifyReportsTheFirstDifferenceAndExitsOne() throws Exception {
		Path candidate = work.resolve("relu_64x768.cpp");
		String correct = Files.readString(CORPUS.resolve("vnni/relu_64x768.cpp"));
		Files.writeString(candidate, correct.replace("_mm512_max_ps(", "_mm512_min_ps("));
		Outcome outcome = HeadlessApplicationTest.runXpiler("verify", "--json", "--reference",
				CORPUS.resolve("cuda/relu_64x768.cu").toString(), candidate.toString());
		assertEquals(1, outcome.exitCode(), outcome.out() + outcome.err());
		JsonNode json = new ObjectMapper().readTree(outcome.out());
		assertFalse(json.get("match").asBoolean());
		JsonNode output = json.get("buffers").get(1);
		assertTrue(output.get("mismatches").asLong() > 0, outcome.out());
		assertTrue(output.has("firstMismatch"), outcome.out());
	}
}
