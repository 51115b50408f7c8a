package org.xpiler.core.vm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.xpiler.lang.catalog.CatalogEntries.DeviceModel;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.TemplateCall;

/**
 * Kernel launches: a CUDA/HIP grid of blocks of threads, or a BANG union of clusters of cores. Each block
 * (or the whole union) gets its instances of the on-chip statics; lanes run one after the other when the
 * kernel never synchronizes, or as a {@link Gang} when it does; the race detector watches launches of more
 * than one lane.
 */
final class Launches {
	private Launches() {
	}

	/** The compiled {@code kernel<<<config>>>(args)} of host code. */
	static Ex launch(Program program, ExpressionCompiler ec, FunctionDefinition kernel, CompiledFunction compiled,
			List<Ex> config, List<Ex> args, Expression at, int site) {
		EntryPoint.Kind kind = EntryPoint.kindOf(kernel);
		Ex[] values = convertArguments(ec, compiled, args, at);
		if (kind == EntryPoint.Kind.TASK_KERNEL) {
			Ex dim = config.get(0);
			Ex functionType = config.size() > 1 ? ec.convert(config.get(1), VmType.I64) : Ex.constant(VmType.I64, 1L);
			return new Ex(VmType.VOID) {
				@Override
				long l(Frame f) {
					int[] d = dims(dim, f);
					int tasks = d[0] * d[1] * d[2];
					int union = (int) functionType.l(f);
					int cores = union >= 4 ? coresPerCluster(program, f.lane.execution) : 1;
					if (tasks % cores != 0) {
						throw new VmError(program.site(site), "", "a union launch needs a task count that is a multiple "
								+ "of " + cores + " cores, not " + tasks);
					}
					runTasks(f.lane.execution, kernel, compiled, evaluate(values, f), tasks / cores, cores, site);
					return 0;
				}
			};
		}
		if (kind != EntryPoint.Kind.SIMT_KERNEL) {
			throw ec.error(at, "'" + kernel.getName() + "' is launched with <<<...>>> but is not a __global__ kernel");
		}
		Ex grid = config.get(0);
		Ex block = config.get(1);
		Ex shared = config.size() > 2 ? ec.convert(config.get(2), VmType.I64) : Ex.constant(VmType.I64, 0L);
		return new Ex(VmType.VOID) {
			@Override
			long l(Frame f) {
				runSimt(f.lane.execution, kernel, compiled, evaluate(values, f), dims(grid, f), dims(block, f),
						shared.l(f), site);
				return 0;
			}
		};
	}

	static Ex[] convertArguments(ExpressionCompiler ec, CompiledFunction compiled, List<Ex> args, Expression at) {
		if (args.size() != compiled.parameters.size()) {
			throw ec.error(at, compiled.name + " takes " + compiled.parameters.size() + " arguments, not " + args.size());
		}
		Ex[] values = new Ex[args.size()];
		for (int i = 0; i < values.length; i++) {
			values[i] = ec.convert(args.get(i), compiled.parameters.get(i).type());
		}
		return values;
	}

	private static Object[] evaluate(Ex[] values, Frame f) {
		Object[] result = new Object[values.length];
		for (int i = 0; i < values.length; i++) {
			result[i] = switch (values[i].type.kind()) {
			case DOUBLE -> values[i].d(f);
			case OBJECT -> values[i].o(f);
			default -> values[i].l(f);
			};
		}
		return result;
	}

	/** A dim3 or an integer as (x, y, z). */
	private static int[] dims(Ex value, Frame f) {
		if (value.type instanceof VmType.Struct) {
			byte[] bytes = (byte[]) value.o(f);
			return new int[] { (int) MemoryPlace.readInteger(ElementType.U32, bytes, 0),
					(int) MemoryPlace.readInteger(ElementType.U32, bytes, 4),
					(int) MemoryPlace.readInteger(ElementType.U32, bytes, 8) };
		}
		long n = value.type.kind() == VmType.Kind.DOUBLE ? (long) value.d(f) : value.l(f);
		return new int[] { (int) n, 1, 1 };
	}

	static int coresPerCluster(Program program, Execution execution) {
		if (execution.options.coresPerCluster() > 0) {
			return execution.options.coresPerCluster();
		}
		return program.catalog.defaultDeviceModel().map(DeviceModel::coresPerCluster).orElse(4);
	}

	static int clusters(Program program, Execution execution) {
		if (execution.options.clusters() > 0) {
			return execution.options.clusters();
		}
		return program.catalog.defaultDeviceModel().map(DeviceModel::clusters).orElse(4);
	}

	// ---------------------------------------------------------------- SIMT

	static void runSimt(Execution execution, FunctionDefinition kernel, CompiledFunction compiled, Object[] args,
			int[] grid, int[] block, long dynamicShared, int site) {
		Program program = execution.program;
		int threads = block[0] * block[1] * block[2];
		if (threads <= 0 || threads > 1024 || grid[0] <= 0 || grid[1] <= 0 || grid[2] <= 0) {
			throw new VmError(program.site(site), "", "invalid launch configuration: grid (" + grid[0] + "," + grid[1] + ","
					+ grid[2] + "), block (" + block[0] + "," + block[1] + "," + block[2]
					+ "): a block has 1 to 1024 threads and every dimension must be positive");
		}
		int warpSize = program.catalog.defaultDeviceModel().map(DeviceModel::warpSize).orElse(32);
		boolean synchronizes = Synchronization.uses(program, kernel);
		int launch = ++execution.launches;
		Memory memory = execution.memory;
		MemoryObserver previous = memory.observer();
		long lanesTotal = (long) threads * grid[0] * grid[1] * grid[2];
		if (execution.options.detectRaces() && lanesTotal > 1) {
			memory.observe(chain(new RaceDetector(program, launch, threads), previous));
		}
		try {
			int blockIndex = 0;
			for (int bz = 0; bz < grid[2]; bz++) {
				for (int by = 0; by < grid[1]; by++) {
					for (int bx = 0; bx < grid[0]; bx++) {
						int[] only = execution.onlyBlock;
						if (only != null && (bx != only[0] || by != only[1] || bz != only[2])) {
							blockIndex++;
							continue;
						}
						List<Long> blockStatics = new ArrayList<>();
						long[] statics = instantiateStatics(execution, Program.Scope.BLOCK_OR_TASK, dynamicShared,
								blockStatics, site);
						Lane[] lanes = new Lane[threads];
						for (int t = 0; t < threads; t++) {
							Lane lane = new Lane(execution, Lane.Kind.SIMT);
							lane.thread[0] = t % block[0];
							lane.thread[1] = t / block[0] % block[1];
							lane.thread[2] = t / (block[0] * block[1]);
							lane.block[0] = bx;
							lane.block[1] = by;
							lane.block[2] = bz;
							System.arraycopy(block, 0, lane.blockDim, 0, 3);
							System.arraycopy(grid, 0, lane.gridDim, 0, 3);
							lane.warpSize = warpSize;
							lane.launchIndex = blockIndex * threads + t;
							lane.group = blockIndex;
							lane.statics = statics;
							lanes[t] = lane;
						}
						runLanes(execution, compiled, args, lanes, synchronizes);
						release(memory, blockStatics);
						blockIndex++;
					}
				}
			}
		} finally {
			memory.observe(previous);
			memory.lane = null;
		}
	}

	private static MemoryObserver chain(MemoryObserver first, MemoryObserver second) {
		if (second == null) {
			return first;
		}
		return new MemoryObserver() {
			@Override
			public void read(Region region, int offset, int bytes, Lane lane, int site) {
				first.read(region, offset, bytes, lane, site);
				second.read(region, offset, bytes, lane, site);
			}

			@Override
			public void write(Region region, int offset, int bytes, long bits, Lane lane, int site) {
				first.write(region, offset, bytes, bits, lane, site);
				second.write(region, offset, bytes, bits, lane, site);
			}
		};
	}

	private static void runLanes(Execution execution, CompiledFunction compiled, Object[] args, Lane[] lanes,
			boolean synchronizes) {
		if (!synchronizes || lanes.length == 1) {
			for (Lane lane : lanes) {
				execution.memory.lane = lane;
				run(compiled, args, lane);
			}
			return;
		}
		new Gang(lanes, execution.memory).run(lane -> run(compiled, args, lane));
	}

	/** Runs the kernel body as one lane. */
	static void run(CompiledFunction compiled, Object[] args, Lane lane) {
		Frame frame = new Frame(compiled, lane);
		for (int i = 0; i < args.length; i++) {
			CompiledFunction.Slot p = compiled.parameters.get(i);
			if (p.memoryResident()) {
				long address = frame.memory.allocate(p.name(), Space.LOCAL, p.type().size(), p.type().align(), false);
				frame.l[p.slot()] = address;
				switch (p.type().kind()) {
				case DOUBLE -> frame.memory.storeFloating(MemoryPlace.elementOf(p.type()), address, (Double) args[i], 0);
				case OBJECT -> frame.memory.storeBytes(address, (byte[]) args[i], 0);
				default -> frame.memory.store(MemoryPlace.elementOf(p.type()), address, (Long) args[i], 0);
				}
				continue;
			}
			switch (p.type().kind()) {
			case DOUBLE -> frame.d[p.slot()] = (Double) args[i];
			case OBJECT -> frame.o[p.slot()] = ((byte[]) args[i]).clone();
			default -> frame.l[p.slot()] = (Long) args[i];
			}
		}
		compiled.invoke(frame);
		AsyncCopies.complete(lane); // the task's DMA queues drain before the kernel counts as finished
	}

	// ---------------------------------------------------------------- BANG tasks

	static void runTasks(Execution execution, FunctionDefinition kernel, CompiledFunction compiled, Object[] args,
			int clusters, int cores, int site) {
		Program program = execution.program;
		int tasks = clusters * cores;
		boolean synchronizes = Synchronization.uses(program, kernel);
		int launch = ++execution.launches;
		Memory memory = execution.memory;
		MemoryObserver previous = memory.observer();
		if (execution.options.detectRaces() && tasks > 1) {
			memory.observe(chain(new RaceDetector(program, launch, cores), previous));
		}
		List<Long> launchStatics = new ArrayList<>();
		try {
			Lane[] lanes = new Lane[tasks];
			for (int c = 0; c < clusters; c++) {
				long[] clusterStatics = instantiateStatics(execution, Program.Scope.CLUSTER, 0, launchStatics, site);
				for (int k = 0; k < cores; k++) {
					int taskId = c * cores + k;
					long[] statics = instantiateStatics(execution, Program.Scope.BLOCK_OR_TASK, 0, launchStatics, site);
					for (int s = 0; s < statics.length; s++) {
						if (program.statics.get(s).scope() == Program.Scope.CLUSTER) {
							statics[s] = clusterStatics[s];
						}
					}
					Lane lane = new Lane(execution, Lane.Kind.TASK);
					lane.taskId = taskId;
					lane.taskDim = tasks;
					lane.clusterId = c;
					lane.clusterDim = clusters;
					lane.coreId = k;
					lane.coreDim = cores;
					lane.launchIndex = taskId;
					lane.group = c;
					lane.statics = statics;
					lanes[taskId] = lane;
				}
			}
			runLanes(execution, compiled, args, lanes, synchronizes);
		} finally {
			release(memory, launchStatics);
			memory.observe(previous);
			memory.lane = null;
		}
	}

	// ---------------------------------------------------------------- statics

	/**
	 * The statics every lane of a group sees: program-wide ones (allocated and initialized once per run), and
	 * fresh instances of those of {@code scope}. Checks the on-chip capacities of the device model.
	 */
	static long[] instantiateStatics(Execution execution, Program.Scope scope, long dynamicShared, List<Long> created,
			int site) {
		Program program = execution.program;
		long[] statics = execution.programStatics().clone();
		Map<Space, Long> used = new HashMap<>();
		for (int i = 0; i < program.statics.size(); i++) {
			Program.StaticVariable s = program.statics.get(i);
			if (s.scope() != scope) {
				continue;
			}
			int bytes = s.type().size();
			if (bytes == 0 && s.space() == Space.SHARED) {
				bytes = (int) dynamicShared; // extern __shared__ T s[]: sized by the launch
			}
			long total = used.merge(s.space(), (long) bytes, Long::sum);
			checkCapacity(program, s, total);
			long address = execution.memory.allocate(s.name(), s.space(), Math.max(bytes, 0), 64, false);
			statics[i] = address;
			created.add(address);
		}
		return statics;
	}

	private static void checkCapacity(Program program, Program.StaticVariable s, long total) {
		DeviceModel model = program.catalog.defaultDeviceModel().orElse(null);
		if (model == null || !model.memory().containsKey(s.space().catalogName())) {
			return;
		}
		long usable = model.usableBytes(s.space().catalogName());
		if (total > usable) {
			throw new VmError(program.site(s.site()), "", "'" + s.name() + "' does not fit: the " + s.space().catalogName()
					+ " declarations need " + total + " bytes, and the " + model.name() + " has " + usable
					+ " usable bytes of " + s.space().catalogName().toUpperCase());
		}
	}

	private static void release(Memory memory, List<Long> addresses) {
		for (long address : addresses) {
			Region region = memory.region(address);
			if (region != null) {
				memory.release(region);
			}
		}
		addresses.clear();
	}

	/** Whether a kernel (or anything it calls) synchronizes: barriers and warp collectives. */
	static final class Synchronization {
		private Synchronization() {
		}

		static boolean uses(Program program, FunctionDefinition kernel) {
			return uses(program, kernel, new HashSet<>());
		}

		private static boolean uses(Program program, FunctionDefinition function, Set<FunctionDefinition> seen) {
			if (!seen.add(function) || function.getBody() == null) {
				return false;
			}
			var contents = function.getBody().eAllContents();
			while (contents.hasNext()) {
				String n = switch (contents.next()) {
				case Call call when call.getCallee() instanceof Name name -> name.getName();
				case TemplateCall call -> call.getFunction(); // warpReduce<float>(v) may shuffle too
				default -> null;
				};
				if (n != null) {
					if (Builtins.isSynchronizing(program, n)) {
						return true;
					}
					for (FunctionDefinition callee : program.functions.getOrDefault(n, List.of())) {
						if (uses(program, callee, seen)) {
							return true;
						}
					}
				}
			}
			return false;
		}
	}
}
