package org.xpiler.cli;

import java.nio.file.Path;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code xpiler workbench}: the graphical face of the product. The workbench is a separate Equinox application
 * that must own the main thread, so the launcher script starts it directly; this command documents its options
 * and explains what to do when the headless application is started by other means.
 */
@Command(name = "workbench", mixinStandardHelpOptions = true,
		description = { "Open the Xpiler workbench (the Eclipse-based IDE) with the Xpiler perspective.",
				"Needs a display (X11 or Wayland)." })
class WorkbenchCommand implements Runnable {

	@Option(names = "--data", paramLabel = "DIR", description = "Workspace folder (default: ~/xpiler-workspace).")
	Path workspace;

	@Override
	public void run() {
		throw new UserException("the workbench is started by the launcher script: run './xpiler workbench'"
				+ " (or start the product with -application org.xpiler.ui.workbench)");
	}
}
