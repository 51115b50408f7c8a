package org.xpiler.lang.catalog;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.xpiler.lang.catalog.CatalogEntries.CatalogConstant;
import org.xpiler.lang.catalog.CatalogEntries.CatalogType;
import org.xpiler.lang.catalog.CatalogFunction.Parameter;
import org.xpiler.lang.catalog.CatalogFunction.Signature;

/**
 * Writes a catalog as a C++ header of declarations: what a dialect's real header would declare, for tools
 * that parse kernels as C++ (CDT) where the vendor header is not available — BANG C's {@code bang.h}. Memory
 * space and function qualifiers become empty macros, generic signatures one overload per element type.
 */
public final class CatalogHeader {
	private static final Map<String, String> INTEGER_TYPEDEFS = Map.ofEntries(Map.entry("int8_t", "signed char"),
			Map.entry("uint8_t", "unsigned char"), Map.entry("int16_t", "short"),
			Map.entry("uint16_t", "unsigned short"), Map.entry("int32_t", "int"), Map.entry("uint32_t", "unsigned int"),
			Map.entry("int64_t", "long"), Map.entry("uint64_t", "unsigned long"), Map.entry("size_t", "unsigned long"));

	private CatalogHeader() {
	}

	/**
	 * @param qualifiers the dialect's qualifier keywords, which the header defines away
	 */
	public static String write(IntrinsicCatalog catalog, List<String> qualifiers) {
		StringBuilder out = new StringBuilder();
		out.append("// Declarations of the ").append(catalog.dialect())
				.append(" builtins, written by Xpiler from the intrinsic catalog.\n");
		qualifiers.forEach(q -> out.append("#define ").append(q).append('\n'));
		out.append("struct half { half(); half(float); operator float() const; };\n");
		out.append("struct bfloat16_t { bfloat16_t(); bfloat16_t(float); operator float() const; };\n");
		for (CatalogType type : catalog.types()) {
			out.append(typeDeclaration(type, catalog));
		}
		for (var variable : catalog.variables()) {
			out.append("extern const ").append(variable.type()).append(' ').append(variable.name()).append(";\n");
		}
		for (CatalogConstant constant : catalog.constants()) {
			if (catalog.type(constant.type()).map(t -> !"enum".equals(t.kind())).orElse(true)) {
				out.append("extern const ").append(constant.type()).append(' ').append(constant.name()).append(";\n");
			}
		}
		Set<String> declared = new LinkedHashSet<>();
		for (CatalogFunction function : catalog.functions()) {
			for (Signature signature : function.signatures()) {
				for (Map<String, String> binding : bindings(function.typeParams())) {
					declared.add(declaration(function.name(), signature, binding));
				}
			}
		}
		declared.forEach(d -> out.append(d).append('\n'));
		return out.toString();
	}

	private static String typeDeclaration(CatalogType type, IntrinsicCatalog catalog) {
		String name = type.name();
		return switch (type.kind() == null ? "" : type.kind()) {
		case "int", "uint" -> INTEGER_TYPEDEFS.containsKey(name)
				? "typedef " + INTEGER_TYPEDEFS.get(name) + " " + name + ";\n"
				: "typedef " + integerOfBits(type) + " " + name + ";\n";
		case "struct" -> "struct " + name + " { unsigned int x, y, z; };\n";
		case "opaque" -> "typedef struct " + name + "_opaque *" + name + ";\n";
		case "enum" -> {
			List<String> enumerators = new ArrayList<>();
			for (CatalogConstant constant : constantsOf(catalog, name)) {
				enumerators.add(constant.name() + " = " + constant.value());
			}
			yield "typedef enum { " + String.join(", ", enumerators) + " } " + name + ";\n";
		}
		default -> "";
		};
	}

	private static String integerOfBits(CatalogType type) {
		String base = switch (type.bits() == null ? 32 : type.bits()) {
		case 8 -> "char";
		case 16 -> "short";
		case 64 -> "long";
		default -> "int";
		};
		return ("uint".equals(type.kind()) ? "unsigned " : "signed ") + base;
	}

	private static List<CatalogConstant> constantsOf(IntrinsicCatalog catalog, String type) {
		return catalog.constants().stream().filter(c -> type.equals(c.type())).toList();
	}

	/** Every assignment of element types to the type parameters (one per overload). */
	private static List<Map<String, String>> bindings(Map<String, List<String>> typeParams) {
		List<Map<String, String>> bindings = new ArrayList<>();
		bindings.add(new LinkedHashMap<>());
		for (var parameter : typeParams.entrySet()) {
			List<Map<String, String>> next = new ArrayList<>();
			for (Map<String, String> binding : bindings) {
				for (String type : parameter.getValue()) {
					Map<String, String> extended = new LinkedHashMap<>(binding);
					extended.put(parameter.getKey(), type);
					next.add(extended);
				}
			}
			bindings = next;
		}
		return bindings;
	}

	private static String declaration(String name, Signature signature, Map<String, String> binding) {
		List<String> params = new ArrayList<>();
		for (Parameter parameter : signature.params()) {
			params.add(parameter.name().equals("...") ? "..." : substitute(parameter.type(), binding) + " " + parameter.name());
		}
		return substitute(signature.returns(), binding) + " " + name + "(" + String.join(", ", params) + ");";
	}

	private static String substitute(String type, Map<String, String> binding) {
		String result = type;
		for (var entry : binding.entrySet()) {
			result = result.replaceAll("\\b" + entry.getKey() + "\\b", entry.getValue());
		}
		return result;
	}
}
