package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xpiler.devices.tests.FloatBuffers.floats;
import static org.xpiler.devices.tests.FloatBuffers.floatsOf;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.xpiler.core.vm.Argument;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelRuns;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.dialect.Dialect;

/**
 * The virtual device runs BANG's {@code __memcpy_async} asynchronously: the copy lands at the task's next
 * {@code __sync*()}, barrier or the kernel's end, its arguments are checked at the call, and touching its
 * destination (or overwriting its source) before it lands is an error naming both lines.
 */
public class AsyncCopyTest {
	private static final int TILE = 256;
	private static final int TILES = 4;

	/** Doubles 4 tiles of 256 floats, loading tile t+1 while tile t is computed; line 8 waits for tile t. */
	private static final String DOUBLE_BUFFERED = """
			__nram__ float tile[2][256];

			extern "C" __mlu_global__ void scale_kernel(const float *in, float *out)
			{
			    int stage = 0;
			    __memcpy_async(tile[0], in, 256 * sizeof(float), GDRAM2NRAM);
			    for (int t = 0; t < 4; t++) {
			        __sync_io();
			        if (t + 1 < 4) {
			            __memcpy_async(tile[stage ^ 1], in + (t + 1) * 256, 256 * sizeof(float), GDRAM2NRAM);
			        }
			        __bang_mul_scalar(tile[stage], tile[stage], 2.0f, 256);
			        __memcpy(out + t * 256, tile[stage], 256 * sizeof(float), NRAM2GDRAM);
			        stage ^= 1;
			    }
			}
			""";

	private final VirtualDevice device = new VirtualDevice();

	/** Runs a one-task BANG kernel on {@code in} = 0, 1, 2, ... and a zeroed {@code out}; returns out. */
	private float[] run(String kernel) {
		float[] in = scaled(1);
		List<Argument> buffers = List.of(floats("in", in), floats("out", new float[in.length]));
		return floatsOf(device.run(source(kernel), new RunRequest(Optional.empty(), buffers, null, null, 1,
				Duration.ofSeconds(10))).buffers().get(1));
	}

	/** 0, factor, 2 * factor, ...: the input times {@code factor}. */
	private static float[] scaled(int factor) {
		float[] values = new float[TILE * TILES];
		for (int i = 0; i < values.length; i++) {
			values[i] = factor * i;
		}
		return values;
	}

	private Diagnostic fault(String kernel) {
		List<Argument> zeros = List.of(floats("in", new float[TILE * TILES]), floats("out", new float[TILE * TILES]));
		DeviceException e = assertThrows(DeviceException.class, () -> device.run(source(kernel),
				new RunRequest(Optional.empty(), zeros, null, null, 1, Duration.ofSeconds(10))));
		assertEquals(1, e.diagnostics().size(), e.getMessage());
		return e.diagnostics().get(0);
	}

	private static KernelSource source(String text) {
		return new KernelSource(Path.of("async.mlu"), Dialect.BANG, text);
	}

	@Test
	void aDoubleBufferedPipelineThatWaitsForEachTileComputesTheResult() {
		assertArrayEquals(scaled(2), run(DOUBLE_BUFFERED));
	}

	@Test
	void computingATileBeforeItsSyncIsAnErrorNamingTheReadAndTheCopy() {
		Diagnostic d = fault(DOUBLE_BUFFERED.replace("__sync_io();", ""));
		assertEquals(12, d.line(), d.format());
		String expected = "__bang_mul_scalar: reads byte 0 of 'tile' before the __memcpy_async at async.mlu:6:";
		assertTrue(d.message().contains(expected), d.message());
		assertTrue(d.message().contains("__sync_io()"), d.message());
	}

	@Test
	void everySyncOfTheTaskLandsItsCopies() {
		for (String sync : List.of("__sync()", "__sync_compute()", "__sync_move()", "__sync_io_move_compute()")) {
			assertArrayEquals(scaled(2), run(DOUBLE_BUFFERED.replace("__sync_io()", sync)), sync);
		}
	}

	@Test
	void barriersLandTheArrivingTasksCopiesBeforeItWaits() {
		for (String barrier : List.of("__sync_cluster()", "__sync_all()")) {
			assertArrayEquals(scaled(2), run(DOUBLE_BUFFERED.replace("__sync_io()", barrier)), barrier);
		}
	}

	@Test
	void theKernelsEndLandsACopyNobodyWaitedFor() {
		// generated inputs: the output grows as the copy lands in it
		String kernel = """
				__nram__ float buffer[1024];

				extern "C" __mlu_global__ void scale_kernel(const float *in, float *out)
				{
				    __memcpy(buffer, in, 1024 * sizeof(float), GDRAM2NRAM);
				    __bang_mul_scalar(buffer, buffer, 2.0f, 1024);
				    __memcpy_async(out, buffer, 1024 * sizeof(float), NRAM2GDRAM);
				}
				""";
		KernelRuns.Report report = new KernelRuns().run(device, source(kernel), Map.of(), 1,
				new RunRequest(Optional.empty(), List.of(), null, null, 1, Duration.ofSeconds(10)));
		float[] in = floatsOf(report.buffers().get(0).buffer());
		float[] out = floatsOf(report.buffers().get(1).buffer());
		assertEquals(1024, out.length);
		for (int i = 0; i < out.length; i++) {
			assertEquals(2 * in[i], out[i], "element " + i);
		}
	}

	@Test
	void overwritingTheSourceOrTheDestinationBeforeTheSyncIsAnError() {
		String kernel = """
				__nram__ float buffer[1024];

				extern "C" __mlu_global__ void scale_kernel(const float *in, float *out)
				{
				    __memcpy(buffer, in, 1024 * sizeof(float), GDRAM2NRAM);
				    __memcpy_async(out, buffer, 1024 * sizeof(float), NRAM2GDRAM);
				    __bang_write_zero(buffer, 1024);
				    __sync_io();
				}
				""";
		Diagnostic source = fault(kernel);
		assertEquals(7, source.line(), source.format());
		assertTrue(source.message().contains("writes byte 0 of 'buffer', which the __memcpy_async at async.mlu:6:"),
				source.message());
		assertTrue(source.message().contains("may still be reading"), source.message());
		Diagnostic destination = fault(kernel.replace("__bang_write_zero(buffer, 1024);", "out[5] = 1.0f;"));
		assertEquals(7, destination.line(), destination.format());
		assertTrue(destination.message().contains("writes byte 20 of 'out'"), destination.message());
		assertTrue(destination.message().contains("is still writing"), destination.message());
	}

	@Test
	void onlyTheBytesAStridedCopyWritesArePending() {
		// segments of 32 floats into the first half of each 64-float row; the second halves stay usable
		String kernel = """
				__nram__ float rows[4][64];

				extern "C" __mlu_global__ void rows_kernel(const float *in, float *out)
				{
				    __bang_write_zero(rows[0], 256);
				    __memcpy_async(rows[0], in, 128, GDRAM2NRAM, 64 * sizeof(float), 32 * sizeof(float), 3);
				    __bang_add_scalar(rows[1] + 32, rows[1] + 32, 1.0f, 32);
				    __sync_io();
				    __memcpy(out, rows[0], 256 * sizeof(float), NRAM2GDRAM);
				}
				""";
		float[] out = run(kernel);
		for (int row = 0; row < 4; row++) {
			for (int column = 0; column < 64; column++) {
				float expected = column < 32 ? row * 32 + column : row == 1 ? 1 : 0;
				assertEquals(expected, out[row * 64 + column], "row " + row + " column " + column);
			}
		}
		Diagnostic d = fault(kernel.replace("rows[1] + 32, rows[1] + 32", "rows[1] + 16, rows[1] + 16"));
		assertEquals(7, d.line(), d.format());
		assertTrue(d.message().contains("reads byte 320 of 'rows'"), d.message());
	}

	@Test
	void theThreeDimensionalFormIsDeferredToo() {
		// 2 x 2 blocks of 256 floats, walked as (segnum1 + 1) x (segnum2 + 1) segments, the same on both sides
		String kernel = """
				__nram__ float buffer[1024];

				extern "C" __mlu_global__ void scale_kernel(const float *in, float *out)
				{
				    __memcpy_async(buffer, in, 256 * sizeof(float), GDRAM2NRAM, 1024, 1, 2048, 1, 1024, 1, 2048, 1);
				    __sync();
				    __bang_mul_scalar(buffer, buffer, 2.0f, 1024);
				    __memcpy(out, buffer, 1024 * sizeof(float), NRAM2GDRAM);
				}
				""";
		assertArrayEquals(scaled(2), run(kernel));
	}

	@Test
	void argumentsAreStillCheckedAtTheCall() {
		String kernel = """
				__nram__ float buffer[256];

				extern "C" __mlu_global__ void copy_kernel(const float *in, float *out)
				{
				    __memcpy_async(buffer, in, 256 * sizeof(float), GDRAM2NRAM, 0, 0, taskId - 1);
				    __sync_io();
				    __memcpy(out, buffer, 256 * sizeof(float), NRAM2GDRAM);
				}
				""";
		Diagnostic rule = fault(kernel);
		assertEquals(5, rule.line(), rule.format());
		assertTrue(rule.message().startsWith("__memcpy_async: segnum is the number of segments minus one"),
				rule.message());
		Diagnostic bounds = fault(kernel.replace(", 0, 0, taskId - 1)", ", 1024, 0, 1)"));
		assertEquals(5, bounds.line(), bounds.format());
		String outOfBounds = "out-of-bounds access: byte offset 1024 (1 bytes) of 'buffer', which has 1024 bytes";
		assertTrue(bounds.message().contains(outOfBounds), bounds.message());
	}

	@Test
	void aCopyFromAPendingDestinationIsAnErrorAtTheSecondCopy() {
		String kernel = """
				__nram__ float buffer[1024];

				extern "C" __mlu_global__ void copy_kernel(const float *in, float *out)
				{
				    __memcpy_async(buffer, in, 1024 * sizeof(float), GDRAM2NRAM);
				    __memcpy_async(out, buffer, 1024 * sizeof(float), NRAM2GDRAM);
				    __sync();
				}
				""";
		Diagnostic d = fault(kernel);
		assertEquals(6, d.line(), d.format());
		String expected = "__memcpy_async: reads byte 0 of 'buffer' before the __memcpy_async at async.mlu:5:";
		assertTrue(d.message().startsWith(expected), d.message());
		assertArrayEquals(scaled(1), run(kernel.replace("__memcpy_async(out", "__sync();\n    __memcpy_async(out")));
	}
}
