package org.xpiler.lang.printing;

import org.xpiler.lang.cuda.LaunchBounds;
import org.xpiler.lang.kernel.FunctionAttribute;

/** CUDA and HIP: the shared printer plus {@code __launch_bounds__}. */
public class CudaPrinter extends KernelPrinter {

	@Override
	protected String functionAttribute(FunctionAttribute attribute) {
		if (attribute instanceof LaunchBounds bounds) {
			return "__launch_bounds__(" + expression(bounds.getMaxThreads())
					+ (bounds.getMinBlocks() == null ? "" : ", " + expression(bounds.getMinBlocks())) + ")";
		}
		return super.functionAttribute(attribute);
	}
}
