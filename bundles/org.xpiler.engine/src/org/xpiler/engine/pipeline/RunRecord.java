package org.xpiler.engine.pipeline;

import java.util.List;

/**
 * The durable story of one translation (written with {@code --record}): the source, the directions, every
 * step in order, the final verdict and its reason. The workbench reads exactly this.
 *
 * @param verified whether the output passed the oracle against the source
 */
public record RunRecord(String source, String from, String to, String output, boolean verified, String reason,
		List<StepRecord> steps, long millis) {
}
