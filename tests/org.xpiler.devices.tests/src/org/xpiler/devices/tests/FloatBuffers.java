package org.xpiler.devices.tests;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import org.xpiler.core.vm.Argument;
import org.xpiler.core.vm.ElementType;

/** Float buffers for kernel runs, in the devices' little-endian byte order. */
final class FloatBuffers {
	private FloatBuffers() {
	}

	static Argument.Buffer floats(String name, float... values) {
		ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
		for (float v : values) {
			bytes.putFloat(v);
		}
		return new Argument.Buffer(name, ElementType.F32, bytes.array());
	}

	/** {@code count} floats in [-1, 1), the same for the same seed. */
	static float[] randomFloats(int count, long seed) {
		Random random = new Random(seed);
		float[] values = new float[count];
		for (int i = 0; i < count; i++) {
			values[i] = random.nextFloat() * 2 - 1;
		}
		return values;
	}

	static float[] floatsOf(Argument.Buffer buffer) {
		ByteBuffer bytes = ByteBuffer.wrap(buffer.contents()).order(ByteOrder.LITTLE_ENDIAN);
		float[] values = new float[buffer.contents().length / 4];
		for (int i = 0; i < values.length; i++) {
			values[i] = bytes.getFloat(i * 4);
		}
		return values;
	}
}
