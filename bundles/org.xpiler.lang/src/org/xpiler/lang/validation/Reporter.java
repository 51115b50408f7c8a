package org.xpiler.lang.validation;

import org.eclipse.emf.ecore.EObject;

/** Where a check sends its findings; the Xtext validator turns them into located issues. */
interface Reporter {
	void error(String message, EObject at, String code);

	void warning(String message, EObject at, String code);
}
