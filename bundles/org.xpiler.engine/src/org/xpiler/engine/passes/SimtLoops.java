package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.core.vm.VirtualMachine;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.DirectiveStatement;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.InitializerList;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.KernelLaunch;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.StructDefinition;
import org.xpiler.lang.kernel.TemplateArgument;
import org.xpiler.lang.kernel.TemplateId;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.kernel.WhileStatement;
import org.xpiler.lang.parsing.MacroDefinition;
import org.xpiler.lang.parsing.StructDefinitions;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Loop recovery for CUDA and HIP: the host wrapper keeps its name and parameters, its device buffers become
 * the host buffers they were copied from or to, and every launch is replaced by the kernel's body inside
 * sequential block and thread loops. Barriers split the thread loop (loop fission): variables that live
 * across a barrier become one element per thread, shared memory becomes one array per block, and warp
 * shuffles exchange values through a per-thread buffer at an implied barrier. Conditions around barriers
 * that differ between threads become per-thread guards.
 */
final class SimtLoops {
	private static final Set<String> SPECIAL = Set.of("threadIdx", "blockIdx", "blockDim", "gridDim");
	private static final Set<String> DROPPED_RUNTIME = Set.of("DeviceSynchronize", "GetLastError", "PeekAtLastError",
			"StreamSynchronize", "ThreadSynchronize", "DeviceReset", "StreamCreate", "StreamCreateWithFlags",
			"StreamDestroy");
	/** The runtime's descriptions of a status, which only error paths read. */
	private static final Set<String> ERROR_DESCRIPTIONS = Set.of("GetErrorString", "GetErrorName");
	/** The runtime calls with an effect that lifting turns into sequential code (or drops, for Free). */
	private static final Set<String> LIFTED_RUNTIME = Set.of("Malloc", "Free", "Memcpy", "MemcpyAsync", "Memset");
	private static final Set<String> DEVICE_QUALIFIERS = Set.of("__device__", "__host__", "__forceinline__",
			"__noinline__", "__constant__", "__managed__");

	private final Dialect from;
	private final KernelPrinter printer;
	private final int warpWidth;
	private int shuffles;
	private final Map<String, FunctionDefinition> devices = new LinkedHashMap<>();
	private int guards;
	/** The {@code __constant__} arrays that became kernel parameters ({@link ConstantSymbols}). */
	private final Set<String> liftedSymbols = new HashSet<>();

	/** The grid and block a bare {@code __global__} entry is launched with; null when the file has a host wrapper. */
	private final VirtualMachine.LaunchShape bareLaunch;
	/** The wrapper's {@code dim3} variables of grids sized at run time, removed once their launches are lifted. */
	private final List<org.xpiler.lang.kernel.Declaration> runtimeDimensions = new ArrayList<>();
	/** The name of the bare entry, which the lifted wrapper takes; null for a file with a wrapper. */
	private String bareEntry;

	SimtLoops(Dialect from, VirtualMachine.LaunchShape bareLaunch) {
		this.from = from;
		this.bareLaunch = bareLaunch;
		this.printer = from.printer();
		this.warpWidth = from == Dialect.HIP ? 64 : 32;
	}

	/**
	 * Gives a bare {@code __global__} entry the host wrapper that launches it with its shape, with the entry's
	 * parameters: the wrapper's lifting, written under the entry's name, is a C++ function of the kernel's own
	 * signature. The wrapper is appended to the file as it was read, so refusals still name the source's lines.
	 */
	private EntryPoint launchedFromHost(TranslationUnit unit, FunctionDefinition kernel, VirtualMachine.LaunchShape shape) {
		bareEntry = kernel.getName();
		String parameters = String.join(", ", kernel.getParams().stream().map(printer::parameter).toList());
		String arguments = String.join(", ", kernel.getParams().stream().map(p -> p.getDeclarator().getName()).toList());
		String wrapper = "\nextern \"C\" void " + Snippets.freshName(unit, bareEntry + "_launch", from) + "("
				+ parameters + ")\n{\n    " + bareEntry + "<<<" + dim3(shape.grid()) + ", " + dim3(shape.block()) + ">>>("
				+ arguments + ");\n}\n";
		unit.getItems().addAll(new ArrayList<>(Snippets.file(wrapper, from).getItems()));
		return EntryPoint.find(unit, java.util.Optional.empty());
	}

	private static String dim3(int[] extents) {
		return "dim3(" + extents[0] + ", " + extents[1] + ", " + extents[2] + ")";
	}

	/** The sequential C++ program equivalent to {@code unit}. */
	String recover(TranslationUnit unit) {
		new PureFunctionInliner().inline(unit); // launch sizes such as ceil_div(n, threads) then fold
		EntryPoint found = EntryPoint.find(unit, java.util.Optional.empty());
		EntryPoint entry = found.kind() == EntryPoint.Kind.SIMT_KERNEL && bareLaunch != null
				? launchedFromHost(unit, found.function(), bareLaunch)
				: found;
		if (entry.kind() != EntryPoint.Kind.HOST) {
			throw PassRefusal.at(entry.function(), "the entry " + entry.name() + " is a kernel without a host wrapper, so "
					+ "its launch configuration is unknown; add the extern \"C\" wrapper that launches it");
		}
		Map<String, FunctionDefinition> kernels = new LinkedHashMap<>();
		Snippets.flattenNamespaces(unit); // the items are written out one by one
		List<TopLevel> items = Snippets.topLevelItems(unit);
		for (TopLevel item : items) {
			if (item instanceof FunctionDefinition f && EntryPoint.hasQualifier(f, "__global__") && f.getBody() != null) {
				kernels.put(f.getName(), f);
			}
		}
		for (TopLevel item : items) {
			if (item instanceof FunctionDefinition f && f.getBody() != null && !kernels.containsKey(f.getName())) {
				devices.put(f.getName(), f);
			}
		}
		liftedSymbols.addAll(new ConstantSymbols(unit, from).lift(entry.function(), kernels));
		PortableMath.rewrite(unit, from, Dialect.VNNI);
		HalfPrecision.lift(unit, from);
		StringBuilder out = new StringBuilder("#include <math.h>\n#include <stdint.h>\n#include <string.h>\n");
		out.append(VectorStructs.definitions(unit));
		out.append(HalfPrecision.pairDefinitions(unit));
		for (TopLevel item : items) {
			switch (item) {
			case Directive d when d.getText().contains("cuda") || d.getText().contains("hip/")
					|| d.getText().contains("<math.h>") || d.getText().contains("<string.h>") || d.getText().contains("<stdint.h>") -> {
			}
			case FunctionDefinition f when kernels.containsKey(f.getName()) -> {
			}
			case FunctionDefinition f when f == entry.function() -> {
				if (bareEntry != null) {
					f.setName(bareEntry);
				}
				out.append(wrapper(unit, f, kernels));
			}
			case FunctionDefinition f -> out.append(deviceFunction(f));
			case Declaration d -> out.append(global(d));
			default -> out.append(printer.topLevel(item));
			}
		}
		return out.toString();
	}

	private String deviceFunction(FunctionDefinition f) {
		if (f.getBody() != null && DeviceInliner.cooperative(f, devices)) {
			return ""; // inlined into the kernels that call it
		}
		if (f.getBody() != null) {
			f.getBody().eAllContents().forEachRemaining(o -> {
				if (o instanceof Name n && SPECIAL.contains(n.getName())) {
					throw PassRefusal.at(n, "the device function " + f.getName() + " reads " + n.getName()
							+ "; only kernels may use the thread index when lifting to sequential code");
				}
			});
		}
		f.getSpecifiers().removeIf(s -> s instanceof Specifier q && DEVICE_QUALIFIERS.contains(q.getName()));
		return "\n" + printer.topLevel(f);
	}

	private String global(Declaration d) {
		if (d.getSpecifiers().stream().anyMatch(s -> s instanceof Specifier q && q.getName().equals("__shared__"))) {
			throw PassRefusal.at(d, "file-scope __shared__ memory is not supported when lifting");
		}
		d.getDeclarators().removeIf(x -> liftedSymbols.contains(x.getName()));
		if (d.getDeclarators().isEmpty()) {
			return "";
		}
		d.getSpecifiers().removeIf(s -> s instanceof Specifier q && DEVICE_QUALIFIERS.contains(q.getName()));
		return printer.topLevel(d);
	}

	// ------------------------------------------------------------------ the host wrapper

	/**
	 * Whether {@code name} is the variable of a loop that recovery made of a thread or block index
	 * ({@code threadIdx_x}, {@code blockIdx_y}): its iterations were the source's threads, free to run in any order.
	 */
	static boolean isParallelIndex(String name) {
		return name.matches("(threadIdx|blockIdx)_[xyz]");
	}

	/** Whether {@code name} is a grid extent that recovery read from the wrapper ({@code gridDim_x}, {@code gridDim_y_2}). */
	static boolean isGridExtent(String name) {
		return name.matches("gridDim_[xyz](_\\d+)?");
	}

	/** Whether the runtime call (without its prefix) copies between buffers, on a stream or not. */
	private static boolean isCopy(String runtimeCall) {
		return runtimeCall.equals("Memcpy") || runtimeCall.equals("MemcpyAsync");
	}

	/** The runtime name without its dialect prefix: {@code cudaMemcpy} and {@code hipMemcpy} are {@code Memcpy}. */
	private static String runtime(String name) {
		if (name == null) {
			return null;
		}
		if (name.startsWith("cuda")) {
			return name.substring(4);
		}
		return name.startsWith("hip") ? name.substring(3) : null;
	}

	private String wrapper(TranslationUnit unit, FunctionDefinition f, Map<String, FunctionDefinition> kernels) {
		CompoundStatement body = f.getBody();
		expandStatementMacros(unit, body);
		Set<String> parameters = new HashSet<>();
		f.getParams().forEach(p -> parameters.add(p.getDeclarator().getName()));
		Set<String> device = new HashSet<>();
		List<Call> runtimeCalls = new ArrayList<>();
		body.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call call && runtime(Snippets.callee(call)) != null) {
				runtimeCalls.add(call);
			}
		});
		for (Call call : runtimeCalls) {
			if (runtime(Snippets.callee(call)).equals("Malloc") && !call.getArgs().isEmpty()) {
				device.add(addressed(call.getArgs().get(0), call));
			}
		}
		Map<String, String> alias = WrapperBuffers.aliases(runtimeCalls.stream()
				.filter(call -> isCopy(runtime(Snippets.callee(call))) && call.getArgs().size() >= 4).toList(), device,
				parameters);
		Set<String> scratch = new HashSet<>(device);
		scratch.removeAll(alias.keySet());
		LaunchConstants sizes = new LaunchConstants(unit, body, from);
		Map<Statement, String> scratchAllocations = new LinkedHashMap<>();
		// in sequential code every runtime call succeeds: status reads are 0, and the error paths they guard are dead
		for (Call call : runtimeCalls) {
			String what = runtime(Snippets.callee(call));
			Statement statement = Snippets.enclosingStatement(call);
			if ((!(statement instanceof ExpressionStatement es) || es.getExpression() != call)
					&& !ERROR_DESCRIPTIONS.contains(what)) {
				statusRead(call, what);
			}
		}
		new DeadBranches(new LaunchConstants(unit, f, from)).removeDecided(body);
		for (Call call : runtimeCalls) {
			String what = runtime(Snippets.callee(call));
			Statement statement = Snippets.enclosingStatement(call);
			if (!EcoreUtil.isAncestor(body, call)) {
				continue; // a status read, now 0, or a call on a dead error path
			}
			if (!(statement instanceof ExpressionStatement es) || es.getExpression() != call) {
				throw PassRefusal.at(call, Snippets.callee(call) + " has no sequential counterpart");
			}
			switch (what) {
			case "Malloc" -> {
				String buffer = addressed(call.getArgs().get(0), call);
				if (scratch.contains(buffer)) {
					scratchAllocations.put(statement, WrapperBuffers.scratchStorage(call, buffer, body,
							WrapperBuffers.scratchBytes(call, buffer, sizes::value), printer));
				} else {
					EcoreUtil.remove(statement);
				}
			}
			case "Free" -> EcoreUtil.remove(statement);
			case "Memcpy", "MemcpyAsync" -> { // in sequential code a copy on a stream is done when the call returns
				String dst = alias.getOrDefault(nameOf(call.getArgs().get(0)), nameOf(call.getArgs().get(0)));
				String src = alias.getOrDefault(nameOf(call.getArgs().get(1)), nameOf(call.getArgs().get(1)));
				if (dst != null && dst.equals(src)) {
					EcoreUtil.remove(statement);
				} else {
					WrapperBuffers.replaceByByteLoop(statement, call, "((const unsigned char *)("
							+ printer.expression(call.getArgs().get(1)) + "))[byte]", printer, from);
				}
			}
			case "Memset" -> WrapperBuffers.replaceByByteLoop(statement, call,
					"(unsigned char)(" + printer.expression(call.getArgs().get(1)) + ")", printer, from);
			default -> {
				if (DROPPED_RUNTIME.contains(what)) {
					EcoreUtil.remove(statement);
				} else if (!what.equals("LaunchKernelGGL")) {
					throw PassRefusal.at(call, Snippets.callee(call) + " has no sequential counterpart");
				}
			}
			}
		}
		WrapperBuffers.removeDeclarations(body, device);
		scratchAllocations.forEach((allocation, storage) -> {
			CompoundStatement block = (CompoundStatement) allocation.eContainer();
			int at = block.getStatements().indexOf(allocation);
			block.getStatements().remove(at);
			block.getStatements().addAll(at, Snippets.statements(storage, from));
		});
		body.eAllContents().forEachRemaining(o -> {
			if (o instanceof Name n && alias.containsKey(n.getName())) {
				n.setName(alias.get(n.getName()));
			}
		});
		LaunchConstants configurations = new LaunchConstants(unit, body, from);
		TemplateInstances templates = new TemplateInstances(configurations, f, from);
		List<EObject> launches = new ArrayList<>();
		body.eAllContents().forEachRemaining(o -> {
			if (o instanceof KernelLaunch || o instanceof Call c && "hipLaunchKernelGGL".equals(Snippets.callee(c))) {
				launches.add(o);
			}
		});
		Map<String, Integer> launchCounts = new HashMap<>();
		for (EObject launch : launches) {
			launchCounts.merge(kernelName(launch), 1, Integer::sum);
		}
		for (EObject launch : launches) {
			String name = kernelName(launch);
			FunctionDefinition kernel = kernels.get(name);
			if (kernel == null) {
				throw PassRefusal.at(launch, "the launched kernel " + name + " is not defined in this file");
			}
			Statement statement = Snippets.enclosingStatement(launch);
			if (!(statement instanceof ExpressionStatement es) || es.getExpression() != launch) {
				throw PassRefusal.at(launch, "a launch must be a statement of its own");
			}
			List<Expression> config = launchConfig(launch);
			long sharedBytes = 0;
			if (config.size() > 2) {
				sharedBytes = configurations.value(config.get(2)).orElseThrow(() -> PassRefusal.at(launch,
						"the dynamic shared memory size (the third launch argument) is not a compile-time constant"));
			}
			String[] grid = gridExtents(configurations, config.get(0), launch);
			int[] block = launchDimensions(configurations, config.get(1), launch);
			FunctionDefinition instance = launchCounts.get(name) > 1 ? EcoreUtil.copy(kernel) : kernel;
			if (kernel.getTemplate() != null) {
				instance = templates.instance(kernel, launch, templateArguments(launch), launchArgs(launch));
			} else if (!templateArguments(launch).isEmpty()) {
				throw PassRefusal.at(launch, "the kernel " + name + " is not a template");
			}
			String text = new KernelBody(unit, instance, grid, block, sharedBytes).lift(launchArgs(launch),
					printer.expression((Expression) launch));
			List<Statement> lifted = Snippets.statements(text, from);
			EcoreUtil.replace(statement, lifted.get(0));
		}
		configurations.removeDimensions(body);
		runtimeDimensions.stream().filter(d -> !Snippets.mentions(body, d.getDeclarators().get(0).getName()))
				.forEach(d -> EcoreUtil.remove(d.eContainer()));
		runtimeDimensions.clear();
		runtimeEnumsAsIntegers(body);
		DeadBranches.removeEmptyOnceLoops(body);
		WrapperBuffers.removeUnusedDeclarations(body);
		String text = printer.topLevel(f);
		boolean externC = f.getSpecifiers().stream().anyMatch(s -> s instanceof org.xpiler.lang.kernel.LinkageSpecifier);
		return "\n" + (externC ? "" : "extern \"C\" ") + text;
	}

	/**
	 * Expands the wrapper's calls of statement macros as the preprocessor does, so that the runtime calls they
	 * wrap are lifted like the others: with {@code #define CHECK(x) do { cudaError_t e = (x); if (e !=
	 * cudaSuccess) return; } while (0)}, {@code CHECK(cudaMalloc(&d_x, bytes));} becomes that do statement with
	 * {@code cudaMalloc(&d_x, bytes)} for {@code x}. Macros whose body is an expression, or that use {@code #}
	 * or {@code ##}, are left alone.
	 */
	private void expandStatementMacros(TranslationUnit unit, CompoundStatement body) {
		Map<String, MacroDefinition> macros = new HashMap<>();
		for (TopLevel item : Snippets.topLevelItems(unit)) {
			if (item instanceof Directive d) {
				MacroDefinition.of(d.getText()).filter(m -> m.parameters() != null && !m.body().contains("#")
						&& !isExpression(m.body())).ifPresent(m -> macros.put(m.name(), m));
			}
		}
		for (int round = 0; round < 16 && !macros.isEmpty(); round++) { // a macro may use another
			List<ExpressionStatement> uses = new ArrayList<>();
			body.eAllContents().forEachRemaining(o -> {
				if (o instanceof ExpressionStatement es && es.getExpression() instanceof Call c
						&& macros.containsKey(Snippets.callee(c))
						&& c.getArgs().size() == macros.get(Snippets.callee(c)).parameters().size()) {
					uses.add(es);
				}
			});
			if (uses.isEmpty()) {
				return;
			}
			for (ExpressionStatement use : uses) {
				Call call = (Call) use.getExpression();
				MacroDefinition macro = macros.get(Snippets.callee(call));
				String text = macro.expanded(call.getArgs().stream().map(printer::expression).toList());
				CompoundStatement block = Snippets.ensureInBlock(use);
				int at = block.getStatements().indexOf(use);
				block.getStatements().remove(at);
				block.getStatements().addAll(at, Snippets.statements(text + ";", from));
			}
		}
	}

	private boolean isExpression(String text) {
		try {
			return Snippets.expression(text, from) != null;
		} catch (IllegalArgumentException notAnExpression) {
			return false;
		}
	}

	/**
	 * A runtime call whose status the wrapper reads ({@code cudaError_t err = cudaGetLastError();},
	 * {@code if (cudaMalloc(&d_x, bytes) != cudaSuccess) return;}). Sequential code has no runtime errors, so
	 * the status is success, 0: a call without effect there (a status query, a synchronization) is replaced by
	 * 0; a call with an effect moves to a statement of its own just before, where the wrapper's other calls are
	 * lifted. It moves only where that keeps the order of effects: its statement must evaluate it once,
	 * unconditionally, with no other call or side effect.
	 */
	private void statusRead(Call call, String what) {
		if (DROPPED_RUNTIME.contains(what)) {
			EcoreUtil.replace(call, Snippets.expression("0", from));
			return;
		}
		if (!LIFTED_RUNTIME.contains(what)) {
			throw PassRefusal.at(call, Snippets.callee(call) + " has no sequential counterpart");
		}
		Statement statement = EcoreUtil2.getContainerOfType(call, Statement.class);
		EObject evaluated = switch (statement) {
		case DeclarationStatement d -> d;
		case ExpressionStatement e -> e;
		case IfStatement i when EcoreUtil.isAncestor(i.getCondition(), call) -> i.getCondition();
		default -> null;
		};
		if (evaluated == null || !onlyEffect(evaluated, call)) {
			throw PassRefusal.at(call, Snippets.callee(call) + " is used as a value where it cannot move to a statement "
					+ "of its own: the statement must evaluate it once, unconditionally, with no other call or side effect");
		}
		CompoundStatement block = Snippets.ensureInBlock(statement);
		int at = block.getStatements().indexOf(statement);
		EcoreUtil.replace(call, Snippets.expression("0", from));
		ExpressionStatement alone = KernelFactory.eINSTANCE.createExpressionStatement();
		alone.setExpression(call);
		block.getStatements().add(at, alone);
	}

	/**
	 * Whether {@code call} is the one effect of {@code evaluated} (besides assignments to variables, which
	 * follow it), evaluated unconditionally: no other call, increment or assignment through memory, and no
	 * {@code &&}, {@code ||} or {@code ?:} between it and the statement.
	 */
	private static boolean onlyEffect(EObject evaluated, Call call) {
		if (!Snippets.evaluatedUnconditionally(call, evaluated)) {
			return false;
		}
		for (var it = evaluated.eAllContents(); it.hasNext();) {
			EObject o = it.next();
			if (o == call) {
				it.prune();
			} else if (o instanceof Call || o instanceof KernelLaunch || o instanceof org.xpiler.lang.kernel.Postfix
					|| o instanceof Unary u && (u.getOp().equals("++") || u.getOp().equals("--"))
					|| o instanceof Assignment a && !(a.getLeft() instanceof Name)) {
				return false;
			}
		}
		return true;
	}

	/**
	 * The runtime's status and direction enums left in the wrapper ({@code cudaError_t err = 0;
	 * if (err != cudaSuccess)}) as the integers they are, which every dialect knows.
	 */
	private void runtimeEnumsAsIntegers(CompoundStatement body) {
		List<EObject> nodes = new ArrayList<>();
		body.eAllContents().forEachRemaining(nodes::add);
		for (EObject node : nodes) {
			if (node instanceof org.xpiler.lang.kernel.NamedType type && isRuntimeEnum(type.getName())) {
				org.xpiler.lang.kernel.BuiltinType integer = KernelFactory.eINSTANCE.createBuiltinType();
				integer.setName("int");
				EcoreUtil.replace(type, integer);
			} else if (node instanceof Name n && !(n.eContainer() instanceof Call c && c.getCallee() == n)) {
				from.catalog().constant(n.getName()).filter(c -> c.type() != null && isRuntimeEnum(c.type())
						&& c.value() instanceof Number).ifPresent(c -> EcoreUtil.replace(n,
								Snippets.expression(Long.toString(((Number) c.value()).longValue()), from)));
			}
		}
	}

	private boolean isRuntimeEnum(String name) {
		return runtime(name) != null && from.catalog().type(name).filter(t -> "enum".equals(t.kind())).isPresent();
	}

	/** The buffer an allocation fills: {@code d_x} of {@code &d_x}, {@code (void**)&d_x} or a C++ cast of it. */
	private String addressed(Expression e, Call at) {
		Expression inner = e;
		while (true) {
			if (inner instanceof org.xpiler.lang.kernel.Cast c) {
				inner = c.getOperand();
			} else if (inner instanceof org.xpiler.lang.kernel.CxxCast c) {
				inner = c.getOperand();
			} else if (inner instanceof org.xpiler.lang.kernel.Parenthesized p) {
				inner = p.getExpression();
			} else {
				break;
			}
		}
		if (inner instanceof Unary u && u.getOp().equals("&") && u.getOperand() instanceof Name n) {
			return n.getName();
		}
		throw PassRefusal.at(at, Snippets.callee(at) + " must be given the address of a named pointer (&buffer); "
				+ printer.expression(e) + " is not one");
	}

	private static String nameOf(Expression e) {
		return e instanceof Name n ? n.getName() : null;
	}

	private static String kernelName(EObject launch) {
		return switch (launchedKernel(launch)) {
		case Name n -> n.getName();
		case TemplateId id -> id.getName();
		default -> throw PassRefusal.at(launch, "only launches of a kernel by name are lifted (not through a pointer)");
		};
	}

	private static Expression launchedKernel(EObject launch) {
		return launch instanceof KernelLaunch l ? l.getKernel() : ((Call) launch).getArgs().get(0);
	}

	/** The template arguments written at the launch ({@code k<128><<<...>>>}), none for a plain name. */
	private static List<TemplateArgument> templateArguments(EObject launch) {
		return launchedKernel(launch) instanceof TemplateId id ? id.getTemplateArgs() : List.of();
	}

	private static List<Expression> launchConfig(EObject launch) {
		if (launch instanceof KernelLaunch l) {
			return l.getConfig();
		}
		return ((Call) launch).getArgs().subList(1, 5);
	}

	private static List<Expression> launchArgs(EObject launch) {
		if (launch instanceof KernelLaunch l) {
			return l.getArgs();
		}
		List<Expression> args = ((Call) launch).getArgs();
		return args.subList(5, args.size());
	}

	private static int[] launchDimensions(LaunchConstants constants, Expression e, EObject launch) {
		int[] dims = constants.dimensions(e);
		if (dims == null) {
			throw PassRefusal.at(launch, "the block of the launch is not a compile-time constant; lifting specializes "
					+ "the kernel for its block");
		}
		return dims;
	}

	/**
	 * The grid's (x, y, z) as text: a number where it folds, else the wrapper's expression for it
	 * ({@code (n + 255) / 256} of {@code <<<(n + 255) / 256, 256>>>} or {@code dim3((n + 255) / 256, rows)}),
	 * which the block loops read once. A grid given as a {@code dim3} variable must fold.
	 */
	private String[] gridExtents(LaunchConstants constants, Expression e, EObject launch) {
		int[] dims = constants.dimensions(e);
		if (dims != null) {
			return new String[] { Integer.toString(dims[0]), Integer.toString(dims[1]), Integer.toString(dims[2]) };
		}
		Declarator dim3 = e instanceof Name n ? dim3Variable(n) : null;
		List<Expression> axes = dim3 != null ? runtimeDimension(dim3, (Name) e) : dim3Arguments(e);
		if (axes == null || axes.isEmpty() || axes.size() > 3) {
			throw PassRefusal.at(launch, "the grid of the launch is not a compile-time constant, nor expressions the"
					+ " wrapper computes before it");
		}
		String[] extents = { "1", "1", "1" };
		for (int axis = 0; axis < axes.size(); axis++) {
			OptionalLong folded = constants.value(axes.get(axis));
			extents[axis] = folded.isPresent() ? Long.toString(folded.getAsLong())
					: "(" + printer.expression(withDimensionsFolded(axes.get(axis), constants)) + ")";
		}
		return extents;
	}

	/** The declaration of {@code name} if it is a {@code dim3} variable; null for a number of blocks. */
	private static Declarator dim3Variable(Name name) {
		Declarator declared = Snippets.visibleDeclaration(name.getName(), name);
		return declared != null && declared.eContainer() instanceof org.xpiler.lang.kernel.Declaration d
				&& "dim3".equals(d.getType().getName()) ? declared : null;
	}

	/** {@code (a, b)} of {@code dim3(a, b)}; a lone expression is the x extent. */
	private static List<Expression> dim3Arguments(Expression e) {
		return e instanceof Call c && "dim3".equals(Snippets.callee(c)) ? c.getArgs() : List.of(e);
	}

	/**
	 * The extents of the {@code dim3} variable {@code declared}, which {@code name} reads, declared once with
	 * expressions ({@code dim3 grid((n + 15) / 16, rows);}); its declaration goes with the launches
	 * ({@link #runtimeDimensions}). Null for anything else.
	 */
	private List<Expression> runtimeDimension(Declarator declared, Name name) {
		org.xpiler.lang.kernel.Declaration d = (org.xpiler.lang.kernel.Declaration) declared.eContainer();
		if (d.getDeclarators().size() != 1) {
			return null;
		}
		List<Expression> axes = declared.getInitializer() instanceof Expression init ? dim3Arguments(init)
				: declared.getConstructorArgs();
		if (CanonicalLoop.assignsAny(EcoreUtil2.getContainerOfType(name, FunctionDefinition.class).getBody(),
				Set.of(name.getName()))) {
			return null; // set member by member: not one expression per axis
		}
		runtimeDimensions.add(d);
		return axes;
	}

	/** A copy of {@code e} with the members of constant dimensions as their values ({@code block.x} as 16). */
	private static Expression withDimensionsFolded(Expression e, LaunchConstants constants) {
		Expression copy = EcoreUtil.copy(e);
		for (MemberAccess member : EcoreUtil2.eAllOfType(copy, MemberAccess.class)) {
			OptionalLong value = member.getTarget() instanceof Name ? constants.value(member) : OptionalLong.empty();
			if (value.isPresent() && member.eContainer() != null) {
				EcoreUtil.replace(member, Snippets.expression(Long.toString(value.getAsLong()), Dialect.VNNI));
			}
		}
		return copy;
	}

	// ------------------------------------------------------------------ one launched kernel

	/** A kernel specialized for one launch: its body inside block and thread loops, split at barriers. */
	private final class KernelBody {
		private final TranslationUnit unit;
		private final FunctionDefinition kernel;
		/** The grid's extents: numbers, or names of the launch's expressions for them ({@link #gridValues}). */
		private final String[] grid;
		/** {@code const int gridDim_x = (n + 255) / 256;} for each extent known only when the wrapper runs. */
		private final List<String> gridValues = new ArrayList<>();
		private final int[] block;
		private final int threads;
		private final String tid;
		private final Map<Name, Declarator> declarations = new LinkedHashMap<>(); // EObjects hash by identity
		private final Set<Declarator> uniform = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
		/** The {@code const} locals whose value is known at compile time, in the order of the text. */
		private final Set<Declarator> constants = new java.util.LinkedHashSet<>();
		private final List<String> blockDeclarations = new ArrayList<>();
		private boolean exits;
		private boolean fission;
		/** The launch's dynamic shared memory, which sizes {@code extern __shared__ T s[];}. */
		private final long sharedBytes;

		KernelBody(TranslationUnit unit, FunctionDefinition kernel, String[] grid, int[] block, long sharedBytes) {
			this.unit = unit;
			this.kernel = kernel;
			this.sharedBytes = sharedBytes;
			this.grid = grid.clone();
			for (int axis = 0; axis < 3; axis++) {
				if (!grid[axis].matches("\\d+")) {
					this.grid[axis] = Snippets.freshName(unit, "gridDim_" + "xyz".charAt(axis), from);
					gridValues.add("const int " + this.grid[axis] + " = " + grid[axis] + ";\n");
				}
			}
			this.block = block;
			this.threads = block[0] * block[1] * block[2];
			if (threads > 1024 || threads < 1) {
				throw PassRefusal.at(kernel, "a block of " + threads + " threads is not a valid launch");
			}
			String x = block[0] > 1 ? "threadIdx_x" : "0";
			String y = block[1] > 1 ? "threadIdx_y" : "0";
			String z = block[2] > 1 ? "threadIdx_z" : "0";
			if (threads == 1) {
				tid = "0";
			} else if (block[1] == 1 && block[2] == 1) {
				tid = x;
			} else if (block[2] == 1) {
				tid = "(" + y + " * " + block[0] + " + " + x + ")";
			} else {
				tid = "((" + z + " * " + block[1] + " + " + y + ") * " + block[0] + " + " + x + ")";
			}
		}

		String lift(List<Expression> args, String launchText) {
			CompoundStatement body = kernel.getBody();
			new DeviceInliner(devices, from).inlineCooperative(unit, kernel);
			replaceBuiltins(body);
			// the file's macros and constants and the body's own, with blockDim and warpSize already numbers
			LaunchConstants values = new LaunchConstants(unit, kernel, from);
			rewriteShuffles(body, values);
			fission = containsBarrier(body);
			dropHintsOfSplitLoops(body);
			rewriteReturns(body);
			resolve(body);
			collectConstants(body, values);
			List<Piece> pieces = build(body.getStatements(), null);
			expand(pieces);
			StringBuilder out = new StringBuilder("{\n");
			out.append("// ").append(launchText.replace('\n', ' ')).append('\n');
			gridValues.forEach(out::append); // before the parameters, which may hide the wrapper's names
			bindParameters(args, out);
			String[] blockNames = { "blockIdx_x", "blockIdx_y", "blockIdx_z" };
			int open = 0;
			for (int d = 2; d >= 0; d--) {
				if (!grid[d].equals("1")) {
					out.append("for (int ").append(blockNames[d]).append(" = 0; ").append(blockNames[d]).append(" < ")
							.append(grid[d]).append("; ++").append(blockNames[d]).append(") {\n");
					open++;
				}
			}
			blockDeclarations.forEach(d -> out.append(d));
			if (exits && fission) {
				out.append("bool exited[").append(threads).append("];\n");
				emitRegion(out, List.of(), null, tid.equals("0") ? "exited[0] = false;\n" : "exited[" + tid + "] = false;\n");
			}
			emit(pieces, out);
			out.append("}\n".repeat(open));
			out.append("}\n");
			return out.toString();
		}

		private void bindParameters(List<Expression> args, StringBuilder out) {
			List<Parameter> params = kernel.getParams();
			if (params.size() != args.size()) {
				throw PassRefusal.at(kernel, kernel.getName() + " takes " + params.size() + " arguments but is launched with "
						+ args.size());
			}
			Set<String> bound = new HashSet<>();
			for (int i = 0; i < params.size(); i++) {
				String name = params.get(i).getDeclarator().getName();
				String arg = printer.expression(args.get(i));
				for (String earlier : bound) {
					if (arg.matches(".*\\b" + java.util.regex.Pattern.quote(earlier) + "\\b.*")) {
						throw PassRefusal.at(args.get(i), "the launch arguments reuse the kernel's parameter name " + earlier);
					}
				}
				String retyped = retyped(params.get(i), args.get(i));
				if (!arg.equals(name) || retyped != null) {
					if (Snippets.mentions(args.get(i), name)) {
						// (const float *)x for the parameter x: the declaration would read itself
						name = renameParameter(params.get(i));
					}
					out.append(printer.parameter(params.get(i))).append(" = ")
							.append(retyped != null ? "(" + retyped + ")" + arg : arg).append(";\n");
					bound.add(name);
				}
			}
		}

		/**
		 * The pointer type of {@code p} when the buffer {@code arg} names has another element type (a float buffer
		 * that the kernel reads as float4), so that binding it needs a cast; else null.
		 */
		private String retyped(Parameter p, Expression arg) {
			if (p.getDeclarator().getPointers().isEmpty() || !(arg instanceof Name buffer)) {
				return null;
			}
			Declarator declared = Snippets.visibleDeclaration(buffer.getName(), buffer);
			TypeSpecifier type = Snippets.declaredType(declared);
			int levels = declared == null ? 0 : declared.getPointers().size() + declared.getDimensions().size();
			if (type == null || type.getName().equals(p.getType().getName())
					|| levels != p.getDeclarator().getPointers().size()) {
				return null;
			}
			String written = printer.parameter(p);
			return written.substring(0, written.lastIndexOf(p.getDeclarator().getName())).strip();
		}

		/** Gives {@code p} a name of its own in the kernel body (not where a local hides it); returns the name. */
		private String renameParameter(Parameter p) {
			String original = p.getDeclarator().getName();
			// the file's names where the kernel is still in it (the wrapper's locals are then taken too)
			TranslationUnit unit = EcoreUtil2.getContainerOfType(kernel, TranslationUnit.class);
			String fresh = Snippets.freshName(Snippets.takenNames(unit != null ? unit : kernel), original + "_arg", from);
			kernel.getBody().eAllContents().forEachRemaining(o -> {
				if (o instanceof Name n && n.getName().equals(original) && !declarations.containsKey(n)) {
					n.setName(fresh);
				}
			});
			p.getDeclarator().setName(fresh);
			return fresh;
		}

		/**
		 * Atomic updates whose old value nobody reads become plain updates: the lifted threads run one after
		 * the other, so {@code atomicAdd(&sum, v);} is {@code *(&sum) += (v);}.
		 */
		private void sequentialAtomics(CompoundStatement body) {
			Map<String, String> updates = Map.of("atomicAdd", "*($0) += ($1);", "atomicSub", "*($0) -= ($1);",
					"atomicExch", "*($0) = ($1);", "atomicAnd", "*($0) &= ($1);", "atomicOr", "*($0) |= ($1);",
					"atomicXor", "*($0) ^= ($1);", "atomicMax", "if (($1) > *($0)) *($0) = ($1);",
					"atomicMin", "if (($1) < *($0)) *($0) = ($1);");
			List<ExpressionStatement> statements = new ArrayList<>();
			body.eAllContents().forEachRemaining(o -> {
				if (o instanceof ExpressionStatement es && es.getExpression() instanceof Call c
						&& updates.containsKey(Snippets.callee(c)) && c.getArgs().size() == 2) {
					statements.add(es);
				}
			});
			for (ExpressionStatement es : statements) {
				Call c = (Call) es.getExpression();
				String text = updates.get(Snippets.callee(c)).replace("$0", printer.expression(c.getArgs().get(0)))
						.replace("$1", printer.expression(c.getArgs().get(1)));
				EcoreUtil.replace(es, Snippets.statements(text, from).get(0));
			}
		}

		/** threadIdx.x becomes the loop variable threadIdx_x, blockDim.x and gridDim.x their launch values. */
		private void replaceBuiltins(CompoundStatement body) {
			sequentialAtomics(body);
			List<EObject> nodes = new ArrayList<>();
			body.eAllContents().forEachRemaining(nodes::add);
			for (EObject node : nodes) {
				if (node instanceof MemberAccess m && !m.isArrow() && m.getTarget() instanceof Name n
						&& SPECIAL.contains(n.getName())) {
					int axis = "xyz".indexOf(m.getMember());
					if (axis < 0 || m.getMember().length() != 1) {
						throw PassRefusal.at(m, n.getName() + "." + m.getMember() + " is not a dimension");
					}
					String text = switch (n.getName()) {
					case "blockDim" -> Integer.toString(block[axis]);
					case "gridDim" -> grid[axis];
					case "threadIdx" -> block[axis] > 1 ? "threadIdx_" + m.getMember() : "0";
					default -> grid[axis].equals("1") ? "0" : "blockIdx_" + m.getMember();
					};
					EcoreUtil.replace(intCastOf(m), Snippets.expression(text, from));
				} else if (node instanceof Name n && n.getName().equals("warpSize")) {
					EcoreUtil.replace(n, Snippets.expression(Integer.toString(warpWidth), from));
				} else if (node instanceof Call c && "__lane_id".equals(Snippets.callee(c)) && c.getArgs().isEmpty()) {
					// HIP's lane of the thread in its wavefront
					EcoreUtil.replace(c, Snippets.expression("(" + tid + " % " + warpWidth + ")", from));
				}
			}
			body.eAllContents().forEachRemaining(o -> {
				if (o instanceof Name n && SPECIAL.contains(n.getName())) {
					throw PassRefusal.at(n, n.getName() + " is used as a whole; lift uses only its .x, .y and .z");
				}
				if (o instanceof Call c && Snippets.callee(c) != null) {
					String callee = Snippets.callee(c);
					if (callee.startsWith("atomic") || callee.startsWith("__ballot") || callee.startsWith("__any")
							|| callee.startsWith("__all") || callee.equals("__activemask")
							|| callee.startsWith("__syncthreads_") || callee.startsWith("wmma::")
							|| callee.startsWith("__builtin_amdgcn")) {
						throw PassRefusal.at(c, callee + " is not lifted to sequential code yet");
					}
				}
			});
		}

		/**
		 * {@code (int)blockIdx.x} (generated kernels write every index so) when {@code builtin} is cast to int, else
		 * {@code builtin} itself: the loop variable or launch value replacing it is an int already.
		 */
		private static Expression intCastOf(MemberAccess builtin) {
			if (builtin.eContainer() instanceof Cast cast && cast.getType().getPointers().isEmpty()
					&& cast.getType().getSpecifiers().isEmpty() && cast.getType().getType() instanceof BuiltinType type
					&& type.getName().equals("int")) {
				return cast;
			}
			return builtin;
		}

		// ---------------------------------------------------------------- warp shuffles

		private void rewriteShuffles(CompoundStatement body, LaunchConstants values) {
			List<Call> calls = new ArrayList<>();
			body.eAllContents().forEachRemaining(o -> {
				if (o instanceof Call c && Snippets.callee(c) != null && Snippets.callee(c).startsWith("__shfl")) {
					calls.add(c);
				}
			});
			for (Call call : calls) {
				String name = Snippets.callee(call);
				List<Expression> args = new ArrayList<>(call.getArgs());
				if (name.endsWith("_sync")) {
					args.remove(0);
					name = name.substring(0, name.length() - "_sync".length());
				}
				if (args.size() < 2) {
					throw PassRefusal.at(call, Snippets.callee(call) + " needs a value and a lane");
				}
				int width = warpWidth;
				if (args.size() > 2) {
					OptionalLong w = values.value(args.get(2));
					if (w.isEmpty()) {
						throw PassRefusal.at(call, "the shuffle width must be a constant");
					}
					width = (int) w.getAsLong();
				}
				String buffer = "shfl_buffer" + shuffles++;
				blockDeclarations.add("double " + buffer + "[" + threads + "];\n");
				String lane = "(" + tid + " % " + width + ")";
				String operand = "(" + printer.expression(args.get(1)) + ")";
				String own = buffer + "[" + tid + "]";
				String read = switch (name) {
				case "__shfl_down" -> "(" + lane + " + " + operand + " < " + width + " && " + tid + " + " + operand + " < "
						+ threads + " ? " + buffer + "[" + tid + " + " + operand + "] : " + own + ")";
				case "__shfl_up" -> "(" + lane + " >= " + operand + " ? " + buffer + "[" + tid + " - " + operand + "] : "
						+ own + ")";
				case "__shfl_xor" -> xorRead(buffer, operand, width, own);
				case "__shfl" -> buffer + "[" + tid + " - " + lane + " + " + operand + " % " + width + "]";
				default -> throw PassRefusal.at(call, Snippets.callee(call) + " is not a known shuffle");
				};
				// the innermost statement: in an unbraced loop body the exchange belongs inside the loop
				Statement statement = EcoreUtil2.getContainerOfType(call, Statement.class);
				CompoundStatement list = Snippets.ensureInBlock(statement);
				int at = list.getStatements().indexOf(statement);
				List<Statement> exchange = Snippets.statements(own + " = 0;\n__syncthreads();", from);
				Assignment write = (Assignment) ((ExpressionStatement) exchange.get(0)).getExpression();
				write.setRight(args.get(0)); // moves the value's own nodes, so its names resolve as written
				list.getStatements().addAll(at, exchange);
				EcoreUtil.replace(call, Snippets.expression(read, from));
			}
		}

		/**
		 * The value {@code __shfl_xor} reads: that of the warp's lane {@code lane ^ mask}, unless that lane lies in
		 * a later group of {@code width} lanes (or outside the block), where the thread reads its own value.
		 */
		private String xorRead(String buffer, String mask, int width, String own) {
			String lane = "(" + tid + " % " + warpWidth + ")";
			String source = "(" + lane + " ^ " + mask + ")";
			String groupEnd = width == warpWidth ? Integer.toString(width) : "(" + lane + " / " + width + " + 1) * " + width;
			String index = tid + " - " + lane + " + " + source;
			return "(" + source + " < " + groupEnd + " && " + index + " < " + threads + " ? " + buffer + "[" + index + "] : "
					+ own + ")";
		}

		// ---------------------------------------------------------------- names and regions

		/** Maps every name that denotes a kernel-local variable to its declarator, honouring scopes. */
		private void resolve(CompoundStatement body) {
			List<Map<String, Declarator>> scopes = new ArrayList<>();
			scopes.add(new HashMap<>());
			walk(body, scopes);
		}

		private void walk(EObject node, List<Map<String, Declarator>> scopes) {
			boolean opens = node instanceof CompoundStatement || node instanceof ForStatement;
			if (opens) {
				scopes.add(new HashMap<>());
			}
			if (node instanceof Name n) {
				for (int i = scopes.size() - 1; i >= 0; i--) {
					Declarator d = scopes.get(i).get(n.getName());
					if (d != null) {
						declarations.put(n, d);
						break;
					}
				}
			}
			for (EObject child : node.eContents()) {
				walk(child, scopes);
				if (child instanceof Declarator d && d.getName() != null) {
					scopes.get(scopes.size() - 1).put(d.getName(), d);
				}
			}
			if (opens) {
				scopes.remove(scopes.size() - 1);
			}
		}

		/**
		 * Finds the {@code const} scalars whose initializer is a compile-time constant ({@code const int T = 256;},
		 * {@code const int H = T / 2;}): they hold the same value in every thread, so they may size shared memory,
		 * bound a loop around a barrier, and move to the block's scope whole rather than one element per thread.
		 */
		private void collectConstants(CompoundStatement body, LaunchConstants values) {
			body.eAllContents().forEachRemaining(o -> {
				if (o instanceof DeclarationStatement statement && ConstantFolder.isConstant(statement.getDeclaration())) {
					for (Declarator d : statement.getDeclaration().getDeclarators()) {
						if (d.getPointers().isEmpty() && d.getDimensions().isEmpty()
								&& d.getInitializer() instanceof Expression initializer
								&& values.value(initializer).isPresent() && localsAreConstants(initializer)) {
							constants.add(d);
						}
					}
				}
			});
		}

		/** Whether the kernel's variables that {@code e} names are all constants (its hoisted text then declares). */
		private boolean localsAreConstants(Expression e) {
			return localsIn(e).stream().allMatch(constants::contains);
		}

		/** The kernel's variables that {@code node} names. */
		private Set<Declarator> localsIn(EObject node) {
			Set<Declarator> locals = new java.util.LinkedHashSet<>();
			List<EObject> all = new ArrayList<>(List.of(node));
			node.eAllContents().forEachRemaining(all::add);
			for (EObject o : all) {
				if (o instanceof Name n && declarations.containsKey(n)) {
					locals.add(declarations.get(n));
				}
			}
			return locals;
		}

		private boolean isUniform(EObject node) {
			List<EObject> all = new ArrayList<>();
			all.add(node);
			node.eAllContents().forEachRemaining(all::add);
			for (EObject o : all) {
				if (o instanceof Name n) {
					if (n.getName().startsWith("threadIdx_") || n.getName().startsWith("shfl_buffer")) {
						return false;
					}
					Declarator d = declarations.get(n);
					if (d != null && !uniform.contains(d) && !constants.contains(d)) {
						return false;
					}
				}
			}
			return true;
		}

		private boolean containsBarrier(EObject node) {
			return Snippets.calls(node, "__syncthreads") || Snippets.calls(node, "__syncwarp");
		}

		/**
		 * Removes a {@code #pragma} (an unroll hint) written before a statement that holds a barrier: the
		 * statement is split into pieces at the barrier, and the hint would stay behind at the end of a block,
		 * where no compiler accepts it.
		 */
		private void dropHintsOfSplitLoops(CompoundStatement body) {
			List<DirectiveStatement> hints = new ArrayList<>();
			body.eAllContents().forEachRemaining(o -> {
				if (o instanceof DirectiveStatement d && d.eContainer() instanceof CompoundStatement block) {
					int next = block.getStatements().indexOf(d) + 1;
					if (next < block.getStatements().size() && containsBarrier(block.getStatements().get(next))) {
						hints.add(d);
					}
				}
			});
			hints.forEach(EcoreUtil::delete);
		}

		private boolean isBarrier(Statement s) {
			return s instanceof ExpressionStatement es && es.getExpression() instanceof Call c
					&& ("__syncthreads".equals(Snippets.callee(c)) || "__syncwarp".equals(Snippets.callee(c)));
		}

		/** Splits statements at barriers. */
		private List<Piece> build(List<Statement> statements, String guard) {
			List<Piece> pieces = new ArrayList<>();
			List<Statement> current = new ArrayList<>();
			for (Statement s : new ArrayList<>(statements)) {
				if (isBarrier(s)) {
					flush(pieces, current, guard);
				} else if (!containsBarrier(s)) {
					current.add(s);
				} else {
					flush(pieces, current, guard);
					pieces.addAll(structured(s, guard));
				}
			}
			flush(pieces, current, guard);
			return pieces;
		}

		private void flush(List<Piece> pieces, List<Statement> current, String guard) {
			if (!current.isEmpty()) {
				pieces.add(new Region(new ArrayList<>(current), guard));
				current.clear();
			}
		}

		private List<Statement> statementsOf(Statement s) {
			return s instanceof CompoundStatement c ? c.getStatements() : List.of(s);
		}

		private List<Piece> structured(Statement s, String guard) {
			switch (s) {
			case CompoundStatement c -> {
				return build(c.getStatements(), guard);
			}
			case ForStatement f -> {
				if (f.getInitDeclaration() != null) {
					uniform.addAll(f.getInitDeclaration().getDeclarators()); // when its initializer is, checked next
				}
				for (EObject header : new EObject[] { f.getInitDeclaration(), f.getInitExpression(), f.getCondition(),
						f.getUpdate() }) {
					if (header != null && !isUniform(header)) {
						throw PassRefusal.at(f, "a loop containing a barrier must run alike in every thread of the block");
					}
				}
				return List.of(new Loop(s, build(statementsOf(f.getBody()), guard)));
			}
			case WhileStatement w when isUniform(w.getCondition()) -> {
				return List.of(new Loop(s, build(statementsOf(w.getBody()), guard)));
			}
			case IfStatement i when isUniform(i.getCondition()) -> {
				return List.of(new Branch(i, build(statementsOf(i.getThen()), guard),
						i.getElse() == null ? List.of() : build(statementsOf(i.getElse()), guard)));
			}
			case IfStatement i -> {
				String name = "guard" + guards++;
				blockDeclarations.add("bool " + name + "[" + threads + "];\n");
				Statement set = Snippets.statements(name + "[" + tid + "] = 0;", from).get(0);
				((Assignment) ((ExpressionStatement) set).getExpression()).setRight(i.getCondition());
				List<Piece> pieces = new ArrayList<>();
				pieces.add(new Region(new ArrayList<>(List.of(set)), guard));
				String mine = name + "[" + tid + "]";
				pieces.addAll(build(statementsOf(i.getThen()), and(guard, mine)));
				if (i.getElse() != null) {
					pieces.addAll(build(statementsOf(i.getElse()), and(guard, "!" + mine)));
				}
				return pieces;
			}
			default -> throw PassRefusal.at(s, "a barrier inside this statement cannot be lifted: it must sit in the "
					+ "kernel body, a block, a loop or an if");
			}
		}

		private static String and(String guard, String condition) {
			return guard == null ? condition : condition == null ? guard : guard + " && " + condition;
		}

		private void rewriteReturns(CompoundStatement body) {
			List<ReturnStatement> returns = new ArrayList<>();
			body.eAllContents().forEachRemaining(o -> {
				if (o instanceof ReturnStatement r) {
					returns.add(r);
				}
			});
			for (ReturnStatement r : returns) {
				for (EObject up = r.eContainer(); up != body; up = up.eContainer()) {
					if (up instanceof ForStatement || up instanceof WhileStatement || up instanceof DoStatement) {
						throw PassRefusal.at(r, "a return inside a loop of the kernel cannot be lifted yet");
					}
				}
				String replacement = fission ? "{ exited[" + tid + "] = true; continue; }" : "continue;";
				if (threads == 1) {
					throw PassRefusal.at(r, "a return in a single-thread block is not lifted yet");
				}
				EcoreUtil.replace(r, Snippets.statements(replacement, from).get(0));
				exits = true;
			}
		}

		/**
		 * Variables that a barrier separates from their declaration become one element per thread; constants so
		 * separated, or sizing shared memory (which moves to the block's scope), move there whole.
		 */
		private void expand(List<Piece> pieces) {
			Map<Statement, Region> regionOf = new IdentityHashMap<>();
			collectRegions(pieces, regionOf);
			Set<Declarator> hoisted = new java.util.LinkedHashSet<>();
			Set<Declarator> expanded = new java.util.LinkedHashSet<>();
			for (Map.Entry<Name, Declarator> e : declarations.entrySet()) {
				Declarator d = e.getValue();
				if (uniform.contains(d)) {
					continue;
				}
				boolean separated = regionOf(d, regionOf) != regionOf(e.getKey(), regionOf);
				Declarator user = EcoreUtil2.getContainerOfType(e.getKey(), Declarator.class);
				boolean sizesShared = user != null && isShared(user);
				if (constants.contains(d)) {
					if (separated || sizesShared) {
						hoist(d, hoisted);
					}
				} else if (sizesShared) {
					throw PassRefusal.at(e.getKey(), "the shared array " + user.getName() + " is sized by " + d.getName()
							+ ", which is not a constant");
				} else if (separated || isShared(d)) {
					expanded.add(d);
				}
			}
			Set<Declarator> moved = new java.util.LinkedHashSet<>(hoisted);
			moved.addAll(expanded);
			renameClashes(moved);
			hoisted.forEach(d -> blockDeclarations.add(printer.statement(alone(d), 0)));
			for (Declarator d : expanded) {
				if (isShared(d)) {
					blockDeclarations.add(declarationText(d, false));
				} else {
					blockDeclarations.add(declarationText(d, true));
				}
			}
			for (Map.Entry<Name, Declarator> e : declarations.entrySet()) {
				if (expanded.contains(e.getValue()) && !isShared(e.getValue())) {
					Index index = KernelFactory.eINSTANCE.createIndex();
					Name name = e.getKey();
					EcoreUtil.replace(name, index);
					index.setTarget(name);
					index.setIndex(Snippets.expression(tid, from));
				}
			}
			for (Declarator d : moved) {
				Declaration declaration = (Declaration) d.eContainer();
				if (!(declaration.eContainer() instanceof DeclarationStatement statement)) {
					throw PassRefusal.at(d, d.getName() + " lives across a barrier but is declared in a loop header");
				}
				if (d.getInitializer() != null && expanded.contains(d) && !isShared(d)) {
					Statement assign;
					if (d.getInitializer() instanceof Expression init && d.getDimensions().isEmpty()) {
						assign = Snippets.statements(d.getName() + "[" + tid + "] = 0;", from).get(0);
						((Assignment) ((ExpressionStatement) assign).getExpression()).setRight(init);
					} else if (d.getInitializer() instanceof InitializerList list && d.getDimensions().isEmpty()
							&& structOf(declaration).isPresent()) {
						assign = memberwise(d, structOf(declaration).get(), list);
					} else if (d.getInitializer() instanceof InitializerList list && zeros(list)) {
						assign = zeroing(d);
					} else {
						throw PassRefusal.at(d, "the array " + d.getName() + " lives across a barrier and has an initializer "
								+ "other than zeros");
					}
					CompoundStatement list = (CompoundStatement) statement.eContainer();
					list.getStatements().add(list.getStatements().indexOf(statement) + 1, assign);
					Region region = regionOf.get(statement);
					if (region != null) {
						region.statements().add(region.statements().indexOf(statement) + 1, assign);
					}
				}
				declaration.getDeclarators().remove(d);
				if (declaration.getDeclarators().isEmpty()) {
					Region region = regionOf.get(statement);
					if (region != null) {
						region.statements().remove(statement);
					}
					EcoreUtil.remove(statement);
				}
			}
		}

		/** The file's struct that {@code declaration} declares variables of, if it does. */
		private java.util.Optional<StructDefinition> structOf(Declaration declaration) {
			return declaration.getType() instanceof org.xpiler.lang.kernel.NamedType type
					? StructDefinitions.named(unit.getItems(), type.getName())
					: java.util.Optional.empty();
		}

		/** {@code { w[tid].mean = 0.f; w[tid].count = 1; }} for the thread's copy of {@code Welford w = {0.f, 1};}. */
		private Statement memberwise(Declarator d, StructDefinition struct, InitializerList list) {
			List<Declarator> members = struct.getMembers().stream().flatMap(m -> m.getDeclarators().stream()).toList();
			if (list.getElements().size() > members.size() || list.getElements().stream().anyMatch(InitializerList.class::isInstance)) {
				throw PassRefusal.at(d, d.getName() + " lives across a barrier and its initializer does not list one value "
						+ "per member of the struct");
			}
			StringBuilder block = new StringBuilder("{\n");
			for (int i = 0; i < members.size(); i++) {
				block.append(d.getName()).append('[').append(tid).append("].").append(members.get(i).getName()).append(" = ")
						.append(i < list.getElements().size() ? printer.expression((Expression) list.getElements().get(i)) : "0")
						.append(";\n");
			}
			return Snippets.statements(block.append("}").toString(), from).get(0);
		}

		/** Whether {@code list} only holds zeros ({@code {}}, {@code {0}}, {@code {{0.0f}}}), as register tiles start. */
		private static boolean zeros(InitializerList list) {
			return list.getElements().stream().allMatch(e -> e instanceof InitializerList inner ? zeros(inner)
					: e instanceof Expression value && new ConstantFolder().fold(value).equals(java.util.OptionalLong.of(0))
							|| e instanceof org.xpiler.lang.kernel.FloatLiteral f && Double.parseDouble(
									f.getValue().replaceAll("[fFlL]$", "")) == 0);
		}

		/** Loops that set each element of the thread's copy of the array {@code d} to zero. */
		private Statement zeroing(Declarator d) {
			StringBuilder loops = new StringBuilder();
			StringBuilder element = new StringBuilder(d.getName() + "[" + tid + "]");
			for (int i = 0; i < d.getDimensions().size(); i++) {
				String size = printer.expression(d.getDimensions().get(i).getSize());
				loops.append("for (int i").append(i).append("_").append(d.getName()).append(" = 0; i").append(i).append("_")
						.append(d.getName()).append(" < ").append(size).append("; ++i").append(i).append("_")
						.append(d.getName()).append(") ");
				element.append("[i").append(i).append("_").append(d.getName()).append("]");
			}
			return Snippets.statements(loops + element.toString() + " = 0;", from).get(0);
		}

		/** Moves the constant {@code d} to the block's scope, after the constants its initializer names. */
		private void hoist(Declarator d, Set<Declarator> hoisted) {
			if (!hoisted.contains(d)) {
				localsIn(d.getInitializer()).forEach(c -> hoist(c, hoisted));
				hoisted.add(d);
			}
		}

		/**
		 * Expanded variables all live at block scope, so two of one name (a kernel's {@code tid} and an inlined
		 * helper's) get distinct names there: {@code tid}, {@code tid_2}; none takes a parameter's name, which
		 * it would hide from the rest of the block.
		 */
		private void renameClashes(Set<Declarator> expanded) {
			Set<String> taken = new HashSet<>();
			kernel.getParams().forEach(p -> taken.add(p.getDeclarator().getName()));
			for (Declarator d : expanded) {
				String name = d.getName();
				for (int k = 2; taken.contains(name); k++) {
					name = d.getName() + "_" + k;
				}
				taken.add(name);
				if (!name.equals(d.getName())) {
					String fresh = name;
					declarations.forEach((n, x) -> {
						if (x == d) {
							n.setName(fresh);
						}
					});
					d.setName(fresh);
				}
			}
		}

		private static boolean isShared(Declarator d) {
			return d.eContainer() instanceof Declaration decl && decl.getSpecifiers().stream()
					.anyMatch(s -> s instanceof Specifier q && q.getName().equals("__shared__"));
		}

		/** {@code float local_max[256];} for a per-thread variable, the plain array for shared memory. */
		private String declarationText(Declarator d, boolean perThread) {
			Declaration original = (Declaration) d.eContainer();
			DeclarationStatement statement = alone(d);
			Declaration copy = statement.getDeclaration();
			Declarator x = copy.getDeclarators().get(0);
			x.setInitializer(null);
			if (perThread) {
				org.xpiler.lang.kernel.ArrayDimension dimension = KernelFactory.eINSTANCE.createArrayDimension();
				dimension.setSize(Snippets.expression(Integer.toString(threads), from));
				x.getDimensions().add(0, dimension);
			}
			if (!perThread && !x.getDimensions().isEmpty() && x.getDimensions().get(0).getSize() == null) {
				long elements = sharedBytes / ConstantFolder.size(original.getType());
				if (elements <= 0) {
					throw PassRefusal.at(d, "the dynamic shared array " + d.getName() + " gets no memory from the launch");
				}
				x.getDimensions().get(0).setSize(Snippets.expression(Long.toString(elements), from));
			}
			copy.getSpecifiers().removeIf(s -> s instanceof org.xpiler.lang.kernel.LinkageSpecifier
					|| s instanceof Specifier q && q.getName().equals("extern"));
			copy.getSpecifiers().removeIf(s -> s instanceof Specifier q && (q.getName().equals("__shared__")
					|| q.getName().equals("static") || q.getName().equals("const") && d.getPointers().isEmpty()));
			return printer.statement(statement, 0);
		}

		/** A declaration statement of a copy of {@code d} alone, with the specifiers of its declaration. */
		private static DeclarationStatement alone(Declarator d) {
			Declaration copy = EcoreUtil.copy((Declaration) d.eContainer());
			copy.getDeclarators().clear();
			copy.getDeclarators().add(EcoreUtil.copy(d));
			DeclarationStatement statement = KernelFactory.eINSTANCE.createDeclarationStatement();
			statement.setDeclaration(copy);
			return statement;
		}

		private void collectRegions(List<Piece> pieces, Map<Statement, Region> regionOf) {
			for (Piece p : pieces) {
				switch (p) {
				case Region r -> r.statements().forEach(s -> regionOf.put(s, r));
				case Loop l -> collectRegions(l.body(), regionOf);
				case Branch b -> {
					collectRegions(b.then(), regionOf);
					collectRegions(b.otherwise(), regionOf);
				}
				}
			}
		}

		private static Region regionOf(EObject node, Map<Statement, Region> regionOf) {
			for (EObject up = node; up != null; up = up.eContainer()) {
				Region r = regionOf.get(up);
				if (r != null) {
					return r;
				}
			}
			return null;
		}

		// ---------------------------------------------------------------- printing

		private void emit(List<Piece> pieces, StringBuilder out) {
			for (Piece p : pieces) {
				switch (p) {
				case Region r -> {
					StringBuilder body = new StringBuilder();
					r.statements().forEach(s -> body.append(printer.statement(s, 0)));
					emitRegion(out, r.statements(), r.guard(), body.toString());
				}
				case Loop l -> {
					out.append(Snippets.header(l.statement(), printer)).append(" {\n");
					emit(l.body(), out);
					out.append("}\n");
				}
				case Branch b -> {
					out.append(Snippets.header(b.statement(), printer)).append(" {\n");
					emit(b.then(), out);
					out.append("}\n");
					if (!b.otherwise().isEmpty()) {
						out.append("else {\n");
						emit(b.otherwise(), out);
						out.append("}\n");
					}
				}
				}
			}
		}

		private void emitRegion(StringBuilder out, List<Statement> statements, String guard, String body) {
			String[] names = { "threadIdx_x", "threadIdx_y", "threadIdx_z" };
			int open = 0;
			for (int d = 2; d >= 0; d--) {
				if (block[d] > 1) {
					out.append("for (int ").append(names[d]).append(" = 0; ").append(names[d]).append(" < ")
							.append(block[d]).append("; ++").append(names[d]).append(") {\n");
					open++;
				}
			}
			String condition = guard;
			if (exits && fission) {
				condition = and("!exited[" + tid + "]", guard);
			}
			if (condition != null && !statements.isEmpty()) {
				out.append("if (").append(condition).append(") {\n").append(body).append("}\n");
			} else {
				out.append(body);
			}
			out.append("}\n".repeat(open));
		}
	}

	private sealed interface Piece permits Region, Loop, Branch {
	}

	/** Statements every thread runs, one thread after the other, with no barrier between them. */
	private record Region(List<Statement> statements, String guard) implements Piece {
	}

	/** A loop that contains a barrier and runs alike in all threads: it stays outside the thread loops. */
	private record Loop(Statement statement, List<Piece> body) implements Piece {
	}

	/** An if with a block-uniform condition around barriers. */
	private record Branch(IfStatement statement, List<Piece> then, List<Piece> otherwise) implements Piece {
	}
}
