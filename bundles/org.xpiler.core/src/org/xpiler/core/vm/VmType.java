package org.xpiler.core.vm;

import java.util.List;

/**
 * The types the virtual device computes with. Every value lives in one of three kinds of registers: integers,
 * pointers and addresses of arrays in a {@code long}, floating values in a {@code double} (rounded to their
 * type after every operation), and aggregates (vectors, structs) as a {@code byte[]} in little-endian layout.
 */
public sealed interface VmType {

	enum Kind {
		LONG, DOUBLE, OBJECT, VOID
	}

	int size();

	int align();

	Kind kind();

	/** The C spelling, for messages. */
	String display();

	Scalar BOOL = new Scalar(ElementType.BOOL);
	Scalar I8 = new Scalar(ElementType.I8);
	Scalar U8 = new Scalar(ElementType.U8);
	Scalar I32 = new Scalar(ElementType.I32);
	Scalar U32 = new Scalar(ElementType.U32);
	Scalar I64 = new Scalar(ElementType.I64);
	Scalar U64 = new Scalar(ElementType.U64);
	Scalar F32 = new Scalar(ElementType.F32);
	Scalar F64 = new Scalar(ElementType.F64);
	Void VOID = new Void();
	Pointer VOID_POINTER = new Pointer(VOID);

	/** A value held in one 64-bit integer register: pointers, references, handles, template constants. */
	sealed interface Word extends VmType permits Pointer, Reference, Opaque, TemplateValue {
		@Override
		default int size() {
			return 8;
		}

		@Override
		default int align() {
			return 8;
		}

		@Override
		default Kind kind() {
			return Kind.LONG;
		}
	}

	static Scalar of(ElementType element) {
		return new Scalar(element);
	}

	record Scalar(ElementType element) implements VmType {
		@Override
		public int size() {
			return element.bytes();
		}

		@Override
		public int align() {
			return element.bytes();
		}

		@Override
		public Kind kind() {
			return element.isFloating() ? Kind.DOUBLE : Kind.LONG;
		}

		@Override
		public String display() {
			return element.cName();
		}
	}

	/** A pointer; {@code void*} points at {@link #VOID} and steps by one byte (as GNU C). */
	record Pointer(VmType target) implements Word {
		public int stride() {
			return target instanceof Void ? 1 : Math.max(1, target.size());
		}

		@Override
		public String display() {
			return target.display() + "*";
		}
	}

	/**
	 * A C++ reference parameter ({@code float& x}): passed as the address of the caller's variable, which
	 * every use reads and writes through.
	 */
	record Reference(VmType target) implements Word {
		@Override
		public String display() {
			return target.display() + "&";
		}
	}

	/** An array; its value is the address of its first element (arrays decay to pointers). */
	record Array(VmType element, int length) implements VmType {
		@Override
		public int size() {
			return element.size() * length;
		}

		@Override
		public int align() {
			return element.align();
		}

		@Override
		public Kind kind() {
			return Kind.LONG;
		}

		@Override
		public String display() {
			return element.display() + "[" + length + "]";
		}
	}

	/**
	 * A SIMD vector ({@code __m512i}, {@code __half2}); {@code lane} is the element its lanes are read as, which
	 * intrinsic parameters choose for themselves.
	 */
	record Vector(String name, int bytes, ElementType lane) implements VmType {
		@Override
		public int size() {
			return bytes;
		}

		@Override
		public int align() {
			return Math.min(bytes, 64);
		}

		@Override
		public Kind kind() {
			return Kind.OBJECT;
		}

		public int lanes() {
			return bytes / lane.bytes();
		}

		public Vector viewedAs(ElementType newLane) {
			return new Vector(name, bytes, newLane);
		}

		@Override
		public String display() {
			return name;
		}
	}

	record Field(String name, VmType type, int offset) {
	}

	/** A struct such as {@code dim3} or {@code float4}. */
	record Struct(String name, List<Field> fields, int size, int align) implements VmType {
		public Field field(String fieldName) {
			return fields.stream().filter(f -> f.name().equals(fieldName)).findFirst().orElse(null);
		}

		/**
		 * Which of its bytes hold a field's value, and which are padding (false): a copy of the whole struct may
		 * read padding that nobody wrote.
		 */
		public boolean[] valueBytes() {
			boolean[] bytes = new boolean[size];
			markValueBytes(bytes, 0);
			return bytes;
		}

		private void markValueBytes(boolean[] bytes, int base) {
			for (Field f : fields) {
				if (f.type() instanceof Struct inner) {
					inner.markValueBytes(bytes, base + f.offset());
				} else {
					java.util.Arrays.fill(bytes, base + f.offset(), Math.min(bytes.length, base + f.offset() + f.type().size()),
							true);
				}
			}
		}

		/** Whether every field is a number, so that the struct can live in a register as its bytes. */
		public boolean scalarFields() {
			return fields.stream().allMatch(f -> f.type() instanceof Scalar);
		}

		@Override
		public Kind kind() {
			return Kind.OBJECT;
		}

		@Override
		public String display() {
			return name;
		}

		/** A struct of {@code count} fields x, y, z, w of one element type. */
		static Struct ofLanes(String name, ElementType element, int count, int defaultAlign) {
			String[] names = { "x", "y", "z", "w" };
			List<Field> fields = new java.util.ArrayList<>();
			for (int i = 0; i < count; i++) {
				fields.add(new Field(names[i], VmType.of(element), i * element.bytes()));
			}
			return new Struct(name, List.copyOf(fields), count * element.bytes(), defaultAlign);
		}
	}

	/**
	 * A {@code wmma::fragment}: the whole tile (rows x cols elements, row-major), held by every lane of the
	 * warp, since the hardware's distribution of elements over lanes is unspecified.
	 */
	record Fragment(String use, int rows, int cols, ElementType element, boolean columnMajor) implements VmType {
		@Override
		public int size() {
			return rows * cols * element.bytes();
		}

		@Override
		public int align() {
			return 16;
		}

		@Override
		public Kind kind() {
			return Kind.OBJECT;
		}

		@Override
		public String display() {
			return "wmma::fragment<" + use + ", " + rows + "x" + cols + ", " + element.cName() + ">";
		}

		/** The elements as an array a lane can index ({@code frag.x[i]}). */
		public Vector asVector() {
			return new Vector(display(), size(), element);
		}
	}

	/** A runtime handle (stream, event, queue): an integer nobody computes with. */
	record Opaque(String name) implements Word {
		@Override
		public String display() {
			return name;
		}
	}

	/** A non-type template argument ({@code template <int N>}), bound like a type parameter. */
	record TemplateValue(long value) implements Word {
		@Override
		public String display() {
			return Long.toString(value);
		}
	}

	record Void() implements VmType {
		@Override
		public int size() {
			return 1;
		}

		@Override
		public int align() {
			return 1;
		}

		@Override
		public Kind kind() {
			return Kind.VOID;
		}

		@Override
		public String display() {
			return "void";
		}
	}

	static boolean isInteger(VmType type) {
		return type instanceof Scalar s && s.element().isInteger() || type instanceof Opaque;
	}

	static boolean isFloating(VmType type) {
		return type instanceof Scalar s && s.element().isFloating();
	}

	static boolean isPointerLike(VmType type) {
		return type instanceof Pointer || type instanceof Array;
	}

	/** The element a pointer or array steps over. */
	static VmType pointee(VmType type) {
		return type instanceof Pointer p ? p.target() : ((Array) type).element();
	}
}
