package org.xpiler.lang.validation;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CxxCast;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.TypeName;
import org.xpiler.lang.kernel.Unary;

/**
 * What is statically known about the names of one scope: for pointers and arrays their element type, the
 * memory space they point into and, for pointers into a static on-chip array, which array and at what byte
 * offset; for integer constants their value. Declarations are added in source order.
 */
final class Symbols {
	/** Static on-chip arrays are allocated at this alignment (see dialects/bang/MODEL.md). */
	static final int ON_CHIP_ARRAY_ALIGNMENT = 64;

	private static final Set<String> ENTRY_QUALIFIERS = Set.of("__global__", "__mlu_global__", "__mlu_entry__");

	/**
	 * A pointer value: its element type, space (null when unknown), and when it points into a static on-chip
	 * array, the array's name and the byte offset from its start (null when not constant).
	 */
	record Pointer(String elementType, String space, String array, Long byteOffset) {
		Pointer withElementType(String type) {
			return new Pointer(type, space, array, byteOffset);
		}

		Pointer offsetBy(OptionalLong elements) {
			Integer size = ScalarSizes.bytes(elementType);
			Long offset = byteOffset == null || elements.isEmpty() || size == null ? null
					: byteOffset + elements.getAsLong() * size;
			return new Pointer(elementType, space, array, offset);
		}
	}

	private final Dialect dialect;
	private final ConstantEvaluator constants;
	private final Map<String, Pointer> pointers = new HashMap<>();

	private Symbols(Dialect dialect, ConstantEvaluator constants) {
		this.dialect = dialect;
		this.constants = constants;
	}

	static Symbols fileScope(Dialect dialect, ConstantEvaluator constants, List<Declaration> declarations) {
		Symbols symbols = new Symbols(dialect, constants);
		declarations.forEach(symbols::declare);
		return symbols;
	}

	/** The scope of a function body: the file scope plus its parameters. */
	Symbols enter(FunctionDefinition function) {
		Symbols inner = new Symbols(dialect, constants.copy());
		inner.pointers.putAll(pointers);
		boolean entry = function.getSpecifiers().stream()
				.anyMatch(s -> s instanceof Specifier q && ENTRY_QUALIFIERS.contains(q.getName()));
		for (Parameter parameter : function.getParams()) {
			Declarator declarator = parameter.getDeclarator();
			if (declarator.getName() == null) {
				continue;
			}
			inner.forget(declarator.getName());
			if (!declarator.getPointers().isEmpty() || !declarator.getDimensions().isEmpty()) {
				String space = entry ? (dialect == Dialect.BANG ? "gdram" : "global") : null;
				inner.pointers.put(declarator.getName(),
						new Pointer(parameter.getType().getName(), space, null, null));
			}
		}
		return inner;
	}

	void declare(Declaration declaration) {
		String qualified = MemorySpaces.qualifier(declaration.getSpecifiers()).map(MemorySpaces::of).orElse(null);
		boolean isConst = declaration.getSpecifiers().stream()
				.anyMatch(s -> s instanceof Specifier q && q.getName().equals("const"));
		String type = declaration.getType().getName();
		for (Declarator declarator : declaration.getDeclarators()) {
			String name = declarator.getName();
			forget(name);
			Expression initializer = declarator.getInitializer() instanceof Expression e ? e : null;
			if (!declarator.getDimensions().isEmpty()) {
				pointers.put(name, new Pointer(type, qualified, qualified == null ? null : name, 0L));
			} else if (!declarator.getPointers().isEmpty()) {
				Pointer value = initializer == null ? null : pointer(initializer).orElse(null);
				pointers.put(name, value == null ? new Pointer(type, null, null, null) : value.withElementType(type));
			} else if (isConst && initializer != null) {
				constant(initializer).ifPresent(v -> constants.define(name, v));
			}
		}
	}

	private void forget(String name) {
		pointers.remove(name);
		constants.undefine(name);
	}

	OptionalLong constant(Expression expression) {
		return constants.evaluate(expression);
	}

	Optional<Pointer> pointer(Expression expression) {
		return switch (expression) {
		case Name name -> Optional.ofNullable(pointers.get(name.getName()));
		case Parenthesized p -> pointer(p.getExpression());
		case Cast cast -> retyped(pointer(cast.getOperand()), cast.getType());
		case CxxCast cast -> retyped(pointer(cast.getOperand()), cast.getType());
		case Binary binary when binary.getOp().equals("+") -> pointer(binary.getLeft())
				.map(p -> p.offsetBy(constant(binary.getRight())))
				.or(() -> pointer(binary.getRight()).map(p -> p.offsetBy(constant(binary.getLeft()))));
		case Binary binary when binary.getOp().equals("-") -> pointer(binary.getLeft()).map(p -> p.offsetBy(
				constant(binary.getRight()).isPresent() ? OptionalLong.of(-constant(binary.getRight()).getAsLong())
						: OptionalLong.empty()));
		case Unary unary when unary.getOp().equals("&") && unary.getOperand() instanceof Index index -> pointer(
				index.getTarget()).map(p -> p.offsetBy(constant(index.getIndex())));
		default -> Optional.empty();
		};
	}

	private static Optional<Pointer> retyped(Optional<Pointer> pointer, TypeName type) {
		if (type.getPointers().isEmpty()) {
			return Optional.empty();
		}
		return pointer.map(p -> p.withElementType(type.getType().getName()));
	}

	/** Whether the pointer is a multiple of the alignment: known only for pointers into on-chip arrays. */
	static Optional<Boolean> aligned(Pointer pointer, long alignment) {
		if (pointer.array() == null || pointer.byteOffset() == null || alignment <= 0
				|| ON_CHIP_ARRAY_ALIGNMENT % alignment != 0) {
			return Optional.empty();
		}
		return Optional.of(pointer.byteOffset() % alignment == 0);
	}
}
