package org.xpiler.lang.catalog;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.xpiler.lang.catalog.CatalogEntries.CatalogConstant;
import org.xpiler.lang.catalog.CatalogEntries.CatalogType;
import org.xpiler.lang.catalog.CatalogEntries.CatalogVariable;
import org.xpiler.lang.catalog.CatalogFunction.Signature;

/** The catalog as people read it: signatures as C declarations and Markdown for hovers and proposals. */
public final class CatalogDocumentation {
	private CatalogDocumentation() {
	}

	/** {@code void __bang_add(T *dst, const T *src0, const T *src1, int n)}. */
	public static String declaration(CatalogFunction function, Signature signature) {
		List<String> params = signature.params().stream().map(p -> p.type() + " " + p.name()).toList();
		return signature.returns() + " " + function.name() + "(" + String.join(", ", params) + ")";
	}

	/** Markdown describing whatever the catalog knows by this name. */
	public static Optional<String> markdown(IntrinsicCatalog catalog, String name) {
		Optional<CatalogFunction> function = catalog.function(name);
		if (function.isPresent()) {
			return Optional.of(function(function.get()));
		}
		Optional<CatalogVariable> variable = catalog.variable(name);
		if (variable.isPresent()) {
			return Optional.of(code(variable.get().type() + " " + name) + "\n\n" + variable.get().summary());
		}
		Optional<CatalogConstant> constant = catalog.constant(name);
		if (constant.isPresent()) {
			CatalogConstant c = constant.get();
			return Optional.of(code(c.type() + " " + name + " = " + c.value()) + "\n\n" + c.summary());
		}
		return catalog.type(name).map(CatalogDocumentation::type);
	}

	private static String function(CatalogFunction function) {
		StringBuilder out = new StringBuilder("```c\n");
		function.signatures().forEach(s -> out.append(declaration(function, s)).append(";\n"));
		out.append("```\n");
		for (Map.Entry<String, List<String>> typeParam : function.typeParams().entrySet()) {
			out.append('`').append(typeParam.getKey()).append("` is one of ")
					.append(String.join(", ", typeParam.getValue())).append(".\n");
		}
		out.append('\n').append(function.summary());
		if (!function.rules().isEmpty()) {
			out.append("\n\nRules:");
			function.rules().forEach(r -> out.append("\n- ").append(r.message()));
		}
		if (function.deprecated() != null) {
			out.append("\n\nDeprecated since ").append(function.deprecated().since()).append(": use `")
					.append(function.deprecated().use()).append("`.");
		}
		return out.toString();
	}

	private static String type(CatalogType type) {
		return code((type.typedef() != null ? "typedef " + type.typedef() + " " : "") + type.name()) + "\n\n"
				+ type.summary();
	}

	private static String code(String declaration) {
		return "```c\n" + declaration + "\n```";
	}
}
