package org.xpiler.engine.passes;

import java.util.Map;
import java.util.Optional;

import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * A transformation of a kernel model, one concept each (the paper's loop recovery, bind, split, ..., and the
 * mappings between dialects). A pass changes a copy it is given; the pipeline prints, re-reads and verifies
 * the result before the next pass runs.
 */
public interface Pass {

	/** The name records and the pass explorer show ({@code runtime-mapping}). */
	String name();

	/** One line: what the pass does. */
	String summary();

	/** Why the pass cannot apply to this model, with the construct's location; empty when it can. */
	Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to);

	/**
	 * Rewrites {@code unit} in place; returns the knob values it used.
	 *
	 * @throws PassRefusal when a precondition shows only while rewriting (a construct deep in a kernel); the
	 *                     translator records the step as refused with the message
	 */
	Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to);
}
