package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import org.xpiler.core.vm.VectorTypes;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.StructDefinition;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeSpecifier;

/**
 * CUDA's and HIP's vector structs ({@code float4}, {@code int2}, ...) where the dialect lacks them. Loop recovery
 * defines each one a CUDA or HIP source uses, with its {@code make_} constructor, in the sequential C++, which g++
 * and BANG C would not otherwise know:
 * <pre>
 * struct float4 {
 *     float x;
 *     float y;
 *     float z;
 *     float w;
 * };
 * float4 make_float4(float x, float y, float z, float w) {
 *     float4 v;
 *     v.x = x; ...
 *     return v;
 * }
 * </pre>
 * Loop bind drops exactly these definitions again for CUDA and HIP, whose headers declare the vectors, and keeps
 * them for BANG C.
 */
final class VectorStructs {
	private VectorStructs() {
	}

	/** The definitions of the vectors {@code unit} uses, for the sequential C++ lifted from it. */
	static String definitions(TranslationUnit unit) {
		Set<String> used = new TreeSet<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof TypeSpecifier type && VectorTypes.named(type.getName()).isPresent()) {
				used.add(type.getName());
			} else if (o instanceof Call call && Snippets.callee(call) != null) {
				VectorTypes.madeBy(Snippets.callee(call)).ifPresent(vector -> used.add(vector.name()));
			}
		});
		StringBuilder text = new StringBuilder();
		for (String name : used) {
			VectorTypes.Vector vector = VectorTypes.named(name).orElseThrow();
			text.append(struct(vector)).append(constructor(vector));
		}
		return text.toString();
	}

	/** Removes the definitions {@link #definitions} wrote where {@code target}'s headers declare the vectors. */
	static void dropWhereDeclared(TranslationUnit unit, Dialect target) {
		if (target != Dialect.CUDA && target != Dialect.HIP) {
			return;
		}
		List<TopLevel> ours = new ArrayList<>();
		for (TopLevel item : Snippets.topLevelItems(unit)) {
			// only a struct named like a vector or its make_ function is printed and compared
			Optional<String> ourText = item instanceof StructDefinition struct && struct.getName() != null
					? VectorTypes.named(struct.getName()).map(VectorStructs::struct)
					: item instanceof FunctionDefinition function ? VectorTypes.madeBy(function.getName())
							.map(VectorStructs::constructor) : Optional.empty();
			if (ourText.isPresent() && ourText.get().strip().equals(Dialect.VNNI.printer().topLevel(item).strip())) {
				ours.add(item);
			}
		}
		ours.forEach(org.eclipse.emf.ecore.util.EcoreUtil::delete);
	}

	private static final String[] LANES = { "x", "y", "z", "w" };

	private static String struct(VectorTypes.Vector vector) {
		StringBuilder text = new StringBuilder("struct ").append(vector.name()).append(" {\n");
		for (int i = 0; i < vector.lanes(); i++) {
			text.append("    ").append(vector.element().cName()).append(' ').append(LANES[i]).append(";\n");
		}
		return text.append("};\n").toString();
	}

	private static String constructor(VectorTypes.Vector vector) {
		List<String> parameters = new ArrayList<>();
		StringBuilder body = new StringBuilder("    ").append(vector.name()).append(" v;\n");
		for (int i = 0; i < vector.lanes(); i++) {
			parameters.add(vector.element().cName() + " " + LANES[i]);
			body.append("    v.").append(LANES[i]).append(" = ").append(LANES[i]).append(";\n");
		}
		return vector.name() + " " + VectorTypes.MAKE + vector.name() + "(" + String.join(", ", parameters) + ") {\n"
				+ body + "    return v;\n}\n";
	}
}
