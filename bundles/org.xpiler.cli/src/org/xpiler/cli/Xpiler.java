package org.xpiler.cli;

import java.io.PrintWriter;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/** The root of the {@code xpiler} command line: global options, the subcommands and the exit-code policy. */
@Command(name = "xpiler", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
		description = "Ports tensor kernels between CUDA C, HIP, Cambricon BANG C and C++ with AVX-512 VNNI.",
		subcommands = { ParseCommand.class, TranslateCommand.class, RunCommand.class, VerifyCommand.class,
				EvalCommand.class, DialectsCommand.class, WorkbenchCommand.class, CommandLine.HelpCommand.class },
		footer = { "", "Exit codes: 0 ok, 1 bad input or failed check, 2 internal error." })
public class Xpiler implements Runnable {

	@picocli.CommandLine.Spec
	CommandLine.Model.CommandSpec spec;

	@Override
	public void run() {
		// no subcommand: show what there is to do
		spec.commandLine().usage(spec.commandLine().getOut());
	}

	/** Runs one command line and returns the process exit code; never throws. */
	public static int execute(String[] args, PrintWriter out, PrintWriter err) {
		CommandLine commandLine = new CommandLine(new Xpiler());
		commandLine.setOut(out);
		commandLine.setErr(err);
		commandLine.setParameterExceptionHandler(oneLineUsageError());
		commandLine.setExecutionExceptionHandler(exceptionToExitCode());
		int exitCode = commandLine.execute(args);
		out.flush();
		err.flush();
		return exitCode;
	}

	private static IParameterExceptionHandler oneLineUsageError() {
		return (ParameterException ex, String[] args) -> {
			CommandLine failing = ex.getCommandLine();
			String command = failing.getCommandSpec().qualifiedName();
			String message = ex.getMessage();
			if (ex instanceof UnmatchedArgumentException unmatched && failing.getSubcommands().size() > 1
					&& !unmatched.getUnmatched().isEmpty() && !unmatched.getUnmatched().get(0).startsWith("-")) {
				message = "Unknown subcommand '" + unmatched.getUnmatched().get(0) + "'";
			}
			failing.getErr().println(command + ": " + message + " (see '" + command + " --help')");
			return ExitCode.USER_ERROR;
		};
	}

	private static IExecutionExceptionHandler exceptionToExitCode() {
		return (Exception ex, CommandLine failing, ParseResult parseResult) -> {
			String command = failing.getCommandSpec().qualifiedName();
			if (ex instanceof UserException) {
				failing.getErr().println(command + ": " + ex.getMessage());
				return ExitCode.USER_ERROR;
			}
			failing.getErr().println(command + ": internal error: " + ex
					+ " (please report it with the command line that caused it)");
			if (Boolean.getBoolean("xpiler.debug")) {
				ex.printStackTrace(failing.getErr());
			}
			return ExitCode.INTERNAL_ERROR;
		};
	}
}
