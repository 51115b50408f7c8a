package org.xpiler.ui.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.ui.IPageLayout;
import org.eclipse.ui.IWorkbenchPage;
import org.eclipse.ui.IWorkbenchWindow;
import org.eclipse.ui.PlatformUI;
import org.eclipse.ui.console.IConsoleConstants;
import org.junit.jupiter.api.Test;
import org.xpiler.ui.XpilerPerspective;
import org.xpiler.ui.XpilerWorkbenchAdvisor;

/** Starts the real Xpiler workbench (UI harness), opens the Xpiler perspective and looks at what it shows. */
public class XpilerPerspectiveTest {

	@Test
	public void xpilerPerspectiveShowsKernelsProblemsConsoleAndOutline() throws Exception {
		assertTrue(PlatformUI.isWorkbenchRunning(), "the UI harness runs the Xpiler workbench");
		assertNotNull(Display.getCurrent(), "tests run on the UI thread");
		IWorkbenchWindow window = PlatformUI.getWorkbench().getActiveWorkbenchWindow();
		IWorkbenchPage page = PlatformUI.getWorkbench().showPerspective(XpilerPerspective.ID, window);
		Shell shell = window.getShell();
		shell.setSize(1280, 860);
		UiDriver.flush();

		assertEquals(XpilerPerspective.ID, page.getPerspective().getId());
		assertEquals("Xpiler", page.getPerspective().getLabel());
		assertEquals(XpilerWorkbenchAdvisor.WINDOW_TITLE, shell.getText());
		for (String viewId : List.of(XpilerPerspective.PROJECT_EXPLORER_ID, IPageLayout.ID_PROBLEM_VIEW,
				IPageLayout.ID_OUTLINE, IConsoleConstants.ID_CONSOLE_VIEW, IPageLayout.ID_PROGRESS_VIEW)) {
			assertNotNull(page.findViewReference(viewId), () -> viewId + " is part of the Xpiler perspective");
		}
		assertTrue(UiDriver.waitUntil(() -> UiDriver.visibleTabTitles(shell).containsAll(
				List.of("Project Explorer", "Problems", "Outline", "Console", "Progress")), 10_000),
				() -> "tabs on screen: " + UiDriver.visibleTabTitles(shell));

		assertEquals(List.of("File", "Edit", "Window", "Help"), UiDriver.menuTitles(shell.getMenuBar()));

		Path png = UiDriver.screenshot(shell,
				Path.of(System.getProperty("xpiler.test.output", "target"), "screenshots", "xpiler-perspective.png"));
		assertTrue(Files.size(png) > 1000, "screenshot written to " + png);
	}
}
