package org.xpiler.cli;

/**
 * A failure caused by what the user asked for, reported as one line without a stack trace and exit code
 * {@link ExitCode#USER_ERROR}.
 */
public class UserException extends RuntimeException {
	private static final long serialVersionUID = 1L;

	public UserException(String message) {
		super(message);
	}
}
