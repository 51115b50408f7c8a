package org.xpiler.devices;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.xpiler.lang.dialect.Dialect;

/** A kernel file as a device receives it: where it lives (for messages), its dialect and its text. */
public record KernelSource(Path file, Dialect dialect, String text) {

	public static KernelSource read(Path file, Dialect dialect) throws IOException {
		return new KernelSource(file, dialect, Files.readString(file));
	}

	/** The name used in diagnostics: the file name as the user gave it. */
	public String displayName() {
		return file.toString();
	}
}
