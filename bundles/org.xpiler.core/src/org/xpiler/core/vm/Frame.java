package org.xpiler.core.vm;

/** The registers of one function activation: integer, floating and aggregate slots, and the return value. */
final class Frame {
	final long[] l;
	final double[] d;
	final Object[] o;
	final Lane lane;
	final Memory memory;
	final Execution execution;
	long returnLong;
	double returnDouble;
	Object returnObject;

	Frame(CompiledFunction function, Lane lane) {
		this.l = new long[function.longSlots];
		this.d = new double[function.doubleSlots];
		this.o = new Object[function.objectSlots];
		this.lane = lane;
		this.execution = lane.execution;
		this.memory = execution.memory;
	}
}
