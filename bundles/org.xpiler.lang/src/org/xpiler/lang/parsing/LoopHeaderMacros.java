package org.xpiler.lang.parsing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Expands the uses of macros that stand for a loop's header, as the preprocessor would, before the file is
 * parsed. PyTorch, Caffe and mmcv kernels loop with
 * <pre>
 * #define CUDA_KERNEL_LOOP(i, n) for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)
 * CUDA_KERNEL_LOOP(index, nthreads) { ... }
 * </pre>
 * whose use is no C statement until expanded. A macro qualifies when it takes parameters and its whole body is
 * {@code for (...)} or {@code while (...)}. Each use becomes the body on one line, followed by the line breaks
 * its arguments spanned, so that every later line keeps its number (columns after a use on its line move).
 * The {@code #define} stays in the file. Comments, string literals and directives are left alone.
 */
final class LoopHeaderMacros {
	private LoopHeaderMacros() {
	}

	/** {@code text} with the uses of its loop-header macros expanded; the same string when it defines none. */
	static String expand(String text) {
		Map<String, MacroDefinition> macros = definitions(text);
		if (macros.isEmpty()) {
			return text;
		}
		StringBuilder out = new StringBuilder(text.length());
		int i = 0;
		boolean lineStart = true;
		while (i < text.length()) {
			char c = text.charAt(i);
			int skipped = skipUnexpanded(text, i, lineStart);
			if (skipped > i) {
				out.append(text, i, skipped);
				lineStart = text.charAt(skipped - 1) == '\n';
				i = skipped;
				continue;
			}
			if (Character.isJavaIdentifierStart(c)) {
				int end = i;
				while (end < text.length() && Character.isJavaIdentifierPart(text.charAt(end))) {
					end++;
				}
				MacroDefinition macro = macros.get(text.substring(i, end));
				int used = macro == null ? -1 : use(text, end, macro, out);
				if (used < 0) {
					out.append(text, i, end);
					i = end;
				} else {
					i = used;
				}
				lineStart = false;
				continue;
			}
			out.append(c);
			lineStart = c == '\n' || lineStart && Character.isWhitespace(c);
			i++;
		}
		return out.toString();
	}

	/** The loop-header macros the file's {@code #define} lines make, by name. */
	private static Map<String, MacroDefinition> definitions(String text) {
		Map<String, MacroDefinition> macros = new LinkedHashMap<>();
		String[] lines = text.split("\n", -1);
		for (int k = 0; k < lines.length; k++) {
			if (!lines[k].stripLeading().startsWith("#")) {
				continue;
			}
			StringBuilder directive = new StringBuilder(lines[k]);
			while (directive.toString().stripTrailing().endsWith("\\") && k + 1 < lines.length) {
				directive.append('\n').append(lines[++k]);
			}
			MacroDefinition.of(directive.toString()).filter(LoopHeaderMacros::isLoopHeader)
					.ifPresent(m -> macros.put(m.name(), m));
		}
		return macros;
	}

	/** {@code for (...)} or {@code while (...)} and nothing after the parenthesis that closes the header. */
	private static boolean isLoopHeader(MacroDefinition macro) {
		String body = macro.body().strip();
		if (macro.parameters() == null || body.contains("#") || !body.matches("(?s)(for|while)\\s*\\(.*\\)")) {
			return false;
		}
		int open = body.indexOf('(');
		return closing(body, open) == body.length() - 1;
	}

	/**
	 * Appends the expansion of a use of {@code macro} whose name ends at {@code at}, and returns where the use
	 * ends; -1 (nothing appended) when no argument list with the macro's number of arguments follows.
	 */
	private static int use(String text, int at, MacroDefinition macro, StringBuilder out) {
		int open = at;
		while (open < text.length() && (text.charAt(open) == ' ' || text.charAt(open) == '\t')) {
			open++;
		}
		if (open >= text.length() || text.charAt(open) != '(') {
			return -1;
		}
		int close = closing(text, open);
		if (close < 0) {
			return -1;
		}
		List<String> arguments = arguments(text.substring(open + 1, close));
		if (arguments.size() != macro.parameters().size()) {
			return -1;
		}
		String expanded = macro.expanded(arguments).replace("\\\r\n", " ").replace("\\\n", " ").replace('\n', ' ');
		out.append(expanded);
		text.substring(at, close + 1).chars().filter(ch -> ch == '\n').forEach(ch -> out.append('\n'));
		return close + 1;
	}

	/** The index of the parenthesis closing the one at {@code open}, skipping literals; -1 when it is not closed. */
	private static int closing(String text, int open) {
		int depth = 0;
		for (int i = open; i < text.length(); i++) {
			char c = text.charAt(i);
			if (c == '"' || c == '\'') {
				i = literalEnd(text, i) - 1;
			} else if (c == '(') {
				depth++;
			} else if (c == ')' && --depth == 0) {
				return i;
			}
		}
		return -1;
	}

	/** The arguments of a call's parenthesized text, split at its top-level commas and stripped. */
	private static List<String> arguments(String inside) {
		List<String> arguments = new ArrayList<>();
		int depth = 0;
		int start = 0;
		for (int i = 0; i < inside.length(); i++) {
			char c = inside.charAt(i);
			if (c == '"' || c == '\'') {
				i = literalEnd(inside, i) - 1;
			} else if (c == '(' || c == '[' || c == '{') {
				depth++;
			} else if (c == ')' || c == ']' || c == '}') {
				depth--;
			} else if (c == ',' && depth == 0) {
				arguments.add(inside.substring(start, i).strip());
				start = i + 1;
			}
		}
		String last = inside.substring(start).strip();
		if (!last.isEmpty() || !arguments.isEmpty()) {
			arguments.add(last);
		}
		return arguments;
	}

	/**
	 * Where the comment, literal or directive starting at {@code i} ends (after it); {@code i} itself when none
	 * starts there.
	 */
	private static int skipUnexpanded(String text, int i, boolean lineStart) {
		char c = text.charAt(i);
		if (c == '"' || c == '\'') {
			return literalEnd(text, i);
		}
		if (c == '/' && i + 1 < text.length() && text.charAt(i + 1) == '/') {
			int end = text.indexOf('\n', i);
			return end < 0 ? text.length() : end;
		}
		if (c == '/' && i + 1 < text.length() && text.charAt(i + 1) == '*') {
			int end = text.indexOf("*/", i + 2);
			return end < 0 ? text.length() : end + 2;
		}
		if (c == '#' && lineStart) {
			int end = i;
			while (true) {
				int newline = text.indexOf('\n', end);
				if (newline < 0) {
					return text.length();
				}
				if (!text.substring(end, newline).stripTrailing().endsWith("\\")) {
					return newline;
				}
				end = newline + 1;
			}
		}
		return i;
	}

	/** The index after the string or character literal that starts at {@code i}. */
	private static int literalEnd(String text, int i) {
		char quote = text.charAt(i);
		for (int k = i + 1; k < text.length(); k++) {
			char c = text.charAt(k);
			if (c == '\\') {
				k++;
			} else if (c == quote || c == '\n') {
				return k + 1;
			}
		}
		return text.length();
	}
}
