package org.xpiler.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import picocli.CommandLine.Option;

/** {@code --args n=1024,alpha=0.5}: the values of an entry's scalar parameters, for every command that runs it. */
class ScalarArguments {
	@Option(names = "--args", paramLabel = "NAME=VALUE", split = ",",
			description = "Values of the entry's scalar parameters, e.g. --args n=1024,alpha=0.5.")
	List<String> args = List.of();

	/** The pairs by name, in the order given. */
	Map<String, String> values() {
		Map<String, String> values = new LinkedHashMap<>();
		for (String arg : args) {
			int equals = arg.indexOf('=');
			if (equals <= 0) {
				throw new UserException("--args takes NAME=VALUE pairs, not '" + arg + "'");
			}
			values.put(arg.substring(0, equals).strip(), arg.substring(equals + 1).strip());
		}
		return values;
	}
}
