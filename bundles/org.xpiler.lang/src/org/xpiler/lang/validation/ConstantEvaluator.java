package org.xpiler.lang.validation;

import java.math.BigInteger;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.SizeOf;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.parsing.KernelParser;

/**
 * Folds integer constant expressions as C would: literals in any base, arithmetic, shifts, {@code sizeof} of
 * a scalar type and object-like macros ({@code #define N 1024}, {@code #define BYTES (N * 4)}). Anything
 * else has no constant value.
 */
final class ConstantEvaluator {
	private static final Pattern OBJECT_MACRO = Pattern.compile("^#\\s*define\\s+([A-Za-z_]\\w*)\\s+(.+?)\\s*$");
	private static final Pattern INTEGER = Pattern.compile("\\(*\\s*(0[xX][0-9a-fA-F]+|\\d+)[uUlL]*\\s*\\)*");

	/** A macro body that can only be integer arithmetic on literals and names: worth parsing. */
	private static final Pattern ARITHMETIC = Pattern.compile("[\\w\\s()+\\-*/%<>&|^~]+");

	/** Object-like macros and constant variables, by name. */
	private final Map<String, Long> macros = new HashMap<>();

	/** An evaluator that knows every integer object-like macro the file defines. */
	static ConstantEvaluator of(TranslationUnit unit) {
		ConstantEvaluator evaluator = new ConstantEvaluator();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Directive directive) {
				evaluator.define(directive);
			}
		});
		return evaluator;
	}

	/**
	 * Learns {@code #define NAME <integer>} lines, and {@code #define NAME (384 * 1024)} whose arithmetic uses
	 * literals and the macros defined before it.
	 */
	void define(Directive directive) {
		Matcher matcher = OBJECT_MACRO.matcher(directive.getText());
		if (!matcher.find()) {
			return;
		}
		String body = matcher.group(2);
		Matcher value = INTEGER.matcher(body);
		if (value.matches()) {
			macros.put(matcher.group(1), parseInteger(value.group(1)));
		} else if (ARITHMETIC.matcher(body).matches()) {
			try {
				evaluate(new KernelParser().parseExpression(body, Dialect.CUDA))
						.ifPresent(folded -> macros.put(matcher.group(1), folded));
			} catch (IllegalArgumentException notAnExpression) {
				// a statement fragment or a type: no value
			}
		}
	}

	/** A named integer constant: a {@code const int} variable with a constant initializer. */
	void define(String name, long value) {
		macros.put(name, value);
	}

	void undefine(String name) {
		macros.remove(name);
	}

	/** An evaluator that starts with this one's names and can learn more without changing it. */
	ConstantEvaluator copy() {
		ConstantEvaluator copy = new ConstantEvaluator();
		copy.macros.putAll(macros);
		return copy;
	}

	OptionalLong evaluate(Expression expression) {
		try {
			return OptionalLong.of(value(expression));
		} catch (NotConstant | ArithmeticException e) {
			return OptionalLong.empty();
		}
	}

	private static final class NotConstant extends RuntimeException {
		private static final long serialVersionUID = 1L;

		NotConstant() {
			super(null, null, false, false);
		}
	}

	private long value(Expression expression) {
		return switch (expression) {
		case IntLiteral literal -> parseInteger(literal.getValue().replaceAll("[uUlL]+$", ""));
		case Parenthesized parenthesized -> value(parenthesized.getExpression());
		case Cast cast -> value(cast.getOperand());
		case Name name when macros.containsKey(name.getName()) -> macros.get(name.getName());
		case SizeOf sizeOf when sizeOf.getType() != null && sizeOf.getType().getPointers().isEmpty() -> {
			Integer bytes = ScalarSizes.bytes(sizeOf.getType().getType().getName());
			if (bytes == null) {
				throw new NotConstant();
			}
			yield bytes;
		}
		case SizeOf sizeOf when sizeOf.getType() != null -> 8;
		case Unary unary -> switch (unary.getOp()) {
			case "-" -> -value(unary.getOperand());
			case "+" -> value(unary.getOperand());
			case "~" -> ~value(unary.getOperand());
			case "!" -> value(unary.getOperand()) == 0 ? 1 : 0;
			default -> throw new NotConstant();
			};
		case Binary binary -> binary(binary.getOp(), value(binary.getLeft()), value(binary.getRight()));
		default -> throw new NotConstant();
		};
	}

	private static long binary(String op, long left, long right) {
		return switch (op) {
		case "+" -> Math.addExact(left, right);
		case "-" -> Math.subtractExact(left, right);
		case "*" -> Math.multiplyExact(left, right);
		case "/" -> left / right;
		case "%" -> left % right;
		case "<<" -> left << right;
		case ">>" -> left >> right;
		case "&" -> left & right;
		case "|" -> left | right;
		case "^" -> left ^ right;
		case "<" -> left < right ? 1 : 0;
		case "<=" -> left <= right ? 1 : 0;
		case ">" -> left > right ? 1 : 0;
		case ">=" -> left >= right ? 1 : 0;
		case "==" -> left == right ? 1 : 0;
		case "!=" -> left != right ? 1 : 0;
		case "&&" -> left != 0 && right != 0 ? 1 : 0;
		case "||" -> left != 0 || right != 0 ? 1 : 0;
		default -> throw new NotConstant();
		};
	}

	private static long parseInteger(String text) {
		if (text.startsWith("0x") || text.startsWith("0X")) {
			return new BigInteger(text.substring(2), 16).longValue();
		}
		if (text.length() > 1 && text.startsWith("0")) {
			return new BigInteger(text.substring(1), 8).longValue();
		}
		return new BigInteger(text).longValue();
	}
}
