package org.xpiler.core.vm;

import java.util.List;

/**
 * C++'s {@code std::array<T, N>}, which is laid out as {@code T[N]} and is one here: its subscripts are an
 * array's, and its members {@code size()}, {@code data()}, {@code begin()}, {@code end()} and {@code fill(v)}
 * are the array's length, its address, the address past its end and a store to every element.
 */
final class StdArrays {
	private StdArrays() {
	}

	/** {@code array.member(args)}; null when {@code member} is none of these. */
	static Ex member(Ex array, String member, List<Ex> args, ExpressionCompiler ec, int site) {
		VmType.Array arrayType = (VmType.Array) array.type;
		int bytes = arrayType.element().size();
		VmType pointer = new VmType.Pointer(arrayType.element());
		if (member.equals("fill") && args.size() == 1 && arrayType.element() instanceof VmType.Scalar scalar) {
			Ex value = ec.convert(args.get(0), scalar);
			ElementType element = scalar.element();
			return new Ex(VmType.VOID) {
				@Override
				long l(Frame f) {
					long start = array.l(f);
					if (element.isFloating()) {
						double v = value.d(f);
						for (int i = 0; i < arrayType.length(); i++) {
							f.memory.storeFloating(element, start + (long) i * bytes, v, site);
						}
					} else {
						long v = value.l(f);
						for (int i = 0; i < arrayType.length(); i++) {
							f.memory.store(element, start + (long) i * bytes, v, site);
						}
					}
					return 0;
				}
			};
		}
		if (!args.isEmpty()) {
			return null;
		}
		return switch (member) {
		case "size", "max_size" -> Ex.constant(VmType.U64, (long) arrayType.length());
		case "data", "begin" -> retyped(array, pointer, 0);
		case "end" -> retyped(array, pointer, (long) arrayType.length() * bytes);
		default -> null;
		};
	}

	private static Ex retyped(Ex array, VmType pointer, long offset) {
		return new Ex(pointer) {
			@Override
			long l(Frame f) {
				return array.l(f) + offset;
			}
		};
	}
}
