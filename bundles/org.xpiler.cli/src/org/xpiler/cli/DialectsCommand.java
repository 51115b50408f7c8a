package org.xpiler.cli;

import java.io.File;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.xpiler.lang.dialect.Dialect;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Lists the dialects, the file extensions that select them and whether their real compiler is installed. */
@Command(name = "dialects", mixinStandardHelpOptions = true,
		description = "List the kernel dialects, their file extensions and which real compilers are on the PATH.")
class DialectsCommand implements Runnable {

	/** One line of the answer; also its JSON shape. */
	record DialectInfo(String id, String name, List<String> extensions, String compiler, String compilerPath) {
		static DialectInfo of(Dialect dialect) {
			String compiler = dialect.compilerCommand().orElse(null);
			String path = dialect.compilerCommand().flatMap(DialectsCommand::onPath).map(Path::toString).orElse(null);
			return new DialectInfo(dialect.id(), dialect.displayName(), dialect.fileExtensions(), compiler, path);
		}

		String compilerText() {
			if (compiler == null) {
				return "no public compiler (checked by Xpiler's own parser)";
			}
			return compiler + (compilerPath == null ? " (not installed)" : " (" + compilerPath + ")");
		}
	}

	@Spec
	CommandSpec spec;

	@Mixin
	JsonOption json;

	@Override
	public void run() {
		List<DialectInfo> dialects = Arrays.stream(Dialect.values()).map(DialectInfo::of).toList();
		PrintWriter out = spec.commandLine().getOut();
		if (json.enabled()) {
			JsonOption.print(out, dialects);
			return;
		}
		for (DialectInfo info : dialects) {
			out.printf("%-5s %-34s .%-8s %s%n", info.id(), info.name(), String.join(" .", info.extensions()),
					info.compilerText());
		}
	}

	static Optional<Path> onPath(String command) {
		String path = System.getenv("PATH");
		if (path == null) {
			return Optional.empty();
		}
		return Arrays.stream(path.split(File.pathSeparator)).map(dir -> Path.of(dir, command))
				.filter(Files::isExecutable).findFirst();
	}
}
