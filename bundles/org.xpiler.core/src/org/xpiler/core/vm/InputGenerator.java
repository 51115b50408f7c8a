package org.xpiler.core.vm;

/**
 * Seeded random buffer contents suited to each element type, reproducible element by element (the value of
 * element i depends only on the seed, the argument's position and i), so buffers that grow while a kernel
 * runs and buffers made up front hold the same data. Floats are uniform in [-1, 1]; unsigned bytes in
 * [0, 255] and signed bytes in [-128, 127], the operand ranges of u8 x s8 dot products; wider integers in
 * [-64, 64] (unsigned [0, 64]) so sums of products stay far from overflow.
 */
public final class InputGenerator {
	private final long seed;

	public InputGenerator(long seed) {
		this.seed = seed;
	}

	/** The bits of element {@code index} of argument {@code argument}, as stored in memory. */
	public long element(ElementType type, int argument, long index) {
		long r = mix(seed * 0x9E3779B97F4A7C15L + argument * 0xC2B2AE3D27D4EB4FL + index);
		double unit = (r >>> 11) * 0x1.0p-53; // [0, 1)
		return switch (type) {
		case F32 -> Float.floatToRawIntBits((float) (unit * 2 - 1));
		case F64 -> Double.doubleToRawLongBits(unit * 2 - 1);
		case F16 -> Half.doubleToHalfBits(unit * 2 - 1);
		case BF16 -> Half.doubleToBfloat16Bits(unit * 2 - 1);
		case U8 -> (long) (unit * 256);
		case I8 -> (long) (unit * 256) - 128;
		case BOOL -> unit < 0.5 ? 0 : 1;
		case U16, U32, U64 -> (long) (unit * 65);
		default -> (long) (unit * 129) - 64;
		};
	}

	/** Fills {@code data[from, to)} (element-aligned) with elements of the argument. */
	public void fill(ElementType type, int argument, byte[] data, int from, int to) {
		int size = type.bytes();
		for (int offset = from; offset + size <= to; offset += size) {
			long bits = element(type, argument, offset / size);
			for (int b = 0; b < size; b++) {
				data[offset + b] = (byte) (bits >>> (8 * b));
			}
		}
	}

	/** A full buffer of {@code elements} elements. */
	public byte[] buffer(ElementType type, int argument, long elements) {
		byte[] data = new byte[Math.toIntExact(elements * type.bytes())];
		fill(type, argument, data, 0, data.length);
		return data;
	}

	private static long mix(long z) {
		z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
		z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
		return z ^ (z >>> 31);
	}
}
