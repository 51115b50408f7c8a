package org.xpiler.cli;

import java.io.PrintWriter;

import org.apache.log4j.BasicConfigurator;
import org.apache.log4j.Level;
import org.apache.log4j.Logger;
import org.eclipse.equinox.app.IApplication;
import org.eclipse.equinox.app.IApplicationContext;

/**
 * The Equinox application behind {@code ./xpiler}: hands the command-line arguments to {@link Xpiler} and
 * returns its exit code, which the launcher turns into the process exit status.
 */
public class HeadlessApplication implements IApplication {

	@Override
	public Object start(IApplicationContext context) {
		quietLibraryLogging();
		String[] args = (String[]) context.getArguments().get(IApplicationContext.APPLICATION_ARGS);
		PrintWriter out = new PrintWriter(System.out, true);
		PrintWriter err = new PrintWriter(System.err, true);
		int exitCode = Xpiler.execute(args == null ? new String[0] : args, out, err);
		out.flush();
		err.flush();
		return Integer.valueOf(exitCode);
	}

	/**
	 * Xtext logs through log4j, which complains on stderr when nothing is configured. The command line reports
	 * every problem itself, so library logging stays off unless -Dxpiler.debug=true asks for it.
	 */
	private static void quietLibraryLogging() {
		if (Boolean.getBoolean("xpiler.debug")) {
			BasicConfigurator.configure();
		} else {
			Logger.getRootLogger().setLevel(Level.OFF);
		}
	}

	@Override
	public void stop() {
		// commands run to completion on the calling thread; there is nothing to interrupt
	}
}
