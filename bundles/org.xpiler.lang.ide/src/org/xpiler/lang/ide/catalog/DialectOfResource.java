package org.xpiler.lang.ide.catalog;

import java.nio.file.Path;
import java.util.Optional;

import org.eclipse.emf.ecore.resource.Resource;
import org.xpiler.lang.dialect.Dialect;

/** The dialect a resource is written in, from its file extension (the language the editor opened it as). */
final class DialectOfResource {
	private DialectOfResource() {
	}

	static Optional<Dialect> of(Resource resource) {
		String segment = resource.getURI().lastSegment();
		return segment == null ? Optional.empty() : Dialect.fromFile(Path.of(segment));
	}
}
