package org.xpiler.lang.parsing;

import java.util.List;

import org.eclipse.xtext.resource.XtextResource;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * A kernel file read by {@link KernelParser}: its model (absent when the file could not be read at all) and
 * every diagnostic, syntax and validation alike, in the order of their positions.
 */
public record ParsedKernel(String file, Dialect dialect, XtextResource resource, List<Diagnostic> diagnostics) {

	/** The root of the model, or {@code null} when the file could not be read. */
	public TranslationUnit unit() {
		if (resource == null || resource.getContents().isEmpty()) {
			return null;
		}
		return (TranslationUnit) resource.getContents().get(0);
	}

	public boolean hasErrors() {
		return diagnostics.stream().anyMatch(Diagnostic::isError);
	}

	public List<Diagnostic> errors() {
		return diagnostics.stream().filter(Diagnostic::isError).toList();
	}
}
