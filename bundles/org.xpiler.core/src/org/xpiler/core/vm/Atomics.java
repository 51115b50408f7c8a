package org.xpiler.core.vm;

import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.LongBinaryOperator;

/**
 * Atomic read-modify-write operations: performed at once by the running lane, and invisible to the race
 * detector (atomics never race with each other).
 */
final class Atomics {
	private Atomics() {
	}

	static Ex atomic(String name, List<Ex> args, Program program, int site) {
		String op = name.substring("atomic".length());
		if (args.isEmpty() || !(args.get(0).type instanceof VmType.Pointer pointer)
				|| !(pointer.target() instanceof VmType.Scalar scalar)) {
			return null;
		}
		ElementType t = scalar.element();
		Ex address = args.get(0);
		if (op.equals("CAS")) {
			Ex compare = args.get(1);
			Ex value = args.get(2);
			return new Ex(scalar) {
				@Override
				long l(Frame f) {
					return unobserved(f.memory, () -> {
						long a = address.l(f);
						long old = f.memory.load(t, a, site);
						if (old == Arithmetic.wrap(t, compare.l(f))) {
							f.memory.store(t, a, value.l(f), site);
						}
						return old;
					});
				}
			};
		}
		Ex operand = args.size() > 1 ? args.get(1) : null;
		if (t.isFloating()) {
			DoubleBinaryOperator operation = switch (op) {
			case "Add" -> (x, y) -> x + y;
			case "Sub" -> (x, y) -> x - y;
			case "Max" -> Math::max;
			case "Min" -> Math::min;
			case "Exch" -> (x, y) -> y;
			default -> null;
			};
			if (operation == null || operand == null) {
				return null;
			}
			Ex value = convertFloating(operand, t);
			return new Ex(scalar) {
				@Override
				double d(Frame f) {
					long a = address.l(f);
					double v = value.d(f);
					return Double.longBitsToDouble(unobserved(f.memory, () -> {
						double old = f.memory.loadFloating(t, a, site);
						f.memory.storeFloating(t, a, Arithmetic.round(t, operation.applyAsDouble(old, v)), site);
						return Double.doubleToRawLongBits(old);
					}));
				}
			};
		}
		boolean unsigned = !t.isSigned();
		LongBinaryOperator operation = switch (op) {
		case "Add" -> (x, y) -> x + y;
		case "Sub" -> (x, y) -> x - y;
		case "Max" -> (x, y) -> unsigned ? (Long.compareUnsigned(x, y) >= 0 ? x : y) : Math.max(x, y);
		case "Min" -> (x, y) -> unsigned ? (Long.compareUnsigned(x, y) <= 0 ? x : y) : Math.min(x, y);
		case "Exch" -> (x, y) -> y;
		case "And" -> (x, y) -> x & y;
		case "Or" -> (x, y) -> x | y;
		case "Xor" -> (x, y) -> x ^ y;
		case "Inc" -> (x, y) -> Long.compareUnsigned(x, y) >= 0 ? 0 : x + 1;
		case "Dec" -> (x, y) -> x == 0 || Long.compareUnsigned(x, y) > 0 ? y : x - 1;
		default -> null;
		};
		if (operation == null || operand == null) {
			return null;
		}
		return new Ex(scalar) {
			@Override
			long l(Frame f) {
				long a = address.l(f);
				long v = operand.type.kind() == VmType.Kind.DOUBLE ? (long) operand.d(f) : operand.l(f);
				return unobserved(f.memory, () -> {
					long old = f.memory.load(t, a, site);
					f.memory.store(t, a, Arithmetic.wrap(t, operation.applyAsLong(old, v)), site);
					return old;
				});
			}
		};
	}

	/** {@code __bang_atomic_reduce_add(dst, src, n)}: dst[i] op= src[i], atomically per element. */
	static Ex reduce(String name, List<Ex> args, Program program, int site) {
		if (args.size() != 3 || !(args.get(0).type instanceof VmType.Pointer pointer)
				|| !(pointer.target() instanceof VmType.Scalar scalar)) {
			return null;
		}
		ElementType t = scalar.element();
		String op = name.substring("__bang_atomic_reduce_".length());
		DoubleBinaryOperator operation = switch (op) {
		case "add" -> (x, y) -> x + y;
		case "max" -> Math::max;
		default -> Math::min;
		};
		Ex destination = args.get(0);
		Ex source = args.get(1);
		Ex count = args.get(2);
		return new Ex(VmType.VOID) {
			@Override
			long l(Frame f) {
				long d = destination.l(f);
				long s = source.l(f);
				long n = count.l(f);
				for (long i = 0; i < n; i++) {
					long offset = i * t.bytes();
					double v = f.memory.loadFloating(t, s + offset, site);
					unobserved(f.memory, () -> {
						double old = f.memory.loadFloating(t, d + offset, site);
						f.memory.storeFloating(t, d + offset, Arithmetic.round(t, operation.applyAsDouble(old, v)), site);
						return 0;
					});
				}
				return 0;
			}
		};
	}

	private static Ex convertFloating(Ex operand, ElementType t) {
		if (operand.type.kind() == VmType.Kind.DOUBLE) {
			return operand;
		}
		return new Ex(VmType.of(t)) {
			@Override
			double d(Frame f) {
				return operand.l(f);
			}
		};
	}

	/** A read-modify-write, returning the old value's bits. */
	private interface LongAction {
		long run();
	}

	/** Runs an atomic operation hidden from the observers (the race detector). */
	private static long unobserved(Memory memory, LongAction action) {
		MemoryObserver observer = memory.observer();
		memory.observe(null);
		try {
			return action.run();
		} finally {
			memory.observe(observer);
		}
	}

}
