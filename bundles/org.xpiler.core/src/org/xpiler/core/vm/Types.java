package org.xpiler.core.vm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToLongFunction;

import org.xpiler.lang.catalog.CatalogEntries.CatalogType;
import org.xpiler.lang.kernel.ArrayDimension;
import org.xpiler.lang.kernel.AttributeItem;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.DeclSpecifier;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.GnuAttribute;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.PointerOperator;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.StructDefinition;
import org.xpiler.lang.kernel.TemplateArgument;
import org.xpiler.lang.kernel.TemplateParameter;
import org.xpiler.lang.kernel.TypeName;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.TypedefDeclaration;
import org.xpiler.lang.parsing.StandardLibrary;
import org.xpiler.lang.parsing.StructDefinitions;
import org.xpiler.lang.parsing.TemplateArguments;

/**
 * Reads the types written in a kernel as virtual-device types: C scalar names, the dialect's catalog types
 * (vectors, {@code __half}, handles, typedefs such as VNNI's {@code half}), the file's typedefs, template
 * parameters bound at instantiation, the CUDA vector structs, pointers and arrays.
 */
final class Types {
	/** The launch-geometry structs; the vector structs are {@link VectorTypes}. */
	private static final Map<String, VmType> STRUCTS = Map.of("dim3", VmType.Struct.ofLanes("dim3", ElementType.U32, 3, 4),
			"cnrtDim3_t", VmType.Struct.ofLanes("cnrtDim3_t", ElementType.U32, 3, 4));

	private final Program program;
	/** The file's structs, laid out once. */
	private final Map<String, VmType.Struct> userStructs = new java.util.HashMap<>();

	Types(Program program) {
		this.program = program;
	}

	/** The type a specifier names, with template parameters bound by {@code bindings}. */
	/** Whether {@code specifier} is C++'s {@code auto}, whose type the initializer gives. */
	static boolean isAuto(TypeSpecifier specifier) {
		return specifier instanceof BuiltinType builtin && builtin.getName().equals("auto");
	}

	VmType base(TypeSpecifier specifier, Map<String, VmType> bindings) {
		if (isAuto(specifier)) {
			throw new UnsupportedOperationException("'auto' is supported for local variables with an initializer");
		}
		if (specifier instanceof BuiltinType builtin) {
			return named(builtin.getName(), bindings);
		}
		NamedType named = (NamedType) specifier;
		if (WmmaFragments.isFragment(named.getName())) {
			return WmmaFragments.fragmentType(named, this, bindings);
		}
		if (StandardLibrary.isArray(named)) {
			VmType element = typeName(named.getTemplateArgs().get(0).getType(), bindings);
			return new VmType.Array(element, (int) templateValue(named.getTemplateArgs().get(1), bindings));
		}
		if (!named.getTemplateArgs().isEmpty()) {
			StructDefinition template = StructDefinitions.named(program.unit.getItems(), named.getName())
					.filter(struct -> struct.getTemplate() != null)
					.orElseThrow(() -> new UnsupportedOperationException("the template type " + named.getName()
							+ "<...> is not known to the virtual device (it runs the file's struct templates, std::array"
							+ " and wmma fragments)"));
			return structInstance(named, template, bindings);
		}
		return named(named.getName(), bindings);
	}

	/** The instance of a struct template that {@code named} names ({@code Params<float, 4>}), laid out once. */
	private VmType.Struct structInstance(NamedType named, StructDefinition template, Map<String, VmType> bindings) {
		List<TemplateParameter> parameters = template.getTemplate().getParams();
		List<TemplateArgument> arguments = named.getTemplateArgs();
		if (arguments.size() > parameters.size()) {
			throw new UnsupportedOperationException(named.getName() + " takes " + parameters.size()
					+ " template arguments, not " + arguments.size());
		}
		Map<String, VmType> instanceBindings = new java.util.HashMap<>();
		List<String> written = new ArrayList<>();
		for (int i = 0; i < parameters.size(); i++) {
			TemplateParameter parameter = parameters.get(i);
			TemplateArgument argument = i < arguments.size() ? arguments.get(i) : null;
			VmType bound;
			if (parameter.getKind() != null) {
				TypeName type = argument != null ? argument.getType() : parameter.getDefaultType();
				if (type == null) {
					throw new UnsupportedOperationException("the template parameter " + parameter.getName() + " of "
							+ named.getName() + " needs a type");
				}
				bound = typeName(type, bindings);
			} else if (argument != null) {
				bound = new VmType.TemplateValue(templateValue(argument, bindings));
			} else if (parameter.getDefaultValue() != null) {
				bound = new VmType.TemplateValue(program.constantValue(parameter.getDefaultValue(), instanceBindings));
			} else {
				throw new UnsupportedOperationException("the template parameter " + parameter.getName() + " of "
						+ named.getName() + " needs a value");
			}
			instanceBindings.put(parameter.getName(), bound);
			written.add(bound.display());
		}
		String name = named.getName() + "<" + String.join(", ", written) + ">";
		VmType.Struct laidOut = userStructs.get(name);
		if (laidOut == null) {
			laidOut = layout(name, template, instanceBindings); // not computeIfAbsent: members may lay out structs
			userStructs.put(name, laidOut);
		}
		return laidOut;
	}

	VmType named(String written, Map<String, VmType> bindings) {
		String name = written.replaceAll("\\s+", " ").strip();
		if (name.startsWith("::")) {
			name = name.substring(2);
		}
		if (name.matches("std::(size_t|ptrdiff_t|u?int(8|16|32|64)_t)")) {
			name = name.substring(5); // <cstddef> and <cstdint> declare them in std as well
		}
		VmType bound = bindings.get(name);
		if (bound != null) {
			return bound;
		}
		if (name.equals("void")) {
			return VmType.VOID;
		}
		Optional<CatalogType> catalogType = program.catalog.type(name);
		if (catalogType.isPresent()) {
			CatalogType t = catalogType.get();
			if (t.typedef() != null) {
				return named(t.typedef(), bindings);
			}
			switch (t.kind()) {
			case "vector" -> {
				ElementType lane = ElementType.ofCName(t.element()).orElse(ElementType.U8);
				int bytes = t.bits() != null ? t.bits() / 8 : t.lanes() * lane.bytes();
				return new VmType.Vector(name, bytes, lane);
			}
			case "float" -> {
				return VmType.of(ElementType.F16);
			}
			case "bfloat" -> {
				return VmType.of(ElementType.BF16);
			}
			case "enum" -> {
				return VmType.I32;
			}
			case "opaque" -> {
				return new VmType.Opaque(name);
			}
			default -> {
				// ints, uints and structs are read below
			}
			}
		}
		VmType struct = STRUCTS.get(name);
		if (struct != null) {
			return struct;
		}
		Optional<VectorTypes.Vector> vector = VectorTypes.named(name);
		if (vector.isPresent()) {
			return vector.get().struct();
		}
		VmType.Struct laidOut = userStructs.get(name);
		if (laidOut != null) {
			return laidOut;
		}
		Optional<StructDefinition> definition = StructDefinitions.named(program.unit.getItems(), name);
		if (definition.isPresent()) {
			VmType.Struct layout = layout(name, definition.get(), Map.of());
			userStructs.put(name, layout);
			return layout;
		}
		Optional<ElementType> element = ElementType.ofCName(name);
		if (element.isPresent()) {
			return VmType.of(element.get());
		}
		for (TypedefDeclaration typedef : program.typedefs()) {
			for (Declarator d : typedef.getDeclarators()) {
				if (name.equals(d.getName())) {
					VmType type = declared(typedef.getType(), d, bindings);
					String typedefName = d.getName();
					return vectorAttribute(d, bindings).map(bytes -> vector(typedefName, type, bytes)).orElse(type);
				}
			}
		}
		throw new UnsupportedOperationException("the type '" + written + "' is unknown to the virtual device");
	}

	/**
	 * A struct of the file laid out as C lays it out: each member at the next offset that its alignment allows,
	 * the whole rounded up to the largest alignment.
	 */
	private VmType.Struct layout(String name, StructDefinition definition, Map<String, VmType> bindings) {
		List<VmType.Field> fields = new ArrayList<>();
		int offset = 0;
		int align = 1;
		for (Declaration member : definition.getMembers()) {
			for (Declarator declarator : member.getDeclarators()) {
				VmType type = declared(member.getType(), declarator, bindings);
				if (type.size() <= 0 || type instanceof VmType.Reference) {
					throw new UnsupportedOperationException("the member '" + declarator.getName() + "' of struct " + name
							+ " is a " + type.display() + ", which the virtual device cannot lay out in a struct");
				}
				offset = (offset + type.align() - 1) / type.align() * type.align();
				fields.add(new VmType.Field(declarator.getName(), type, offset));
				offset += type.size();
				align = Math.max(align, type.align());
			}
		}
		align = Math.max(align, declaredAlignment(definition, bindings));
		return new VmType.Struct(name, List.copyOf(fields), Math.max(align, (offset + align - 1) / align * align), align);
	}

	/** {@code alignas(8)}, {@code __align__(8)} or {@code __attribute__((aligned(8)))} on a struct, else 1. */
	private int declaredAlignment(StructDefinition definition, Map<String, VmType> bindings) {
		long declared = 1;
		if (definition.getAlignment() != null) {
			declared = program.constantValue(definition.getAlignment().getAlignment(), bindings);
		}
		for (GnuAttribute attribute : definition.getAttributes()) {
			for (AttributeItem item : attribute.getItems()) {
				if (item.getName().replace("__", "").equals("aligned") && item.getArgs().size() == 1) {
					declared = Math.max(declared, program.constantValue(item.getArgs().get(0), bindings));
				}
			}
		}
		return (int) declared;
	}

	/**
	 * The size in bytes a GNU vector attribute gives a typedef: {@code ext_vector_type(N)} (N lanes, as a
	 * negative lane count until the lane type is known) or {@code vector_size(B)}.
	 */
	private Optional<Long> vectorAttribute(Declarator declarator, Map<String, VmType> bindings) {
		for (GnuAttribute attribute : declarator.getAttributes()) {
			for (AttributeItem item : attribute.getItems()) {
				String attributeName = item.getName().replace("__", "");
				if (item.getArgs().size() == 1 && (attributeName.equals("ext_vector_type") || attributeName.equals("vector_size"))) {
					long value = program.constantValue(item.getArgs().get(0), bindings);
					return Optional.of(attributeName.equals("ext_vector_type") ? -value : value);
				}
			}
		}
		return Optional.empty();
	}

	private static VmType vector(String name, VmType lane, long sizeOrLanes) {
		if (!(lane instanceof VmType.Scalar scalar)) {
			throw new UnsupportedOperationException("the vector type '" + name + "' needs a scalar lane type");
		}
		int bytes = (int) (sizeOrLanes < 0 ? -sizeOrLanes * scalar.size() : sizeOrLanes);
		return new VmType.Vector(name, bytes, scalar.element());
	}

	/** The type of a file-scope declarator (array sizes see the file's constants and macros). */
	VmType declared(TypeSpecifier specifier, Declarator declarator, Map<String, VmType> bindings) {
		return declared(specifier, declarator, bindings, size -> program.constantValue(size, bindings));
	}

	/** The type of a declarator in a function: its array sizes may also name the constant locals in scope. */
	VmType declared(TypeSpecifier specifier, Declarator declarator, FunctionCompiler scope) {
		return declared(specifier, declarator, scope.bindings, size -> program.constantValue(size, scope));
	}

	/** The type of a declarator: its base, then its pointers, then its array dimensions. */
	private VmType declared(TypeSpecifier specifier, Declarator declarator, Map<String, VmType> bindings,
			ToLongFunction<Expression> constant) {
		VmType type = base(specifier, bindings);
		for (PointerOperator pointer : declarator.getPointers()) {
			type = pointer.getKind().equals("&") ? new VmType.Reference(type) : new VmType.Pointer(type);
		}
		List<ArrayDimension> dimensions = declarator.getDimensions();
		for (int i = dimensions.size() - 1; i >= 0; i--) {
			ArrayDimension dimension = dimensions.get(i);
			long length = dimension.getSize() == null ? 0 : constant.applyAsLong(dimension.getSize());
			type = new VmType.Array(type, (int) length);
		}
		return type;
	}

	VmType typeName(TypeName name, Map<String, VmType> bindings) {
		VmType type = base(name.getType(), bindings);
		for (PointerOperator pointer : name.getPointers()) {
			type = new VmType.Pointer(type);
		}
		return type;
	}

	/** The name a type template argument spells ({@code wmma::matrix_a}). */
	String typeNameText(TemplateArgument argument) {
		if (argument.getType() != null && argument.getType().getType() instanceof NamedType named) {
			return named.getName();
		}
		if (argument.getValue() instanceof org.xpiler.lang.kernel.Name name) {
			return name.getName();
		}
		throw new UnsupportedOperationException("a type name is expected as template argument");
	}

	/** The value of a non-type template argument ({@code 16}, or the constant {@code BLOCK}). */
	long templateValue(TemplateArgument argument, Map<String, VmType> bindings) {
		Expression value = TemplateArguments.value(argument);
		if (value == null) {
			throw new UnsupportedOperationException("a constant is expected as template argument");
		}
		return program.constantValue(value, bindings);
	}

	/** A catalog signature's type text: {@code const T*}, {@code void const*}, {@code __m512i}, {@code int}. */
	VmType catalogType(String text, Map<String, VmType> bindings) {
		String t = text.replace("const", " ").replace("volatile", " ").strip();
		int pointers = 0;
		while (t.endsWith("*")) {
			pointers++;
			t = t.substring(0, t.length() - 1).strip();
		}
		VmType type = named(t, bindings);
		for (int i = 0; i < pointers; i++) {
			type = new VmType.Pointer(type);
		}
		return type;
	}

	/** The memory space a declaration's qualifiers put it in. */
	Space spaceOf(List<DeclSpecifier> specifiers, boolean global) {
		for (DeclSpecifier specifier : specifiers) {
			if (specifier instanceof Specifier s) {
				switch (s.getName()) {
				case "__shared__":
					return Space.SHARED;
				case "__constant__":
					return Space.CONSTANT;
				case "__device__", "__managed__":
					return Space.GLOBAL;
				case "__nram__":
					return Space.NRAM;
				case "__wram__":
					return Space.WRAM;
				case "__mlu_shared__":
					return Space.SRAM;
				case "__ldram__":
					return Space.LDRAM;
				case "__mlu_const__":
					return Space.GDRAM;
				default:
					break;
				}
			}
		}
		if (!global) {
			return Space.LOCAL;
		}
		return switch (program.dialect) {
		case BANG -> Space.GDRAM;
		default -> Space.HOST;
		};
	}
}
