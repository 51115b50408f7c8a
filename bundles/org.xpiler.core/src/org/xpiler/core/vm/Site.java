package org.xpiler.core.vm;

/** A place in a kernel file that the virtual device reports: an access, a call, a loop. */
public record Site(String file, int line, int column, String text) {

	public static final Site UNKNOWN = new Site("<unknown>", 0, 0, "");

	/** {@code gemm.cu:12:5} */
	public String location() {
		return line > 0 ? file + ":" + line + ":" + column : file;
	}
}
