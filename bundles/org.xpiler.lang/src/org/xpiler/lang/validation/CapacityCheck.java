package org.xpiler.lang.validation;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

import org.xpiler.lang.catalog.CatalogEntries.DeviceModel;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.ArrayDimension;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Statically allocated on-chip arrays ({@code __nram__}, {@code __wram__}, {@code __mlu_shared__},
 * {@code __shared__}) must fit the memory of the dialect's default device model, less what its toolchain
 * reserves. File-scope arrays count for every kernel; a function's own arrays come on top. Likewise the local
 * arrays of a CUDA or HIP thread must fit what the model can reserve for every resident thread. The error is
 * reported at the declaration that crosses the limit.
 */
final class CapacityCheck {
	private static final Set<String> GPU_FUNCTION_QUALIFIERS = Set.of("__global__", "__device__");

	private final Dialect dialect;
	private final Reporter reporter;
	private ConstantEvaluator constants;

	CapacityCheck(Dialect dialect, Reporter reporter) {
		this.dialect = dialect;
		this.reporter = reporter;
	}

	void check(TranslationUnit unit) {
		DeviceModel model = dialect.catalog().defaultDeviceModel().orElse(null);
		if (model == null) {
			return;
		}
		constants = ConstantEvaluator.of(unit);
		Usage fileScope = new Usage(model, "at file scope");
		List<TopLevel> items = ModelQueries.topLevels(unit.getItems());
		for (TopLevel item : items) {
			if (item instanceof Declaration declaration) {
				fileScope.add(declaration);
			}
		}
		for (TopLevel item : items) {
			if (item instanceof FunctionDefinition function && function.getBody() != null) {
				Usage usage = fileScope.copyFor("in '" + function.getName() + "', counting the file-scope arrays");
				OptionalLong threadLimit = model.threadLocalBytes();
				ThreadLocalUsage threadLocal = threadLimit.isPresent() && runsOnGpuThreads(function)
						? new ThreadLocalUsage(model, function, threadLimit.getAsLong())
						: null;
				function.getBody().eAllContents().forEachRemaining(o -> {
					if (o instanceof Declaration declaration) {
						usage.add(declaration);
						if (threadLocal != null) {
							threadLocal.add(declaration);
						}
					}
				});
			}
		}
	}

	/** CUDA and HIP kernels and device functions: each thread has its own copy of their local arrays. */
	private boolean runsOnGpuThreads(FunctionDefinition function) {
		return (dialect == Dialect.CUDA || dialect == Dialect.HIP) && function.getSpecifiers().stream()
				.anyMatch(s -> s instanceof Specifier q && GPU_FUNCTION_QUALIFIERS.contains(q.getName()));
	}

	/**
	 * A GPU function's unqualified local arrays, summed since the compiler gives each its own room in the
	 * thread's frame, against what the model can reserve for every resident thread. A kernel that needs more
	 * compiles, but its launch fails at run time without touching the outputs.
	 */
	private final class ThreadLocalUsage {
		private final DeviceModel model;
		private final FunctionDefinition function;
		private final long limit;
		private long bytes;
		private boolean reported;

		ThreadLocalUsage(DeviceModel model, FunctionDefinition function, long limit) {
			this.model = model;
			this.function = function;
			this.limit = limit;
		}

		void add(Declaration declaration) {
			boolean placed = MemorySpaces.qualifier(declaration.getSpecifiers()).isPresent()
					|| declaration.getSpecifiers().stream().anyMatch(s -> s instanceof Specifier q && q.getName().equals("static"));
			if (placed || reported) {
				return;
			}
			for (Declarator declarator : declaration.getDeclarators()) {
				if (declarator.getDimensions().isEmpty()) {
					continue;
				}
				OptionalLong size = sizeOf(declaration.getType().getName(), declarator);
				if (size.isEmpty()) {
					continue;
				}
				bytes += size.getAsLong();
				if (bytes > limit) {
					reported = true;
					reporter.error("the local arrays of '" + function.getName() + "' reach " + kib(bytes) + " per thread with '"
							+ declarator.getName() + "', more than the " + kib(limit) + " the " + model.name()
							+ " can reserve for each of its " + model.multiprocessors() + " x "
							+ model.maxThreadsPerMultiprocessor() + " resident threads; the launch would fail."
							+ " Keep such buffers in shared or global memory", declarator, "capacity");
					return;
				}
			}
		}
	}

	/** Running totals per memory space within one scope; each space is reported once. */
	private final class Usage {
		private final DeviceModel model;
		private final String where;
		private final Map<String, Long> bytes;
		private final Set<String> reported;

		Usage(DeviceModel model, String where) {
			this(model, where, new HashMap<>(), new HashSet<>());
		}

		private Usage(DeviceModel model, String where, Map<String, Long> bytes, Set<String> reported) {
			this.model = model;
			this.where = where;
			this.bytes = bytes;
			this.reported = reported;
		}

		Usage copyFor(String scope) {
			return new Usage(model, scope, new HashMap<>(bytes), new HashSet<>(reported));
		}

		void add(Declaration declaration) {
			String qualifier = MemorySpaces.qualifier(declaration.getSpecifiers()).orElse(null);
			String space = qualifier == null ? null : MemorySpaces.of(qualifier);
			if (space == null || space.equals("ldram")) {
				return;
			}
			long limit = model.usableBytes(space);
			for (Declarator declarator : declaration.getDeclarators()) {
				OptionalLong size = sizeOf(declaration.getType().getName(), declarator);
				if (size.isEmpty()) {
					continue;
				}
				long total = bytes.merge(space, size.getAsLong(), Long::sum);
				if (limit > 0 && total > limit && reported.add(space)) {
					long capacity = model.memory().getOrDefault(space, 0L);
					long reserve = model.reserved().getOrDefault(space, 0L);
					reporter.error(qualifier + " arrays reach " + kib(total) + " with '" + declarator.getName() + "' ("
							+ where + "), more than the " + kib(limit) + " of " + MemorySpaces.display(space) + " the "
							+ model.name() + " has for them"
							+ (reserve > 0 ? " (" + kib(capacity) + " less " + kib(reserve) + " reserved)" : ""),
							declarator, "capacity");
				}
			}
		}
	}

	/** The bytes of an array (or scalar) declarator, when its element type and dimensions are known. */
	private OptionalLong sizeOf(String typeName, Declarator declarator) {
		long elementBytes;
		if (!declarator.getPointers().isEmpty()) {
			elementBytes = 8;
		} else {
			Integer scalar = ScalarSizes.bytes(typeName);
			if (scalar == null) {
				return OptionalLong.empty();
			}
			elementBytes = scalar;
		}
		long total = elementBytes;
		for (ArrayDimension dimension : declarator.getDimensions()) {
			if (dimension.getSize() == null) {
				return OptionalLong.empty();
			}
			OptionalLong length = constants.evaluate(dimension.getSize());
			if (length.isEmpty() || length.getAsLong() < 0) {
				return OptionalLong.empty();
			}
			total = Math.multiplyExact(total, length.getAsLong());
		}
		return OptionalLong.of(total);
	}

	private static String kib(long bytes) {
		return bytes % 1024 == 0 ? bytes / 1024 + " KiB"
				: String.format(Locale.ROOT, "%d bytes (%.1f KiB)", bytes, bytes / 1024.0);
	}
}
