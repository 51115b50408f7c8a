package org.xpiler.core.vm;

import org.xpiler.core.vm.VmType.Scalar;

/** C's usual arithmetic conversions, integer wrap-around and floating rounding, as the compiler applies them. */
final class Arithmetic {
	private Arithmetic() {
	}

	/** Integer promotion: everything narrower than int computes as int. */
	static VmType promote(VmType type) {
		if (type instanceof Scalar s && s.element().isInteger() && s.element().bytes() < 4) {
			return VmType.I32;
		}
		if (type instanceof VmType.Opaque) {
			return VmType.I64;
		}
		return type;
	}

	/** The type two arithmetic operands are converted to. */
	static VmType common(VmType left, VmType right) {
		VmType a = promote(left);
		VmType b = promote(right);
		ElementType x = ((Scalar) a).element();
		ElementType y = ((Scalar) b).element();
		if (x == ElementType.F64 || y == ElementType.F64) {
			return VmType.F64;
		}
		if (x == ElementType.F32 || y == ElementType.F32) {
			return VmType.F32;
		}
		if (x.isFloating() && y.isFloating()) {
			return x == y ? a : VmType.F32;
		}
		if (x.isFloating()) {
			return a;
		}
		if (y.isFloating()) {
			return b;
		}
		if (x == y) {
			return a;
		}
		int rank = Math.max(x.bytes(), y.bytes());
		boolean unsigned = (x.bytes() == rank && !x.isSigned()) || (y.bytes() == rank && !y.isSigned());
		if (rank == 8) {
			return unsigned ? VmType.U64 : VmType.I64;
		}
		return unsigned ? VmType.U32 : VmType.I32;
	}

	/** Reduces an integer to the range of its type (two's complement wrap, as C++20 converts). */
	static long wrap(ElementType type, long value) {
		return switch (type) {
		case BOOL -> value != 0 ? 1 : 0;
		case I8 -> (byte) value;
		case U8 -> value & 0xFF;
		case I16 -> (short) value;
		case U16 -> value & 0xFFFF;
		case I32 -> (int) value;
		case U32 -> value & 0xFFFFFFFFL;
		default -> value;
		};
	}

	/** Rounds a value computed exactly (or in double) to a floating type, nearest-even. */
	static double round(ElementType type, double value) {
		return switch (type) {
		case F32 -> (float) value;
		case F16 -> Half.roundHalf(value);
		case BF16 -> Half.roundBfloat16(value);
		default -> value;
		};
	}

	/** C's conversion of a floating value to an integer type: truncation toward zero. */
	static long truncate(ElementType type, double value) {
		if (type == ElementType.BOOL) {
			return value != 0 ? 1 : 0;
		}
		if (type == ElementType.U64 && value >= 0x1p63) {
			return (long) (value - 0x1p63) + Long.MIN_VALUE;
		}
		return wrap(type, (long) value);
	}

	static double toDouble(ElementType from, long value) {
		if (from == ElementType.U64 && value < 0) {
			return (double) (value >>> 1) * 2.0 + (value & 1);
		}
		return value;
	}
}
