package org.xpiler.devices;

import java.util.List;

import org.xpiler.lang.diagnostics.Diagnostic;

/**
 * What a compiler said: whether it succeeded, its findings located in the kernel file, and its full output for
 * anything that could not be mapped to a location.
 */
public record CompileResult(String device, boolean success, List<Diagnostic> diagnostics, String output) {
}
