package org.xpiler.core.vm;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * The virtual device's entry point: runs a kernel file's entry on given buffers and scalars with the
 * semantics its dialect documents, and returns every buffer as the run left it. Faults of the kernel are
 * {@link VmError}s located in the file; constructs it cannot run are {@link CompileError}s.
 */
public final class VirtualMachine {

	/** How to launch a bare {@code __global__} entry (no host wrapper). */
	public record LaunchShape(int[] grid, int[] block) {
	}

	/**
	 * A finished run: the buffers in parameter order (contents, which bytes hold values), whether the run wrote
	 * each, how long it took, and the write trace when one was asked for.
	 */
	public record Result(EntryPoint entry, List<Argument.Buffer> buffers, boolean[] written, boolean[] readBeforeWrite,
			Duration elapsed, WriteTrace trace) {
	}

	private VirtualMachine() {
	}

	/**
	 * Runs the entry. A pointer argument whose contents are null grows as the kernel reaches into it, filled
	 * by {@code inputs}; its final size is how far the kernel reached.
	 */
	public static Result run(TranslationUnit unit, Dialect dialect, String file, Optional<String> entryName,
			List<Argument> arguments, LaunchShape shape, VmOptions options, InputGenerator inputs, boolean traceWrites) {
		return run(unit, dialect, file, entryName, arguments, shape, options, inputs, traceWrites, null, null);
	}

	/**
	 * The run, with {@code watcher} (when not null) told of every access of memory, and when {@code onlyBlock} is
	 * not null only that block of each SIMT launch running.
	 */
	static Result run(TranslationUnit unit, Dialect dialect, String file, Optional<String> entryName,
			List<Argument> arguments, LaunchShape shape, VmOptions options, InputGenerator inputs, boolean traceWrites,
			MemoryObserver watcher, int[] onlyBlock) {
		Program program = new Program(unit, dialect, file);
		EntryPoint entry = EntryPoint.find(unit, entryName);
		FunctionCompiler root = new FunctionCompiler(program, Map.of());
		CompiledFunction compiled;
		try {
			compiled = root.expressions.calls.instantiate(entry.function(), Map.of());
		} catch (UnsupportedOperationException e) {
			throw new CompileError(program.site(program.site(entry.function())), e.getMessage());
		}
		Execution execution = new Execution(program, options);
		execution.onlyBlock = onlyBlock;
		WriteTrace trace = traceWrites ? new WriteTrace(program, 5_000_000, watcher) : null;
		long started = System.nanoTime();
		execution.programStatics();
		Space space = switch (entry.kind()) {
		case HOST -> Space.HOST;
		case SIMT_KERNEL -> Space.GLOBAL;
		case TASK_KERNEL -> Space.GDRAM;
		};
		List<CompiledFunction.Slot> parameters = compiled.parameters;
		Object[] values = new Object[parameters.size()];
		long[] addresses = new long[parameters.size()];
		ElementType[] elements = new ElementType[parameters.size()];
		for (int i = 0; i < parameters.size(); i++) {
			CompiledFunction.Slot p = parameters.get(i);
			Argument argument = i < arguments.size() ? arguments.get(i) : null;
			if (p.type() instanceof VmType.Pointer pointer) {
				ElementType element = pointer.target() instanceof VmType.Scalar s ? s.element() : ElementType.U8;
				elements[i] = element;
				addresses[i] = allocateArgument(execution.memory, p, argument, space, element, i, inputs, options);
				values[i] = addresses[i];
			} else {
				values[i] = scalar(p, argument, program, entry);
			}
		}
		if (trace != null || watcher != null) {
			execution.memory.observe(trace != null ? trace : watcher);
		}
		switch (entry.kind()) {
		case HOST -> Launches.run(compiled, values, execution.host);
		case SIMT_KERNEL -> {
			if (shape == null || shape.grid() == null || shape.block() == null) {
				throw new CompileError(program.site(program.site(entry.function())), "the entry '" + entry.name()
						+ "' is a __global__ kernel without a host wrapper: give its launch shape (--grid and --block)");
			}
			Launches.runSimt(execution, entry.function(), compiled, values, shape.grid(), shape.block(), 0,
					program.site(entry.function()));
		}
		case TASK_KERNEL -> Launches.runTasks(execution, entry.function(), compiled, values,
				Launches.clusters(program, execution), Launches.coresPerCluster(program, execution),
				program.site(entry.function()));
		}
		Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
		List<Argument.Buffer> buffers = new ArrayList<>();
		List<Boolean> written = new ArrayList<>();
		List<Boolean> readFirst = new ArrayList<>();
		for (int i = 0; i < parameters.size(); i++) {
			if (elements[i] == null) {
				continue;
			}
			Region region = execution.memory.region(addresses[i]);
			int size = elements[i].bytes();
			int length = region.filler != null ? (region.extent + size - 1) / size * size : region.length();
			byte[] contents = Arrays.copyOf(region.data, length);
			boolean[] initialized = region.initialized == null ? null : Arrays.copyOf(region.initialized, length);
			buffers.add(new Argument.Buffer(parameters.get(i).name(), elements[i], contents, initialized));
			written.add(region.written);
			readFirst.add(region.readBeforeWrite);
		}
		return new Result(entry, buffers, flags(written), flags(readFirst), elapsed, trace);
	}

	private static boolean[] flags(List<Boolean> values) {
		boolean[] result = new boolean[values.size()];
		for (int i = 0; i < result.length; i++) {
			result[i] = values.get(i);
		}
		return result;
	}

	private static long allocateArgument(Memory memory, CompiledFunction.Slot p, Argument argument, Space space,
			ElementType element, int index, InputGenerator inputs, VmOptions options) {
		if (argument instanceof Argument.Buffer buffer && buffer.contents() != null) {
			boolean[] initialized = buffer.initialized();
			long address = memory.allocate(p.name(), space, buffer.contents().length, 64, initialized == null);
			Region region = memory.region(address);
			System.arraycopy(buffer.contents(), 0, region.data, 0, buffer.contents().length);
			if (initialized != null) {
				int missing = 0;
				for (int b = 0; b < initialized.length; b++) {
					region.initialized[b] = initialized[b];
					missing += initialized[b] ? 0 : 1;
				}
				region.missing = missing;
				if (missing == 0) {
					region.initialized = null;
				}
				region.refreshFastLimit();
			}
			return address;
		}
		if (argument instanceof Argument.Scalar) {
			throw new IllegalArgumentException("the parameter '" + p.name() + "' is a pointer: give it a buffer, not a scalar");
		}
		return memory.allocateGrowable(p.name(), space, options.growLimit(),
				(data, from, to) -> inputs.fill(element, index, data, from, to));
	}

	private static Object scalar(CompiledFunction.Slot p, Argument argument, Program program, EntryPoint entry) {
		if (!(argument instanceof Argument.Scalar scalar)) {
			throw new IllegalArgumentException("the scalar parameter '" + p.name() + "' of " + entry.name()
					+ " needs a value: --args " + p.name() + "=...");
		}
		String text = scalar.value().strip().replaceAll("[fFuUlL]+$", "");
		try {
			if (p.type().kind() == VmType.Kind.DOUBLE) {
				return Arithmetic.round(((VmType.Scalar) p.type()).element(), Double.parseDouble(text));
			}
			if (p.type().kind() == VmType.Kind.LONG) {
				long value = text.startsWith("0x") ? Long.parseUnsignedLong(text.substring(2), 16) : Long.parseLong(text);
				return p.type() instanceof VmType.Scalar s ? Arithmetic.wrap(s.element(), value) : value;
			}
		} catch (NumberFormatException e) {
			throw new IllegalArgumentException("'" + scalar.value() + "' is not a number for the parameter '" + p.name() + "'");
		}
		throw new IllegalArgumentException("the parameter '" + p.name() + "' of type " + p.type().display()
				+ " cannot be given on the command line");
	}
}
