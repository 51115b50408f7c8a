package org.xpiler.devices;

import java.util.List;
import java.util.Optional;

import org.xpiler.core.vm.CompileError;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.core.vm.InputGenerator;
import org.xpiler.core.vm.LaunchInference;
import org.xpiler.core.vm.Site;
import org.xpiler.core.vm.VirtualMachine;
import org.xpiler.core.vm.VmError;
import org.xpiler.core.vm.VmOptions;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * The virtual device: runs kernels of all four dialects on any machine with the semantics their vendors
 * document (see {@link VirtualMachine}). The default device, and the one every unit test of a translation
 * runs on.
 */
public final class VirtualDevice implements Device {
	public static final String ID = "vm";

	@Override
	public String id() {
		return ID;
	}

	@Override
	public String description() {
		return "the virtual device: CUDA, HIP, BANG C and VNNI with checked memory, race detection and the catalogs' "
				+ "intrinsic semantics";
	}

	@Override
	public Optional<String> unavailableReason() {
		return Optional.empty();
	}

	@Override
	public boolean canRun() {
		return true;
	}

	@Override
	public CompileResult compile(KernelSource source) {
		ParsedKernel parsed = parse(source);
		return new CompileResult(ID, !parsed.hasErrors(), parsed.diagnostics(), "");
	}

	@Override
	public RunResult run(KernelSource source, RunRequest request) {
		VirtualMachine.Result result = execute(source, request, new InputGenerator(0), false);
		return new RunResult(ID, result.buffers(), result.elapsed());
	}

	/**
	 * Runs with the virtual device's full answer: which buffers were written or read first, and the write
	 * trace when asked. Buffers without contents grow as the kernel reaches into them, filled by
	 * {@code inputs}.
	 */
	public VirtualMachine.Result execute(KernelSource source, RunRequest request, InputGenerator inputs,
			boolean traceWrites) {
		ParsedKernel parsed = parse(source);
		if (parsed.hasErrors()) {
			throw new DeviceException(source.displayName() + " has errors and cannot run", parsed.errors());
		}
		VmOptions options = options(request);
		VirtualMachine.LaunchShape shape = launchShape(parsed, source, request, options, inputs);
		try {
			return VirtualMachine.run(parsed.unit(), source.dialect(), source.displayName(), request.entry(),
					request.arguments(), shape, options, inputs, traceWrites);
		} catch (VmError e) {
			throw fault(source, e);
		} catch (CompileError e) {
			throw new DeviceException(e.format() + " (the virtual device cannot run this construct)",
					List.of(diagnostic(source, e.site(), e.getMessage())));
		} catch (IllegalArgumentException | UnsupportedOperationException e) {
			throw new DeviceException(source.displayName() + ": " + e.getMessage());
		}
	}

	/**
	 * The request with the whole launch shape of a bare {@code __global__} entry: the grid and block it gives,
	 * what it leaves out inferred ({@link LaunchInference}); other entries' requests come back as they are.
	 * Inferring runs the kernel a few times, so a caller that runs it again and again asks once.
	 */
	public RunRequest withLaunchShape(KernelSource source, RunRequest request, InputGenerator inputs) {
		ParsedKernel parsed = parse(source);
		if (parsed.hasErrors()) {
			throw new DeviceException(source.displayName() + " has errors and cannot run", parsed.errors());
		}
		VirtualMachine.LaunchShape shape = launchShape(parsed, source, request, options(request), inputs);
		return shape == null ? request : request.withLaunchShape(shape.grid(), shape.block());
	}

	/** The shape given, completed for a bare {@code __global__} entry; null for the other entries when none is. */
	private static VirtualMachine.LaunchShape launchShape(ParsedKernel parsed, KernelSource source, RunRequest request,
			VmOptions options, InputGenerator inputs) {
		try {
			boolean complete = request.grid() != null && request.block() != null;
			if (!complete && EntryPoint.find(parsed.unit(), request.entry()).kind() == EntryPoint.Kind.SIMT_KERNEL) {
				return LaunchInference.infer(parsed.unit(), source.dialect(), source.displayName(), request.entry(),
						request.arguments(), options, inputs, request.grid(), request.block());
			}
			return request.grid() == null ? null : new VirtualMachine.LaunchShape(request.grid(), request.block());
		} catch (CompileError e) {
			throw new DeviceException(e.format(), List.of(diagnostic(source, e.site(), e.getMessage())));
		} catch (VmError e) {
			throw fault(source, e);
		} catch (IllegalArgumentException | UnsupportedOperationException e) {
			throw new DeviceException(source.displayName() + ": " + e.getMessage());
		}
	}

	private static VmOptions options(RunRequest request) {
		VmOptions options = VmOptions.defaults().withTimeLimit(request.timeLimit());
		return request.taskDim() > 0 ? options.withTasks(request.taskDim(), 4) : options;
	}

	private static ParsedKernel parse(KernelSource source) {
		return new KernelParser().parse(source.displayName(), source.text(), source.dialect());
	}

	/** A fault of the kernel, located in it, with the thread or task that hit it. */
	private static DeviceException fault(KernelSource source, VmError e) {
		return new DeviceException(e.format(), List.of(diagnostic(source, e.site(),
				e.getMessage() + (e.who().isEmpty() ? "" : " (" + e.who() + ")"))));
	}

	private static Diagnostic diagnostic(KernelSource source, Site site, String message) {
		return new Diagnostic(source.displayName(), site.line(), site.column(), Diagnostic.Severity.ERROR, message, "vm");
	}

}
