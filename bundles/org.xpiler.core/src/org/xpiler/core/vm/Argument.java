package org.xpiler.core.vm;

/** A value passed to a kernel's entry: a buffer behind a pointer parameter, or a scalar. */
public sealed interface Argument permits Argument.Buffer, Argument.Scalar {

	/** The parameter's name in the entry. */
	String name();

	/**
	 * The bytes behind a pointer parameter (little-endian elements of {@code type}); a buffer the run writes is
	 * handed back with its new contents. {@code initialized} says which bytes hold defined values (null: all).
	 */
	record Buffer(String name, ElementType type, byte[] contents, boolean[] initialized) implements Argument {
		public Buffer(String name, ElementType type, byte[] contents) {
			this(name, type, contents, null);
		}

		public long elements() {
			return contents.length / type.bytes();
		}
	}

	/** A scalar parameter's value as the user wrote it ({@code 1024}, {@code 0.5f}). */
	record Scalar(String name, String value) implements Argument {
	}
}
