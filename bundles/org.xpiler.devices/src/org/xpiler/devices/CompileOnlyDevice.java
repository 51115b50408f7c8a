package org.xpiler.devices;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

import org.xpiler.lang.dialect.Dialect;

/**
 * A toolchain that checks kernels of one dialect without running them, because this machine has no GPU or MLU
 * of that kind: {@code nvcc} (CUDA C, for sm_80), {@code hipcc} (HIP, for gfx90a) and {@code bang-check}
 * (BANG C read by CDT against the intrinsic catalog, since no BANG compiler is available). A translated kernel
 * that passes its toolchain is at least well-formed for the real compiler; its behaviour is tested on the
 * virtual device.
 */
public final class CompileOnlyDevice implements Device {
	private final String id;
	private final Dialect dialect;
	private final String description;
	private final Supplier<Optional<String>> unavailableReason;
	private final Function<KernelSource, CompileResult> checker;

	private CompileOnlyDevice(String id, Dialect dialect, String description,
			Supplier<Optional<String>> unavailableReason, Function<KernelSource, CompileResult> checker) {
		this.id = id;
		this.dialect = dialect;
		this.description = description;
		this.unavailableReason = unavailableReason;
		this.checker = checker;
	}

	/** CUDA C compiled by {@code nvcc -arch=sm_80 -c}. */
	public static CompileOnlyDevice nvcc() {
		return withCompiler("nvcc", Dialect.CUDA,
				new KernelCompiler("nvcc", List.of("-arch=sm_80", "-c"), "kernel.cu", Map.of()));
	}

	/** HIP compiled for AMD by {@code hipcc --offload-arch=gfx90a -c}. */
	public static CompileOnlyDevice hipcc() {
		return withCompiler("hipcc", Dialect.HIP, new KernelCompiler("hipcc", List.of("--offload-arch=gfx90a", "-c"),
				"kernel.hip", Map.of("HIP_PLATFORM", "amd")));
	}

	/** BANG C parsed by CDT's C++ parser against the declarations of the BANG intrinsic catalog. */
	public static CompileOnlyDevice bangCheck() {
		return new CompileOnlyDevice("bang-check", Dialect.BANG,
				"BANG C checked by CDT's C++ parser against the BANG intrinsic catalog (no BANG compiler exists here)",
				() -> BangCdtCheck.cdtAvailable() ? Optional.empty()
						: Optional.of("the CDT C++ parser (org.eclipse.cdt.core) is not installed"),
				source -> BangCdtCheck.check("bang-check", source));
	}

	private static CompileOnlyDevice withCompiler(String id, Dialect dialect, KernelCompiler compiler) {
		return new CompileOnlyDevice(id, dialect, dialect.displayName() + " compiled by " + compiler.program()
				+ " (compile only: this machine does not run " + dialect.displayName() + " kernels)",
				compiler::unavailableReason,
				source -> compiler.compile(id, source, KernelCompiler.translationUnit(source, "", ""), Optional.empty()));
	}

	@Override
	public String id() {
		return id;
	}

	@Override
	public String description() {
		return description;
	}

	@Override
	public Optional<String> unavailableReason() {
		return unavailableReason.get();
	}

	@Override
	public boolean canRun() {
		return false;
	}

	@Override
	public CompileResult compile(KernelSource source) {
		if (source.dialect() != dialect) {
			return CompilerDiagnostics.wholeFileFailure(id, source.displayName(),
					id + " checks " + dialect.displayName() + " kernels, and " + source.displayName() + " is "
							+ source.dialect().displayName() + ": choose the device of the file's dialect",
					id, "");
		}
		Optional<String> missing = unavailableReason();
		if (missing.isPresent()) {
			return CompilerDiagnostics.wholeFileFailure(id, source.displayName(), missing.get(), id, "");
		}
		return checker.apply(source);
	}

	@Override
	public RunResult run(KernelSource source, RunRequest request) {
		throw new DeviceException(id + " only compiles: run the kernel on the virtual device (--device vm)");
	}
}
