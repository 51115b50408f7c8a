package org.xpiler.engine.pipeline;

import java.util.Map;

/**
 * One step of a translation, as the pass explorer shows it: the pass and its knob values, the code before and
 * after, whether the oracle accepted the result, why not, and how long the step took.
 *
 * @param verdict {@code accepted}, {@code rejected} (the oracle found a difference, or the output does not
 *                parse) or {@code refused} (the pass's precondition failed)
 */
public record StepRecord(String pass, Map<String, String> knobs, String before, String after, String verdict,
		String reason, String oracle, long millis) {

	public boolean accepted() {
		return "accepted".equals(verdict);
	}
}
