package org.xpiler.engine.pipeline;

import java.util.List;
import java.util.Map;

/**
 * The durable story of one translation (written with {@code --record}): the source, the directions, every
 * step in order, the final verdict and its reason. The workbench reads exactly this.
 *
 * @param verified       whether the output passed the oracle against the source
 * @param assumedScalars the values every check gave the entry's scalar parameters that the user did not
 *                       ({@code n=1000}); empty when all were given
 */
public record RunRecord(String source, String from, String to, String output, boolean verified, String reason,
		Map<String, String> assumedScalars, List<StepRecord> steps, long millis) {
}
