package org.xpiler.cli;

/** Process exit codes every subcommand keeps to, so scripts can tell a bad input from a bug. */
public final class ExitCode {
	/** The command did what was asked. */
	public static final int OK = 0;
	/** The input or the invocation is wrong (bad flag, unreadable file, failing verification). */
	public static final int USER_ERROR = 1;
	/** The tool itself failed; the message asks for a bug report. */
	public static final int INTERNAL_ERROR = 2;

	private ExitCode() {
	}
}
