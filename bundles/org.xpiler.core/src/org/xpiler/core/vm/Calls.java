package org.xpiler.core.vm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.KernelLaunch;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.TemplateArgument;
import org.xpiler.lang.kernel.TemplateCall;
import org.xpiler.lang.kernel.TemplateMember;
import org.xpiler.lang.kernel.TemplateId;
import org.xpiler.lang.kernel.TemplateParameter;
import org.xpiler.lang.kernel.TypeName;
import org.xpiler.lang.parsing.StandardLibrary;
import org.xpiler.lang.parsing.TemplateArguments;

/**
 * Compiles calls: the file's functions (templates instantiated per deduced binding, macros expanded), struct
 * construction ({@code dim3(32, 1)}), the virtual device's native builtins, catalog intrinsics run from their
 * reference bodies, and kernel launches.
 */
final class Calls {
	private final FunctionCompiler fc;
	private final ExpressionCompiler ec;
	private final Program program;
	final Builtins builtins;

	Calls(FunctionCompiler fc, ExpressionCompiler ec) {
		this.fc = fc;
		this.ec = ec;
		this.program = fc.program;
		this.builtins = new Builtins(fc, ec, this);
	}

	Ex call(Call call) {
		int site = program.site(call);
		TypeName limitsOf = StandardLibrary.numericLimitsType(call);
		if (limitsOf != null) {
			Ex value = NumericLimits.of((TemplateMember) call.getCallee(), program.types.typeName(limitsOf, fc.bindings));
			if (value != null) {
				return value;
			}
		}
		if (call.getCallee() instanceof MemberAccess access && !access.isArrow()) {
			Ex target = ec.compile(access.getTarget());
			if (target.type instanceof VmType.Array) {
				Ex member = StdArrays.member(target, access.getMember(), call.getArgs().stream().map(ec::compile).toList(),
						ec, site);
				if (member != null) {
					return member;
				}
			}
		}
		if (!(call.getCallee() instanceof Name callee)) {
			throw ec.error(call, "only calls of named functions are supported: '" + ExpressionCompiler.text(call) + "'");
		}
		String name = callee.getName();
		List<Expression> argumentModels = call.getArgs();
		Program.Macro macro = program.macros.get(name);
		if (macro != null && macro.parameters() != null && fc.lookup(name) == null) {
			return expandMacro(macro, argumentModels, call);
		}
		Ex special = builtins.callWithModels(name, argumentModels, site);
		if (special != null) {
			return special;
		}
		List<Ex> args = new ArrayList<>(argumentModels.stream().map(ec::compile).toList());
		List<FunctionDefinition> definitions = program.functions.getOrDefault(name, List.of());
		for (FunctionDefinition f : definitions) {
			for (int i = 0; i < Math.min(f.getParams().size(), args.size()); i++) {
				if (isReference(f.getParams().get(i))) {
					args.set(i, addressOf(argumentModels.get(i), f, i));
				}
			}
		}
		return call(name, args, List.of(), call, site);
	}

	static boolean isReference(Parameter parameter) {
		return parameter.getDeclarator().getPointers().stream().anyMatch(p -> p.getKind().equals("&"));
	}

	/** The address of an argument bound to a reference parameter: it must be a variable or an element. */
	private Ex addressOf(Expression argument, FunctionDefinition f, int index) {
		Lv place = ec.lvalue(argument);
		if (!place.addressable()) {
			throw ec.error(argument, "argument " + (index + 1) + " of " + f.getName()
					+ " binds to a reference and must be a variable or an element, not '" + ExpressionCompiler.text(argument) + "'");
		}
		return new Ex(new VmType.Pointer(place.type)) {
			@Override
			long l(Frame frame) {
				return place.prepare(frame);
			}
		};
	}

	Ex templateCall(TemplateCall call) {
		List<Ex> args = call.getArgs().stream().map(ec::compile).toList();
		return call(call.getFunction(), args, call.getTemplateArgs(), call, program.site(call));
	}

	/**
	 * Whether the explicit specialization {@code f} ({@code template <> float to_float<__half>(__half v)}) is the
	 * one a call runs: its template arguments are the call's explicit ones, or, where the call gives none, its
	 * parameters have the arguments' types (the deduction C++ makes through the primary template).
	 */
	private boolean specializes(FunctionDefinition f, List<Ex> args, List<TemplateArgument> templateArgs) {
		if (!templateArgs.isEmpty()) {
			List<TemplateArgument> specialized = f.getSpecialization();
			if (templateArgs.size() > specialized.size()) {
				return false;
			}
			for (int i = 0; i < templateArgs.size(); i++) {
				if (!templateArgumentValue(templateArgs.get(i), fc.bindings)
						.equals(templateArgumentValue(specialized.get(i), Map.of()))) {
					return false;
				}
			}
			return true;
		}
		for (int i = 0; i < args.size(); i++) {
			Parameter p = f.getParams().get(i);
			if (!program.types.declared(p.getType(), p.getDeclarator(), Map.of()).equals(args.get(i).type)) {
				return false;
			}
		}
		return true;
	}

	/** A template argument as a binding: the type it names, or its constant value. */
	private VmType templateArgumentValue(TemplateArgument argument, Map<String, VmType> bindings) {
		return argument.getType() != null ? program.types.typeName(argument.getType(), bindings)
				: new VmType.TemplateValue(program.types.templateValue(argument, bindings));
	}

	/** The template parameters of {@code f} that {@code templateArgs} give, in order ({@code f<float, 4>}). */
	private Map<String, VmType> explicitBindings(FunctionDefinition f, List<TemplateArgument> templateArgs) {
		Map<String, VmType> explicit = new HashMap<>();
		List<TemplateParameter> params = f.getTemplate().getParams();
		for (int i = 0; i < Math.min(params.size(), templateArgs.size()); i++) {
			TemplateArgument a = templateArgs.get(i);
			if (params.get(i).getValueType() == null) {
				explicit.put(params.get(i).getName(), program.types.typeName(a.getType(), fc.bindings));
			} else {
				Expression value = TemplateArguments.value(a);
				if (value == null) {
					throw new UnsupportedOperationException("the template argument " + params.get(i).getName() + " of "
							+ f.getName() + " must be a constant");
				}
				explicit.put(params.get(i).getName(), new VmType.TemplateValue(program.constantValue(value, fc)));
			}
		}
		return explicit;
	}

	/** Calls {@code name} with {@code args} and the explicit template arguments {@code templateArgs} ({@code f<float>(x)}). */
	private Ex call(String name, List<Ex> args, List<TemplateArgument> templateArgs, Expression at, int site) {
		List<FunctionDefinition> candidates = program.functions.getOrDefault(name, List.of());
		for (FunctionDefinition f : candidates) {
			if (!f.getSpecialization().isEmpty() && f.getParams().size() == args.size()
					&& specializes(f, args, templateArgs)) {
				return invoke(instantiate(f, Map.of()), args, at);
			}
		}
		for (FunctionDefinition f : candidates) {
			if (f.getSpecialization().isEmpty()
					&& (f.getParams().size() == args.size() || f.getParams().size() == 1 && args.isEmpty())) {
				Map<String, VmType> explicit = f.getTemplate() != null ? explicitBindings(f, templateArgs) : Map.of();
				CompiledFunction callee = instantiate(f, deduce(f, args, explicit, at));
				return invoke(callee, args, at);
			}
		}
		if (!candidates.isEmpty()) {
			throw ec.error(at, name + " takes " + candidates.get(0).getParams().size() + " arguments, not " + args.size());
		}
		Optional<VmType> type = structType(name);
		if (type.isPresent()) {
			return construct(type.get(), args, site);
		}
		Optional<VectorTypes.Vector> made = VectorTypes.madeBy(name);
		if (made.isPresent() && args.size() == made.get().lanes()) {
			return construct(made.get().struct(), args, site);
		}
		Ex builtin = builtins.call(name, args, site);
		if (builtin != null) {
			return builtin;
		}
		Optional<CatalogFunction> intrinsic = program.catalog.function(name);
		if (intrinsic.isPresent()) {
			return program.catalogCalls.call(fc, intrinsic.get(), args, at, site);
		}
		throw ec.error(at, "the function '" + name + "' is not known to the virtual device");
	}

	private Optional<VmType> structType(String name) {
		try {
			VmType type = program.types.named(name, fc.bindings);
			return type.kind() == VmType.Kind.OBJECT ? Optional.of(type) : Optional.empty();
		} catch (UnsupportedOperationException notAType) {
			return Optional.empty();
		}
	}

	/** Binds the template parameters of {@code f} from explicit arguments and the argument types. */
	private Map<String, VmType> deduce(FunctionDefinition f, List<Ex> args, Map<String, VmType> explicit, Expression at) {
		if (f.getTemplate() == null) {
			return Map.of();
		}
		Map<String, VmType> bindings = new HashMap<>(explicit);
		for (int i = 0; i < f.getParams().size() && i < args.size(); i++) {
			Parameter p = f.getParams().get(i);
			String base = p.getType() instanceof org.xpiler.lang.kernel.NamedType n ? n.getName() : null;
			if (base == null || bindings.containsKey(base)) {
				continue;
			}
			boolean isTemplateParameter = f.getTemplate().getParams().stream().anyMatch(t -> base.equals(t.getName()));
			if (!isTemplateParameter) {
				continue;
			}
			VmType argument = args.get(i).type;
			for (int k = 0; k < p.getDeclarator().getPointers().size() && VmType.isPointerLike(argument); k++) {
				argument = VmType.pointee(argument);
			}
			bindings.put(base, argument);
		}
		for (TemplateParameter t : f.getTemplate().getParams()) {
			if (!bindings.containsKey(t.getName())) {
				if (t.getDefaultType() != null) {
					bindings.put(t.getName(), program.types.typeName(t.getDefaultType(), bindings));
				} else if (t.getDefaultValue() != null) {
					bindings.put(t.getName(), new VmType.TemplateValue(program.constantValue(t.getDefaultValue(), bindings)));
				} else {
					throw ec.error(at, "cannot deduce the template parameter " + t.getName() + " of " + f.getName());
				}
			}
		}
		return bindings;
	}

	CompiledFunction instantiate(FunctionDefinition f, Map<String, VmType> bindings) {
		List<Object> key = List.of(f, bindings);
		CompiledFunction compiled = program.compiled.get(key);
		if (compiled == null) {
			compiled = new CompiledFunction(f.getName(), program.site(f));
			program.compiled.put(key, compiled);
			try {
				new FunctionCompiler(program, bindings).compile(f, compiled);
			} catch (RuntimeException e) {
				program.compiled.remove(key);
				throw e;
			}
		}
		return compiled;
	}

	/** A call of a compiled function: arguments converted to the parameter types, a fresh frame, the body. */
	Ex invoke(CompiledFunction callee, List<Ex> args, Expression at) {
		List<CompiledFunction.Slot> parameters = callee.parameters;
		if (parameters.size() != args.size()) {
			throw ec.error(at, callee.name + " takes " + parameters.size() + " arguments, not " + args.size());
		}
		Ex[] converted = new Ex[args.size()];
		for (int i = 0; i < args.size(); i++) {
			try {
				converted[i] = ec.convert(args.get(i), parameters.get(i).type());
			} catch (CompileError e) {
				throw ec.error(at, "argument " + (i + 1) + " of " + callee.name + ": " + e.getMessage());
			}
		}
		int site = program.site(at);
		Invocation invocation = new Invocation(callee, converted, site);
		return switch (callee.returnType.kind()) {
		case DOUBLE -> new Ex(callee.returnType) {
			@Override
			double d(Frame f) {
				return invocation.enter(f).returnDouble;
			}
		};
		case OBJECT -> new Ex(callee.returnType) {
			@Override
			Object o(Frame f) {
				return invocation.enter(f).returnObject;
			}
		};
		default -> new Ex(callee.returnType) {
			@Override
			long l(Frame f) {
				return invocation.enter(f).returnLong;
			}
		};
		};
	}

	/** Binds arguments to a new frame and runs the callee. */
	record Invocation(CompiledFunction callee, Ex[] args, int site) {
		Frame enter(Frame caller) {
			Frame frame = new Frame(callee, caller.lane);
			List<CompiledFunction.Slot> parameters = callee.parameters;
			for (int i = 0; i < args.length; i++) {
				CompiledFunction.Slot p = parameters.get(i);
				Ex arg = args[i];
				if (p.memoryResident()) {
					long address = caller.memory.allocate(p.name(), Space.LOCAL, p.type().size(), p.type().align(), false);
					frame.l[p.slot()] = address;
					storeTo(frame, address, p.type(), arg, caller);
					continue;
				}
				switch (p.type().kind()) {
				case DOUBLE -> frame.d[p.slot()] = arg.d(caller);
				case OBJECT -> frame.o[p.slot()] = arg.o(caller);
				default -> frame.l[p.slot()] = arg.l(caller);
				}
			}
			Execution execution = caller.lane.execution;
			if (--execution.steps <= 0) {
				execution.tick(caller, site);
			}
			callee.invoke(frame);
			return frame;
		}

		private void storeTo(Frame frame, long address, VmType type, Ex arg, Frame caller) {
			switch (type.kind()) {
			case DOUBLE -> frame.memory.storeFloating(MemoryPlace.elementOf(type), address, arg.d(caller), site);
			case OBJECT -> frame.memory.storeBytes(address, (byte[]) arg.o(caller), site);
			default -> frame.memory.store(MemoryPlace.elementOf(type), address, arg.l(caller), site);
			}
		}
	}

	private Ex expandMacro(Program.Macro macro, List<Expression> args, Expression at) {
		if (args.size() != macro.parameters().size()) {
			throw ec.error(at, "the macro " + macro.name() + " takes " + macro.parameters().size() + " arguments");
		}
		if (macro.body() == null) {
			throw ec.error(at, "the macro " + macro.name() + " is a statement, not a value");
		}
		Map<String, Expression> bound = new HashMap<>();
		for (int i = 0; i < args.size(); i++) {
			bound.put(macro.parameters().get(i), args.get(i));
		}
		fc.macroArguments.push(bound);
		try {
			return ec.compile(macro.body());
		} finally {
			fc.macroArguments.pop();
		}
	}

	/** {@code dim3(32, 1)}, {@code float4{...}}: fields in order, dim3's missing ones 1, others 0. */
	Ex construct(VmType type, List<Ex> args, int site) {
		if (type instanceof VmType.Struct struct) {
			List<VmType.Field> fields = struct.fields();
			if (args.size() == 1 && args.get(0).type.equals(type)) {
				return args.get(0);
			}
			if (args.size() > fields.size()) {
				throw new CompileError(program.site(site), struct.name() + " has " + fields.size() + " fields, not "
						+ args.size());
			}
			if (!struct.scalarFields() && !args.isEmpty()) {
				throw new CompileError(program.site(site), "a " + struct.name() + " is built member by member by the virtual "
						+ "device, not from a list: its members are not all numbers");
			}
			if (!struct.scalarFields()) { // {} and S(): every member zero
				return new Ex(type) {
					@Override
					Object o(Frame f) {
						return new byte[struct.size()];
					}
				};
			}
			List<Ex> values = new ArrayList<>();
			for (int i = 0; i < args.size(); i++) {
				values.add(ec.convert(args.get(i), fields.get(i).type()));
			}
			long missing = struct.name().equals("dim3") || struct.name().equals("cnrtDim3_t") ? 1 : 0;
			return new Ex(type) {
				@Override
				Object o(Frame f) {
					byte[] bytes = new byte[struct.size()];
					for (int i = 0; i < fields.size(); i++) {
						VmType.Field field = fields.get(i);
						ElementType element = ((VmType.Scalar) field.type()).element();
						if (i < values.size() && element.isFloating()) {
							MemoryPlace.writeFloating(element, bytes, field.offset(), values.get(i).d(f));
						} else {
							MemoryPlace.writeInteger(element, bytes, field.offset(), i < values.size() ? values.get(i).l(f) : missing);
						}
					}
					return bytes;
				}
			};
		}
		if (type instanceof VmType.Vector vector) {
			if (args.size() == 1) {
				return ec.convert(args.get(0), type);
			}
			List<Ex> lanes = args.stream().map(a -> ec.convert(a, VmType.of(vector.lane()))).toList();
			return new Ex(type) {
				@Override
				Object o(Frame f) {
					byte[] bytes = new byte[vector.bytes()];
					for (int i = 0; i < lanes.size() && i < vector.lanes(); i++) {
						if (vector.lane().isFloating()) {
							MemoryPlace.writeFloating(vector.lane(), bytes, i * vector.lane().bytes(), lanes.get(i).d(f));
						} else {
							MemoryPlace.writeInteger(vector.lane(), bytes, i * vector.lane().bytes(), lanes.get(i).l(f));
						}
					}
					return bytes;
				}
			};
		}
		if (args.size() == 1) {
			return ec.convert(args.get(0), type);
		}
		throw new CompileError(program.site(site), "cannot construct " + type.display() + " from " + args.size() + " values");
	}

	Ex launch(KernelLaunch launch) {
		int site = program.site(launch);
		String name = kernelName(launch.getKernel());
		if (name == null) {
			throw ec.error(launch, "a launch must name its kernel");
		}
		FunctionDefinition kernel = program.functions.getOrDefault(name, List.of()).stream().findFirst()
				.orElseThrow(() -> ec.error(launch, "the kernel '" + name + "' is not defined in this file"));
		List<Ex> args = launch.getArgs().stream().map(ec::compile).toList();
		CompiledFunction compiled = launchedInstance(kernel, launch.getKernel(), args, launch);
		List<Ex> config = launch.getConfig().stream().map(ec::compile).toList();
		return Launches.launch(program, ec, kernel, compiled, config, args, launch, site);
	}

	/** The kernel a launch names ({@code k} or {@code k<128>}), or null when it names none. */
	static String kernelName(Expression named) {
		return switch (named) {
		case Name n -> n.getName();
		case TemplateId id -> id.getName();
		default -> null;
		};
	}

	/**
	 * The instance of {@code kernel} that a launch naming it {@code named} ({@code k}, or {@code k<128>} with
	 * explicit template arguments) runs with {@code args}.
	 */
	CompiledFunction launchedInstance(FunctionDefinition kernel, Expression named, List<Ex> args, Expression at) {
		Map<String, VmType> explicit = Map.of();
		if (named instanceof TemplateId id) {
			if (kernel.getTemplate() == null) {
				throw ec.error(at, "the kernel '" + kernel.getName() + "' is not a template");
			}
			explicit = explicitBindings(kernel, id.getTemplateArgs());
		}
		return instantiate(kernel, deduce(kernel, args, explicit, at));
	}

	/** {@code &kernel} or a bare kernel name passed to hipLaunchKernelGGL: not a value the VM computes with. */
	Ex functionReference(Expression operand) {
		return null;
	}
}
