package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.catalog.CatalogEntries.DeviceModel;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.KernelLaunch;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.SwitchStatement;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.WhileStatement;
import org.xpiler.lang.parsing.MacroDefinition;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Loop recovery for BANG C (after detensorize): every launch of a {@code __mlu_global__} kernel becomes a loop
 * over its tasks, {@code for (int taskId = 0; taskId < tasks; ++taskId)} around the kernel's body;
 * {@code taskDim}, {@code clusterDim} and {@code coreDim} become the launch's values and {@code clusterId}/
 * {@code coreId} follow from the task. When the entry is the kernel itself, it becomes a C++ function with the
 * loop for the device's default launch. When the entry is a CNRT host wrapper, it keeps its name and
 * parameters: its device buffers become the host buffers ({@link WrapperBuffers}) and each
 * {@code kernel<<<dim, type, queue>>>(args)} becomes the kernel's loop over {@code dim.x * dim.y * dim.z}
 * tasks, in clusters of the device's cores for a union type as the virtual device runs it; the launch
 * configuration must fold to constants ({@link LaunchConstants}). Functions that read the task index receive
 * it as a parameter. On-chip buffers that only kernels use become locals of one task; memory-space qualifiers
 * go. A file with barriers between tasks ({@code __sync_cluster}, {@code __sync_all}) or cluster-shared memory is
 * recovered for a single task per launch, where both are trivially sequential; a core's waits for its own
 * pipelines ({@code __sync_io}, {@code __sync_compute}) order nothing once copies are synchronous, and go.
 *
 * <pre>
 * before: __mlu_global__ void scale(const float *x, float *y) { for (int i = taskId; i &lt; 512; i += taskDim) ... }
 *         extern "C" void scale_kernel(const float *x, float *y) { ... cnrtDim3_t dim = {8, 1, 1};
 *             scale&lt;&lt;&lt;dim, cnrtFuncTypeUnion1, queue&gt;&gt;&gt;(d_x, d_y); ... }
 * after:  extern "C" void scale_kernel(const float *x, float *y) {
 *             { for (int taskId = 0; taskId &lt; 8; ++taskId) { for (int i = taskId; i &lt; 512; i += 8) ... } } }
 * </pre>
 */
final class TaskLoops {
	private static final Set<String> TASK_BUILTINS = Set.of("taskId", "taskIdX", "taskIdY", "taskIdZ", "taskDim",
			"taskDimX", "taskDimY", "taskDimZ", "clusterId", "coreId", "clusterDim", "coreDim");
	/** The builtins whose value depends on the launch; taskIdX..Z are the flat task index and 0 in any launch. */
	private static final Set<String> LAUNCH_BUILTINS = Set.of("taskDim", "taskDimX", "taskDimY", "taskDimZ",
			"clusterId", "coreId", "clusterDim", "coreDim");
	/** The builtins that would tell the axes of a launch over more than one dimension apart. */
	private static final Set<String> AXIS_BUILTINS = Set.of("taskIdX", "taskIdY", "taskIdZ", "taskDimX", "taskDimY",
			"taskDimZ");
	private static final Set<String> QUALIFIERS = Set.of("__mlu_global__", "__mlu_entry__", "__mlu_func__",
			"__mlu_device__", "__mlu_host__", "__nram__", "__wram__", "__mlu_shared__", "__ldram__", "__mlu_const__");
	/** Barriers between tasks: a kernel with one is recovered for a single task. */
	private static final Set<String> TASK_BARRIERS = Set.of("__sync_cluster", "__sync_all", "__sync_all_ipu",
			"__sync_all_mpu");
	/**
	 * Waits for a core's own pipelines: once detensorize made every copy synchronous they order nothing, and they
	 * do not make the kernel's tasks cooperate.
	 */
	private static final Set<String> CORE_SYNCS = Set.of("__sync", "__sync_io", "__sync_compute", "__sync_move",
			"__sync_io_move_compute");

	private final KernelPrinter printer = Dialect.BANG.printer();

	/** How a launch runs: {@code tasks} tasks in clusters of {@code cores} cores. */
	private record Launch(int tasks, int cores) {
		/** The values of the task builtins in this launch; the task index itself stays {@code taskId}. */
		Map<String, String> builtins() {
			Map<String, String> values = new HashMap<>();
			values.put("taskDim", Integer.toString(tasks));
			values.put("taskDimX", Integer.toString(tasks));
			values.put("taskDimY", "1");
			values.put("taskDimZ", "1");
			values.put("taskIdX", "taskId");
			values.put("taskIdY", "0");
			values.put("taskIdZ", "0");
			values.put("clusterDim", Integer.toString(tasks / cores));
			values.put("coreDim", Integer.toString(cores));
			values.put("clusterId", cores == 1 ? "taskId" : "(taskId / " + cores + ")");
			values.put("coreId", cores == 1 ? "0" : "(taskId % " + cores + ")");
			return values;
		}
	}

	/** A launch statement of the host wrapper, with the kernel it runs and how. */
	private record LaunchSite(Statement statement, KernelLaunch launch, FunctionDefinition kernel, Launch shape) {
	}

	String recover(TranslationUnit unit) {
		EntryPoint entry = EntryPoint.find(unit, Optional.empty());
		if (entry.kind() == EntryPoint.Kind.HOST) {
			new PureFunctionInliner().inline(unit); // launch sizes such as ceil_div(n, 64) then fold
		}
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call c && Snippets.callee(c) != null && (Snippets.callee(c).startsWith("__bang_")
					|| Snippets.callee(c).startsWith("__memcpy")) && atomic(c).isEmpty()) {
				throw PassRefusal.at(c, Snippets.callee(c) + " is still an intrinsic: detensorize runs first");
			}
		});
		HalfPrecision.lift(unit, Dialect.BANG);
		Snippets.flattenNamespaces(unit); // the items are written out one by one
		List<TopLevel> items = Snippets.topLevelItems(unit);
		Map<String, FunctionDefinition> kernels = new LinkedHashMap<>();
		for (FunctionDefinition f : Snippets.definedFunctions(unit)) {
			if (EntryPoint.kindOf(f) == EntryPoint.Kind.TASK_KERNEL) {
				kernels.put(f.getName(), f);
			}
		}
		if (entry.kind() == EntryPoint.Kind.SIMT_KERNEL) {
			throw PassRefusal.at(entry.function(), "the entry " + entry.name() + " is a __global__ kernel, not BANG C");
		}
		// barriers that only separate phases of the kernels split the task loop; any other cooperation runs one task
		boolean phased = usesCooperation(unit) && kernels.values().stream().allMatch(TaskLoops::splitsIntoPhases)
				&& noSharedMemoryOrInnerBarriers(unit, kernels.values());
		boolean cooperative = usesCooperation(unit) && !phased;
		removeBarriers(unit, phased ? Set.copyOf(kernels.values()) : Set.of());
		sequentialAtomics(unit);
		List<FunctionDefinition> helpers = Snippets.definedFunctions(unit).stream()
				.filter(f -> f != entry.function() && !kernels.containsKey(f.getName())).toList();
		Set<FunctionDefinition> readsTask = functionsReadingTheTask(helpers);
		Set<Declaration> perTask = perTaskBuffers(items, helpers);
		String entryText;
		if (entry.kind() == EntryPoint.Kind.TASK_KERNEL) {
			Launch launch = cooperative ? new Launch(1, 1)
					: new Launch(model().clusters() * model().coresPerCluster(), model().coresPerCluster());
			helpers.forEach(f -> replaceBuiltins(f, launch));
			passTaskIndex(unit, readsTask);
			FunctionDefinition f = entry.function();
			strip(f);
			boolean externC = f.getSpecifiers().stream().anyMatch(s -> s instanceof org.xpiler.lang.kernel.LinkageSpecifier);
			entryText = (externC ? "" : "extern \"C\" ") + Snippets.signature(f, printer) + " {\n"
					+ taskLoop(f, launch, perTask) + "}\n";
		} else {
			entryText = wrapper(unit, entry.function(), kernels, helpers, readsTask, perTask, cooperative);
		}
		StringBuilder out = new StringBuilder("#include <math.h>\n#include <stdint.h>\n#include <string.h>\n");
		for (TopLevel item : items) {
			if (item instanceof Declaration d && perTask.contains(d)
					|| item instanceof FunctionDefinition f && kernels.containsKey(f.getName()) && f != entry.function()) {
				continue;
			}
			if (item instanceof org.xpiler.lang.kernel.Directive d && (d.getText().contains("bang")
					|| d.getText().contains("mlu") || d.getText().contains("cnrt") || d.getText().contains("<math.h>")
					|| d.getText().contains("<string.h>") || d.getText().contains("<stdint.h>"))) {
				continue;
			}
			if (item == entry.function()) {
				out.append('\n').append(entryText);
			} else {
				strip(item);
				out.append(item instanceof FunctionDefinition ? "\n" : "").append(printer.topLevel(item));
			}
		}
		return out.toString();
	}

	/**
	 * The CNRT host wrapper as sequential code: host buffers instead of device copies, each launch the kernel's
	 * task loop.
	 */
	private String wrapper(TranslationUnit unit, FunctionDefinition wrapper, Map<String, FunctionDefinition> kernels,
			List<FunctionDefinition> helpers, Set<FunctionDefinition> readsTask, Set<Declaration> perTask,
			boolean cooperative) {
		LaunchConstants constants = new LaunchConstants(unit, wrapper.getBody(), Dialect.BANG);
		new WrapperBuffers(HostRuntime.CNRT, Dialect.BANG).lower(wrapper, constants);
		List<LaunchSite> sites = new ArrayList<>();
		wrapper.getBody().eAllContents().forEachRemaining(o -> {
			if (o instanceof KernelLaunch launch) {
				sites.add(site(launch, kernels, helpers, constants, cooperative));
			}
		});
		if (sites.isEmpty()) {
			throw PassRefusal.at(wrapper, "the host function " + wrapper.getName() + " launches no __mlu_global__ kernel");
		}
		Set<Launch> shapes = new LinkedHashSet<>(sites.stream().map(LaunchSite::shape).toList());
		for (FunctionDefinition f : helpers) {
			if (shapes.size() > 1) {
				f.getBody().eAllContents().forEachRemaining(o -> {
					if (o instanceof Name n && LAUNCH_BUILTINS.contains(n.getName())) {
						throw PassRefusal.at(n, "the function " + f.getName() + " reads " + n.getName()
								+ ", which differs between the launches of " + wrapper.getName());
					}
				});
			}
			replaceBuiltins(f, shapes.iterator().next());
		}
		passTaskIndex(unit, readsTask);
		Map<FunctionDefinition, Long> launchCounts = new HashMap<>();
		sites.forEach(s -> launchCounts.merge(s.kernel(), 1L, Long::sum));
		for (LaunchSite site : sites) {
			FunctionDefinition instance = launchCounts.get(site.kernel()) > 1 ? EcoreUtil.copy(site.kernel()) : site.kernel();
			StringBuilder block = new StringBuilder("{\n// ").append(printer.expression(site.launch()).replace('\n', ' '))
					.append('\n');
			bindParameters(site, instance, block);
			block.append(taskLoop(instance, site.shape(), perTask)).append("}\n");
			EcoreUtil.replace(site.statement(), Snippets.statements(block.toString(), Dialect.BANG).get(0));
		}
		constants.removeDimensions(wrapper.getBody());
		WrapperBuffers.removeUnusedDeclarations(wrapper.getBody());
		String text = printer.topLevel(wrapper);
		boolean externC = wrapper.getSpecifiers().stream()
				.anyMatch(s -> s instanceof org.xpiler.lang.kernel.LinkageSpecifier);
		return (externC ? "" : "extern \"C\" ") + text;
	}

	/** Reads one launch: its kernel, and its task count and cluster size from the folded configuration. */
	private static LaunchSite site(KernelLaunch launch, Map<String, FunctionDefinition> kernels,
			List<FunctionDefinition> helpers, LaunchConstants constants, boolean cooperative) {
		String name = launch.getKernel() instanceof Name n ? n.getName() : null;
		FunctionDefinition kernel = kernels.get(name);
		if (kernel == null) {
			throw PassRefusal.at(launch, "the launched " + (name == null ? "expression" : name)
					+ " is not a __mlu_global__ kernel of this file");
		}
		Statement statement = Snippets.enclosingStatement(launch);
		if (!(statement instanceof ExpressionStatement es) || es.getExpression() != launch) {
			throw PassRefusal.at(launch, "a launch must be a statement of its own");
		}
		List<Expression> config = launch.getConfig();
		int[] dim = constants.dimensions(config.get(0));
		if (dim == null) {
			throw PassRefusal.at(launch, "the launch dimension " + Dialect.BANG.printer().expression(config.get(0))
					+ " is not a compile-time constant; lifting runs the launch's tasks in a loop");
		}
		long type = config.size() > 1 ? constants.value(config.get(1)).orElseThrow(() -> PassRefusal.at(launch,
				"the function type " + Dialect.BANG.printer().expression(config.get(1)) + " is not a compile-time constant"))
				: 1;
		int tasks = dim[0] * dim[1] * dim[2];
		// as the virtual device runs a launch: a union type groups the tasks in clusters of all the cores
		int cores = type >= 4 ? model().coresPerCluster() : 1;
		if (tasks < 1 || tasks % cores != 0) {
			throw PassRefusal.at(launch, "a launch of " + tasks + " tasks is not " + (tasks < 1 ? "valid"
					: "a whole number of clusters of " + cores + " cores"));
		}
		if (dim[1] * dim[2] > 1) {
			List<EObject> read = new ArrayList<>(List.of(kernel));
			read.addAll(helpers);
			for (EObject f : read) {
				f.eAllContents().forEachRemaining(o -> {
					if (o instanceof Name n && AXIS_BUILTINS.contains(n.getName())) {
						throw PassRefusal.at(launch, "the launch spans more than one dimension and " + n.getName()
								+ " is read at " + Snippets.location(n) + "; only the flat taskId is lifted");
					}
				});
			}
		}
		return new LaunchSite(statement, launch, kernel, cooperative ? new Launch(1, 1) : new Launch(tasks, cores));
	}

	/** {@code const float *x = in;} for each kernel parameter that the launch passes something else to. */
	private void bindParameters(LaunchSite site, FunctionDefinition kernel, StringBuilder out) {
		List<Parameter> params = kernel.getParams();
		List<Expression> args = site.launch().getArgs();
		if (params.size() != args.size()) {
			throw PassRefusal.at(site.launch(), kernel.getName() + " takes " + params.size()
					+ " arguments but is launched with " + args.size());
		}
		Set<String> bound = new HashSet<>();
		for (int i = 0; i < params.size(); i++) {
			String name = params.get(i).getDeclarator().getName();
			String arg = printer.expression(args.get(i));
			for (String earlier : bound) {
				if (Snippets.mentions(args.get(i), earlier)) {
					throw PassRefusal.at(args.get(i), "the launch arguments reuse the kernel's parameter name " + earlier);
				}
			}
			if (!arg.equals(name)) {
				Parameter p = EcoreUtil.copy(params.get(i));
				strip(p);
				out.append(printer.parameter(p)).append(" = ").append(arg).append(";\n");
				bound.add(name);
			}
		}
	}

	private static DeviceModel model() {
		return Dialect.BANG.catalog().defaultDeviceModel().orElseThrow();
	}

	private static boolean usesCooperation(TranslationUnit unit) {
		boolean[] found = { false };
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call c && TASK_BARRIERS.contains(Snippets.callee(c))
					|| o instanceof Specifier s && s.getName().equals("__mlu_shared__")) {
				found[0] = true;
			}
		});
		return found[0];
	}

	/**
	 * The atomic updates of memory that tasks share ({@code __bang_atomic_reduce_add(dst, src, n)}) as their
	 * catalog references, loops of plain updates: the lifted tasks run one after the other. Detensorize leaves
	 * them to this pass, where no other task runs beside.
	 */
	private void sequentialAtomics(TranslationUnit unit) {
		List<ExpressionStatement> updates = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof ExpressionStatement s && s.getExpression() instanceof Call c && atomic(c).isPresent()) {
				updates.add(s);
			}
		});
		for (ExpressionStatement update : updates) {
			Call call = (Call) update.getExpression();
			CatalogFunction function = atomic(call).get();
			var form = function.signatures().stream().filter(f -> f.accepts(call.getArgs().size())).findFirst();
			String reference = form.map(f -> f.reference() != null ? f.reference() : function.reference()).orElse(null);
			if (reference == null) {
				throw PassRefusal.at(call, function.name() + " has no reference in the catalog to lift it by");
			}
			Map<String, String> arguments = new HashMap<>();
			for (int k = 0; k < call.getArgs().size(); k++) {
				arguments.put(form.get().params().get(k).name(), "(" + printer.expression(call.getArgs().get(k)) + ")");
			}
			// the reference's own loop variable must not capture a name the arguments use
			Set<String> taken = Snippets.takenNames(unit);
			java.util.regex.Matcher local = java.util.regex.Pattern.compile("\\bint\\s+([A-Za-z_]\\w*)\\s*=").matcher(reference);
			while (local.find()) {
				arguments.put(local.group(1), Snippets.freshName(taken, local.group(1), Dialect.BANG));
			}
			String text = "{\n" + MacroDefinition.replaceIdentifiers(reference, name -> arguments.getOrDefault(name, name))
					+ "\n}";
			EcoreUtil.replace(update, Snippets.statements(text, Dialect.BANG).get(0));
		}
	}

	private static Optional<CatalogFunction> atomic(Call call) {
		return Optional.ofNullable(Snippets.callee(call)).flatMap(name -> Dialect.BANG.catalog().function(name))
				.filter(f -> f.category().equals("atomic"));
	}

	/** Removes the barriers and syncs, except the task barriers between the phases of the {@code phased} kernels. */
	private static void removeBarriers(TranslationUnit unit, Set<FunctionDefinition> phased) {
		List<Statement> barriers = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof ExpressionStatement s && s.getExpression() instanceof Call c
					&& (TASK_BARRIERS.contains(Snippets.callee(c)) || CORE_SYNCS.contains(Snippets.callee(c)))
					&& !(isTaskBarrier(s) && s.eContainer().eContainer() instanceof FunctionDefinition f
							&& phased.contains(f))) {
				barriers.add(s);
			}
		});
		barriers.forEach(EcoreUtil::remove);
	}

	private static boolean isTaskBarrier(Statement s) {
		return s instanceof ExpressionStatement e && e.getExpression() instanceof Call c
				&& TASK_BARRIERS.contains(Snippets.callee(c));
	}

	/**
	 * Whether the task barriers of {@code kernel} only separate phases that its tasks run one after the other:
	 * each is a statement of the kernel's body itself (not in a loop or branch), no local of one phase is read in
	 * a later one, and only the last phase returns (a task that leaves early skips the later phases too). Each
	 * phase then becomes a loop over all tasks, in order, which meets every barrier.
	 */
	private static boolean splitsIntoPhases(FunctionDefinition kernel) {
		List<List<Statement>> phases = phases(kernel.getBody());
		List<EObject> all = new ArrayList<>();
		kernel.getBody().eAllContents().forEachRemaining(all::add);
		boolean nested = all.stream().anyMatch(o -> o instanceof Statement s && isTaskBarrier(s)
				&& s.eContainer() != kernel.getBody());
		if (nested) {
			return false;
		}
		for (int k = 0; k < phases.size(); k++) {
			boolean last = k == phases.size() - 1;
			for (Statement s : phases.get(k)) {
				if (!last && (s instanceof ReturnStatement || !EcoreUtil2.eAllOfType(s, ReturnStatement.class).isEmpty())) {
					return false;
				}
				if (s instanceof DeclarationStatement d) {
					for (Declarator x : d.getDeclaration().getDeclarators()) {
						for (List<Statement> later : phases.subList(k + 1, phases.size())) {
							if (later.stream().anyMatch(t -> Snippets.mentions(t, x.getName()))) {
								return false;
							}
						}
					}
				}
			}
		}
		return true;
	}

	/** The statements of a kernel's body between its task barriers. */
	private static List<List<Statement>> phases(CompoundStatement body) {
		List<List<Statement>> phases = new ArrayList<>(List.of(new ArrayList<>()));
		for (Statement s : body.getStatements()) {
			if (isTaskBarrier(s)) {
				phases.add(new ArrayList<>());
			} else {
				phases.get(phases.size() - 1).add(s);
			}
		}
		return phases;
	}

	/** No cluster-shared memory, and no task barrier outside the kernels' bodies (in a helper they call). */
	private static boolean noSharedMemoryOrInnerBarriers(TranslationUnit unit, java.util.Collection<FunctionDefinition> kernels) {
		boolean[] clean = { true };
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Specifier q && q.getName().equals("__mlu_shared__")
					|| o instanceof Statement s && isTaskBarrier(s)
							&& !(s.eContainer().eContainer() instanceof FunctionDefinition f && kernels.contains(f))) {
				clean[0] = false;
			}
		});
		return clean[0];
	}

	/** The task builtins of {@code root} as their values in {@code launch}. */
	private static void replaceBuiltins(EObject root, Launch launch) {
		Map<String, String> values = launch.builtins();
		List<Name> names = new ArrayList<>();
		root.eAllContents().forEachRemaining(o -> {
			if (o instanceof Name n && values.containsKey(n.getName())) {
				names.add(n);
			}
		});
		names.forEach(n -> EcoreUtil.replace(n, Snippets.expression(values.get(n.getName()), Dialect.BANG)));
	}

	/** The helpers that read a task builtin, directly or through a call. */
	private static Set<FunctionDefinition> functionsReadingTheTask(List<FunctionDefinition> helpers) {
		Map<String, FunctionDefinition> functions = new LinkedHashMap<>();
		helpers.forEach(f -> functions.put(f.getName(), f));
		Set<FunctionDefinition> reading = new LinkedHashSet<>();
		boolean changed = true;
		while (changed) {
			changed = false;
			for (FunctionDefinition f : functions.values()) {
				if (reading.contains(f)) {
					continue;
				}
				boolean reads = false;
				for (var it = f.getBody().eAllContents(); it.hasNext();) {
					EObject o = it.next();
					if (o instanceof Name n && (TASK_BUILTINS.contains(n.getName())
							|| functions.containsKey(n.getName()) && reading.contains(functions.get(n.getName())))) {
						reads = true;
						break;
					}
				}
				if (reads) {
					reading.add(f);
					changed = true;
				}
			}
		}
		return reading;
	}

	/** Functions that read the task index get it as their last parameter, and every call passes it. */
	private static void passTaskIndex(TranslationUnit unit, Set<FunctionDefinition> readsTask) {
		for (FunctionDefinition f : readsTask) {
			Parameter p = ((FunctionDefinition) Snippets.file("void f(int taskId) {}", Dialect.BANG).getItems().get(0))
					.getParams().get(0);
			f.getParams().add(p);
		}
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call c && readsTask.stream().anyMatch(f -> f.getName().equals(Snippets.callee(c)))) {
				c.getArgs().add(Snippets.expression("taskId", Dialect.BANG));
			}
		});
	}

	/** File-scope on-chip buffers that no helper uses: they become locals of each task of the kernels. */
	private static Set<Declaration> perTaskBuffers(List<TopLevel> items, List<FunctionDefinition> helpers) {
		Set<String> usedByHelpers = new HashSet<>();
		for (FunctionDefinition f : helpers) {
			f.getBody().eAllContents().forEachRemaining(o -> {
				if (o instanceof Name n) {
					usedByHelpers.add(n.getName());
				}
			});
		}
		Set<Declaration> perTask = new LinkedHashSet<>();
		for (TopLevel item : items) {
			if (item instanceof Declaration d && d.getSpecifiers().stream().anyMatch(
					s -> s instanceof Specifier q && (q.getName().equals("__nram__") || q.getName().equals("__wram__")))
					&& d.getDeclarators().stream().noneMatch(x -> usedByHelpers.contains(x.getName()))) {
				perTask.add(d);
			}
		}
		return perTask;
	}

	private static void strip(EObject item) {
		List<EObject> all = new ArrayList<>();
		all.add(item);
		item.eAllContents().forEachRemaining(all::add);
		for (EObject o : all) {
			if (o instanceof Specifier s && QUALIFIERS.contains(s.getName())) {
				EcoreUtil.remove(s);
			}
		}
	}

	/**
	 * {@code for (int taskId = 0; taskId < tasks; ++taskId) { ... }} around the kernel's body, with the task
	 * builtins replaced, the per-task buffers that it uses declared, and a return ending the task.
	 */
	private String taskLoop(FunctionDefinition kernel, Launch launch, Set<Declaration> perTask) {
		replaceBuiltins(kernel.getBody(), launch);
		strip(kernel.getBody());
		List<ReturnStatement> returns = new ArrayList<>();
		kernel.getBody().eAllContents().forEachRemaining(o -> {
			if (o instanceof ReturnStatement r) {
				returns.add(r);
			}
		});
		for (ReturnStatement r : returns) {
			for (EObject up = r.eContainer(); up != kernel.getBody(); up = up.eContainer()) {
				if (up instanceof ForStatement || up instanceof WhileStatement || up instanceof DoStatement
						|| up instanceof SwitchStatement) {
					throw PassRefusal.at(r, "a return inside a loop of the kernel cannot be lifted yet");
				}
			}
			EcoreUtil.replace(r, Snippets.statements("continue;", Dialect.BANG).get(0));
		}
		perTask.forEach(TaskLoops::strip);
		StringBuilder loops = new StringBuilder();
		for (List<Statement> phase : phases(kernel.getBody())) {
			loops.append("for (int taskId = 0; taskId < ").append(launch.tasks()).append("; ++taskId) {\n");
			for (Declaration d : perTask) {
				if (d.getDeclarators().stream().anyMatch(x -> phase.stream().anyMatch(s -> Snippets.mentions(s, x.getName())))) {
					loops.append(printer.topLevel(d));
				}
			}
			phase.forEach(s -> loops.append(printer.statement(s, 0)));
			loops.append("}\n");
		}
		return loops.toString();
	}
}
