package org.xpiler.cli;

import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkUtil;

import picocli.CommandLine.IVersionProvider;

/** Reports the version of the installed bundle, so {@code --version} always matches what runs. */
class VersionProvider implements IVersionProvider {
	@Override
	public String[] getVersion() {
		Bundle bundle = FrameworkUtil.getBundle(VersionProvider.class);
		String version = bundle == null ? "development build" : bundle.getVersion().toString();
		return new String[] { "xpiler " + version, "Java " + Runtime.version() };
	}
}
