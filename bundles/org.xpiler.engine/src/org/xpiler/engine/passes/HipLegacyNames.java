package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Writes HIP's older spellings the way the passes read HIP and CUDA alike: {@code hipThreadIdx_x} becomes
 * {@code threadIdx.x} (likewise {@code hipBlockIdx_*}, {@code hipBlockDim_*}, {@code hipGridDim_*}), the
 * kernel of {@code hipLaunchKernelGGL(HIP_KERNEL_NAME(k), ...)} becomes plain {@code k}, and the symbol of
 * {@code hipMemcpyToSymbol(HIP_SYMBOL(c), ...)} plain {@code c}. All are macros of the HIP headers with exactly
 * that meaning.
 */
final class HipLegacyNames {
	private static final Pattern INDEX = Pattern.compile("hip(Thread|Block)(Idx|Dim)_([xyz])|hipGridDim_([xyz])");

	private HipLegacyNames() {
	}

	static void normalize(TranslationUnit unit) {
		List<EObject> nodes = new ArrayList<>();
		unit.eAllContents().forEachRemaining(nodes::add);
		for (EObject node : nodes) {
			if (node instanceof Call call && call.getCallee() instanceof Name callee
					&& (callee.getName().equals("HIP_KERNEL_NAME") || callee.getName().equals("HIP_SYMBOL"))
					&& call.getArgs().size() == 1) {
				EcoreUtil.replace(call, call.getArgs().get(0));
			} else if (node instanceof Name name && !(name.eContainer() instanceof Call c && c.getCallee() == name)) {
				Matcher index = INDEX.matcher(name.getName());
				if (index.matches()) {
					String builtin = index.group(4) != null ? "gridDim." + index.group(4)
							: index.group(1).toLowerCase() + index.group(2) + "." + index.group(3);
					EcoreUtil.replace(name, Snippets.expression(builtin, Dialect.HIP));
				}
			}
		}
	}
}
