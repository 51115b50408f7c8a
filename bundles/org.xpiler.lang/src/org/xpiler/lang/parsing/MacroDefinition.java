package org.xpiler.lang.parsing;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parts of a {@code #define} line: its name, its parameters (null when object-like) and its body text
 * without comments (not empty).
 */
public record MacroDefinition(String name, List<String> parameters, String body) {
	private static final Pattern DEFINE = Pattern
			.compile("^#\\s*define\\s+([A-Za-z_]\\w*)(\\(([^)]*)\\))?\\s*(.*?)\\s*$", Pattern.DOTALL);

	/** A string or character literal, a number ({@code 1.0f}, {@code 0x1F}) or an identifier of a macro body. */
	private static final Pattern TOKEN = Pattern
			.compile("\"(?:\\\\.|[^\"\\\\])*\"|'(?:\\\\.|[^'\\\\])*'|\\.?\\d(?:[eEpP][+-]|[\\w.])*|[A-Za-z_]\\w*");

	/** The definition {@code directive} (the text of a {@code #} line) makes, if it is a {@code #define} with a body. */
	public static Optional<MacroDefinition> of(String directive) {
		String line = directive.replace("\\\r\n", " ").replace("\\\n", " ");
		Matcher m = DEFINE.matcher(line.strip());
		if (!m.matches()) {
			return Optional.empty();
		}
		String body = m.group(4).replaceAll("//.*$", "").replaceAll("/\\*.*?\\*/", "").strip();
		List<String> parameters = m.group(2) == null ? null
				: List.of(m.group(3).split(",")).stream().map(String::strip).filter(p -> !p.isEmpty()).toList();
		return body.isEmpty() ? Optional.empty() : Optional.of(new MacroDefinition(m.group(1), parameters, body));
	}

	/**
	 * The body of this function-like macro with each parameter replaced by the text of its argument, in
	 * order, as the preprocessor expands a call of it.
	 */
	public String expanded(List<String> arguments) {
		Map<String, String> byParameter = new HashMap<>();
		for (int i = 0; i < parameters.size() && i < arguments.size(); i++) {
			byParameter.put(parameters.get(i), arguments.get(i));
		}
		return replaceIdentifiers(body, name -> byParameter.getOrDefault(name, name));
	}

	/**
	 * {@code text} with each identifier replaced by what {@code replacement} gives for it, in one pass over
	 * the preprocessor's tokens: the text of string and character literals and of numbers ({@code 1.0f},
	 * {@code 0x1F}) is left alone.
	 */
	public static String replaceIdentifiers(String text, UnaryOperator<String> replacement) {
		return TOKEN.matcher(text).replaceAll(token -> Matcher.quoteReplacement(
				Character.isJavaIdentifierStart(token.group().charAt(0)) ? replacement.apply(token.group())
						: token.group()));
	}
}
