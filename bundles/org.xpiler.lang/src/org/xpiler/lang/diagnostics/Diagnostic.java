package org.xpiler.lang.diagnostics;

/**
 * One finding about a kernel file, located like a compiler's: {@code file:line:column: severity: message}.
 * Lines and columns count from 1; a finding about the whole file (it cannot be read) has line 0.
 *
 * @param code a stable identifier of the rule that found it (for tests and quick fixes), or {@code null}
 */
public record Diagnostic(String file, int line, int column, Severity severity, String message, String code) {

	public enum Severity {
		ERROR, WARNING, INFO;

		public String label() {
			return name().toLowerCase(java.util.Locale.ROOT);
		}
	}

	public boolean isError() {
		return severity == Severity.ERROR;
	}

	/** The compiler-style line, e.g. {@code gemm.cu:12:5: error: unknown identifier 'tid'}. */
	public String format() {
		String location = line > 0 ? file + ":" + line + ":" + column : file;
		return location + ": " + severity.label() + ": " + message;
	}

	@Override
	public String toString() {
		return format();
	}
}
