package org.xpiler.lang.parsing;

import java.util.Set;

import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.TemplateMember;
import org.xpiler.lang.kernel.TypeName;

/**
 * The part of the C++ standard library that kernels use and the tools model: {@code std::numeric_limits},
 * {@code std::array}, and the algorithms over arrays that the virtual device runs and detensorize expands.
 */
public final class StandardLibrary {
	/** The names, known to every dialect's C++ whether or not the file includes their header. */
	public static final Set<String> NAMES = Set.of("std::numeric_limits", "std::array", "std::copy", "std::copy_n",
			"std::fill", "std::fill_n", "std::accumulate", "std::inner_product", "std::max_element", "std::min_element");

	private StandardLibrary() {
	}

	/** Whether {@code type} is {@code std::array<T, N>}: an element type, then a length. */
	public static boolean isArray(NamedType type) {
		return type.getName().matches("(::)?std::array") && type.getTemplateArgs().size() == 2
				&& type.getTemplateArgs().get(0).getType() != null
				&& TemplateArguments.value(type.getTemplateArgs().get(1)) != null;
	}

	/** {@code T} of a call {@code std::numeric_limits<T>::member()}; null for any other call. */
	public static TypeName numericLimitsType(Call call) {
		return call.getCallee() instanceof TemplateMember member && call.getArgs().isEmpty()
				&& member.getType().matches("(::)?std::numeric_limits") && member.getTemplateArgs().size() == 1
						? member.getTemplateArgs().get(0).getType()
						: null;
	}
}
