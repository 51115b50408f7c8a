package org.xpiler.core.vm;

/**
 * A construct the virtual device cannot run, found while compiling (before anything runs): an unknown name,
 * an unsupported type, a call with no matching form. Located at the construct.
 */
public class CompileError extends RuntimeException {
	private static final long serialVersionUID = 1L;

	private final transient Site site;

	public CompileError(Site site, String message) {
		super(message);
		this.site = site;
	}

	public Site site() {
		return site;
	}

	public String format() {
		return site.location() + ": error: " + getMessage();
	}
}
