package org.xpiler.devices;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.diagnostics.Diagnostic.Severity;

/**
 * Reads what a compiler printed into {@link Diagnostic}s of the kernel file. Two formats cover the toolchains:
 * gcc and clang (hipcc) write {@code file:line:col: error: message}; nvcc writes {@code file(line): error:
 * message}, then the source line and a caret under the column, both indented by two spaces. The kernel text
 * is compiled after a {@code #line 1 "<file>"} directive, so a finding names the kernel file exactly when it
 * is in the kernel; findings in the prelude or a harness are left out (they stay in the compiler's output).
 */
final class CompilerDiagnostics {
	private static final Pattern GCC_STYLE = Pattern
			.compile("^(.+?):(\\d+):(?:(\\d+):)? (fatal error|error|warning|note): (.*)$");

	private static final Pattern NVCC_STYLE = Pattern
			.compile("^(.+?)\\((\\d+)\\): (catastrophic error|error|warning|remark)(?: #[\\w-]+)?: (.*)$");

	/** nvcc echoes the offending line and a caret line, both behind this indentation. */
	private static final int NVCC_ECHO_INDENT = 2;

	private static final Pattern CARET_LINE = Pattern.compile("^ *\\^\\s*$");

	private CompilerDiagnostics() {
	}

	/**
	 * The findings of {@code output} located in {@code kernelFile}, in the order the compiler printed them.
	 *
	 * @param tool the compiler's name, kept as each diagnostic's code ({@code g++}, {@code nvcc})
	 */
	static List<Diagnostic> parse(String output, String kernelFile, String tool) {
		List<Diagnostic> diagnostics = new ArrayList<>();
		List<String> lines = output.lines().toList();
		for (int i = 0; i < lines.size(); i++) {
			String line = lines.get(i);
			Matcher gcc = GCC_STYLE.matcher(line);
			if (gcc.matches()) {
				if (gcc.group(1).equals(kernelFile)) {
					int column = gcc.group(3) == null ? 0 : Integer.parseInt(gcc.group(3));
					diagnostics.add(new Diagnostic(kernelFile, Integer.parseInt(gcc.group(2)), column,
							severity(gcc.group(4)), gcc.group(5), tool));
				}
				continue;
			}
			Matcher nvcc = NVCC_STYLE.matcher(line);
			if (nvcc.matches() && nvcc.group(1).equals(kernelFile)) {
				diagnostics.add(new Diagnostic(kernelFile, Integer.parseInt(nvcc.group(2)), caretColumn(lines, i),
						severity(nvcc.group(3)), nvcc.group(4), tool));
			}
		}
		return List.copyOf(diagnostics);
	}

	/** The column nvcc's caret points at, two lines below its message; 0 when it printed none. */
	private static int caretColumn(List<String> lines, int messageLine) {
		int caretLine = messageLine + 2;
		if (caretLine >= lines.size() || !CARET_LINE.matcher(lines.get(caretLine)).matches()) {
			return 0;
		}
		return Math.max(1, lines.get(caretLine).indexOf('^') - NVCC_ECHO_INDENT + 1);
	}

	/**
	 * A failed result whose one finding concerns the whole file (line 0): the compiler is missing, the file is
	 * of another dialect.
	 */
	static CompileResult wholeFileFailure(String device, String file, String message, String tool, String output) {
		Diagnostic finding = new Diagnostic(file, 0, 0, Severity.ERROR, message, tool);
		return new CompileResult(device, false, List.of(finding), output.isEmpty() ? message : output);
	}

	private static Severity severity(String label) {
		return switch (label) {
		case "error", "fatal error", "catastrophic error" -> Severity.ERROR;
		case "warning" -> Severity.WARNING;
		default -> Severity.INFO;
		};
	}
}
