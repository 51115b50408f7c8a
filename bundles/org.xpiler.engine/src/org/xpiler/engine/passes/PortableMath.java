package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.Collections;
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
