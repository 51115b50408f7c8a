package org.xpiler.core.vm;

/**
 * A compiled place that can be read and written: a register slot, memory at an address, a field or lane of an
 * aggregate. {@link #prepare} evaluates the place once (the address of {@code a[i++]}) so compound
 * assignments and increments evaluate their operand's side effects once.
 */
abstract class Lv {
	final VmType type;

	Lv(VmType type) {
		this.type = type;
	}

	long prepare(Frame f) {
		return 0;
	}

	long getL(Frame f, long place) {
		throw new IllegalStateException(type.display());
	}

	void setL(Frame f, long place, long value) {
		throw new IllegalStateException(type.display());
	}

	double getD(Frame f, long place) {
		throw new IllegalStateException(type.display());
	}

	void setD(Frame f, long place, double value) {
		throw new IllegalStateException(type.display());
	}

	Object getO(Frame f, long place) {
		throw new IllegalStateException(type.display());
	}

	void setO(Frame f, long place, Object value) {
		throw new IllegalStateException(type.display());
	}

	/** The register slot of a plain local (of the type's kind), or -1: lets hot operations skip the generic path. */
	int registerSlot() {
		return -1;
	}

	/** Whether {@link #prepare} returns the place's address, so {@code &place} works. */
	boolean addressable() {
		return false;
	}

	/** The place read as an expression. */
	Ex read() {
		Lv self = this;
		return new Ex(type) {
			@Override
			long l(Frame f) {
				return self.getL(f, self.prepare(f));
			}

			@Override
			double d(Frame f) {
				return self.getD(f, self.prepare(f));
			}

			@Override
			Object o(Frame f) {
				return self.getO(f, self.prepare(f));
			}
		};
	}
}
