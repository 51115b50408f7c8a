package org.xpiler.ui;

import org.eclipse.jface.action.GroupMarker;
import org.eclipse.jface.action.IMenuManager;
import org.eclipse.jface.action.MenuManager;
import org.eclipse.jface.action.Separator;
import org.eclipse.ui.IWorkbenchActionConstants;
import org.eclipse.ui.IWorkbenchWindow;
import org.eclipse.ui.actions.ActionFactory;
import org.eclipse.ui.actions.ActionFactory.IWorkbenchAction;
import org.eclipse.ui.actions.ContributionItemFactory;
import org.eclipse.ui.application.ActionBarAdvisor;
import org.eclipse.ui.application.IActionBarConfigurer;

/**
 * The menus every Eclipse user expects (File, Edit, Window, Help) built from the platform's own actions;
 * Xpiler's commands contribute to them through menu extensions.
 */
public class XpilerActionBarAdvisor extends ActionBarAdvisor {

	public XpilerActionBarAdvisor(IActionBarConfigurer configurer) {
		super(configurer);
	}

	private IWorkbenchAction registered(ActionFactory factory, IWorkbenchWindow window) {
		IWorkbenchAction action = factory.create(window);
		register(action);
		return action;
	}

	@Override
	protected void fillMenuBar(IMenuManager menuBar) {
		IWorkbenchWindow window = getActionBarConfigurer().getWindowConfigurer().getWindow();

		MenuManager file = new MenuManager("&File", IWorkbenchActionConstants.M_FILE);
		MenuManager newMenu = new MenuManager("&New", ActionFactory.NEW.getId());
		newMenu.add(ContributionItemFactory.NEW_WIZARD_SHORTLIST.create(window));
		file.add(newMenu);
		file.add(new GroupMarker(IWorkbenchActionConstants.NEW_EXT));
		file.add(new Separator());
		file.add(registered(ActionFactory.CLOSE, window));
		file.add(registered(ActionFactory.CLOSE_ALL, window));
		file.add(new Separator());
		file.add(registered(ActionFactory.SAVE, window));
		file.add(registered(ActionFactory.SAVE_ALL, window));
		file.add(new Separator());
		file.add(registered(ActionFactory.IMPORT, window));
		file.add(registered(ActionFactory.EXPORT, window));
		file.add(new Separator());
		file.add(registered(ActionFactory.PROPERTIES, window));
		file.add(new GroupMarker(IWorkbenchActionConstants.MB_ADDITIONS));
		file.add(new Separator());
		file.add(registered(ActionFactory.QUIT, window));

		MenuManager edit = new MenuManager("&Edit", IWorkbenchActionConstants.M_EDIT);
		edit.add(registered(ActionFactory.UNDO, window));
		edit.add(registered(ActionFactory.REDO, window));
		edit.add(new Separator());
		edit.add(registered(ActionFactory.CUT, window));
		edit.add(registered(ActionFactory.COPY, window));
		edit.add(registered(ActionFactory.PASTE, window));
		edit.add(new Separator());
		edit.add(registered(ActionFactory.DELETE, window));
		edit.add(registered(ActionFactory.SELECT_ALL, window));
		edit.add(registered(ActionFactory.FIND, window));
		edit.add(new GroupMarker(IWorkbenchActionConstants.MB_ADDITIONS));

		MenuManager windowMenu = new MenuManager("&Window", IWorkbenchActionConstants.M_WINDOW);
		MenuManager perspectives = new MenuManager("Open &Perspective");
		perspectives.add(ContributionItemFactory.PERSPECTIVES_SHORTLIST.create(window));
		windowMenu.add(perspectives);
		MenuManager views = new MenuManager("Show &View");
		views.add(ContributionItemFactory.VIEWS_SHORTLIST.create(window));
		windowMenu.add(views);
		windowMenu.add(new Separator());
		windowMenu.add(registered(ActionFactory.RESET_PERSPECTIVE, window));
		windowMenu.add(new GroupMarker(IWorkbenchActionConstants.MB_ADDITIONS));
		windowMenu.add(new Separator());
		windowMenu.add(registered(ActionFactory.PREFERENCES, window));

		MenuManager help = new MenuManager("&Help", IWorkbenchActionConstants.M_HELP);
		help.add(new GroupMarker(IWorkbenchActionConstants.MB_ADDITIONS));
		help.add(registered(ActionFactory.ABOUT, window));

		menuBar.add(file);
		menuBar.add(edit);
		menuBar.add(new GroupMarker(IWorkbenchActionConstants.MB_ADDITIONS));
		menuBar.add(windowMenu);
		menuBar.add(help);
	}
}
