package org.xpiler.ui.tests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import org.eclipse.swt.SWT;
import org.eclipse.swt.custom.CTabFolder;
import org.eclipse.swt.custom.CTabItem;
import org.eclipse.swt.graphics.GC;
import org.eclipse.swt.graphics.Image;
import org.eclipse.swt.graphics.ImageData;
import org.eclipse.swt.graphics.ImageLoader;
import org.eclipse.swt.graphics.Rectangle;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Menu;
import org.eclipse.swt.widgets.MenuItem;
import org.eclipse.swt.widgets.Shell;

/**
 * The few things a UI test needs without SWTBot, all on the UI thread the harness runs tests on: let the
 * event loop catch up, find widgets in a shell, and save a screenshot.
 */
final class UiDriver {
	private UiDriver() {
	}

	/** Dispatches pending events until the queue is empty. */
	static void flush() {
		Display display = Display.getCurrent();
		while (display.readAndDispatch()) {
			// keep dispatching
		}
	}

	/** Runs the event loop until the condition holds or the timeout passes; returns the condition's value. */
	static boolean waitUntil(BooleanSupplier condition, long timeoutMillis) {
		long deadline = System.currentTimeMillis() + timeoutMillis;
		while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) {
			if (!Display.getCurrent().readAndDispatch()) {
				Display.getCurrent().sleep();
			}
		}
		return condition.getAsBoolean();
	}

	/** The titles of every visible tab (view and editor stacks) under the control. */
	static List<String> visibleTabTitles(Control root) {
		List<String> titles = new ArrayList<>();
		collectTabTitles(root, titles);
		return titles;
	}

	private static void collectTabTitles(Control control, List<String> titles) {
		if (!control.isVisible()) {
			return;
		}
		if (control instanceof CTabFolder folder) {
			for (CTabItem item : folder.getItems()) {
				titles.add(item.getText());
			}
		}
		if (control instanceof Composite composite) {
			for (Control child : composite.getChildren()) {
				collectTabTitles(child, titles);
			}
		}
	}

	/** The visible titles of a menu's items, without mnemonics: "&File" reads "File". */
	static List<String> menuTitles(Menu menu) {
		List<String> titles = new ArrayList<>();
		for (MenuItem item : menu.getItems()) {
			if (!item.getText().isEmpty()) {
				titles.add(item.getText().replace("&", ""));
			}
		}
		return titles;
	}

	/** Writes a PNG of the shell as it is on screen. */
	static Path screenshot(Shell shell, Path file) throws Exception {
		flush();
		Display display = shell.getDisplay();
		Rectangle bounds = shell.getBounds();
		Image image = new Image(display, bounds.width, bounds.height);
		GC gc = new GC(display);
		try {
			gc.copyArea(image, bounds.x, bounds.y);
			ImageData data = image.getImageData();
			ImageLoader loader = new ImageLoader();
			loader.data = new ImageData[] { data };
			Files.createDirectories(file.getParent());
			loader.save(file.toString(), SWT.IMAGE_PNG);
		} finally {
			gc.dispose();
			image.dispose();
		}
		return file;
	}
}
