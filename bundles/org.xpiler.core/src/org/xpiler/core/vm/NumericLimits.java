package org.xpiler.core.vm;

import org.xpiler.lang.kernel.TemplateMember;

/**
 * {@code std::numeric_limits<T>::max()} and its siblings for the arithmetic types: the values {@code <limits>}
 * gives them, as constants of {@code T}.
 */
final class NumericLimits {
	private NumericLimits() {
	}

	/** The value of {@code limits()} for {@code type}; null for a member or type that {@code <limits>} lacks. */
	static Ex of(TemplateMember limits, VmType type) {
		if (!(type instanceof VmType.Scalar scalar) || scalar.element() == ElementType.BOOL) {
			return null;
		}
		ElementType element = scalar.element();
		if (element.isFloating()) {
			Double value = switch (limits.getMember()) {
			case "max" -> largest(element);
			case "lowest" -> -largest(element);
			case "min" -> smallestNormal(element);
			case "epsilon" -> epsilon(element);
			case "infinity" -> Double.POSITIVE_INFINITY;
			case "quiet_NaN" -> Double.NaN;
			case "denorm_min" -> epsilon(element) * smallestNormal(element);
			default -> null;
			};
			return value == null ? null : Ex.constant(type, value);
		}
		int bits = element.bytes() * 8;
		long max = element.isSigned() ? (1L << (bits - 1)) - 1 : bits == 64 ? -1L : (1L << bits) - 1;
		long min = element.isSigned() ? -(1L << (bits - 1)) : 0;
		return switch (limits.getMember()) {
		case "max" -> Ex.constant(type, max);
		case "min", "lowest" -> Ex.constant(type, min);
		default -> null;
		};
	}

	private static double largest(ElementType element) {
		return switch (element) {
		case F16 -> 65504.0;
		case BF16 -> 0x1.fep127;
		case F32 -> Float.MAX_VALUE;
		default -> Double.MAX_VALUE;
		};
	}

	private static double smallestNormal(ElementType element) {
		return switch (element) {
		case F16 -> 0x1p-14;
		case BF16, F32 -> Float.MIN_NORMAL;
		default -> Double.MIN_NORMAL;
		};
	}

	/** The distance from 1 to the next value: 2 to the minus the significand's explicit bits. */
	private static double epsilon(ElementType element) {
		return switch (element) {
		case F16 -> 0x1p-10;
		case BF16 -> 0x1p-7;
		case F32 -> 0x1p-23;
		default -> 0x1p-52;
		};
	}
}
