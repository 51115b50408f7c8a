package org.xpiler.core.vm;

/**
 * An int expression {@code f.l[s1] * c1 + f.l[s2] * c2 + c0} over at most two register locals, such as the
 * index {@code m * K + k} of a loop nest. Compiled to one closure instead of a tree of five, which is what
 * keeps address arithmetic in inner loops cheap. Reducing mod 2^32 once at the end gives the same value as
 * C's wrap-around after every operation.
 */
record Affine(int slot1, long factor1, int slot2, long factor2, long constant) {
	private static final int NONE = -1;

	static Affine of(Ex e) {
		Long constant = e.constant();
		if (constant != null) {
			return new Affine(NONE, 0, NONE, 0, constant);
		}
		int slot = e.registerSlot();
		if (slot >= 0 && e.type.kind() == VmType.Kind.LONG) {
			return new Affine(slot, 1, NONE, 0, 0);
		}
		return e instanceof Node node ? node.affine : null;
	}

	/** {@code a + sign * b}, or null when it needs more than two registers. */
	static Affine add(Affine a, Affine b, long sign) {
		Affine result = new Affine(a.slot1, a.factor1, a.slot2, a.factor2, a.constant + sign * b.constant);
		result = result.plus(b.slot1, sign * b.factor1);
		return result == null ? null : result.plus(b.slot2, sign * b.factor2);
	}

	static Affine times(Affine a, Affine b) {
		if (b.slot1 == NONE && b.slot2 == NONE) {
			return a.scaled(b.constant);
		}
		if (a.slot1 == NONE && a.slot2 == NONE) {
			return b.scaled(a.constant);
		}
		return null;
	}

	private Affine scaled(long k) {
		return new Affine(slot1, factor1 * k, slot2, factor2 * k, constant * k);
	}

	private Affine plus(int slot, long factor) {
		if (slot == NONE || factor == 0) {
			return this;
		}
		if (slot1 == slot) {
			return new Affine(slot1, factor1 + factor, slot2, factor2, constant);
		}
		if (slot2 == slot) {
			return new Affine(slot1, factor1, slot2, factor2 + factor, constant);
		}
		if (slot1 == NONE) {
			return new Affine(slot, factor, slot2, factor2, constant);
		}
		if (slot2 == NONE) {
			return new Affine(slot1, factor1, slot, factor, constant);
		}
		return null;
	}

	/** The closure computing the expression as an int. */
	Ex compile() {
		if (slot1 == NONE && slot2 == NONE) {
			return Ex.constant(VmType.I32, (long) (int) constant);
		}
		if (slot2 == NONE) {
			int s = slot1;
			long k = factor1;
			long c = constant;
			return new Node(this) {
				@Override
				long l(Frame f) {
					return (int) (f.l[s] * k + c);
				}
			};
		}
		int s1 = slot1;
		int s2 = slot2;
		long k1 = factor1;
		long k2 = factor2;
		long c = constant;
		return new Node(this) {
			@Override
			long l(Frame f) {
				return (int) (f.l[s1] * k1 + f.l[s2] * k2 + c);
			}
		};
	}

	/** An int closure that remembers its affine form, so enclosing operators can extend it. */
	abstract static class Node extends Ex {
		final Affine affine;

		Node(Affine affine) {
			super(VmType.I32);
			this.affine = affine;
		}
	}
}
