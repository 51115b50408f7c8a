package org.xpiler.devices;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The native executables compiled in this JVM, by the SHA-256 of the text given to the compiler: a kernel
 * run many times on new inputs (the oracle, the tuner) is compiled once. The executables live in one temporary
 * folder that is deleted when the JVM exits (kept with {@code -Dxpiler.keepTemp=true}).
 */
final class ExecutableCache {

	/** Builds the executable of a translation unit at the given path, or throws why it cannot. */
	@FunctionalInterface
	interface Builder {
		void build(Path executable);
	}

	private final Map<String, Path> executables = new ConcurrentHashMap<>();
	private Path folder;

	/**
	 * The executable compiled from {@code translationUnit}, built by {@code builder} unless an earlier call built
	 * it. Two threads asking for the same new text may both build it; one result is kept.
	 */
	Path executable(String translationUnit, Builder builder) {
		String key = sha256(translationUnit);
		Path known = executables.get(key);
		if (known != null && Files.isExecutable(known)) {
			return known;
		}
		Path built = folder().resolve(key.substring(0, 16) + "-" + UUID.randomUUID());
		builder.build(built);
		Path winner = executables.merge(key, built, (earlier, mine) -> Files.isExecutable(earlier) ? earlier : mine);
		if (!winner.equals(built)) {
			ToolProcess.deleteRecursively(built);
		}
		return winner;
	}

	private synchronized Path folder() {
		if (folder == null) {
			try {
				folder = Files.createTempDirectory("xpiler-native-executables-");
			} catch (IOException e) {
				throw new DeviceException("cannot create a temporary folder for native executables: " + e.getMessage());
			}
			if (!ToolProcess.KEEP_TEMP) {
				Path created = folder;
				Runtime.getRuntime().addShutdownHook(
						new Thread(() -> ToolProcess.deleteRecursively(created), "xpiler-native-executables-cleanup"));
			}
		}
		return folder;
	}

	private static String sha256(String text) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException("every Java runtime has SHA-256", e);
		}
	}
}
