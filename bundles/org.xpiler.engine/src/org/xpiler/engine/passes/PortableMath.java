package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.TemplateMember;
import org.xpiler.lang.kernel.TypeName;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.StandardLibrary;

/**
 * Scalar math that one dialect has and another lacks, written with functions every dialect has:
 * {@code rsqrtf(x)} is {@code (1.0f / sqrtf(x))}, {@code fmaf(a, b, c)} is {@code (a) * (b) + (c)} (one
 * more rounding, within the oracle's float tolerance), CUDA's fast {@code __expf} is {@code expf}, CUDA's
 * overloaded {@code min(a, b)} is {@code ((a) < (b) ? (a) : (b))}, the read-only-cache load {@code __ldg(p)} is
 * {@code (*(p))}, C++'s {@code std::exp} is {@code expf},
 * {@code FLT_MAX} is {@code 3.40282347e+38f}. A call
 * is rewritten only when the target does not know the function and the file does not define it.
 */
final class PortableMath {
	private static final Map<String, String> EQUIVALENTS = Map.ofEntries(Map.entry("rsqrtf", "(1.0f / sqrtf($0))"),
			Map.entry("rsqrt", "(1.0 / sqrt($0))"), Map.entry("__expf", "expf($0)"), Map.entry("__logf", "logf($0)"),
			Map.entry("__sinf", "sinf($0)"), Map.entry("__cosf", "cosf($0)"), Map.entry("__powf", "powf($0, $1)"),
			Map.entry("__fdividef", "(($0) / ($1))"), Map.entry("__frcp_rn", "(1.0f / ($0))"),
			Map.entry("__fsqrt_rn", "sqrtf($0)"), Map.entry("__saturatef", "fminf(fmaxf($0, 0.0f), 1.0f)"),
			Map.entry("__fmaf_rn", "(($0) * ($1) + ($2))"), Map.entry("fmaf", "(($0) * ($1) + ($2))"),
			Map.entry("fma", "(($0) * ($1) + ($2))"), Map.entry("__fadd_rn", "(($0) + ($1))"),
			Map.entry("__fmul_rn", "(($0) * ($1))"), Map.entry("__fsub_rn", "(($0) - ($1))"),
			Map.entry("__fdiv_rn", "(($0) / ($1))"), Map.entry("exp10f", "powf(10.0f, $0)"),
			Map.entry("__ldg", "(*($0))"),
			// CUDA's and HIP's overloads for every arithmetic type; the operands are plain values in kernels
			Map.entry("min", "(($0) < ($1) ? ($0) : ($1))"), Map.entry("max", "(($0) > ($1) ? ($0) : ($1))"),
			// C++'s templates, as <algorithm> defines them
			Map.entry("std::min", "(($1) < ($0) ? ($1) : ($0))"), Map.entry("std::max", "(($0) < ($1) ? ($1) : ($0))"));

	/**
	 * CUDA's and HIP's device functions in portable C, for a target whose headers lack them: the float-to-integer
	 * conversions saturate and give 0 for NaN as CUDA's do (a plain C cast is undefined there), the 24-bit and
	 * high-half multiplies widen to 64 bits, and the cache-hinted loads are plain loads.
	 */
	private static final Map<String, String> DEVICE_FUNCTIONS = Map.ofEntries(
			Map.entry("__float2int_rn", toInt("rintf($0)")), Map.entry("__float2int_rz", toInt("($0)")),
			Map.entry("__float2int_rd", toInt("floorf($0)")), Map.entry("__float2int_ru", toInt("ceilf($0)")),
			Map.entry("__float2uint_rn", toUnsigned("rintf($0)")), Map.entry("__float2uint_rz", toUnsigned("($0)")),
			Map.entry("__float2uint_rd", toUnsigned("floorf($0)")), Map.entry("__float2uint_ru", toUnsigned("ceilf($0)")),
			Map.entry("__umulhi", "((unsigned int) (((unsigned long long) ($0) * (unsigned int) ($1)) >> 32))"),
			Map.entry("__mulhi", "((int) (((long long) ($0) * (int) ($1)) >> 32))"),
			Map.entry("__mul24", "((int) ((long long) " + low24Signed("$0") + " * " + low24Signed("$1") + "))"),
			Map.entry("__umul24", "((unsigned int) (((unsigned long long) ($0) & 0xFFFFFFu) * (($1) & 0xFFFFFFu)))"),
			Map.entry("__sad", absoluteDifference("int") + " + (unsigned int) ($2))"),
			Map.entry("__usad", absoluteDifference("unsigned int") + " + (unsigned int) ($2))"),
			Map.entry("umin", "((unsigned int) ($0) < (unsigned int) ($1) ? (unsigned int) ($0) : (unsigned int) ($1))"),
			Map.entry("umax", "((unsigned int) ($0) > (unsigned int) ($1) ? (unsigned int) ($0) : (unsigned int) ($1))"),
			Map.entry("__ldcs", "(*($0))"), Map.entry("__ldcg", "(*($0))"), Map.entry("__ldca", "(*($0))"),
			Map.entry("__ldlu", "(*($0))"), Map.entry("__exp10f", "powf(10.0f, $0)"),
			Map.entry("__frsqrt_rn", "(1.0f / sqrtf($0))"), Map.entry("fdividef", "(($0) / ($1))"));

	/**
	 * The bit functions as GCC's and clang's builtins, for C++, which need no header; {@code __builtin_clz} of 0
	 * is undefined where {@code __clz(0)} is the width.
	 */
	private static final Map<String, String> BUILTIN_DEVICE_FUNCTIONS = Map.of("__popc", "__builtin_popcount($0)",
			"__popcll", "__builtin_popcountll($0)", "__clz", "(($0) == 0 ? 32 : __builtin_clz($0))", "__clzll",
			"(($0) == 0 ? 64 : __builtin_clzll($0))", "__ffs", "__builtin_ffs($0)", "__ffsll", "__builtin_ffsll($0)");

	/** The cache-hinted loads HIP's headers declare for {@code __half} and {@code __half2} only. */
	private static final Set<String> HIP_HALF_LOADS = Set.of("__ldcs", "__ldcg", "__ldca");

	/** clang's bit builtins, which HIP code calls, as CUDA's device functions; ctz of 0 is 32, as tzcnt's. */
	private static final Map<String, String> GPU_DEVICE_FUNCTIONS = Map.of("__builtin_popcount", "__popc($0)",
			"__builtin_popcountll", "__popcll($0)", "__builtin_clz", "__clz((int) ($0))", "__builtin_clzll",
			"__clzll((long long) ($0))", "__builtin_ctz", "__clz((int) __brev($0))", "__builtin_ctzll",
			"__clzll((long long) __brevll($0))");

	/**
	 * {@code <float.h>}'s and {@code <limits.h>}'s limits, as they define them: translated code gets the values,
	 * so that it needs neither header, which the target's includes may not bring.
	 */
	private static final Map<String, String> CONSTANTS = Map.of("FLT_MAX", "3.40282347e+38f", "FLT_MIN",
			"1.17549435e-38f", "FLT_EPSILON", "1.19209290e-07f", "INT_MAX", "2147483647", "INT_MIN", "(-2147483647 - 1)");

	/**
	 * {@code std::numeric_limits<T>::member()} for float, double and int, as literals: device code cannot call
	 * the host's {@code <limits>} without a relaxed-constexpr flag, and BANG C has no {@code <limits>}.
	 */
	private static final Map<String, String> NUMERIC_LIMITS = Map.ofEntries(Map.entry("float::max", CONSTANTS.get("FLT_MAX")),
			Map.entry("float::lowest", "(-" + CONSTANTS.get("FLT_MAX") + ")"), Map.entry("float::min", CONSTANTS.get("FLT_MIN")),
			Map.entry("float::epsilon", CONSTANTS.get("FLT_EPSILON")), Map.entry("float::infinity", "INFINITY"),
			Map.entry("double::max", "1.7976931348623157e+308"), Map.entry("double::lowest", "(-1.7976931348623157e+308)"),
			Map.entry("double::min", "2.2250738585072014e-308"), Map.entry("double::epsilon", "2.2204460492503131e-16"),
			Map.entry("double::infinity", "((double) INFINITY)"), Map.entry("int::max", CONSTANTS.get("INT_MAX")),
			Map.entry("int::min", CONSTANTS.get("INT_MIN")), Map.entry("int::lowest", CONSTANTS.get("INT_MIN")));

	private PortableMath() {
	}

	/** CUDA's conversion of a float to int of {@code rounded} (the rounded {@code $0}): saturating, NaN to 0. */
	private static String toInt(String rounded) {
		return "(($0) != ($0) ? 0 : ($0) >= 2147483648.0f ? 2147483647 : ($0) <= -2147483648.0f ? (-2147483647 - 1) : (int) "
				+ rounded + ")";
	}

	/** CUDA's conversion to unsigned int: saturating, so negative values are 0, and NaN to 0. */
	private static String toUnsigned(String rounded) {
		return "(($0) != ($0) || " + rounded + " <= 0.0f ? 0u : ($0) >= 4294967296.0f ? 4294967295u : (unsigned int) "
				+ rounded + ")";
	}

	/** The low 24 bits of {@code operand} sign-extended, as {@code __mul24} reads its operands. */
	private static String low24Signed(String operand) {
		return "(((int) ((unsigned int) (" + operand + ") << 8)) >> 8)";
	}

	/** {@code (unsigned int) |$0 - $1|} for operands of {@code type}, exact where the difference overflows. */
	private static String absoluteDifference(String type) {
		return "(((" + type + ") ($0) > (" + type + ") ($1) ? (unsigned int) ($0) - (unsigned int) ($1) : (unsigned int) ($1)"
				+ " - (unsigned int) ($0))";
	}

	/**
	 * The device functions {@code target} would need rewritten: the portable ones, with the bit functions as the
	 * compilers' builtins for C++ and clang's builtins as CUDA's functions for the GPUs.
	 */
	private static Map<String, String> deviceFunctions(Dialect target) {
		Map<String, String> functions = new HashMap<>(DEVICE_FUNCTIONS);
		functions.putAll(target == Dialect.VNNI ? BUILTIN_DEVICE_FUNCTIONS : GPU_DEVICE_FUNCTIONS);
		return functions;
	}

	/**
	 * Whether {@code target}'s headers declare the device function {@code name}. The C++ target's prelude names
	 * are the host C library's, which also declares its internals ({@code __exp10f}), so there only the catalog counts.
	 */
	private static boolean declares(Dialect target, String name) {
		if (target == Dialect.HIP && HIP_HALF_LOADS.contains(name)) {
			return false;
		}
		return target.catalog().knows(name) || target != Dialect.VNNI && target.preludeNames().contains(name);
	}

	/** Rewrites, in {@code unit} (parsed as {@code dialect}), the calls {@code target} would not know, and the limits. */
	static void rewrite(TranslationUnit unit, Dialect dialect, Dialect target) {
		Set<String> defined = new HashSet<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof FunctionDefinition f) {
				defined.add(f.getName());
			}
		});
		for (var item : unit.getItems()) {
			if (item instanceof FunctionDefinition f) {
				defined.add(f.getName());
			}
		}
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call c && c.getCallee() instanceof Name callee && !EQUIVALENTS.containsKey(callee.getName())
					&& callee.getName().startsWith("std::") && !target.catalog().knows(callee.getName())) {
				callee.setName(cFunction(callee.getName().substring("std::".length()), target));
			}
		});
		List<Call> calls = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call c && Snippets.callee(c) != null && EQUIVALENTS.containsKey(Snippets.callee(c))
					&& !defined.contains(Snippets.callee(c))
					&& !target.catalog().knows(Snippets.callee(c)) && !repeatsSideEffects(c, EQUIVALENTS.get(Snippets.callee(c)))) {
				calls.add(c);
			}
		});
		List<Name> constants = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Name n && CONSTANTS.containsKey(n.getName())
					&& !(o.eContainer() instanceof Call c && c.getCallee() == o)) {
				constants.add(n);
			}
		});
		constants.forEach(n -> EcoreUtil.replace(n, Snippets.expression(CONSTANTS.get(n.getName()), dialect)));
		if (target != Dialect.VNNI) {
			List<Call> limits = new ArrayList<>();
			unit.eAllContents().forEachRemaining(o -> {
				if (o instanceof Call c && numericLimit(c) != null) {
					limits.add(c);
				}
			});
			limits.forEach(c -> EcoreUtil.replace(c, Snippets.expression(numericLimit(c), dialect)));
		}
		substitute(calls, EQUIVALENTS, dialect);
		rewriteDeviceFunctions(unit, dialect, target, defined);
	}

	private static void rewriteDeviceFunctions(TranslationUnit unit, Dialect dialect, Dialect target, Set<String> defined) {
		Map<String, String> functions = deviceFunctions(target);
		List<Call> calls = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call c && Snippets.callee(c) != null && functions.containsKey(Snippets.callee(c))
					&& !defined.contains(Snippets.callee(c)) && !declares(target, Snippets.callee(c))
					&& !repeatsSideEffects(c, functions.get(Snippets.callee(c)))) {
				calls.add(c);
			}
		});
		substitute(calls, functions, dialect);
	}

	/**
	 * Replaces each call by its equivalent in {@code equivalents} (by callee), whose {@code $0}, {@code $1}, ...
	 * stand for the call's arguments as written in {@code dialect}.
	 */
	static void substitute(List<Call> calls, Map<String, String> equivalents, Dialect dialect) {
		List<Call> innerFirst = new ArrayList<>(calls);
		Collections.reverse(innerFirst); // so that printed arguments are already rewritten
		for (Call c : innerFirst) {
			String text = equivalents.get(Snippets.callee(c));
			for (int i = 0; i < c.getArgs().size(); i++) {
				text = text.replace("$" + i, dialect.printer().expression(c.getArgs().get(i)));
			}
			EcoreUtil.replace(c, Snippets.expression(text, dialect));
		}
	}

	/**
	 * The C function for C++'s {@code std::name}, whose overloads follow the argument: the float one
	 * ({@code expf}) where the target has it, the kernels' usual type, else the double one; {@code abs} stays
	 * {@code abs} where the target overloads it, else {@code fabsf}.
	 */
	private static String cFunction(String name, Dialect target) {
		if (name.equals("abs")) {
			return target.catalog().knows("abs") ? "abs" : "fabsf";
		}
		return target.catalog().knows(name + "f") ? name + "f" : name;
	}

	/** The literal for {@code std::numeric_limits<float>::max()} and the like; null for any other call. */
	private static String numericLimit(Call c) {
		if (StandardLibrary.numericLimitsType(c) instanceof TypeName type && type.getPointers().isEmpty()
				&& type.getType() instanceof BuiltinType builtin) {
			return NUMERIC_LIMITS.get(builtin.getName() + "::" + ((TemplateMember) c.getCallee()).getMember());
		}
		return null;
	}

	/** Whether {@code text}, the equivalent of {@code c}, would evaluate an argument that writes something twice. */
	static boolean repeatsSideEffects(Call c, String text) {
		for (int i = 0; i < c.getArgs().size(); i++) {
			String placeholder = "$" + i;
			if (text.indexOf(placeholder) != text.lastIndexOf(placeholder) && CanonicalLoop.writesAnything(c.getArgs().get(i))) {
				return true;
			}
		}
		return false;
	}
}
