package org.xpiler.devices;

import java.util.List;

import org.xpiler.lang.diagnostics.Diagnostic;

/** A kernel that could not run: the reason, located in the kernel file where the device knows where. */
public class DeviceException extends RuntimeException {
	private static final long serialVersionUID = 1L;

	private final transient List<Diagnostic> diagnostics;

	public DeviceException(String message, List<Diagnostic> diagnostics) {
		super(message);
		this.diagnostics = List.copyOf(diagnostics);
	}

	public DeviceException(String message) {
		this(message, List.of());
	}

	/** The located findings (compile errors, the faulting access); may be empty. */
	public List<Diagnostic> diagnostics() {
		return diagnostics;
	}
}
