package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BoolLiteral;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.SizeOf;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.parsing.MacroDefinition;

/**
 * Integer constant folding over a host function's known values: launch configurations
 * ({@code (1024 + rows - 1) / rows}), buffer byte counts ({@code 64 * 128 * sizeof(float)}). Names fold when
 * {@link #define} gave them a value, members such as {@code block.x} when it was defined under that dotted name.
 * Calls of the function-like macros {@link #defineMacro} was given expand as the preprocessor expands them.
 */
public final class ConstantFolder {
	private final Map<String, Long> values = new HashMap<>();
	private final Map<String, MacroDefinition> macros = new HashMap<>();

	public void define(String name, long value) {
		values.put(name, value);
	}

	/** A function-like macro ({@code #define CEIL_DIV(a, b) (((a) + (b) - 1) / (b))}); others are ignored. */
	public void defineMacro(MacroDefinition macro) {
		if (macro.parameters() != null && !macro.body().contains("#")) {
			macros.put(macro.name(), macro);
		}
	}

	public void forget(String name) {
		values.remove(name);
	}

	/**
	 * A folder that knows the file's macros: the function-like ones, and the object-like ones whose body folds
	 * ({@code #define MAX_NRAM_SIZE (384 * 1024)}), in the order they are defined.
	 */
	public static ConstantFolder withMacrosOf(TranslationUnit unit) {
		ConstantFolder folder = new ConstantFolder();
		for (EObject item : Snippets.topLevelItems(unit)) {
			if (!(item instanceof Directive d)) {
				continue;
			}
			MacroDefinition.of(d.getText()).ifPresent(macro -> {
				if (macro.parameters() != null) {
					folder.defineMacro(macro);
				} else {
					folder.valueOf(macro).ifPresent(value -> folder.define(macro.name(), value));
				}
			});
		}
		return folder;
	}

	/**
	 * The value of an object-like macro's body with what this folder knows ({@code #define BYTES (384 * 1024)});
	 * empty when it does not fold or is no expression (a statement or a type).
	 */
	public OptionalLong valueOf(MacroDefinition objectMacro) {
		try {
			return fold(Snippets.expression(objectMacro.body(), Dialect.VNNI));
		} catch (IllegalArgumentException notAnExpression) {
			return OptionalLong.empty();
		}
	}

	public OptionalLong fold(Expression e) {
		try {
			return OptionalLong.of(value(e));
		} catch (NotConstant | ArithmeticException x) {
			return OptionalLong.empty();
		}
	}

	private static final class NotConstant extends RuntimeException {
		private static final long serialVersionUID = 1L;

		NotConstant() {
			super(null, null, false, false);
		}
	}

	private long value(Expression e) {
		return switch (e) {
		case IntLiteral literal -> literal(literal.getValue());
		case BoolLiteral b -> b.getValue().equals("true") ? 1 : 0;
		case Parenthesized p -> value(p.getExpression());
		case Name n when values.containsKey(n.getName()) -> values.get(n.getName());
		case MemberAccess m when !m.isArrow() && m.getTarget() instanceof Name n
				&& values.containsKey(n.getName() + "." + m.getMember()) -> values.get(n.getName() + "." + m.getMember());
		case Conditional c -> value(c.getCondition()) != 0 ? value(c.getThen()) : value(c.getElse());
		case Cast c -> value(c.getOperand());
		case SizeOf s when s.getType() != null && s.getType().getPointers().isEmpty() -> size(s.getType().getType());
		case Unary u when u.getOp().equals("-") -> -value(u.getOperand());
		case Unary u when u.getOp().equals("+") -> value(u.getOperand());
		case Unary u when u.getOp().equals("~") -> ~value(u.getOperand());
		case Unary u when u.getOp().equals("!") -> value(u.getOperand()) == 0 ? 1 : 0;
		case Binary b -> binary(b.getOp(), value(b.getLeft()), value(b.getRight()));
		case Call c when c.getCallee() instanceof Name n && macros.containsKey(n.getName()) -> expanded(
				macros.get(n.getName()), c.getArgs());
		case Call c when c.getArgs().size() == 2 && c.getCallee() instanceof Name n -> extremum(n.getName(),
				value(c.getArgs().get(0)), value(c.getArgs().get(1)));
		default -> throw new NotConstant();
		};
	}

	/**
	 * The value of a macro call, expanded as text like the preprocessor does, so that a body without parentheses
	 * around its parameters ({@code #define SQ(x) x * x}) means what it means in C. A macro is not expanded
	 * inside its own expansion, as in C.
	 */
	private long expanded(MacroDefinition macro, List<Expression> args) {
		if (args.size() != macro.parameters().size()) {
			throw new NotConstant();
		}
		String text = macro.expanded(args.stream().map(Dialect.VNNI.printer()::expression).toList());
		macros.remove(macro.name());
		try {
			return value(Snippets.expression(text, Dialect.VNNI));
		} catch (IllegalArgumentException notAnExpression) {
			throw new NotConstant();
		} finally {
			macros.put(macro.name(), macro);
		}
	}

	/** {@code min(a, b)} and {@code max(a, b)}, which launch sizes use to cap the grid. */
	private static long extremum(String function, long a, long b) {
		return switch (function.replaceFirst("^(::)?std::", "")) {
		case "min" -> Math.min(a, b);
		case "max" -> Math.max(a, b);
		default -> throw new NotConstant();
		};
	}

	private static long binary(String op, long l, long r) {
		return switch (op) {
		case "+" -> l + r;
		case "-" -> l - r;
		case "*" -> l * r;
		case "/" -> l / r;
		case "%" -> l % r;
		case "<<" -> l << r;
		case ">>" -> l >> r;
		case "&" -> l & r;
		case "|" -> l | r;
		case "^" -> l ^ r;
		case "<" -> l < r ? 1 : 0;
		case ">" -> l > r ? 1 : 0;
		case "<=" -> l <= r ? 1 : 0;
		case ">=" -> l >= r ? 1 : 0;
		case "==" -> l == r ? 1 : 0;
		case "!=" -> l != r ? 1 : 0;
		default -> throw new NotConstant();
		};
	}

	static long literal(String text) {
		String digits = text.toLowerCase().replaceAll("[ul]+$", "");
		if (digits.startsWith("0x")) {
			return Long.parseUnsignedLong(digits.substring(2), 16);
		}
		if (digits.length() > 1 && digits.startsWith("0")) {
			return Long.parseLong(digits.substring(1), 8);
		}
		return Long.parseLong(digits);
	}

	/** The size of a scalar type, as sizeof gives it on all four targets. */
	static long size(TypeSpecifier type) {
		String name = type instanceof BuiltinType b ? b.getName() : type instanceof NamedType n ? n.getName() : "";
		return switch (name.replace("unsigned ", "").replace("signed ", "")) {
		case "char", "int8_t", "uint8_t", "bool", "unsigned", "signed" -> name.equals("unsigned") || name.equals("signed") ? 4 : 1;
		case "short", "short int", "int16_t", "uint16_t", "half", "__half", "bfloat16_t", "__nv_bfloat16",
				"__hip_bfloat16" -> 2;
		case "int", "float", "int32_t", "uint32_t" -> 4;
		case "long", "long long", "long int", "long long int", "double", "int64_t", "uint64_t", "size_t" -> 8;
		default -> throw new NotConstant();
		};
	}
	/**
	 * A folder that knows the file's macros ({@link #withMacrosOf}) and the {@code const} integers of the file and
	 * of {@code f} ({@code const int total = 128 * 512;}), so that bounds written with them fold. A name declared more than once is left out: which
	 * declaration a use means would depend on scopes.
	 */
	public static ConstantFolder withConstantsOf(TranslationUnit unit, FunctionDefinition f) {
		List<EObject> scopes = new ArrayList<>(
				Snippets.topLevelItems(unit).stream().filter(Declaration.class::isInstance).toList());
		scopes.add(f);
		List<Declaration> declarations = new ArrayList<>();
		Map<String, Integer> declared = new HashMap<>();
		for (EObject scope : scopes) {
			for (EObject o : EcoreUtil2.eAllOfType(scope, EObject.class)) {
				if (o instanceof Declaration d) {
					declarations.add(d);
				} else if (o instanceof Declarator x && x.getName() != null) {
					declared.merge(x.getName(), 1, Integer::sum);
				}
			}
		}
		ConstantFolder folder = withMacrosOf(unit); // #define NUM (64 * 64) bounds loops as often as const int does
		for (Declaration d : declarations) {
			boolean constant = isConstant(d);
			for (Declarator x : d.getDeclarators()) {
				if (constant && declared.get(x.getName()) == 1 && x.getPointers().isEmpty()
						&& x.getDimensions().isEmpty() && x.getInitializer() instanceof Expression e) {
					folder.fold(e).ifPresent(value -> folder.define(x.getName(), value));
				}
			}
		}
		return folder;
	}

	/**
	 * The declaration {@code name} reads where it stands, when that is a {@code const} scalar declared before it
	 * ({@code const int gridDim_x = ((n + 255) / 256);}); else null.
	 */
	static Declarator constantScalar(Name name) {
		Declarator declared = Snippets.visibleDeclaration(name.getName(), name);
		return declared != null && declared.eContainer() instanceof Declaration d && isConstant(d)
				&& declared.getPointers().isEmpty() && declared.getDimensions().isEmpty() ? declared : null;
	}

	/** Whether {@code d} declares {@code const} or {@code constexpr} names. */
	static boolean isConstant(Declaration d) {
		return d.getSpecifiers().stream()
				.anyMatch(s -> s instanceof Specifier q && (q.getName().equals("const") || q.getName().equals("constexpr")));
	}
}
