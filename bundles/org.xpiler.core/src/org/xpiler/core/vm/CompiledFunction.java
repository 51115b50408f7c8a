package org.xpiler.core.vm;

import java.util.List;

/**
 * A function ready to run: its register layout, its parameters' slots, the slots holding its local arrays
 * (allocated on first use in an activation, released when it returns) and its body.
 */
final class CompiledFunction {
	final String name;
	final int site;
	VmType returnType = VmType.VOID;
	List<Slot> parameters = List.of();
	int longSlots;
	int doubleSlots;
	int objectSlots;
	int[] arraySlots = new int[0];
	Stmt body;
	/** Checks run before the body (intrinsic rules); null when none. */
	Stmt prologue;
	/** For intrinsics returning a vector: the slot of {@code result}. */
	int resultSlot = -1;
	int resultBytes;

	/** Where a parameter arrives; memory-resident ones are stored to {@code l[memorySlot]}'s address. */
	record Slot(String name, VmType type, int slot, boolean memoryResident) {
	}

	CompiledFunction(String name, int site) {
		this.name = name;
		this.site = site;
	}

	/** Runs the body in a fresh activation whose parameters the caller has set in {@code callee}. */
	void invoke(Frame callee) {
		try {
			if (resultSlot >= 0) {
				callee.o[resultSlot] = new byte[resultBytes];
			}
			if (prologue != null) {
				prologue.exec(callee);
			}
			body.exec(callee);
			if (resultSlot >= 0) {
				callee.returnObject = callee.o[resultSlot];
			}
		} finally {
			for (int slot : arraySlots) {
				long address = callee.l[slot];
				if (address != 0) {
					Region region = callee.memory.region(address);
					if (region != null) {
						callee.memory.release(region);
					}
				}
			}
		}
	}
}
