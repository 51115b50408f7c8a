package org.xpiler.lang.validation;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.SizeOf;
import org.xpiler.lang.kernel.StringLiteral;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.validation.Symbols.Pointer;

/**
 * Evaluates a catalog rule ({@code n * sizeof(T) % 128 == 0}, {@code aligned(dst, 64)},
 * {@code space(src) == "nram"}) over what is statically known of one call's arguments. Anything not known
 * makes the parts that need it unknown, and an unknown rule is not reported: only a rule that is certainly
 * false is.
 */
final class RuleEvaluator {
	/** The value of an unknown quantity. */
	private static final Object UNKNOWN = new Object();

	private final Map<String, Long> constants;
	private final Map<String, Pointer> pointers;
	private final String elementType;
	/** The argument values the evaluation used, for the message: {@code n = 100}. */
	private final Map<String, String> used = new LinkedHashMap<>();

	RuleEvaluator(Map<String, Long> constants, Map<String, Pointer> pointers, String elementType) {
		this.constants = constants;
		this.pointers = pointers;
		this.elementType = elementType;
	}

	/** True, false, or empty when the rule cannot be decided statically. */
	Optional<Boolean> holds(Expression rule) {
		Object value = eval(rule);
		return value instanceof Long l ? Optional.of(l != 0) : Optional.empty();
	}

	/** {@code n = 100, T = float}: the known values the last evaluation used. */
	String usedValues() {
		return String.join(", ", used.entrySet().stream().map(e -> e.getKey() + " = " + e.getValue()).toList());
	}

	private Object eval(Expression expression) {
		return switch (expression) {
		case IntLiteral literal -> Long.decode(literal.getValue().replaceAll("[uUlL]+$", ""));
		case StringLiteral literal -> String.join("", literal.getValue()).replace("\"", "");
		case Parenthesized p -> eval(p.getExpression());
		case Name name -> {
			Long value = constants.get(name.getName());
			if (value == null) {
				yield UNKNOWN;
			}
			used.put(name.getName(), String.valueOf(value));
			yield value;
		}
		case SizeOf sizeOf -> sizeOf(sizeOf);
		case Unary unary -> unary(unary.getOp(), eval(unary.getOperand()));
		case Binary binary -> binary(binary);
		case Conditional conditional -> {
			Object condition = eval(conditional.getCondition());
			yield condition instanceof Long c ? eval(c != 0 ? conditional.getThen() : conditional.getElse()) : UNKNOWN;
		}
		case Call call -> call(call);
		default -> UNKNOWN;
		};
	}

	private Object sizeOf(SizeOf sizeOf) {
		String type = null;
		if (sizeOf.getType() != null && sizeOf.getType().getPointers().isEmpty()) {
			type = sizeOf.getType().getType().getName();
		} else if (sizeOf.getOperand() instanceof Parenthesized p && p.getExpression() instanceof Name name) {
			type = name.getName();
		}
		if ("T".equals(type) || (sizeOf.getType() != null && sizeOf.getType().getType() instanceof NamedType named
				&& "T".equals(named.getName()))) {
			if (elementType == null) {
				return UNKNOWN;
			}
			used.put("T", elementType);
			type = elementType;
		}
		Integer bytes = type == null ? null : ScalarSizes.bytes(type);
		return bytes == null ? UNKNOWN : (Object) bytes.longValue();
	}

	private static Object unary(String op, Object operand) {
		if (!(operand instanceof Long value)) {
			return UNKNOWN;
		}
		return switch (op) {
		case "!" -> value == 0 ? 1L : 0L;
		case "-" -> -value;
		case "+" -> value;
		case "~" -> ~value;
		default -> UNKNOWN;
		};
	}

	private Object binary(Binary binary) {
		String op = binary.getOp();
		Object left = eval(binary.getLeft());
		if (op.equals("&&") && Long.valueOf(0).equals(left) || op.equals("||") && left instanceof Long l && l != 0) {
			return op.equals("&&") ? 0L : 1L;
		}
		Object right = eval(binary.getRight());
		if (op.equals("&&") || op.equals("||")) {
			if (right instanceof Long r && (op.equals("&&") ? r == 0 : r != 0)) {
				return op.equals("&&") ? 0L : 1L;
			}
			return left instanceof Long && right instanceof Long ? (op.equals("&&") ? 1L : 0L) : UNKNOWN;
		}
		if (left instanceof String a && right instanceof String b) {
			return switch (op) {
			case "==" -> a.equals(b) ? 1L : 0L;
			case "!=" -> a.equals(b) ? 0L : 1L;
			default -> UNKNOWN;
			};
		}
		if (!(left instanceof Long a) || !(right instanceof Long b)) {
			return UNKNOWN;
		}
		return switch (op) {
		case "+" -> a + b;
		case "-" -> a - b;
		case "*" -> a * b;
		case "/" -> b == 0 ? UNKNOWN : a / b;
		case "%" -> b == 0 ? UNKNOWN : a % b;
		case "<<" -> a << b;
		case ">>" -> a >> b;
		case "&" -> a & b;
		case "|" -> a | b;
		case "^" -> a ^ b;
		case "<" -> a < b ? 1L : 0L;
		case "<=" -> a <= b ? 1L : 0L;
		case ">" -> a > b ? 1L : 0L;
		case ">=" -> a >= b ? 1L : 0L;
		case "==" -> a.equals(b) ? 1L : 0L;
		case "!=" -> a.equals(b) ? 0L : 1L;
		default -> UNKNOWN;
		};
	}

	/** The rule language's functions: aligned(p, bytes) and space(p). */
	private Object call(Call call) {
		String function = ModelQueries.calleeName(call);
		if (call.getArgs().isEmpty() || !(call.getArgs().get(0) instanceof Name argument)) {
			return UNKNOWN;
		}
		Pointer pointer = pointers.get(argument.getName());
		if (pointer == null) {
			return UNKNOWN;
		}
		if ("space".equals(function) && pointer.space() != null) {
			used.put("space(" + argument.getName() + ")", pointer.space());
			return pointer.space();
		}
		if ("aligned".equals(function) && call.getArgs().size() == 2 && eval(call.getArgs().get(1)) instanceof Long n) {
			Optional<Boolean> aligned = Symbols.aligned(pointer, n);
			if (aligned.isPresent()) {
				used.put(argument.getName(), pointer.array() + " + " + pointer.byteOffset() + " bytes");
				return aligned.get() ? 1L : 0L;
			}
		}
		return UNKNOWN;
	}

	static Map<String, Long> constantsOf(Map<String, OptionalLong> values) {
		Map<String, Long> known = new LinkedHashMap<>();
		values.forEach((name, value) -> value.ifPresent(v -> known.put(name, v)));
		return known;
	}
}
