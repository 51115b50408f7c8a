package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xpiler.devices.tests.FloatBuffers.floats;
import static org.xpiler.devices.tests.FloatBuffers.floatsOf;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.dialect.Dialect;

/**
 * BANG C pads a ragged tail to the vector unit's 128 bytes and stores only the real elements: element-wise
 * intrinsics compute garbage from the never-written padding, and the virtual device lets that garbage flow
 * lane by lane (or group by group, for a sum per 128-byte group) through on-chip memory. It is an error where
 * garbage is consumed: stored to GDRAM, read by scalar code, or read by an intrinsic that is not element-wise (a
 * reduction to one value).
 */
public class PaddedLanesTest {
	private static final int LENGTH = 100;

	/** 100 real elements padded to 128: x = relu(in), y = 2x + x, out = y for the real elements (line 12). */
	private static final String PADDED_TAIL = """
			__nram__ float x_nram[128];
			__nram__ float y_nram[128];

			extern "C" __mlu_global__ void tail_kernel(const float *in, float *out)
			{
			    int len = 100;
			    int len_pad = (len + 63) / 64 * 64;
			    __memcpy(x_nram, in, len * sizeof(float), GDRAM2NRAM);
			    __bang_active_relu(x_nram, x_nram, len_pad);
			    __bang_mul_scalar(y_nram, x_nram, 2.0f, len_pad);
			    __bang_add(y_nram, y_nram, x_nram, len_pad);
			    __memcpy(out, y_nram, len * sizeof(float), NRAM2GDRAM);
			}
			""";
	private static final String COMPUTE = """
			    __bang_active_relu(x_nram, x_nram, len_pad);
			    __bang_mul_scalar(y_nram, x_nram, 2.0f, len_pad);
			    __bang_add(y_nram, y_nram, x_nram, len_pad);
			""";

	private final VirtualDevice device = new VirtualDevice();

	/** -50, -49, ..., 49 and room for 128 outputs (only the first 100 are written by a correct kernel). */
	private static float[] input() {
		float[] in = new float[LENGTH];
		for (int i = 0; i < LENGTH; i++) {
			in[i] = i - 50;
		}
		return in;
	}

	private float[] run(String kernel) {
		return floatsOf(device.run(source(kernel), request()).buffers().get(1));
	}

	private Diagnostic fault(String kernel) {
		DeviceException e = assertThrows(DeviceException.class, () -> device.run(source(kernel), request()));
		assertEquals(1, e.diagnostics().size(), e.getMessage());
		return e.diagnostics().get(0);
	}

	private static RunRequest request() {
		return new RunRequest(Optional.empty(), List.of(floats("in", input()), floats("out", new float[128])), null,
				null, 1, Duration.ofSeconds(10));
	}

	private static KernelSource source(String text) {
		return new KernelSource(Path.of("tail.mlu"), Dialect.BANG, text);
	}

	@Test
	void theRealElementsOfAPaddedTailAreComputed() {
		float[] out = run(PADDED_TAIL);
		float[] in = input();
		for (int i = 0; i < LENGTH; i++) {
			assertEquals(3 * Math.max(in[i], 0), out[i], "out[" + i + "]");
		}
	}

	@Test
	void garbageFlowsThroughEveryKindOfElementWiseIntrinsic() {
		String conversions = """
				    __nram__ half h_nram[128];
				    __bang_write_value(y_nram, 32, 1.5f);
				    __bang_cycle_mul(x_nram, x_nram, y_nram, len_pad, 32);
				    __bang_float2half_rn(h_nram, x_nram, len_pad);
				    __bang_half2float(y_nram, h_nram, len_pad);
				    __memcpy(x_nram, y_nram, len_pad * sizeof(float), NRAM2NRAM);
				    __bang_active_sigmoid(y_nram, x_nram, len_pad);
				""";
		float[] out = run(PADDED_TAIL.replace(COMPUTE, conversions));
		float[] in = input();
		for (int i = 0; i < LENGTH; i++) {
			assertEquals(1 / (1 + Math.exp(-1.5 * in[i])), out[i], 1e-3, "out[" + i + "]");
		}
	}

	@Test
	void storingPaddingLanesToGdramIsAnErrorAtTheCopy() {
		Diagnostic d = fault(PADDED_TAIL.replace("__memcpy(out, y_nram, len * sizeof(float)",
				"__memcpy(out, y_nram, len_pad * sizeof(float)"));
		assertEquals(12, d.line(), d.format());
		assertEquals(5, d.column(), d.format());
		assertTrue(d.message().contains("__memcpy: read of uninitialized memory: byte offset 400 of 'y_nram' would be "
				+ "stored to byte offset 400 of 'out' (GDRAM)"), d.message());
	}

	@Test
	void aScalarReadOfAPaddingLaneIsAnError() {
		Diagnostic d = fault(PADDED_TAIL.replace("__memcpy(out, y_nram, len * sizeof(float), NRAM2GDRAM);",
				"out[0] = y_nram[len + 3];"));
		assertEquals(12, d.line(), d.format());
		assertEquals(14, d.column(), d.format());
		assertTrue(d.message().contains("read of uninitialized memory: byte offset 412 of 'y_nram'"), d.message());
	}

	@Test
	void aReductionOverPaddingLanesIsAnError() {
		Diagnostic d = fault(PADDED_TAIL.replace("__bang_add(y_nram, y_nram, x_nram, len_pad);",
				"__bang_max(y_nram, x_nram, len_pad);"));
		assertEquals(11, d.line(), d.format());
		assertTrue(d.message().contains("__bang_max: read of uninitialized memory: byte offset 400 of 'x_nram'"),
				d.message());
	}

	@Test
	void aSumPerGroupIsGarbageForTheGroupThatHoldsPadding() {
		// __bang_reduce_sum sums each 128-byte group into one element: the fourth sum holds padding
		Diagnostic d = fault(PADDED_TAIL.replace("__bang_add(y_nram, y_nram, x_nram, len_pad);",
				"__bang_reduce_sum(y_nram, x_nram, len_pad);"));
		assertEquals(12, d.line(), d.format());
		assertTrue(d.message().contains("byte offset 384 of 'y_nram' would be stored to byte offset 384 of 'out'"),
				d.message());
	}
}
