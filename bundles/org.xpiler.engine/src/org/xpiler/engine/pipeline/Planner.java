package org.xpiler.engine.pipeline;

import java.util.List;

import org.xpiler.engine.passes.Pass;
import org.xpiler.engine.passes.SimtRuntimeMapping;
import org.xpiler.lang.dialect.Dialect;

/**
 * Turns a direction into the pass sequences to try, best first. Between the two SIMT dialects one mapping
 * suffices; the other directions (lifting to sequential C, then lowering with split, bind, cache, pipeline
 * and tensorize) have no plan yet, and the translator says so.
 */
public final class Planner {

	/** The candidate plans from {@code from} to {@code to}; empty when no direction is implemented. */
	public List<List<Pass>> plans(Dialect from, Dialect to) {
		if ((from == Dialect.CUDA && to == Dialect.HIP) || (from == Dialect.HIP && to == Dialect.CUDA)) {
			return List.of(List.of(new SimtRuntimeMapping()));
		}
		return List.of();
	}
}
