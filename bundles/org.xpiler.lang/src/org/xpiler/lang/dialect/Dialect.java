package org.xpiler.lang.dialect;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

import org.xpiler.lang.catalog.IntrinsicCatalog;
import org.xpiler.lang.printing.CudaPrinter;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * The four kernel dialects the workbench ports between. The id is what users type ({@code --to bang});
 * the file extensions decide the dialect of a file when {@code --from} is absent.
 */
public enum Dialect {
	CUDA("cuda", "CUDA C", List.of("cu"), "nvcc"),
	HIP("hip", "HIP", List.of("hip"), "hipcc"),
	BANG("bang", "Cambricon BANG C", List.of("mlu"), null),
	VNNI("vnni", "C++ with AVX-512 VNNI intrinsics", List.of("cpp", "cc"), "g++");

	private final String id;
	private final String displayName;
	private final List<String> fileExtensions;
	private final String compilerCommand;

	Dialect(String id, String displayName, List<String> fileExtensions, String compilerCommand) {
		this.id = id;
		this.displayName = displayName;
		this.fileExtensions = fileExtensions;
		this.compilerCommand = compilerCommand;
	}

	public String id() {
		return id;
	}

	public String displayName() {
		return displayName;
	}

	/** Extensions without the dot; the first one is used for files the tool writes. */
	public List<String> fileExtensions() {
		return fileExtensions;
	}

	/** The vendor compiler that checks this dialect, when one exists outside the vendor's own hardware stack. */
	public Optional<String> compilerCommand() {
		return Optional.ofNullable(compilerCommand);
	}

	/**
	 * The text the dialect's harness prepends to a kernel file (headers and the declarations a file may use
	 * without including anything). Compilers see it in front of the file; Xpiler's own tools know its names
	 * from the catalog.
	 */
	public String prelude() {
		return DialectData.of(this).prelude();
	}

	/** The printer that writes this dialect's models back to source. */
	public KernelPrinter printer() {
		return this == CUDA || this == HIP ? new CudaPrinter() : new KernelPrinter();
	}

	/** The intrinsics, builtins, constants, types and device models of the dialect (read once). */
	public IntrinsicCatalog catalog() {
		return DialectData.of(this).catalog();
	}

	/**
	 * Every name the prelude's headers declare at file scope or as macros (generated from the real headers
	 * by {@code dialects/prelude-names/generate.sh}); empty where no headers are available (BANG C).
	 */
	public Set<String> preludeNames() {
		return DialectData.of(this).preludeNames();
	}

	/** A data file of this dialect, bundled under {@code dialects/<id>/}. */
	String resourceText(String name) {
		return optionalResourceText(name)
				.orElseThrow(() -> new IllegalStateException("the installation lacks dialects/" + id + "/" + name));
	}

	Optional<String> optionalResourceText(String name) {
		String path = "/dialects/" + id + "/" + name;
		try (InputStream in = Dialect.class.getResourceAsStream(path)) {
			return in == null ? Optional.empty() : Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
		} catch (IOException e) {
			throw new UncheckedIOException("cannot read " + path, e);
		}
	}

	public static Optional<Dialect> fromId(String id) {
		String wanted = id.toLowerCase(Locale.ROOT);
		for (Dialect d : values()) {
			if (d.id.equals(wanted)) {
				return Optional.of(d);
			}
		}
		return Optional.empty();
	}

	public static Optional<Dialect> fromFile(Path file) {
		String name = file.getFileName().toString();
		int dot = name.lastIndexOf('.');
		if (dot < 0) {
			return Optional.empty();
		}
		String extension = name.substring(dot + 1).toLowerCase(Locale.ROOT);
		for (Dialect d : values()) {
			if (d.fileExtensions.contains(extension)) {
				return Optional.of(d);
			}
		}
		return Optional.empty();
	}
}
