package org.xpiler.core.vm;

/**
 * A fault of the kernel, not of the virtual device: an out-of-bounds access, a data race, a broken intrinsic
 * rule, a runaway loop. Located at the kernel's source and, when threads or tasks run, naming the one that
 * faulted.
 */
public class VmError extends RuntimeException {
	private static final long serialVersionUID = 1L;

	private final transient Site site;
	private final String who;

	public VmError(Site site, String who, String message) {
		super(message);
		this.site = site;
		this.who = who;
	}

	public Site site() {
		return site;
	}

	/** {@code thread (3,0,0) of block (1,0,0)}, {@code task 5}, or empty for single-threaded code. */
	public String who() {
		return who;
	}

	/** {@code gemm.cu:12:5: error: ... (thread (3,0,0) of block (1,0,0))} */
	public String format() {
		return site.location() + ": error: " + getMessage() + (who.isEmpty() ? "" : " (" + who + ")");
	}
}
