package org.xpiler.lang.parsing;

import java.util.ArrayList;
import java.util.List;

import org.eclipse.emf.ecore.EObject;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.Specifier;

/**
 * HIP's {@code HIP_DYNAMIC_SHARED(float, s)}, which the HIP grammar reads as a declaration with the macro for
 * its specifier, rewritten to what the macro expands to: {@code extern __shared__ float s[];}. Every reader of
 * the model (validators, the virtual device, the passes, the printer) then sees the one form of the launch's
 * dynamic shared memory.
 */
public final class HipDynamicShared {
	static final String MACRO = "HIP_DYNAMIC_SHARED";

	private HipDynamicShared() {
	}

	/** Rewrites the macro's declarations under {@code root}; the rest is left as parsed. */
	static void expand(EObject root) {
		List<Declaration> declarations = new ArrayList<>();
		root.eAllContents().forEachRemaining(o -> {
			if (o instanceof Declaration d && d.getSpecifiers().size() == 1
					&& d.getSpecifiers().get(0) instanceof Specifier s && MACRO.equals(s.getName())) {
				declarations.add(d);
			}
		});
		for (Declaration d : declarations) {
			((Specifier) d.getSpecifiers().get(0)).setName("extern");
			Specifier shared = KernelFactory.eINSTANCE.createSpecifier();
			shared.setName("__shared__");
			d.getSpecifiers().add(shared);
			d.getDeclarators().forEach(x -> x.getDimensions().add(KernelFactory.eINSTANCE.createArrayDimension()));
		}
	}
}
