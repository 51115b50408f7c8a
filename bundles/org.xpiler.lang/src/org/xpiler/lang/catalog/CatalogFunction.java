package org.xpiler.lang.catalog;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * An intrinsic, builtin or runtime call of a dialect, with every accepted form. See
 * {@code dialects/CATALOG.md} for the meaning of each field.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CatalogFunction(String name, String category, String summary, Map<String, List<String>> typeParams,
		List<Signature> signatures, List<Rule> rules, String reference, boolean barrier, Deprecation deprecated) {

	public CatalogFunction {
		typeParams = typeParams == null ? Map.of() : Map.copyOf(typeParams);
		signatures = signatures == null ? List.of() : List.copyOf(signatures);
		rules = rules == null ? List.of() : List.copyOf(rules);
	}

	/** The distinct argument counts the forms accept, in ascending order. */
	public List<Integer> arities() {
		return signatures.stream().map(s -> s.params().size()).distinct().sorted().toList();
	}

	@JsonIgnoreProperties(ignoreUnknown = true)
	public record Signature(String returns, List<Parameter> params, List<Rule> rules, String reference,
			String returnElement) {
		public Signature {
			params = params == null ? List.of() : List.copyOf(params);
			rules = rules == null ? List.of() : List.copyOf(rules);
		}

		/** Whether the last parameter is {@code ...} (hipLaunchKernelGGL's kernel arguments). */
		public boolean variadic() {
			return !params.isEmpty() && "...".equals(params.get(params.size() - 1).type());
		}

		/** Whether a call with {@code arguments} arguments fits this form. */
		public boolean accepts(int arguments) {
			return variadic() ? arguments >= params.size() - 1 : arguments == params.size();
		}

		/** {@code (dst, src0, src1, n)}: the parameter names, for messages. */
		public String parameterList() {
			return "(" + String.join(", ", params.stream().map(Parameter::name).toList()) + ")";
		}
	}

	@JsonIgnoreProperties(ignoreUnknown = true)
	public record Parameter(String name, String type, String space, String access, String elements, String bytes,
			boolean constant, String element) {
	}

	@JsonIgnoreProperties(ignoreUnknown = true)
	public record Rule(String check, String message) {
	}

	@JsonIgnoreProperties(ignoreUnknown = true)
	public record Deprecation(String since, String use) {
	}
}
