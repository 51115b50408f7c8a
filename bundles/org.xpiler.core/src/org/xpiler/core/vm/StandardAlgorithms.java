package org.xpiler.core.vm;

import java.util.List;

import org.xpiler.core.vm.VmType.Scalar;

/**
 * The algorithms of {@code <algorithm>} and {@code <numeric>} that C++ kernels call on arrays of numbers, over
 * pointers: {@code copy}, {@code copy_n}, {@code fill}, {@code fill_n}, {@code accumulate},
 * {@code inner_product}, {@code max_element} and {@code min_element}, with the conversions and the order of
 * operations the standard specifies ({@code accumulate} adds {@code init = init + *first} left to right).
 */
final class StandardAlgorithms {
	private final ExpressionCompiler ec;
	private final Program program;

	StandardAlgorithms(ExpressionCompiler ec, Program program) {
		this.ec = ec;
		this.program = program;
	}

	/** {@code std::name(args)}; null when {@code name} is none of these or the arguments are not arrays of numbers. */
	Ex call(String name, List<Ex> args, int site) {
		if (args.isEmpty() || element(args.get(0)) == null) {
			return null;
		}
		return switch (name) {
		case "copy" -> args.size() == 3 && element(args.get(2)) != null ? copy(args.get(0), count(args), args.get(2), site) : null;
		case "copy_n" -> args.size() == 3 && element(args.get(2)) != null
				? copy(args.get(0), ec.convert(args.get(1), VmType.I64), args.get(2), site)
				: null;
		case "fill" -> args.size() == 3 ? fill(args.get(0), count(args), args.get(2), site) : null;
		case "fill_n" -> args.size() == 3 ? fill(args.get(0), ec.convert(args.get(1), VmType.I64), args.get(2), site) : null;
		case "accumulate" -> args.size() == 3 && args.get(2).type instanceof Scalar
				? fold(args.get(0), count(args), null, args.get(2), site)
				: null;
		case "inner_product" -> args.size() == 4 && element(args.get(2)) != null && args.get(3).type instanceof Scalar
				? fold(args.get(0), count(args), args.get(2), args.get(3), site)
				: null;
		case "max_element", "min_element" -> args.size() == 2 ? extreme(args.get(0), count(args), name.startsWith("max"), site)
				: null;
		default -> null;
		};
	}

	/** The element type of a pointer or (decaying) array argument of numbers; null for anything else. */
	private static ElementType element(Ex pointer) {
		VmType target = pointer.type instanceof VmType.Pointer p ? p.target()
				: pointer.type instanceof VmType.Array a ? a.element() : null;
		return target instanceof Scalar s ? s.element() : null;
	}

	private static VmType pointerType(Ex pointer) {
		return new VmType.Pointer(VmType.of(element(pointer)));
	}

	/** {@code last - first} in elements. */
	private static Ex count(List<Ex> args) {
		Ex first = args.get(0);
		Ex last = args.get(1);
		int size = element(first).bytes();
		return new Ex(VmType.I64) {
			@Override
			long l(Frame f) {
				return (last.l(f) - first.l(f)) / size;
			}
		};
	}

	private static double read(Frame f, ElementType type, long address, int site) {
		return type.isFloating() ? f.memory.loadFloating(type, address, site)
				: Arithmetic.toDouble(type, f.memory.load(type, address, site));
	}

	/** Stores {@code value} converted to {@code type} as C converts (rounded, or truncated toward zero). */
	private static void write(Frame f, ElementType type, long address, double value, int site) {
		if (type.isFloating()) {
			f.memory.storeFloating(type, address, value, site);
		} else {
			f.memory.store(type, address, Arithmetic.truncate(type, value), site);
		}
	}

	/** Copies element by element, converting; returns the end of the destination. */
	private Ex copy(Ex first, Ex count, Ex destination, int site) {
		ElementType from = element(first);
		ElementType to = element(destination);
		return new Ex(pointerType(destination)) {
			@Override
			long l(Frame f) {
				long source = first.l(f);
				long target = destination.l(f);
				long n = count.l(f);
				for (long i = 0; i < n; i++) {
					if (from.isInteger() && to.isInteger()) {
						f.memory.store(to, target + i * to.bytes(), f.memory.load(from, source + i * from.bytes(), site), site);
					} else {
						write(f, to, target + i * to.bytes(), read(f, from, source + i * from.bytes(), site), site);
					}
				}
				return target + n * to.bytes();
			}
		};
	}

	private Ex fill(Ex first, Ex count, Ex value, int site) {
		ElementType filled = element(first);
		Ex converted = ec.convert(value, VmType.of(filled));
		return new Ex(pointerType(first)) {
			@Override
			long l(Frame f) {
				long start = first.l(f);
				long n = count.l(f);
				if (filled.isFloating()) {
					double v = converted.d(f);
					for (long i = 0; i < n; i++) {
						f.memory.storeFloating(filled, start + i * filled.bytes(), v, site);
					}
				} else {
					long v = converted.l(f);
					for (long i = 0; i < n; i++) {
						f.memory.store(filled, start + i * filled.bytes(), v, site);
					}
				}
				return start + n * filled.bytes();
			}
		};
	}

	/**
	 * {@code accumulate} ({@code other} null: {@code init = init + a[i]}) or {@code inner_product}
	 * ({@code init = init + a[i] * other[i]}): each operation in the usual arithmetic conversions' type, the sum
	 * converted back to the type of {@code init}.
	 */
	private Ex fold(Ex first, Ex count, Ex other, Ex init, int site) {
		ElementType a = element(first);
		ElementType b = other == null ? null : element(other);
		ElementType product = b == null ? a : ((Scalar) Arithmetic.common(VmType.of(a), VmType.of(b))).element();
		ElementType result = ((Scalar) init.type).element();
		ElementType sum = ((Scalar) Arithmetic.common(init.type, VmType.of(product))).element();
		return new Ex(init.type) {
			@Override
			long l(Frame f) {
				return sum.isFloating() ? Arithmetic.truncate(result, total(f)) : (long) total(f);
			}

			@Override
			double d(Frame f) {
				return total(f);
			}

			private double total(Frame f) {
				long x = first.l(f);
				long y = other == null ? 0 : other.l(f);
				long n = count.l(f);
				double acc = result.isFloating() ? init.d(f) : Arithmetic.toDouble(result, init.l(f));
				long exact = result.isFloating() ? 0 : init.l(f);
				for (long i = 0; i < n; i++) {
					if (!sum.isFloating()) { // integers: wrapped in their types, exactly
						long term = f.memory.load(a, x + i * a.bytes(), site);
						if (b != null) {
							term = Arithmetic.wrap(product, term * f.memory.load(b, y + i * b.bytes(), site));
						}
						exact = Arithmetic.wrap(result, Arithmetic.wrap(sum, exact + term));
						continue;
					}
					double term = read(f, a, x + i * a.bytes(), site);
					if (b != null) {
						term = Arithmetic.round(product, term * read(f, b, y + i * b.bytes(), site));
					}
					double total = Arithmetic.round(sum, acc + term);
					acc = result.isFloating() ? Arithmetic.round(result, total)
							: Arithmetic.toDouble(result, Arithmetic.truncate(result, total));
				}
				return sum.isFloating() ? acc : exact;
			}
		};
	}

	/** The first largest (or smallest) element's address; {@code last} for an empty range. */
	private Ex extreme(Ex first, Ex count, boolean largest, int site) {
		ElementType compared = element(first);
		return new Ex(pointerType(first)) {
			@Override
			long l(Frame f) {
				long start = first.l(f);
				long n = count.l(f);
				if (n <= 0) {
					return start + Math.max(0, n) * compared.bytes();
				}
				long best = start;
				double bestValue = read(f, compared, start, site);
				for (long i = 1; i < n; i++) {
					double value = read(f, compared, start + i * compared.bytes(), site);
					if (largest ? bestValue < value : value < bestValue) {
						best = start + i * compared.bytes();
						bestValue = value;
					}
				}
				return best;
			}
		};
	}
}
