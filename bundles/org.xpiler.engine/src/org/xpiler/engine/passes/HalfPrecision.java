package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BoolLiteral;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.BuiltinTypeConstruction;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CharLiteral;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.CxxCast;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FloatLiteral;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.SizeOf;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeName;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.Unary;

/**
 * Half precision through the sequential C++ that translations pass through. CUDA's and HIP's {@code __half}
 * ({@code half}) and BANG C's {@code half} are IEEE binary16 whose arithmetic rounds to half; in the C++ dialect
 * {@code half} is the prelude's {@code unsigned short} (raw bits, no arithmetic), and GCC's {@code _Float16} is the
 * arithmetic type with the same rounding.
 * <p>
 * {@link #lift} writes the source's half as {@code _Float16} and its conversion and arithmetic intrinsics as casts
 * and operators: {@code __half2float(x)} is {@code ((float)(x))}, {@code __hmul(a, b)} is
 * {@code ((_Float16)(a) * (_Float16)(b))}. {@link #lower} writes {@code _Float16} as the target's half and the raw
 * bits as {@code uint16_t}; for CUDA and HIP, whose {@code __half} is a class whose operators with a float operand
 * are ambiguous to the compiler, it also writes every operation with a half operand through float:
 * <pre>
 * sequential: _Float16 y = x[i] * x[i] + 1.0f;      float s = s + x[i];
 * CUDA:       __half y = (float)(x[i]) * (float)(x[i]) + 1.0f;   (the float sum, as C++ computes it)
 *             __half p = (__half)((float)(a) * (float)(b));      (two halves: the product rounded to half)
 * </pre>
 */
final class HalfPrecision {
	/** The arithmetic half type of the sequential C++. */
	static final String SEQUENTIAL_TYPE = "_Float16";
	/** The C++ dialect's half: raw bits. */
	private static final String RAW_BITS = "half";

	/**
	 * The half intrinsics of CUDA, HIP and BANG C as C++ over the source's half type ({@code $H}); the
	 * operands are converted as the intrinsics' parameters convert them. The fused multiply-add computes in float:
	 * the product of two halves is exact there, so only the sum rounds twice (float, then half).
	 */
	private static final Map<String, String> INTRINSICS = Map.ofEntries(Map.entry("__half2float", "((float)($0))"),
			Map.entry("__float2half", "(($H)($0))"), Map.entry("__float2half_rn", "(($H)($0))"),
			Map.entry("__int2half_rn", "(($H)($0))"), Map.entry("__half2int_rz", "((int)($0))"),
			Map.entry("__hadd", "(($H)($0) + ($H)($1))"), Map.entry("__hsub", "(($H)($0) - ($H)($1))"),
			Map.entry("__hmul", "(($H)($0) * ($H)($1))"), Map.entry("__hdiv", "(($H)($0) / ($H)($1))"),
			Map.entry("__hneg", "(-($H)($0))"), Map.entry("__hfma", "(($H)((float)($0) * (float)($1) + (float)($2)))"));

	/**
	 * The sequential C++'s pair of halves for CUDA's and HIP's {@code __half2}: a struct of two {@code _Float16}
	 * lanes, {@code x} (low) and {@code y} (high), made by {@link #PAIR_MAKER}.
	 */
	static final String PAIR_TYPE = "half2_lanes";
	private static final String PAIR_MAKER = "make_half2_lanes";

	/**
	 * The {@code __half2} intrinsics as C++ over the pair ({@code $P} its maker, {@code $H} the half type); each
	 * lane computes as the intrinsic's catalog reference does, rounding to half per lane.
	 */
	private static final Map<String, String> PAIR_INTRINSICS = Map.ofEntries(
			Map.entry("__low2half", "(($0).x)"), Map.entry("__high2half", "(($0).y)"),
			Map.entry("__low2float", "((float)(($0).x))"), Map.entry("__high2float", "((float)(($0).y))"),
			Map.entry("__halves2half2", "$P(($H)($0), ($H)($1))"), Map.entry("__half2half2", "$P(($H)($0), ($H)($0))"),
			Map.entry("__floats2half2_rn", "$P(($H)($0), ($H)($1))"),
			Map.entry("__float2half2_rn", "$P(($H)($0), ($H)($0))"),
			Map.entry("__float22half2_rn", "$P(($H)(($0).x), ($H)(($0).y))"),
			Map.entry("__half22float2", "make_float2((float)(($0).x), (float)(($0).y))"),
			Map.entry("__lows2half2", "$P(($0).x, ($1).x)"), Map.entry("__highs2half2", "$P(($0).y, ($1).y)"),
			Map.entry("__lowhigh2highlow", "$P(($0).y, ($0).x)"),
			Map.entry("__hadd2", "$P(($0).x + ($1).x, ($0).y + ($1).y)"),
			Map.entry("__hsub2", "$P(($0).x - ($1).x, ($0).y - ($1).y)"),
			Map.entry("__hmul2", "$P(($0).x * ($1).x, ($0).y * ($1).y)"),
			Map.entry("__h2div", "$P(($0).x / ($1).x, ($0).y / ($1).y)"),
			Map.entry("__hneg2", "$P(-($0).x, -($0).y)"),
			Map.entry("__hfma2", "$P(($H)((float)(($0).x) * (float)(($1).x) + (float)(($2).x)), "
					+ "($H)((float)(($0).y) * (float)(($1).y) + (float)(($2).y)))"));

	private HalfPrecision() {
	}

	/**
	 * The definitions of the pair of halves that {@link #lift} wrote {@code __half2} as, when the unit uses it:
	 * the struct and its maker, in the sequential C++ (lowering writes their {@code _Float16} as the target's
	 * half).
	 */
	static String pairDefinitions(TranslationUnit unit) {
		for (var it = unit.eAllContents(); it.hasNext();) {
			EObject o = it.next();
			if (o instanceof TypeSpecifier type && type.getName().equals(PAIR_TYPE)
					|| o instanceof Call call && PAIR_MAKER.equals(Snippets.callee(call))) {
				return "struct " + PAIR_TYPE + " {\n    " + SEQUENTIAL_TYPE + " x;\n    " + SEQUENTIAL_TYPE + " y;\n};\n"
						+ "static inline " + PAIR_TYPE + " " + PAIR_MAKER + "(" + SEQUENTIAL_TYPE + " x, " + SEQUENTIAL_TYPE
						+ " y) {\n    " + PAIR_TYPE + " v;\n    v.x = x;\n    v.y = y;\n    return v;\n}\n";
			}
		}
		return "";
	}

	/** Writes, in {@code unit} parsed as {@code from}, the source's half as {@code _Float16}. */
	static void lift(TranslationUnit unit, Dialect from) {
		Set<String> halfTypes = switch (from) {
		case CUDA, HIP -> Set.of("__half", "half");
		case BANG -> Set.of("half");
		case VNNI -> Set.of();
		};
		if (halfTypes.isEmpty()) {
			return;
		}
		String written = from == Dialect.BANG ? "half" : "__half";
		Map<String, String> equivalents = new HashMap<>();
		INTRINSICS.forEach((name, text) -> equivalents.put(name, text.replace("$H", written)));
		if (from != Dialect.BANG) {
			PAIR_INTRINSICS.forEach((name, text) -> equivalents.put(name, text.replace("$H", written)
					.replace("$P", PAIR_MAKER)));
		}
		Set<String> defined = new java.util.HashSet<>();
		Snippets.definedFunctions(unit).forEach(f -> defined.add(f.getName()));
		List<Call> calls = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call c && equivalents.containsKey(Snippets.callee(c)) && !defined.contains(Snippets.callee(c))
					&& !PortableMath.repeatsSideEffects(c, equivalents.get(Snippets.callee(c)))) {
				calls.add(c);
			}
		});
		PortableMath.substitute(calls, equivalents, from);
		rename(unit, halfTypes, SEQUENTIAL_TYPE, from);
		if (from != Dialect.BANG) {
			rename(unit, Set.of("__half2", "half2"), PAIR_TYPE, from);
		}
	}

	/**
	 * Writes the half types of {@code unit} (sequential C++) for {@code to}; returns the include the target needs
	 * for them, or the empty string.
	 */
	static String lower(TranslationUnit unit, Dialect to) {
		rename(unit, Set.of(RAW_BITS), "uint16_t", Dialect.VNNI);
		if (!uses(unit, SEQUENTIAL_TYPE)) {
			return "";
		}
		if (to == Dialect.CUDA || to == Dialect.HIP) {
			throughFloat(unit);
		}
		rename(unit, Set.of(SEQUENTIAL_TYPE), typeName(to), Dialect.VNNI);
		return switch (to) {
		case CUDA -> "#include <cuda_fp16.h>\n";
		case HIP -> "#include <hip/hip_fp16.h>\n";
		case BANG, VNNI -> "";
		};
	}

	/** The arithmetic half type of {@code dialect}. */
	static String typeName(Dialect dialect) {
		return switch (dialect) {
		case CUDA, HIP -> "__half";
		case BANG -> "half";
		case VNNI -> SEQUENTIAL_TYPE;
		};
	}

	/**
	 * Renames the types named {@code from} to {@code to} (names that are keywords of the dialects or reserved, so
	 * no variable has them); their functional casts ({@code half(x)}) become C casts,
	 * which every dialect reads whatever the type's name.
	 */
	private static void rename(TranslationUnit unit, Set<String> from, String to, Dialect dialect) {
		List<Expression> constructions = new ArrayList<>();
		List<TypeSpecifier> types = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof TypeSpecifier type && from.contains(type.getName())) {
				types.add(type);
			} else if (o instanceof Name name && from.contains(name.getName()) && !(o.eContainer() instanceof Call)) {
				name.setName(to); // sizeof(half) reads as sizeof of a parenthesized name
			} else if (o instanceof BuiltinTypeConstruction construction && from.contains(construction.getType())
					&& construction.getArgs().size() == 1
					|| o instanceof Call call && call.getCallee() instanceof Name callee && from.contains(callee.getName())
							&& call.getArgs().size() == 1) {
				constructions.add((Expression) o);
			}
		});
		for (TypeSpecifier type : types) {
			// _Float16 and the pair are names to the grammar; the dialects' half types and uint16_t are keywords
			TypeSpecifier renamed = to.equals(SEQUENTIAL_TYPE) || to.equals(PAIR_TYPE)
					? KernelFactory.eINSTANCE.createNamedType()
					: KernelFactory.eINSTANCE.createBuiltinType();
			renamed.setName(to);
			EcoreUtil.replace(type, renamed);
		}
		for (Expression construction : constructions) {
			Expression argument = construction instanceof Call c ? c.getArgs().get(0)
					: ((BuiltinTypeConstruction) construction).getArgs().get(0);
			Cast cast = (Cast) Snippets.expression("(" + to + ")(0)", dialect);
			((Parenthesized) cast.getOperand()).setExpression(argument);
			EcoreUtil.replace(construction, cast);
		}
	}

	private static boolean uses(TranslationUnit unit, String type) {
		for (var it = unit.eAllContents(); it.hasNext();) {
			if (it.next() instanceof TypeSpecifier specifier && specifier.getName().equals(type)) {
				return true;
			}
		}
		return false;
	}

	// ------------------------------------------------------------------ CUDA and HIP: arithmetic through float

	/** The arithmetic kinds of C++'s usual conversions, narrowest first; UNKNOWN where the type is not read. */
	private enum Kind {
		INTEGER, HALF, FLOAT, DOUBLE, UNKNOWN;

		/** The type of {@code a op b} under the usual arithmetic conversions. */
		static Kind common(Kind a, Kind b) {
			return a == UNKNOWN || b == UNKNOWN ? UNKNOWN : a.compareTo(b) >= 0 ? a : b;
		}
	}

	private static final Set<String> ARITHMETIC = Set.of("+", "-", "*", "/");
	private static final Set<String> COMPARISONS = Set.of("<", "<=", ">", ">=", "==", "!=");
	private static final Map<String, String> COMPOUND = Map.of("+=", "+", "-=", "-", "*=", "*", "/=", "/");

	/**
	 * Every operation with a half operand as C++ computes it, spelled out: the half operands converted to float and
	 * a half result converted back. Children go first, so a parent sees its operands' final types.
	 */
	private static void throughFloat(TranslationUnit unit) {
		List<EObject> nodes = new ArrayList<>();
		unit.eAllContents().forEachRemaining(nodes::add);
		java.util.Collections.reverse(nodes); // a node's descendants come after it in document order
		for (EObject node : nodes) {
			switch (node) {
			case Binary b when ARITHMETIC.contains(b.getOp()) || COMPARISONS.contains(b.getOp()) -> {
				Kind left = kind(b.getLeft());
				Kind right = kind(b.getRight());
				if (left != Kind.HALF && right != Kind.HALF) {
					break;
				}
				Kind result = Kind.common(left, right);
				toFloat(b.getLeft());
				toFloat(b.getRight());
				if (ARITHMETIC.contains(b.getOp()) && result == Kind.HALF) {
					wrap(b, SEQUENTIAL_TYPE);
				}
			}
			case Assignment a when COMPOUND.containsKey(a.getOp()) && kind(a.getLeft()) == Kind.HALF
					&& !CanonicalLoop.writesAnything(a.getLeft()) -> {
				// h += x is h = (half)(h + x); the class has no compound operators with float
				Expression sum = Snippets.expression("(" + SEQUENTIAL_TYPE + ")((float)(0) " + COMPOUND.get(a.getOp())
						+ " (0))", Dialect.VNNI);
				Binary operation = (Binary) ((Parenthesized) ((Cast) sum).getOperand()).getExpression();
				((Parenthesized) ((Cast) operation.getLeft()).getOperand()).setExpression(EcoreUtil.copy(a.getLeft()));
				Expression right = a.getRight();
				Parenthesized grouped = (Parenthesized) operation.getRight();
				grouped.setExpression(right);
				a.setOp("=");
				a.setRight(sum);
				toFloat(right); // in place, where its declarations are in scope
				if (grouped.getExpression() instanceof Cast converted) {
					EcoreUtil.replace(grouped, converted); // (float)(x) needs no more parentheses
				}
			}
			case Assignment a when kind(a.getRight()) == Kind.HALF && kind(a.getLeft()) != Kind.HALF -> toFloat(a.getRight());
			case Unary u when u.getOp().equals("-") && kind(u.getOperand()) == Kind.HALF -> {
				toFloat(u.getOperand());
				wrap(u, SEQUENTIAL_TYPE);
			}
			case Conditional c -> {
				Kind then = kind(c.getThen());
				Kind otherwise = kind(c.getElse());
				if (then == Kind.HALF && otherwise != Kind.HALF) {
					alike(c.getThen(), c.getElse(), otherwise);
				} else if (otherwise == Kind.HALF && then != Kind.HALF) {
					alike(c.getElse(), c.getThen(), then);
				}
			}
			default -> {
			}
			}
		}
	}

	/** Gives the branches of a conditional one type: the half one made float, or the integer one made half. */
	private static void alike(Expression half, Expression other, Kind otherKind) {
		if (otherKind == Kind.INTEGER) {
			wrap(other, SEQUENTIAL_TYPE);
		} else {
			toFloat(half);
		}
	}

	/** {@code (float)(e)} in place of {@code e} when {@code e} is a half. */
	private static void toFloat(Expression e) {
		if (kind(e) == Kind.HALF) {
			wrap(e, "float");
		}
	}

	/** {@code (type)(e)} in place of {@code e}. */
	private static void wrap(Expression e, String type) {
		Cast cast = (Cast) Snippets.expression("(" + type + ")(0)", Dialect.VNNI);
		Parenthesized operand = (Parenthesized) cast.getOperand();
		EcoreUtil.replace(e, cast);
		operand.setExpression(e);
	}

	/** The arithmetic kind of {@code e}, as far as its declarations tell. */
	private static Kind kind(Expression e) {
		return switch (e) {
		case IntLiteral i -> Kind.INTEGER;
		case CharLiteral c -> Kind.INTEGER;
		case BoolLiteral b -> Kind.INTEGER;
		case SizeOf s -> Kind.INTEGER;
		case FloatLiteral f -> f.getValue().matches(".*[fF]") ? Kind.FLOAT : Kind.DOUBLE;
		case Parenthesized p -> kind(p.getExpression());
		case Cast c -> kind(c.getType());
		case CxxCast c -> kind(c.getType());
		case BuiltinTypeConstruction c -> kind(c.getType());
		case Name n -> declaredKind(Snippets.visibleDeclaration(n.getName(), n), 0);
		case Index ix -> element(ix, 0);
		case Unary u when u.getOp().equals("-") || u.getOp().equals("+") -> kind(u.getOperand());
		case Unary u when u.getOp().equals("!") -> Kind.INTEGER;
		case Binary b when ARITHMETIC.contains(b.getOp()) -> Kind.common(kind(b.getLeft()), kind(b.getRight()));
		case Binary b -> Kind.INTEGER; // %, shifts, bitwise, comparisons and logic give integers or bool
		case Conditional c -> Kind.common(kind(c.getThen()), kind(c.getElse()));
		case Assignment a -> kind(a.getLeft());
		case Call c -> returned(c);
		default -> Kind.UNKNOWN;
		};
	}

	/** The element kind of {@code a[i]...[j]} with {@code subscripts} more subscripts outside it. */
	private static Kind element(Index ix, int subscripts) {
		Expression target = Snippets.unparenthesized(ix.getTarget());
		return switch (target) {
		case Index inner -> element(inner, subscripts + 1);
		case Name n -> declaredKind(Snippets.visibleDeclaration(n.getName(), n), subscripts + 1);
		default -> Kind.UNKNOWN;
		};
	}

	/** The kind of a variable subscripted {@code subscripts} times: a scalar only when every level is used. */
	private static Kind declaredKind(Declarator d, int subscripts) {
		if (d == null || d.getPointers().size() + d.getDimensions().size() != subscripts) {
			return Kind.UNKNOWN;
		}
		return kind(Snippets.declaredType(d));
	}

	private static Kind kind(TypeName type) {
		return type.getPointers().isEmpty() ? kind(type.getType()) : Kind.UNKNOWN;
	}

	private static Kind kind(String builtinType) {
		return switch (builtinType.replaceAll("\\s+", " ")) {
		case "float" -> Kind.FLOAT;
		case "double" -> Kind.DOUBLE;
		case "void", "auto" -> Kind.UNKNOWN;
		default -> Kind.INTEGER; // bool, char, short, int, long and their unsigned forms
		};
	}

	private static Kind kind(TypeSpecifier type) {
		return switch (type) {
		case BuiltinType b -> kind(b.getName());
		case NamedType n when n.getName().equals(SEQUENTIAL_TYPE) -> Kind.HALF;
		case NamedType n when NestClassifier.normalisedType(n.getName()).matches("u?int(8|16|32|64)") -> Kind.INTEGER;
		case null, default -> Kind.UNKNOWN;
		};
	}

	/** The kind a call returns: a function of the file by its declared type, C's float math by its name. */
	private static Kind returned(Call c) {
		String callee = Snippets.callee(c);
		if (callee == null) {
			return Kind.UNKNOWN;
		}
		TranslationUnit unit = org.eclipse.xtext.EcoreUtil2.getContainerOfType(c, TranslationUnit.class);
		for (FunctionDefinition f : Snippets.definedFunctions(unit)) {
			if (f.getName().equals(callee)) {
				return f.getReturnPointers().isEmpty() ? kind(f.getReturnType()) : Kind.UNKNOWN;
			}
		}
		return Dialect.VNNI.catalog().knows(callee) && callee.matches("[a-z]+f") ? Kind.FLOAT : Kind.UNKNOWN;
	}
}
