package org.xpiler.engine.passes;

/**
 * Thrown by {@link Pass#apply} when a precondition shows only while rewriting (a construct deep inside the
 * kernel); the translator records the step as refused with this message, which names the construct and its
 * line.
 */
public final class PassRefusal extends RuntimeException {
	private static final long serialVersionUID = 1L;

	public PassRefusal(String message) {
		super(message);
	}

	/**
	 * For {@link Pass#refusal} of a pass that finds its precondition by planning the rewrite: empty when
	 * {@code planning} completes, else the refusal it threw.
	 */
	public static java.util.Optional<String> of(Runnable planning) {
		try {
			planning.run();
			return java.util.Optional.empty();
		} catch (PassRefusal refused) {
			return java.util.Optional.of(refused.getMessage());
		}
	}

	/**
	 * A refusal located at {@code node}: {@code line 12: ...}; without the location when the node was written by a
	 * pass (a template's instance) and has no line of the source.
	 */
	public static PassRefusal at(org.eclipse.emf.ecore.EObject node, String message) {
		String location = node == null ? "?" : Snippets.location(node);
		return new PassRefusal((location.equals("?") ? "" : location + ": ") + message);
	}
}
