package org.xpiler.core.vm;

/**
 * IEEE binary16 and bfloat16 conversions with round-to-nearest-even straight from double (no double rounding
 * through float), so half arithmetic computed exactly in double and rounded once is correctly rounded.
 */
public final class Half {
	private Half() {
	}

	/** Rounds a double to the nearest half value (as a double). */
	public static double roundHalf(double value) {
		return halfBitsToDouble(doubleToHalfBits(value));
	}

	public static double roundBfloat16(double value) {
		return bfloat16BitsToDouble(doubleToBfloat16Bits(value));
	}

	public static short doubleToHalfBits(double value) {
		return (short) toBits(value, 5, 10);
	}

	public static double halfBitsToDouble(short bits) {
		return Float.float16ToFloat(bits);
	}

	public static short doubleToBfloat16Bits(double value) {
		return (short) toBits(value, 8, 7);
	}

	public static double bfloat16BitsToDouble(short bits) {
		return Float.intBitsToFloat((bits & 0xFFFF) << 16);
	}

	/** Rounds to a binary format with {@code exponentBits} and {@code mantissaBits}, nearest-even. */
	private static int toBits(double value, int exponentBits, int mantissaBits) {
		int bias = (1 << (exponentBits - 1)) - 1;
		int sign = (Double.doubleToRawLongBits(value) < 0 ? 1 : 0) << (exponentBits + mantissaBits);
		int infinity = ((1 << exponentBits) - 1) << mantissaBits;
		if (Double.isNaN(value)) {
			return sign | infinity | (1 << (mantissaBits - 1));
		}
		double magnitude = Math.abs(value);
		if (Double.isInfinite(magnitude)) {
			return sign | infinity;
		}
		if (magnitude == 0) {
			return sign;
		}
		int exponent = Math.getExponent(magnitude);
		int minNormal = 1 - bias;
		// the unit of the last place at this magnitude (subnormals share the smallest one)
		int ulpExponent = Math.max(exponent, minNormal) - mantissaBits;
		double scaled = Math.scalb(magnitude, -ulpExponent); // exact: a power-of-two scaling
		double rounded = Math.rint(scaled); // nearest-even
		double result = Math.scalb(rounded, ulpExponent);
		int resultExponent = Math.getExponent(result);
		if (resultExponent > bias) {
			return sign | infinity;
		}
		if (resultExponent < minNormal) {
			return sign | (int) rounded; // subnormal (or the smallest normal reached by rounding: same bits)
		}
		int mantissa = (int) (Math.scalb(result, -resultExponent + mantissaBits)) - (1 << mantissaBits);
		return sign | ((resultExponent + bias) << mantissaBits) | mantissa;
	}
}
