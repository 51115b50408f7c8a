package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.CompileOnlyDevice;
import org.xpiler.devices.CompileResult;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.engine.passes.BangDetensorize;
import org.xpiler.engine.passes.BangTensorize;
import org.xpiler.engine.passes.LoopRecovery;
import org.xpiler.engine.passes.Pipeline;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * Pipeline double-buffers BANG tile loops: the output loads the next tile with {@code __memcpy_async} while the
 * current one is computed, computes what the single-buffered kernel computed on the virtual device (which lands
 * an asynchronous copy only at the task's next sync), passes the BANG compile check, and loops without a tile to
 * overlap, or without the NRAM for a second buffer, are refused with their line.
 */
public class PipelinePassTest {
	private static final Path CORPUS = Path.of(System.getProperty("xpiler.corpus", "../corpus"));

	/** A corpus-style hand-written add: task ranges from helpers, both tiles zero-filled, computed in place. */
	private static final String ADD = """
			__nram__ float a_nram[1024];
			__nram__ float b_nram[1024];

			__mlu_func__ int task_first(int items) {
			  int per_task = items / taskDim;
			  int rem = items % taskDim;
			  return taskId * per_task + (taskId < rem ? taskId : rem);
			}

			__mlu_func__ int task_count(int items) {
			  int rem = items % taskDim;
			  return items / taskDim + (taskId < rem ? 1 : 0);
			}

			extern "C" __mlu_global__ void add_kernel(const float *A, const float *B, float *C) {
			  const int total = 64 * 768;
			  int begin = task_first(total);
			  int end = begin + task_count(total);
			  for (int pos = begin; pos < end; pos += 1024) {
			    int len = end - pos < 1024 ? end - pos : 1024;
			    int len_pad = (len + 31) / 32 * 32;
			    if (len_pad != len) {
			      __bang_write_zero(a_nram, len_pad);
			      __bang_write_zero(b_nram, len_pad);
			    }
			    __memcpy(a_nram, A + pos, len * sizeof(float), GDRAM2NRAM);
			    __memcpy(b_nram, B + pos, len * sizeof(float), GDRAM2NRAM);
			    __bang_add(a_nram, a_nram, b_nram, len_pad);
			    __memcpy(C + pos, a_nram, len * sizeof(float), NRAM2GDRAM);
			  }
			}
			""";

	private static TranslationUnit parse(String text) {
		ParsedKernel parsed = new KernelParser().parse("k.mlu", text, Dialect.BANG);
		assertFalse(parsed.hasErrors(), () -> parsed.errors() + "\n" + text);
		return parsed.unit();
	}

	private static String scalarKernel(String name, String params, String body, int elements) {
		return "extern \"C\" __mlu_global__ void " + name + "(" + params + ")\n{\n    for (int i = (0) + taskId; i < "
				+ elements + "; i += taskDim) {\n        " + body + "\n    }\n}\n";
	}

	/** What tensorize writes for a scalar kernel: the realistic input of this pass. */
	private static String tensorized(String scalar, int tile) {
		TranslationUnit unit = parse(scalar);
		new BangTensorize(tile).apply(unit, Dialect.BANG, Dialect.BANG);
		return Dialect.BANG.printer().print(unit);
	}

	private static String pipelined(String source, int tiles) {
		TranslationUnit unit = parse(source);
		Pipeline pass = new Pipeline();
		Optional<String> refusal = pass.refusal(unit, Dialect.BANG, Dialect.BANG);
		assertTrue(refusal.isEmpty(), () -> refusal.get() + "\n" + source);
		assertEquals(Map.of("depth", "2", "tiles", Integer.toString(tiles)), pass.apply(unit, Dialect.BANG, Dialect.BANG));
		String output = Dialect.BANG.printer().print(unit);
		parse(output);
		return output;
	}

	private static Oracle.Verdict verdict(String source, String output, int taskDim) {
		RunRequest launch = taskDim == 0 ? RunRequest.of(List.of())
				: new RunRequest(Optional.empty(), List.of(), null, null, taskDim, Duration.ofSeconds(60));
		return new Oracle().verify(new KernelSource(Path.of("a.mlu"), Dialect.BANG, source),
				new KernelSource(Path.of("b.mlu"), Dialect.BANG, output), new VirtualDevice(), Map.of(), 3, launch);
	}

	/**
	 * The oracle accepts the output at the default launch (16 tasks) and at 5 tasks, where the last tile of a task
	 * is shorter and padded. The virtual device lands an asynchronous copy only at the task's next sync and
	 * rejects a read of its destination before, so a tile computed before it has landed cannot pass.
	 */
	private static void assertComputesTheSame(String source, String output) {
		for (int tasks : new int[] { 0, 5 }) {
			Oracle.Verdict verdict = verdict(source, output, tasks);
			assertTrue(verdict.matches(), () -> verdict.summary() + "\n" + output);
		}
	}

	private static String refusal(String source) {
		Optional<String> refusal = new Pipeline().refusal(parse(source), Dialect.BANG, Dialect.BANG);
		assertTrue(refusal.isPresent(), source);
		return refusal.get();
	}

	@Test
	void tensorizedReluLoadsTheNextTileWhileComputing() {
		String source = tensorized(scalarKernel("relu_kernel", "const float *input, float *output",
				"output[i] = fmaxf(input[i], 0.0f);", 64 * 768), 1024);
		String output = pipelined(source, 1);
		for (String expected : List.of("__nram__ float input_nram[2][1024];", "__nram__ float output_nram[1024];",
				"__memcpy_async(input_nram[0], input + t_next", "__memcpy_async(input_nram[stage ^ 1], input + t_next",
				"__bang_active_relu(output_nram, input_nram[stage], padded);", "__sync_io();", "stage ^= 1;")) {
			assertTrue(output.contains(expected), () -> "expected " + expected + " in\n" + output);
		}
		// the wait for tile t comes before tile t+1 is started: __sync_io waits for every transfer in flight
		int loop = output.indexOf("for (int t = ");
		assertTrue(output.indexOf("__sync_io();", loop) < output.indexOf("input_nram[stage ^ 1]", loop), output);
		assertComputesTheSame(source, output);
		CompileResult compiled = CompileOnlyDevice.bangCheck().compile(new KernelSource(Path.of("b.mlu"), Dialect.BANG, output));
		assertTrue(compiled.success(), () -> compiled.diagnostics() + "\n" + compiled.output() + "\n" + output);
	}

	@Test
	void handWrittenAddDoublesBothInputs() {
		String output = pipelined(ADD, 2);
		for (String expected : List.of("__nram__ float a_nram[2][1024];", "__nram__ float b_nram[2][1024];",
				"__bang_write_zero(b_nram[stage ^ 1], len_pad_next);",
				"__bang_add(a_nram[stage], a_nram[stage], b_nram[stage], len_pad);",
				"__memcpy(C + pos, a_nram[stage], len * sizeof(float), NRAM2GDRAM);")) {
			assertTrue(output.contains(expected), () -> "expected " + expected + " in\n" + output);
		}
		assertComputesTheSame(ADD, output);
	}

	@Test
	void wrongPipelinesAreRejectedByTheOracle() {
		String output = pipelined(ADD, 2);
		// computing tile t before waiting for its copy: the virtual device has not landed it yet
		String unsynced = output.replace("__sync_io();", "");
		Oracle.Verdict early = verdict(ADD, unsynced, 5);
		assertFalse(early.matches(), unsynced);
		assertTrue(early.summary().contains("before the __memcpy_async at"), early.summary());
		// loading tile t+1 into the buffer tile t is computed from
		String sameBuffer = output.replace("[stage ^ 1]", "[stage]");
		assertFalse(verdict(ADD, sameBuffer, 5).matches(), sameBuffer);
	}

	@Test
	void pipelinedKernelsLiftToEveryTask() {
		// __sync_io waits for the core's own copies: lifting drops it and keeps the kernel's tasks apart
		String output = pipelined(ADD, 2);
		TranslationUnit unit = parse(output);
		new BangDetensorize().apply(unit, Dialect.BANG, Dialect.BANG);
		TranslationUnit detensorized = parse(Dialect.BANG.printer().print(unit));
		new LoopRecovery().apply(detensorized, Dialect.BANG, Dialect.VNNI);
		String lifted = Dialect.VNNI.printer().print(detensorized);
		assertTrue(lifted.contains("for (int taskId = 0; taskId < 16; ++taskId)"), lifted);
		assertFalse(lifted.contains("__sync"), lifted);
		PassTesting.assertVerifies(ADD, Dialect.BANG, lifted, Dialect.VNNI);
	}

	@Test
	void usesOutsideThePipelinedLoopReadTheFirstBuffer() {
		// tensorize shares its tiles between the two loops; the second runs one tile and stays as it is
		String scalar = "extern \"C\" __mlu_global__ void two_kernel(const float *x, float *y, float *z)\n{\n"
				+ "    for (int i = (0) + taskId; i < 8192; i += taskDim) {\n        y[i] = fmaxf(x[i], 0.0f);\n    }\n"
				+ "    for (int i = (0) + taskId; i < 96; i += taskDim) {\n        z[i] = x[i] * 2.0f;\n    }\n}\n";
		String source = tensorized(scalar, 256);
		String output = pipelined(source, 1);
		assertTrue(output.contains("__memcpy(x_nram[0], x + t"), output);
		assertComputesTheSame(source, output);
	}

	@Test
	void singleTileIsRefused() {
		String source = tensorized(scalarKernel("relu_kernel", "const float *input, float *output",
				"output[i] = fmaxf(input[i], 0.0f);", 512), 1024);
		String why = refusal(source);
		assertTrue(why.startsWith("no tile loop to pipeline"), why);
		assertTrue(why.matches("(?s).*line \\d+: the loop runs at most 1 tile even when one task does all the work.*"), why);
	}

	@Test
	void nramOverflowIsRefusedWithSizes() {
		String big = ADD.replace("a_nram[1024]", "a_nram[98304]").replace("b_nram[1024]", "b_nram[32768]");
		String why = refusal(big);
		assertTrue(why.startsWith("line 1: too little NRAM for double buffers"), why);
		assertTrue(why.contains("a_nram (393216 bytes)") && why.contains("655360 usable"), why);
	}

	@Test
	void loadAfterComputeIsRefused() {
		String source = ADD.replace("""
				    __memcpy(b_nram, B + pos, len * sizeof(float), GDRAM2NRAM);
				    __bang_add(a_nram, a_nram, b_nram, len_pad);
				""", """
				    __bang_active_relu(a_nram, a_nram, len_pad);
				    __memcpy(b_nram, B + pos, len * sizeof(float), GDRAM2NRAM);
				    __bang_add(a_nram, a_nram, b_nram, len_pad);
				""");
		String why = refusal(source);
		assertTrue(why.contains("line 28: the load follows this tile's compute (line 27)"), why);
	}

	@Test
	void storeToALoadedPointerIsRefused() {
		String source = ADD.replace("__memcpy(C + pos", "__memcpy((float *)A + pos");
		assertTrue(refusal(source).contains("line 29: the loop stores to A, which it also loads"), refusal(source));
	}

	@Test
	void otherDialectsAreRefused() {
		TranslationUnit unit = parse(ADD);
		assertEquals(Optional.of("pipelines BANG C into BANG C only"),
				new Pipeline().refusal(unit, Dialect.BANG, Dialect.VNNI));
		TranslationUnit cuda = new KernelParser().parse("k.cu",
				"__global__ void k(const float *x, float *y) { y[threadIdx.x] = x[threadIdx.x]; }\n", Dialect.CUDA).unit();
		assertTrue(new Pipeline().refusal(cuda, Dialect.CUDA, Dialect.CUDA).isPresent());
	}

	@Test
	void corpusKernelsComputeInPlace() throws IOException {
		// relu streams 8192-float tiles, computes in place and clamps its range after computing it
		for (String kernel : List.of("relu_128x1024.mlu", "sigmoid_64x256.mlu")) {
			String source = Files.readString(CORPUS.resolve("bang").resolve(kernel));
			String output = pipelined(source, 1);
			assertTrue(output.contains("__memcpy(output + pos, x_nram[stage], len * sizeof(float), NRAM2GDRAM);"), output);
			assertComputesTheSame(source, output);
		}
	}

	@Test
	void optionsEnumerateDoubleBuffering() {
		assertEquals(1, Pipeline.options().size());
		assertEquals("pipeline", Pipeline.options().get(0).name());
		assertThrows(IllegalArgumentException.class, () -> new Pipeline(3));
	}
}
