package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.lang.catalog.CatalogEntries.DeviceModel;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.DirectiveStatement;
import org.xpiler.lang.kernel.EmptyStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Loop bind: a sequential C++ program becomes a kernel of the target whose outermost loops run in parallel.
 * Each top-level loop of the entry becomes a kernel of its own (in order, so that one loop's results are
 * complete before the next starts); the loop is bound to the target's parallel index with a stride, so any
 * trip count fits any launch: CUDA/HIP {@code blockIdx.x * blockDim.x + threadIdx.x} over a grid, BANG
 * {@code taskId} over {@code taskDim}. The entry becomes an {@code extern "C"} host wrapper ({@link HostWrapper})
 * with the same name and pointer parameters that copies the buffers to the device, launches the kernels and
 * copies the results back: with the CUDA or HIP runtime, or with CNRT for BANG, whose kernels run as a union of
 * all the device's clusters (a part without a loop as one BLOCK task). When the buffer sizes are unknown (the
 * entry takes a scalar such as {@code n}), a BANG entry can still become the {@code __mlu_global__} kernel
 * itself, its parts separated by {@code __sync_all()}. The oracle (with its race detector) decides whether the
 * iterations were independent; the single-thread knob value is the fallback that always holds.
 *
 * <pre>
 * before (C++):  extern "C" void relu_kernel(const float* x, float* y) { for (int i = 0; i < 49152; i++) y[i] = ...; }
 * after  (CUDA): __global__ void relu(const float* x, float* y) {
 *                    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < 49152; i += gridDim.x * blockDim.x) ... }
 *                extern "C" void relu_kernel(const float* x, float* y) { cudaMalloc ... relu<<<192, 256>>>(d_x, d_y); ... }
 * after  (BANG): __mlu_global__ void relu(const float* x, float* y) {
 *                    for (int i = taskId; i < 49152; i += taskDim) ... }
 *                extern "C" void relu_kernel(const float* x, float* y) {
 *                    cnrtQueueCreate(&amp;queue); cnrtMalloc ... cnrtDim3_t dim = {16, 1, 1};
 *                    relu<<<dim, CNRT_FUNC_TYPE_UNION1, queue>>>(d_x, d_y); cnrtQueueSync(queue); ... }
 * </pre>
 *
 * Knobs: {@code bind} = {@code grid-stride} (threads per block from {@code threads}) or {@code task-stride}
 * (BANG), or {@code single} (no parallel loop); {@code wrapper} = the runtime of the host wrapper
 * ({@code cuda}, {@code hip}, {@code cnrt}) or {@code none} (BANG: the entry is the kernel); CUDA/HIP
 * {@code collapse} = {@code nested} (the loops perfectly nested in the bound one, with constant bounds, are bound
 * with it as one index: a 64 x 128 nest gets 8192 threads, not 64) or {@code outermost}. {@link #options}
 * enumerates for CUDA/HIP the nested and the outermost grid-stride binding with the wrapper, then a single
 * thread; for BANG both bindings with the CNRT wrapper, then both without. Precondition: a C++ entry; with a host wrapper, pointer parameters only, whose sizes are known
 * from the source's run.
 */
public final class LoopBind implements Pass {
	/** How the outermost loops are spread over the target's parallel units. */
	public enum Binding {
		STRIDE, SINGLE
	}

	/** Whether the entry becomes a host wrapper around the launches, or (BANG only) the kernel itself. */
	public enum Wrapper {
		HOST, NONE
	}

	/** Per-thread arrays above this size move to device memory (hipcc allows 128 KiB of stack per thread). */
	private static final long LARGE_ARRAY_BYTES = 16 * 1024;

	private final Binding binding;
	private final int threadsPerBlock;
	private final Wrapper wrapper;
	private final List<Buffer> buffers;
	/** CUDA/HIP: whether the loops perfectly nested in the bound one are bound with it, as one index. */
	private final boolean collapse;

	/**
	 * What the source's run showed of one pointer parameter: its size, whether the kernel reads what the caller
	 * put there, and whether it writes it. The host wrapper copies exactly that.
	 */
	public record Buffer(long bytes, boolean input, boolean output) {
	}

	/** @param buffers every pointer parameter of the entry, in order, from the source's run */
	public LoopBind(Binding binding, int threadsPerBlock, Wrapper wrapper, List<Buffer> buffers) {
		this(binding, threadsPerBlock, wrapper, buffers, false);
	}

	/** @param collapse CUDA/HIP: bind the loops perfectly nested in the outermost one with it */
	public LoopBind(Binding binding, int threadsPerBlock, Wrapper wrapper, List<Buffer> buffers, boolean collapse) {
		this.binding = binding;
		this.threadsPerBlock = threadsPerBlock;
		this.wrapper = wrapper;
		this.buffers = List.copyOf(buffers);
		this.collapse = collapse;
	}

	/** The knob values a tuner may enumerate for {@code to}, best first. */
	public static List<LoopBind> options(Dialect to, List<Buffer> pointerBytes) {
		if (to == Dialect.BANG) {
			// the wrapper keeps the source's host API; the kernel as the entry is the fallback for unknown sizes
			return List.of(new LoopBind(Binding.STRIDE, 0, Wrapper.HOST, pointerBytes),
					new LoopBind(Binding.SINGLE, 0, Wrapper.HOST, pointerBytes),
					new LoopBind(Binding.STRIDE, 0, Wrapper.NONE, pointerBytes),
					new LoopBind(Binding.SINGLE, 0, Wrapper.NONE, pointerBytes));
		}
		return List.of(new LoopBind(Binding.STRIDE, 256, Wrapper.HOST, pointerBytes, true),
				new LoopBind(Binding.STRIDE, 256, Wrapper.HOST, pointerBytes),
				new LoopBind(Binding.SINGLE, 1, Wrapper.HOST, pointerBytes));
	}

	/** Whether the entry becomes a host wrapper around the launches (not the BANG kernel itself). */
	public boolean writesHostWrapper() {
		return wrapper == Wrapper.HOST;
	}

	@Override
	public String name() {
		return "loop-bind";
	}

	@Override
	public String summary() {
		return "bind the outermost loops to the target's blocks and threads (or tasks) and write its entry";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI || to == Dialect.VNNI) {
			return Optional.of("binds sequential C++ to CUDA, HIP or BANG only");
		}
		if (wrapper == Wrapper.NONE && to != Dialect.BANG) {
			return Optional.of("only a BANG kernel can be the entry itself; CUDA and HIP kernels need the host wrapper");
		}
		if (wrapper == Wrapper.HOST) {
			// the host wrapper's buffer sizes come from one run; with a scalar such as n they would hold for
			// that n only, while the wrapper still took any n
			for (Parameter p : EntryPoint.find(unit, Optional.empty()).function().getParams()) {
				if (!HostWrapper.isPointer(p)) {
					return Optional.of(Snippets.location(p) + ": the entry takes the scalar "
							+ p.getDeclarator().getName() + "; a host wrapper sized by one run would hold for that value "
							+ "only");
				}
			}
		}
		return Optional.empty();
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		PortableMath.rewrite(unit, from, to);
		String halfHeader = HalfPrecision.lower(unit, to);
		VectorStructs.dropWhereDeclared(unit, to);
		Snippets.flattenNamespaces(unit); // the items are written out one by one
		EntryPoint entry = EntryPoint.find(unit, Optional.empty());
		FunctionDefinition f = entry.function();
		KernelPrinter printer = Dialect.VNNI.printer();
		List<TopLevel> items = Snippets.topLevelItems(unit);
		Set<String> taken = new HashSet<>();
		items.forEach(i -> {
			if (i instanceof FunctionDefinition g) {
				taken.add(g.getName());
			}
		});
		String base = f.getName().endsWith("_kernel") ? f.getName().substring(0, f.getName().length() - 7)
				: f.getName() + "_device";
		String sharedArrays = binding == Binding.SINGLE ? "" : hoistEntryArrays(f, to, taken, printer);
		List<Segment> segments = segments(f.getBody());
		if (binding == Binding.STRIDE && segments.stream().allMatch(seg -> seg.loop == null)) {
			throw PassRefusal.at(f, "no loop of the form for (int i = a; i < b; i++) at the top of " + f.getName()
					+ " to bind");
		}
		boolean simt = to == Dialect.CUDA || to == Dialect.HIP;
		HostRuntime runtime = wrapper == Wrapper.HOST ? HostRuntime.of(to) : null;
		StringBuilder out = new StringBuilder();
		out.append(runtime != null ? runtime.header + "\n" : "");
		out.append(simt ? "#include <stdint.h>\n" : "");
		out.append(halfHeader);
		String functionQualifier = simt ? "__device__ " : "__mlu_func__ ";
		for (TopLevel item : items) {
			if (item == f || item instanceof Directive d && d.getText().startsWith("#include")) {
				continue;
			}
			if (item instanceof FunctionDefinition g) {
				out.append('\n').append(qualified(printer.topLevel(g), g, functionQualifier));
			} else if (item instanceof Declaration d && simt) {
				out.append("__device__ ").append(printer.topLevel(d));
			} else {
				out.append(printer.topLevel(item));
			}
		}
		out.append(sharedArrays);
		String parameters = String.join(", ", f.getParams().stream().map(printer::parameter).toList());
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("bind", binding == Binding.SINGLE ? "single" : simt ? "grid-stride" : "task-stride");
		knobs.put("wrapper", runtime != null ? runtime.id() : "none");
		if (simt) {
			knobs.put("threads", Integer.toString(threadsPerBlock));
			if (binding == Binding.STRIDE) {
				knobs.put("collapse", collapse ? "nested" : "outermost");
			}
		}
		out.append(runtime == null ? entryKernel(f.getName(), parameters, segments, printer)
				: kernelsAndWrapper(f, parameters, segments, base, taken, runtime, to, printer));
		Snippets.replaceFile(unit, out.toString(), to);
		knobs.put("kernels", Integer.toString(segments.size()));
		return knobs;
	}

	/**
	 * An array declared at the top of the entry and used by two or more of its top-level statements (directly
	 * or through a pointer declared from it) carries data from one loop to the next, such as a lifted scratch
	 * buffer; as a local of each kernel cut from the entry every thread would get its own. Such arrays become
	 * device-global ({@code __device__} on CUDA/HIP, {@code __mlu_device__} in BANG's GDRAM), renamed only when
	 * a file-scope name is taken. An array that one loop uses alone stays its private scratch. Returns the
	 * global declarations.
	 */
	private static String hoistEntryArrays(FunctionDefinition f, Dialect to, Set<String> taken, KernelPrinter printer) {
		StringBuilder globals = new StringBuilder();
		String qualifier = to == Dialect.BANG ? "__mlu_device__ " : "__device__ ";
		for (Statement s : flatten(f.getBody().getStatements())) {
			if (!(s instanceof DeclarationStatement d) || d.getDeclaration().getDeclarators().size() != 1) {
				continue;
			}
			Declarator x = d.getDeclaration().getDeclarators().get(0);
			boolean constantArray = !x.getDimensions().isEmpty() && x.getInitializer() == null && x.getDimensions().stream()
					.allMatch(dimension -> dimension.getSize() != null && new ConstantFolder().fold(dimension.getSize()).isPresent());
			if (!constantArray || !sharedByStatements(x.getName(), f)) {
				continue;
			}
			String original = x.getName();
			String global = unique(original, taken);
			if (!global.equals(original)) {
				f.getBody().eAllContents().forEachRemaining(o -> {
					if (o instanceof Name n && n.getName().equals(original)) {
						n.setName(global);
					}
				});
				x.setName(global);
			}
			globals.append(qualified(printer.statement(d, 0), qualifier));
			EcoreUtil.remove(d);
		}
		return globals.length() == 0 ? "" : "\n" + globals;
	}

	private static boolean sharedByStatements(String array, FunctionDefinition f) {
		List<Statement> statements = flatten(f.getBody().getStatements());
		Set<String> names = new HashSet<>(Set.of(array));
		for (Statement s : statements) {
			if (s instanceof DeclarationStatement d && Snippets.mentions(d, array)) {
				d.getDeclaration().getDeclarators().forEach(x -> names.add(x.getName()));
			}
		}
		return statements.stream().filter(s -> !(s instanceof DeclarationStatement))
				.filter(s -> names.stream().anyMatch(n -> Snippets.mentions(s, n))).count() >= 2;
	}

	/**
	 * {@code __device__ float x[64];}; an alignment specifier stays in front ({@code alignas(64) __device__
	 * unsigned char v[64];}), where clang (hipcc) wants it.
	 */
	private static String qualified(String declaration, String qualifier) {
		var alignment = java.util.regex.Pattern.compile("^(alignas\\s*\\([^)]*\\)\\s*)").matcher(declaration);
		return alignment.find() ? alignment.group(1) + qualifier + declaration.substring(alignment.end())
				: qualifier + declaration;
	}

	private static String unique(String name, Set<String> taken) {
		String candidate = name;
		for (int i = 2; taken.contains(candidate); i++) {
			candidate = name + "_" + i;
		}
		taken.add(candidate);
		return candidate;
	}

	/** Adds the target's function qualifier after a template header, before the rest. */
	private static String qualified(String printed, FunctionDefinition g, String qualifier) {
		if (g.getTemplate() != null) {
			int close = printed.indexOf('>', printed.indexOf("template"));
			return printed.substring(0, close + 1) + "\n" + qualifier + printed.substring(close + 1).stripLeading();
		}
		int start = printed.indexOf(g.getName());
		int line = printed.lastIndexOf('\n', start) + 1;
		return printed.substring(0, line) + qualifier + printed.substring(line);
	}

	/**
	 * A kernel per segment, and the host wrapper that launches them in order: CUDA/HIP over enough blocks for the
	 * loop's iterations, BANG over a union of all the device's clusters (a part without a loop on one BLOCK task).
	 */
	private String kernelsAndWrapper(FunctionDefinition f, String parameters, List<Segment> segments, String base,
			Set<String> taken, HostRuntime runtime, Dialect to, KernelPrinter printer) {
		boolean simt = to != Dialect.BANG;
		// inside the wrapper a parameter or local would hide a kernel of the same name
		f.getParams().forEach(p -> taken.add(p.getDeclarator().getName()));
		List<String> names = new ArrayList<>();
		for (int k = 0; k < segments.size(); k++) {
			names.add(unique(segments.size() == 1 ? base : base + "_" + (k + 1), taken));
		}
		HostWrapper host = new HostWrapper(f.getName(), f.getParams(), buffers, runtime, to, taken);
		StringBuilder kernels = new StringBuilder();
		StringBuilder setup = new StringBuilder();
		Map<Long, String> taskDimensions = new LinkedHashMap<>();
		List<String> launches = new ArrayList<>();
		for (int k = 0; k < segments.size(); k++) {
			String name = names.get(k);
			Segment segment = segments.get(k);
			boolean parallel = binding == Binding.STRIDE && segment.loop != null;
			String configuration;
			if (simt && parallel && collapse) {
				segment.collapse(to, taken);
			}
			if (simt) {
				configuration = segment.blocks(threadsPerBlock) + ", " + (parallel ? threadsPerBlock : 1);
				kernels.append(segment.hoistLargeArrays(printer, name));
			} else {
				long tasks = parallel ? (long) model().clusters() * model().coresPerCluster() : 1;
				String dimension = taskDimensions.computeIfAbsent(tasks, n -> {
					String variable = host.local(n == 1 ? "one_task" : "dim");
					setup.append("    cnrtDim3_t ").append(variable).append(" = {").append(n).append(", 1, 1};\n");
					return variable;
				});
				configuration = dimension + ", " + (parallel ? "CNRT_FUNC_TYPE_UNION1" : "CNRT_FUNC_TYPE_BLOCK") + ", "
						+ host.queue();
			}
			String body = simt ? segment.body(printer, "blockIdx.x * blockDim.x + threadIdx.x", "gridDim.x * blockDim.x", null)
					: segment.body(printer, "taskId", "taskDim", null);
			kernels.append("\n").append(simt ? "__global__" : "__mlu_global__").append(" void ").append(name).append("(")
					.append(parameters).append(")\n{\n").append(body).append("}\n");
			launches.add(name + "<<<" + configuration + ">>>(" + host.deviceArguments() + ");");
		}
		return kernels + "\n" + host.write(setup.toString(), launches);
	}

	/**
	 * BANG without a host wrapper: the entry itself is the {@code __mlu_global__} kernel, run by the device's
	 * default launch; its parts follow one another, separated by {@code __sync_all()}, and a part without a loop
	 * runs in task 0 alone.
	 */
	private static String entryKernel(String entry, String parameters, List<Segment> segments, KernelPrinter printer) {
		StringBuilder body = new StringBuilder();
		for (Segment segment : segments) {
			body.append("{\n").append(segment.body(printer, "taskId", "taskDim", "taskId == 0")).append("}\n");
			if (segments.size() > 1) {
				body.append("__sync_all();\n");
			}
		}
		return "\nextern \"C\" __mlu_global__ void " + entry + "(" + parameters + ")\n{\n" + body + "}\n";
	}

	private static DeviceModel model() {
		return Dialect.BANG.catalog().defaultDeviceModel().orElseThrow();
	}

	// ------------------------------------------------------------------ segments

	/**
	 * Whether {@code s} is a {@code #pragma} line between the body's statements: a hint for the loop after it
	 * ({@code #pragma omp parallel for}, {@code #pragma unroll}), which the binding replaces, so it is not a
	 * kernel's work of its own.
	 */
	private static boolean isPragma(Statement s) {
		return s instanceof DirectiveStatement d && d.getDirective().getText().strip().matches("#\\s*pragma\\b.*");
	}

	/** The entry's body cut into the parts that become one kernel each. */
	private List<Segment> segments(CompoundStatement body) {
		List<Statement> statements = flatten(body.getStatements());
		List<Statement> declarations = new ArrayList<>();
		List<Segment> segments = new ArrayList<>();
		List<Statement> pending = new ArrayList<>();
		Set<String> topLevelNames = new HashSet<>();
		for (Statement s : statements) {
			if (s instanceof DeclarationStatement d) {
				d.getDeclaration().getDeclarators().forEach(x -> topLevelNames.add(x.getName()));
			}
		}
		boolean carriesState = false;
		for (Statement s : statements) {
			if (!(s instanceof DeclarationStatement) && CanonicalLoop.assignsAny(s, topLevelNames)) {
				carriesState = true;
			}
		}
		if (carriesState || binding == Binding.SINGLE) {
			return List.of(new Segment(List.of(), statements, null));
		}
		for (Statement s : statements) {
			if (s instanceof DeclarationStatement) {
				if (!pending.isEmpty()) {
					segments.add(new Segment(List.copyOf(declarations), List.copyOf(pending), null));
					pending.clear();
				}
				declarations.add(s);
			} else if (boundLoop(s) != null) {
				if (!pending.isEmpty()) {
					segments.add(new Segment(List.copyOf(declarations), List.copyOf(pending), null));
					pending.clear();
				}
				segments.add(new Segment(List.copyOf(declarations), List.of(s), boundLoop(s)));
			} else if (!(s instanceof EmptyStatement) && !isPragma(s)) {
				pending.add(s);
			}
		}
		if (!pending.isEmpty()) {
			segments.add(new Segment(List.copyOf(declarations), List.copyOf(pending), null));
		}
		if (segments.isEmpty()) {
			segments.add(new Segment(List.copyOf(declarations), List.of(), null));
		}
		return segments;
	}

	/**
	 * The loop a top-level statement binds: a canonical loop itself, or the one loop of a block that holds
	 * nothing else but declarations (a lifted launch).
	 */
	private static ForStatement boundLoop(Statement s) {
		if (s instanceof ForStatement loop) {
			return canonical(loop) != null ? loop : null;
		}
		if (s instanceof CompoundStatement block) {
			List<Statement> others = block.getStatements().stream()
					.filter(x -> !(x instanceof DeclarationStatement) && !(x instanceof EmptyStatement)).toList();
			return others.size() == 1 ? boundLoop(others.get(0)) : null;
		}
		return null;
	}

	/** Blocks at the top of the entry are only scopes: their statements count as the entry's own. */
	private static List<Statement> flatten(List<Statement> statements) {
		boolean nested = statements.size() == 1 && statements.get(0) instanceof CompoundStatement;
		if (nested) {
			return flatten(((CompoundStatement) statements.get(0)).getStatements());
		}
		return new ArrayList<>(statements);
	}

	/** The variable of a {@link CanonicalLoop}, else null. */
	static String canonical(ForStatement loop) {
		return CanonicalLoop.of(loop).map(CanonicalLoop::variable).orElse(null);
	}

	/** The statements of one kernel, with the declarations before them and the loop to bind (or none). */
	private final class Segment {
		private final List<Statement> declarations;
		private List<Statement> statements;
		private ForStatement loop;

		Segment(List<Statement> declarations, List<Statement> statements, ForStatement loop) {
			this.declarations = declarations;
			this.statements = statements;
			this.loop = loop;
		}

		/**
		 * The kernel body: the bound loop strided by {@code index} and {@code stride}; statements outside a loop
		 * run once, in the unit that {@code solo} selects (null when only one unit runs the kernel).
		 */
		String body(KernelPrinter printer, String index, String stride, String solo) {
			StringBuilder out = new StringBuilder();
			declarations.forEach(d -> out.append(printer.statement(d, 1)));
			if (loop == null) {
				if (solo != null) {
					out.append("    if (").append(solo).append(") {\n");
				}
				statements.forEach(s -> out.append(printer.statement(s, solo != null ? 2 : 1)));
				if (solo != null) {
					out.append("    }\n");
				}
				return out.toString();
			}
			String i = canonical(loop);
			Declarator x = loop.getInitDeclaration().getDeclarators().get(0);
			String start = printer.expression((Expression) x.getInitializer());
			x.setInitializer(Snippets.expression(start.equals("0") ? index : "(" + start + ") + " + index, Dialect.VNNI));
			loop.setUpdate(Snippets.expression(i + " += " + stride, Dialect.VNNI));
			statements.forEach(s -> out.append(printer.statement(s, 1)));
			return out.toString();
		}

		/**
		 * Arrays of more than {@value #LARGE_ARRAY_BYTES} bytes declared in the bound loop's body (a BANG task's
		 * NRAM buffers, a block's shared memory once lifted) would be per-thread stack on a GPU, beyond what
		 * hipcc allows; they become one slice per iteration of a {@code __device__} array instead:
		 * {@code float buffer[32768];} becomes {@code __device__ float relu_buffer[16][32768];} and the loop
		 * uses {@code relu_buffer[task]}. Needs a constant trip count from 0; returns the declarations.
		 */
		String hoistLargeArrays(KernelPrinter printer, String kernel) {
			if (loop == null) {
				return "";
			}
			OptionalLong trips = tripsFromZero();
			String i = canonical(loop);
			StringBuilder globals = new StringBuilder();
			List<DeclarationStatement> local = new ArrayList<>();
			loop.getBody().eAllContents().forEachRemaining(o -> {
				if (o instanceof DeclarationStatement d && !(d.eContainer() instanceof ForStatement)) {
					local.add(d);
				}
			});
			ConstantFolder macros = ConstantFolder.withMacrosOf(EcoreUtil2.getContainerOfType(loop, TranslationUnit.class));
			for (DeclarationStatement d : local) {
				Declaration declaration = d.getDeclaration();
				if (declaration.getDeclarators().size() != 1 || trips.isEmpty()) {
					continue;
				}
				Declarator x = declaration.getDeclarators().get(0);
				if (!isLargeArray(d, macros) || x.getInitializer() != null) {
					continue;
				}
				String original = x.getName();
				String hoisted = kernel + "_" + original;
				DeclarationStatement copy = EcoreUtil.copy(d);
				Declarator y = copy.getDeclaration().getDeclarators().get(0);
				y.setName(hoisted);
				org.xpiler.lang.kernel.ArrayDimension perIteration = org.xpiler.lang.kernel.KernelFactory.eINSTANCE
						.createArrayDimension();
				perIteration.setSize(Snippets.expression(Long.toString(trips.getAsLong()), Dialect.VNNI));
				y.getDimensions().add(0, perIteration);
				globals.append("__device__ ").append(printer.statement(copy, 0));
				List<Name> uses = new ArrayList<>();
				loop.getBody().eAllContents().forEachRemaining(o -> {
					if (o instanceof Name n && n.getName().equals(original)) {
						uses.add(n);
					}
				});
				uses.forEach(n -> EcoreUtil.replace(n, Snippets.expression(hoisted + "[" + i + "]", Dialect.VNNI)));
				EcoreUtil.remove(d);
			}
			return globals.length() == 0 ? "" : "\n" + globals;
		}

		/**
		 * Whether {@code d} declares one array of more than {@value #LARGE_ARRAY_BYTES} bytes, its dimensions
		 * folded with the file's macros.
		 */
		private static boolean isLargeArray(DeclarationStatement d, ConstantFolder macros) {
			Declaration declaration = d.getDeclaration();
			if (declaration.getDeclarators().size() != 1) {
				return false;
			}
			Declarator x = declaration.getDeclarators().get(0);
			long elements = 1;
			for (var dimension : x.getDimensions()) {
				elements *= dimension.getSize() == null ? 0 : macros.fold(dimension.getSize()).orElse(0);
			}
			try {
				return elements * (x.getPointers().isEmpty() ? ConstantFolder.size(declaration.getType()) : 8) > LARGE_ARRAY_BYTES;
			} catch (RuntimeException notAScalarType) {
				return false;
			}
		}

		private OptionalLong tripsFromZero() {
			Declarator x = loop.getInitDeclaration().getDeclarators().get(0);
			ConstantFolder folder = new ConstantFolder();
			if (folder.fold((Expression) x.getInitializer()).orElse(-1) != 0) {
				return OptionalLong.empty();
			}
			return folder.fold(((Binary) loop.getCondition()).getRight());
		}

		/**
		 * Makes the bound loop and the loops perfectly nested in it one loop over all their iterations, so that
		 * each gets a thread of its own: {@code for (int i = 0; i < 64; i++) for (int j = 0; j < 128; j++) S}
		 * becomes {@code for (int i_j = 0; i_j < 8192; ++i_j) { const int i = i_j / 128; const int j = i_j % 128;
		 * S }}. Only loops with constant bounds join; the loops around a matrix product whose operands the target's
		 * matrix cores take stay for them ({@link SimtMatrixTensorize}). Whether the iterations of the inner loops were independent is the
		 * oracle's (and its race detector's) to decide, as for the bound loop.
		 */
		void collapse(Dialect to, Set<String> taken) {
			if (SimtMatrixTensorize.takesProductsIn(loop, to)) {
				return; // the matrix cores take the product's loops over rows (and batches) as they are
			}
			ConstantFolder macros = ConstantFolder.withMacrosOf(EcoreUtil2.getContainerOfType(loop, TranslationUnit.class));
			if (EcoreUtil2.eAllOfType(loop, DeclarationStatement.class).stream().anyMatch(d -> isLargeArray(d, macros))) {
				return; // one slice of device memory per iteration would grow with every loop joined
			}
			ConstantFolder folder = folder();
			List<CanonicalLoop> nest = new ArrayList<>();
			Optional<CanonicalLoop> next = CanonicalLoop.of(loop);
			while (next.isPresent() && folder.fold(next.get().lower()).isPresent()
					&& folder.fold(next.get().upper()).isPresent()) {
				nest.add(next.get());
				next = next.get().perfectlyNested();
			}
			if (nest.size() < 2) {
				return;
			}
			String fused = unique(String.join("_", nest.stream().map(CanonicalLoop::variable).toList()), taken);
			StringBuilder text = new StringBuilder();
			long total = 1;
			for (CanonicalLoop level : nest) {
				total *= trips(level, folder);
			}
			text.append("for (int ").append(fused).append(" = 0; ").append(fused).append(" < ").append(total)
					.append("; ++").append(fused).append(") {\n");
			long inner = total;
			for (CanonicalLoop level : nest) {
				long trips = trips(level, folder);
				inner /= trips;
				long lower = folder.fold(level.lower()).getAsLong();
				String position = inner == 1 ? fused : fused + " / " + inner;
				if (level != nest.get(0)) {
					position = (inner == 1 ? position : "(" + position + ")") + " % " + trips;
				}
				text.append("const int ").append(level.variable()).append(" = ").append(lower == 0 ? "" : lower + " + ")
						.append(position).append(";\n");
			}
			KernelPrinter printer = Dialect.VNNI.printer();
			nest.get(nest.size() - 1).body().forEach(st -> text.append(printer.statement(st, 1)));
			text.append("}\n");
			ForStatement collapsed = (ForStatement) Snippets.statements(text.toString(), Dialect.VNNI).get(0);
			EcoreUtil.replace(loop, collapsed);
			ForStatement bound = loop;
			statements = statements.stream().map(st -> st == bound ? collapsed : st).toList();
			loop = collapsed;
		}

		private static long trips(CanonicalLoop loop, ConstantFolder folder) {
			return Math.max(0, folder.fold(loop.upper()).getAsLong() - folder.fold(loop.lower()).getAsLong());
		}

		/** The constants of the file and of the declarations before the loop. */
		private ConstantFolder folder() {
			ConstantFolder folder = ConstantFolder.withConstantsOf(EcoreUtil2.getContainerOfType(loop, TranslationUnit.class),
					EcoreUtil2.getContainerOfType(loop, FunctionDefinition.class));
			for (Statement d : declarations) {
				for (Declarator x : ((DeclarationStatement) d).getDeclaration().getDeclarators()) {
					if (x.getInitializer() instanceof Expression e) {
						folder.fold(e).ifPresent(v -> folder.define(x.getName(), v));
					}
				}
			}
			return folder;
		}

		/** Blocks enough to give every iteration its own thread, when the trip count is known (before {@link #body}). */
		long blocks(int threads) {
			if (loop == null || binding == Binding.SINGLE) {
				return 1;
			}
			ConstantFolder folder = new ConstantFolder();
			for (Statement d : declarations) {
				for (Declarator x : ((DeclarationStatement) d).getDeclaration().getDeclarators()) {
					if (x.getInitializer() instanceof Expression e) {
						folder.fold(e).ifPresent(v -> folder.define(x.getName(), v));
					}
				}
			}
			Declarator x = loop.getInitDeclaration().getDeclarators().get(0);
			OptionalLong first = folder.fold((Expression) x.getInitializer());
			OptionalLong end = folder.fold(((Binary) loop.getCondition()).getRight());
			if (first.isEmpty() || end.isEmpty()) {
				return 64;
			}
			long trips = Math.max(1, end.getAsLong() - first.getAsLong());
			return Math.min(65535, (trips + threads - 1) / threads);
		}
	}
}
