package org.xpiler.lang.parsing;

import java.util.Optional;

import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.diagnostics.Diagnostic.Severity;

/**
 * The parser is recursive-descent: brackets nested thousands deep would exhaust its stack. Real kernels
 * nest a few dozen levels, so nesting beyond {@link #MAX_DEPTH} is reported at the bracket that crosses it
 * instead of being parsed. Comments, strings and character literals are skipped.
 */
final class NestingLimit {
	static final int MAX_DEPTH = 256;

	private NestingLimit() {
	}

	static Optional<Diagnostic> check(String file, String text) {
		int depth = 0;
		int length = text.length();
		int i = 0;
		while (i < length) {
			char c = text.charAt(i);
			char next = i + 1 < length ? text.charAt(i + 1) : '\0';
			if (c == '/' && next == '/') {
				i = endOfLine(text, i);
			} else if (c == '/' && next == '*') {
				int end = text.indexOf("*/", i + 2);
				i = end < 0 ? length : end + 2;
			} else if (c == '"' || c == '\'') {
				i = endOfQuoted(text, i, c);
			} else {
				if (c == '(' || c == '[' || c == '{') {
					if (++depth > MAX_DEPTH) {
						TextPosition at = TextPosition.of(text, i);
						return Optional.of(new Diagnostic(file, at.line(), at.column(), Severity.ERROR,
								"brackets nested more than " + MAX_DEPTH + " levels deep: simplify the expression",
								"nesting"));
					}
				} else if (c == ')' || c == ']' || c == '}') {
					depth = Math.max(0, depth - 1);
				}
				i++;
			}
		}
		return Optional.empty();
	}

	private static int endOfLine(String text, int from) {
		int end = text.indexOf('\n', from);
		return end < 0 ? text.length() : end;
	}

	private static int endOfQuoted(String text, int open, char quote) {
		int i = open + 1;
		while (i < text.length() && text.charAt(i) != quote && text.charAt(i) != '\n') {
			i += text.charAt(i) == '\\' ? 2 : 1;
		}
		return Math.min(i + 1, text.length());
	}
}
