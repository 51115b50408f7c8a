package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.lang.catalog.CatalogEntries.DeviceModel;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.SwitchStatement;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.WhileStatement;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Loop recovery for BANG C (after detensorize): the {@code __mlu_global__} entry becomes a C++ function that
 * runs every task of the launch in a loop over {@code taskId}; {@code taskDim}, {@code clusterDim} and
 * {@code coreDim} become the launch's values and {@code clusterId}/{@code coreId} follow from the task.
 * Functions that read the task index receive it as a parameter. On-chip buffers only the entry uses become
 * locals of one task; memory-space qualifiers go. A kernel with barriers or cluster-shared memory is
 * recovered for a single task, where both are trivially sequential.
 */
final class TaskLoops {
	private static final Set<String> TASK_BUILTINS = Set.of("taskId", "taskIdX", "taskIdY", "taskIdZ", "taskDim",
			"taskDimX", "taskDimY", "taskDimZ", "clusterId", "coreId", "clusterDim", "coreDim");
	private static final Set<String> QUALIFIERS = Set.of("__mlu_global__", "__mlu_entry__", "__mlu_func__",
			"__mlu_device__", "__mlu_host__", "__nram__", "__wram__", "__mlu_shared__", "__ldram__", "__mlu_const__");
	private static final Set<String> BARRIERS = Set.of("__sync_cluster", "__sync_all", "__sync", "__sync_io",
			"__sync_compute", "__sync_all_ipu", "__sync_all_mpu", "__sync_io_move_compute", "__sync_move");

	private final KernelPrinter printer = Dialect.BANG.printer();

	String recover(TranslationUnit unit) {
		EntryPoint entry = EntryPoint.find(unit, java.util.Optional.empty());
		if (entry.kind() != EntryPoint.Kind.TASK_KERNEL) {
			throw PassRefusal.at(entry.function(), "the entry " + entry.name() + " is not a __mlu_global__ kernel");
		}
		List<TopLevel> items = Snippets.topLevelItems(unit);
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call c && Snippets.callee(c) != null && (Snippets.callee(c).startsWith("__bang_")
					|| Snippets.callee(c).startsWith("__memcpy"))) {
				throw PassRefusal.at(c, Snippets.callee(c) + " is still an intrinsic: detensorize runs first");
			}
		});
		boolean cooperative = usesCooperation(unit);
		int cores = cooperative ? 1 : model().coresPerCluster();
		int tasks = cooperative ? 1 : model().clusters() * cores;
		removeBarriers(unit);
		Set<FunctionDefinition> readsTask = functionsReadingTheTask(items, entry.function());
		Map<String, String> constants = new HashMap<>();
		constants.put("taskDim", Integer.toString(tasks));
		constants.put("taskDimX", Integer.toString(tasks));
		constants.put("taskDimY", "1");
		constants.put("taskDimZ", "1");
		constants.put("taskIdX", "taskId");
		constants.put("taskIdY", "0");
		constants.put("taskIdZ", "0");
		constants.put("clusterDim", Integer.toString(tasks / cores));
		constants.put("coreDim", Integer.toString(cores));
		constants.put("clusterId", cores == 1 ? "taskId" : "(taskId / " + cores + ")");
		constants.put("coreId", cores == 1 ? "0" : "(taskId % " + cores + ")");
		List<EObject> names = new ArrayList<>();
		unit.eAllContents().forEachRemaining(names::add);
		for (EObject o : names) {
			if (o instanceof Name n && constants.containsKey(n.getName()) && o.eContainer() != null) {
				EcoreUtil.replace(n, Snippets.expression(constants.get(n.getName()), Dialect.BANG));
			}
		}
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
		Set<Declaration> perTask = perTaskBuffers(items, entry.function());
		StringBuilder out = new StringBuilder("#include <math.h>\n#include <stdint.h>\n#include <string.h>\n");
		for (TopLevel item : items) {
			if (item instanceof Declaration d && perTask.contains(d)) {
				continue;
			}
			if (item instanceof org.xpiler.lang.kernel.Directive d && (d.getText().contains("bang")
					|| d.getText().contains("mlu") || d.getText().contains("<math.h>") || d.getText().contains("<string.h>") || d.getText().contains("<stdint.h>"))) {
				continue;
			}
			strip(item);
			if (item == entry.function()) {
				out.append('\n').append(entry(entry.function(), perTask, tasks));
			} else {
				out.append(item instanceof FunctionDefinition ? "\n" : "").append(printer.topLevel(item));
			}
		}
		return out.toString();
	}

	private static DeviceModel model() {
		return Dialect.BANG.catalog().defaultDeviceModel().orElseThrow();
	}

	private static boolean usesCooperation(TranslationUnit unit) {
		boolean[] found = { false };
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call c && BARRIERS.contains(Snippets.callee(c))
					|| o instanceof Specifier s && s.getName().equals("__mlu_shared__")) {
				found[0] = true;
			}
		});
		return found[0];
	}

	private static void removeBarriers(TranslationUnit unit) {
		List<Statement> barriers = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof ExpressionStatement s && s.getExpression() instanceof Call c
					&& BARRIERS.contains(Snippets.callee(c))) {
				barriers.add(s);
			}
		});
		barriers.forEach(EcoreUtil::remove);
	}

	/** The functions other than the entry that read a task builtin, directly or through a call. */
	private static Set<FunctionDefinition> functionsReadingTheTask(List<TopLevel> items, FunctionDefinition entry) {
		Map<String, FunctionDefinition> functions = new LinkedHashMap<>();
		items.stream().filter(i -> i instanceof FunctionDefinition f && f != entry && f.getBody() != null)
				.forEach(i -> functions.put(((FunctionDefinition) i).getName(), (FunctionDefinition) i));
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

	/** File-scope on-chip buffers that only the entry uses: they become locals of each task. */
	private static Set<Declaration> perTaskBuffers(List<TopLevel> items, FunctionDefinition entry) {
		Set<String> usedElsewhere = new java.util.HashSet<>();
		for (TopLevel item : items) {
			if (item instanceof FunctionDefinition f && f != entry && f.getBody() != null) {
				f.getBody().eAllContents().forEachRemaining(o -> {
					if (o instanceof Name n) {
						usedElsewhere.add(n.getName());
					}
				});
			}
		}
		Set<Declaration> perTask = new LinkedHashSet<>();
		for (TopLevel item : items) {
			if (item instanceof Declaration d && d.getSpecifiers().stream().anyMatch(
					s -> s instanceof Specifier q && (q.getName().equals("__nram__") || q.getName().equals("__wram__")))
					&& d.getDeclarators().stream().noneMatch(x -> usedElsewhere.contains(x.getName()))) {
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

	private String entry(FunctionDefinition f, Set<Declaration> perTask, int tasks) {
		List<ReturnStatement> returns = new ArrayList<>();
		f.getBody().eAllContents().forEachRemaining(o -> {
			if (o instanceof ReturnStatement r) {
				returns.add(r);
			}
		});
		for (ReturnStatement r : returns) {
			for (EObject up = r.eContainer(); up != f.getBody(); up = up.eContainer()) {
				if (up instanceof ForStatement || up instanceof WhileStatement || up instanceof DoStatement
						|| up instanceof SwitchStatement) {
					throw PassRefusal.at(r, "a return inside a loop of the kernel cannot be lifted yet");
				}
			}
			EcoreUtil.replace(r, Snippets.statements("continue;", Dialect.BANG).get(0));
		}
		StringBuilder body = new StringBuilder();
		perTask.forEach(d -> {
			strip(d);
			body.append(printer.topLevel(d));
		});
		f.getBody().getStatements().forEach(s -> body.append(printer.statement(s, 0)));
		String head = Snippets.signature(f, printer);
		boolean externC = f.getSpecifiers().stream().anyMatch(s -> s instanceof org.xpiler.lang.kernel.LinkageSpecifier);
		return (externC ? "" : "extern \"C\" ") + head + " {\n" + "for (int taskId = 0; taskId < " + tasks
				+ "; ++taskId) {\n" + body + "}\n}\n";
	}
}
