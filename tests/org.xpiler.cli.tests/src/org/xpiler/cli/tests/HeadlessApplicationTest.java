package org.xpiler.cli.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.eclipse.equinox.app.IApplicationContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xpiler.cli.HeadlessApplication;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Runs the real headless application the way Equinox does and checks what a user or a script sees. */
public class HeadlessApplicationTest {

	record Outcome(int exitCode, String out, String err) {
	}

	static Outcome runXpiler(String... args) {
		IApplicationContext context = (IApplicationContext) Proxy.newProxyInstance(
				HeadlessApplicationTest.class.getClassLoader(), new Class<?>[] { IApplicationContext.class },
				(proxy, method, methodArgs) -> switch (method.getName()) {
				case "getArguments" -> Map.of(IApplicationContext.APPLICATION_ARGS, args);
				default -> null;
				});
		PrintStream originalOut = System.out;
		PrintStream originalErr = System.err;
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		ByteArrayOutputStream err = new ByteArrayOutputStream();
		try {
			System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
			System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
			Object result = new HeadlessApplication().start(context);
			return new Outcome((Integer) result, out.toString(StandardCharsets.UTF_8),
					err.toString(StandardCharsets.UTF_8));
		} finally {
			System.setOut(originalOut);
			System.setErr(originalErr);
		}
	}

	private static void assertNoStackTrace(String text) {
		assertFalse(text.contains("Exception"), () -> "no exception shown to the user:\n" + text);
		assertFalse(text.contains("\tat "), () -> "no stack trace shown to the user:\n" + text);
	}

	@Test
	public void helpListsTheSubcommandsAndExitsZero() {
		Outcome outcome = runXpiler("--help");
		assertEquals(0, outcome.exitCode(), outcome.err());
		assertTrue(outcome.out().startsWith("Usage: xpiler"), outcome.out());
		for (String subcommand : List.of("parse", "dialects", "workbench", "help")) {
			assertTrue(outcome.out().contains("  " + subcommand + " "), () -> subcommand + " in\n" + outcome.out());
		}
		assertTrue(outcome.out().contains("Exit codes: 0 ok, 1 bad input"), outcome.out());
		assertEquals("", outcome.err());
	}

	@Test
	public void everySubcommandHasHelp() {
		for (String subcommand : List.of("parse", "dialects", "workbench")) {
			Outcome outcome = runXpiler(subcommand, "--help");
			assertEquals(0, outcome.exitCode(), subcommand + ": " + outcome.err());
			assertTrue(outcome.out().startsWith("Usage: xpiler " + subcommand), outcome.out());
		}
	}

	@Test
	public void unknownFlagIsOneLineUserErrorNamingTheFlagAndTheHelp() {
		Outcome outcome = runXpiler("--bogus");
		assertEquals(1, outcome.exitCode());
		assertEquals("xpiler: Unknown option: '--bogus' (see 'xpiler --help')", outcome.err().strip());
		assertEquals("", outcome.out());
	}

	@Test
	public void unknownSubcommandIsOneLineUserError() {
		Outcome outcome = runXpiler("frobnicate", "x.cu");
		assertEquals(1, outcome.exitCode());
		assertEquals("xpiler: Unknown subcommand 'frobnicate' (see 'xpiler --help')", outcome.err().strip());
	}

	@Test
	public void unknownFlagOfASubcommandPointsToThatSubcommandsHelp() {
		Outcome outcome = runXpiler("dialects", "--nope");
		assertEquals(1, outcome.exitCode());
		assertEquals("xpiler dialects: Unknown option: '--nope' (see 'xpiler dialects --help')",
				outcome.err().strip());
		assertNoStackTrace(outcome.err());
	}

	@Test
	public void dialectsAsJsonNamesAllFourWithTheirExtensions() throws Exception {
		Outcome outcome = runXpiler("dialects", "--json");
		assertEquals(0, outcome.exitCode(), outcome.err());
		JsonNode dialects = new ObjectMapper().readTree(outcome.out());
		assertEquals(4, dialects.size());
		assertEquals("cuda", dialects.get(0).get("id").asText());
		assertEquals("cu", dialects.get(0).get("extensions").get(0).asText());
		assertEquals("mlu", dialects.get(2).get("extensions").get(0).asText());
		assertTrue(dialects.get(2).get("compiler").isNull(), "BANG has no public compiler");
	}

	@Test
	public void parseReportsErrorsLikeACompilerAndExitsOne(@TempDir Path dir) throws Exception {
		Path good = dir.resolve("good.cu");
		Files.writeString(good, "__global__ void k(float *a) {\n  a[threadIdx.x] = 1.0f;\n}\n");
		Path bad = dir.resolve("bad.mlu");
		Files.writeString(bad, "__mlu_global__ void k(float *a) {\n  a[0] = ;\n}\n");

		Outcome ok = runXpiler("parse", good.toString());
		assertEquals(0, ok.exitCode(), ok.out() + ok.err());
		assertEquals("", ok.out());

		Outcome failed = runXpiler("parse", good.toString(), bad.toString());
		assertEquals(1, failed.exitCode());
		assertTrue(failed.out().startsWith(bad + ":2:10: error: "), failed.out());
		assertNoStackTrace(failed.out() + failed.err());
	}

	@Test
	public void parseAstShowsTheTreeWithPositions(@TempDir Path dir) throws Exception {
		Path file = dir.resolve("k.cpp");
		Files.writeString(file, "extern \"C\" void add_kernel(const float *a, float *b) {\n  b[0] = a[0] + 1.0f;\n}\n");
		Outcome outcome = runXpiler("parse", "--ast", file.toString());
		assertEquals(0, outcome.exitCode(), outcome.err());
		assertTrue(outcome.out().contains("FunctionDefinition name=add_kernel @1:1"), outcome.out());
		assertTrue(outcome.out().contains("Binary op=+ @2:10"), outcome.out());
	}

	@Test
	public void parseOfAMissingFileSaysSo() {
		Outcome outcome = runXpiler("parse", "/no/such/kernel.cu");
		assertEquals(1, outcome.exitCode());
		assertEquals("/no/such/kernel.cu: error: cannot read: no such file", outcome.out().strip());
	}

	@Test
	public void workbenchOutsideTheLauncherExplainsHowToStartIt() {
		Outcome outcome = runXpiler("workbench");
		assertEquals(1, outcome.exitCode());
		assertTrue(outcome.err().contains("./xpiler workbench"), outcome.err());
		assertNoStackTrace(outcome.err());
	}
}
