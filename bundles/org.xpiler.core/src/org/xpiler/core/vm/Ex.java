package org.xpiler.core.vm;

/**
 * A compiled expression: a closure over its operands that computes in the register kind of its type, so the
 * hot path does no boxing and no lookups. Exactly one of {@link #l}, {@link #d}, {@link #o} is meaningful,
 * chosen by {@code type.kind()}; void calls run through {@link #l}.
 */
abstract class Ex {
	final VmType type;

	Ex(VmType type) {
		this.type = type;
	}

	long l(Frame f) {
		throw new IllegalStateException("no integer value: " + type.display());
	}

	double d(Frame f) {
		throw new IllegalStateException("no floating value: " + type.display());
	}

	Object o(Frame f) {
		throw new IllegalStateException("no aggregate value: " + type.display());
	}

	/** Evaluates for the side effects only (off hot paths: it dispatches on the kind each time). */
	final void run(Frame f) {
		switch (type.kind()) {
		case DOUBLE -> d(f);
		case OBJECT -> o(f);
		default -> l(f);
		}
	}

	/** The register slot when this is a plain read of a local (of its kind), else -1: lets operators fuse it. */
	int registerSlot() {
		return -1;
	}

	/** The value when it is known at compile time (integer constants), else null. */
	Long constant() {
		return null;
	}

	static Ex constant(VmType type, long value) {
		return new Ex(type) {
			@Override
			long l(Frame f) {
				return value;
			}

			@Override
			Long constant() {
				return value;
			}
		};
	}

	static Ex constant(VmType type, double value) {
		return new Ex(type) {
			@Override
			double d(Frame f) {
				return value;
			}
		};
	}
}
