package org.xpiler.core.vm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.xpiler.lang.catalog.CatalogEntries.CatalogConstant;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.catalog.CatalogFunction.Parameter;
import org.xpiler.lang.catalog.CatalogFunction.Rule;
import org.xpiler.lang.catalog.CatalogFunction.Signature;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * Runs catalog intrinsics from the catalog's own C reference bodies, so the virtual device and the documented
 * semantics cannot drift apart. At every call it picks the form the arguments fit, binds the type parameter,
 * checks each pointer's memory space and every rule of the form ({@code n * sizeof(T) % 128 == 0},
 * {@code aligned(dst, 64)}) with the actual values, and reports a broken rule at the call with the catalog's
 * message, as hardware would misbehave there. The body of {@code __memcpy_async} runs at the call too, but
 * what it writes lands later ({@link AsyncCopies}). Element-wise bodies (vector arithmetic, activations,
 * conversions, fills, {@code __memcpy}) propagate uninitialized elements instead of faulting on them
 * ({@link LaneWiseLoop}).
 */
final class CatalogCalls {
	/** Parsed reference bodies, shared by all programs: parsing is the expensive part. */
	private static final Map<String, CompoundStatement> BODIES = new ConcurrentHashMap<>();
	private static final Pattern SPACE_TEST = Pattern.compile("space\\((\\w+)\\)\\s*(==|!=)\\s*\"(\\w+)\"");

	private final Program program;
	private final Map<List<Object>, CompiledFunction> compiled = new HashMap<>();

	CatalogCalls(Program program) {
		this.program = program;
	}

	/** How a reference's function is named ({@code __memcpy_reference}), which places in it report. */
	static final String REFERENCE_SUFFIX = "_reference";

	Ex call(FunctionCompiler caller, CatalogFunction function, List<Ex> args, Expression at, int site) {
		ExpressionCompiler ec = caller.expressions;
		List<Signature> signatures = function.signatures();
		for (int index = 0; index < signatures.size(); index++) {
			Signature signature = signatures.get(index);
			if (signature.params().size() != args.size()) {
				continue;
			}
			Map<String, VmType> bindings = bind(function, signature, args);
			if (bindings == null) {
				continue;
			}
			String body = signature.reference() != null ? signature.reference() : function.reference();
			if (body == null) {
				throw ec.error(at, function.name() + " has no reference semantics in the catalog and the virtual device "
						+ "does not implement it natively");
			}
			CompiledFunction reference = reference(function, index, signature, body, bindings, site);
			Ex call = caller.expressions.calls.invoke(reference, args, at);
			return relocated(call, function.name(), site);
		}
		String types = String.join(", ", args.stream().map(a -> a.type.display()).toList());
		throw ec.error(at, "no form of " + function.name() + " accepts (" + types + "); its forms take "
				+ String.join(" or ", signatures.stream().map(Signature::parameterList).toList()));
	}

	/** The type-parameter bindings under which the arguments fit the form, or null when they do not. */
	private Map<String, VmType> bind(CatalogFunction function, Signature signature, List<Ex> args) {
		Map<String, VmType> bindings = new HashMap<>();
		List<Parameter> params = signature.params();
		for (int pass = 0; pass < 2; pass++) {
			for (int i = 0; i < params.size(); i++) {
				String type = params.get(i).type().replace("const", "").replace(" ", "");
				boolean pointer = type.endsWith("*");
				String base = type.replace("*", "");
				VmType argument = args.get(i).type;
				if (pointer != VmType.isPointerLike(argument) && !(pointer && VmType.isInteger(argument))) {
					return null;
				}
				if (!function.typeParams().containsKey(base)) {
					continue;
				}
				if (pointer && pass == 0) {
					VmType element = VmType.pointee(argument);
					if (element instanceof VmType.Void) {
						continue;
					}
					VmType known = bindings.putIfAbsent(base, element);
					if (known != null && !known.equals(element)) {
						return null;
					}
				} else if (!pointer && pass == 1 && !bindings.containsKey(base)) {
					bindings.put(base, Arithmetic.promote(argument));
				}
			}
		}
		for (Map.Entry<String, VmType> binding : bindings.entrySet()) {
			List<String> allowed = function.typeParams().get(binding.getKey());
			boolean accepted = allowed.stream().anyMatch(name -> {
				try {
					return program.types.named(name, Map.of()).equals(binding.getValue());
				} catch (UnsupportedOperationException unknown) {
					return false;
				}
			});
			if (!accepted) {
				return null;
			}
		}
		for (String typeParameter : function.typeParams().keySet()) {
			bindings.putIfAbsent(typeParameter, VmType.F32);
		}
		return bindings;
	}

	/**
	 * The compiled reference of a form under {@code bindings}; an asynchronous copy's is compiled per call
	 * {@code site}, which its pending copies name.
	 */
	private CompiledFunction reference(CatalogFunction function, int index, Signature signature, String body,
			Map<String, VmType> bindings, int site) {
		boolean deferred = function.name().equals(AsyncCopies.FUNCTION);
		List<Object> key = deferred ? List.of(function.name(), index, bindings, site)
				: List.of(function.name(), index, bindings);
		CompiledFunction existing = compiled.get(key);
		if (existing != null) {
			return existing;
		}
		CompiledFunction target = new CompiledFunction(function.name(), 0);
		FunctionCompiler fc = new FunctionCompiler(program, bindings);
		fc.function = target;
		CompoundStatement statements = parsedBody(function.name(), index, body);
		fc.collectAddressTaken(statements);
		List<CompiledFunction.Slot> parameters = new ArrayList<>();
		Map<String, FunctionCompiler.Var> variables = new LinkedHashMap<>();
		for (Parameter p : signature.params()) {
			VmType type = program.types.catalogType(p.type(), bindings);
			if (type instanceof VmType.Vector vector && p.element() != null) {
				type = vector.viewedAs(ElementType.ofCName(p.element()).orElse(vector.lane()));
			}
			FunctionCompiler.Var var = fc.declareLocal(p.name(), type, fc.isAddressTaken(p.name()));
			variables.put(p.name(), var);
			parameters.add(new CompiledFunction.Slot(p.name(), type, var.slot(), var.storage() == FunctionCompiler.Storage.MEMORY));
		}
		target.parameters = List.copyOf(parameters);
		VmType returns = program.types.catalogType(signature.returns(), bindings);
		if (returns instanceof VmType.Vector vector) {
			String element = signature.returnElement();
			if (element != null) {
				returns = vector.viewedAs(ElementType.ofCName(element).orElse(vector.lane()));
			}
			FunctionCompiler.Var result = fc.declareLocal("result", returns, false);
			target.resultSlot = result.slot();
			target.resultBytes = returns.size();
		}
		target.returnType = returns;
		fc.returnType = returns;
		List<Rule> rules = new ArrayList<>(function.rules());
		rules.addAll(signature.rules());
		target.prologue = prologue(fc, function, signature, rules, variables);
		if (deferred) {
			// element-wise propagation stays out: the copy lands later, and its landing would define the garbage
			Stmt copy = fc.statements.block(statements.getStatements(), true);
			target.body = AsyncCopies.deferred(copy, register(variables, "dst"), register(variables, "src"), site,
					program.site(site));
		} else if (LaneWiseLoop.admits(statements.getStatements(), pointerParameters(signature), program.catalog)) {
			target.body = LaneWiseLoop.compile(fc, statements.getStatements());
		} else {
			target.body = fc.statements.block(statements.getStatements(), true);
		}
		fc.finish(target);
		compiled.put(key, target);
		return target;
	}

	private static Set<String> pointerParameters(Signature signature) {
		return signature.params().stream().filter(p -> p.type().contains("*")).map(Parameter::name)
				.collect(Collectors.toSet());
	}

	/** The register of a pointer parameter the reference body does not take the address of. */
	private static int register(Map<String, FunctionCompiler.Var> variables, String name) {
		FunctionCompiler.Var var = variables.get(name);
		if (var == null || var.storage() != FunctionCompiler.Storage.REGISTER) {
			throw new IllegalStateException("the catalog reference of " + AsyncCopies.FUNCTION + " needs its parameter "
					+ name + " in a register");
		}
		return var.slot();
	}

	private CompoundStatement parsedBody(String name, int index, String body) {
		String key = program.dialect.id() + "/" + name + "/" + index;
		return BODIES.computeIfAbsent(key, k -> {
			// wmma::mma_sync is not an identifier: wmma__mma_sync_reference
			String text = "void " + name.replaceAll("\\W", "_") + REFERENCE_SUFFIX + "() {\n" + body + "\n}\n";
			ParsedKernel parsed = new KernelParser().parse(name + REFERENCE_SUFFIX, text, program.dialect);
			if (parsed.unit() == null || parsed.unit().getItems().isEmpty()
					|| !(parsed.unit().getItems().get(0) instanceof FunctionDefinition f)) {
				throw new IllegalStateException("the catalog reference of " + name + " does not parse: "
						+ parsed.diagnostics());
			}
			return f.getBody();
		});
	}

	/** The space checks of the pointer parameters and the form's rules, run before the body. */
	private Stmt prologue(FunctionCompiler fc, CatalogFunction function, Signature signature, List<Rule> rules,
			Map<String, FunctionCompiler.Var> variables) {
		List<Stmt> checks = new ArrayList<>();
		for (Parameter p : signature.params()) {
			if (p.space() == null || p.space().equals("any") || !p.type().contains("*")) {
				continue;
			}
			checks.add(spaceCheck(fc, signature, p, variables));
		}
		for (Rule rule : rules) {
			checks.add(ruleCheck(fc, function, rule, variables));
		}
		Stmt[] all = checks.toArray(Stmt[]::new);
		return f -> {
			for (Stmt check : all) {
				check.exec(f);
			}
			return Stmt.NORMAL;
		};
	}

	private Stmt spaceCheck(FunctionCompiler fc, Signature signature, Parameter p,
			Map<String, FunctionCompiler.Var> variables) {
		Ex pointer = fc.expressions.variable(variables.get(p.name()), 0).read();
		Ex direction = p.space().startsWith("dir.") && variables.containsKey("dir")
				? fc.expressions.variable(variables.get("dir"), 0).read()
				: null;
		boolean from = p.space().equals("dir.from");
		String directionType = signature.params().stream().filter(q -> q.name().equals("dir")).map(Parameter::type)
				.findFirst().orElse("");
		Space fixed = direction == null ? Space.ofCatalogName(p.space()) : null;
		return f -> {
			Space expected = fixed;
			if (direction != null) {
				expected = directionSpace(direction.l(f), directionType, from);
			}
			long address = pointer.l(f);
			Space actual = f.memory.spaceOf(address);
			if (expected != null && actual != null && !expected.accepts(actual)) {
				Region region = f.memory.region(address);
				throw new VmError(Site.UNKNOWN, f.lane.describe(), p.name() + " must point into "
						+ expected.catalogName().toUpperCase() + ", but points into " + actual.catalogName().toUpperCase()
						+ " ('" + region.name() + "')");
			}
			return Stmt.NORMAL;
		};
	}

	private Space directionSpace(long value, String type, boolean from) {
		for (CatalogConstant constant : program.catalog.constants()) {
			if (constant.from() != null && type.equals(constant.type()) && constant.value() instanceof Number n
					&& n.longValue() == value) {
				return Space.ofCatalogName(from ? constant.from() : constant.to());
			}
		}
		return null;
	}

	private Stmt ruleCheck(FunctionCompiler fc, CatalogFunction function, Rule rule,
			Map<String, FunctionCompiler.Var> variables) {
		String check = rule.check();
		Matcher m = SPACE_TEST.matcher(check);
		StringBuilder rewritten = new StringBuilder();
		while (m.find()) {
			Space space = Space.ofCatalogName(m.group(3));
			m.appendReplacement(rewritten, "(__xpiler_space_is(" + m.group(1) + ", " + (space == null ? -1 : space.ordinal())
					+ ") " + m.group(2) + " 1)");
		}
		m.appendTail(rewritten);
		Expression expression = new KernelParser().parseExpression(rewritten.toString(), program.dialect);
		Ex condition = fc.expressions.truth(fc.expressions.compile(expression));
		List<String> shown = variables.keySet().stream().filter(name -> check.matches(".*\\b" + name + "\\b.*")).toList();
		List<Ex> values = shown.stream().map(name -> fc.expressions.variable(variables.get(name), 0).read()).toList();
		String typeNote = fc.bindings.entrySet().stream().filter(e -> check.contains(e.getKey()))
				.map(e -> e.getKey() + " = " + e.getValue().display()).findFirst().orElse(null);
		return f -> {
			if (condition.l(f) == 0) {
				List<String> parts = new ArrayList<>();
				for (int i = 0; i < shown.size(); i++) {
					Ex value = values.get(i);
					parts.add(shown.get(i) + " = " + describe(value, f));
				}
				if (typeNote != null) {
					parts.add(typeNote);
				}
				throw new VmError(Site.UNKNOWN, f.lane.describe(), rule.message() + " (" + String.join(", ", parts) + ")");
			}
			return Stmt.NORMAL;
		};
	}

	private static String describe(Ex value, Frame f) {
		if (value.type.kind() == VmType.Kind.DOUBLE) {
			return Double.toString(value.d(f));
		}
		if (VmType.isPointerLike(value.type)) {
			long address = value.l(f);
			Region region = f.memory.region(address);
			return region == null ? "null" : "'" + region.name() + "' + " + Memory.offsetOf(address) + " bytes";
		}
		return value.type.kind() == VmType.Kind.LONG ? Long.toString(value.l(f)) : value.type.display();
	}

	/** Errors inside a reference body are reported at the call, naming the intrinsic. */
	private Ex relocated(Ex call, String name, int site) {
		return switch (call.type.kind()) {
		case DOUBLE -> new Ex(call.type) {
			@Override
			double d(Frame f) {
				try {
					return call.d(f);
				} catch (VmError e) {
					throw relocate(e, name, site, f);
				}
			}
		};
		case OBJECT -> new Ex(call.type) {
			@Override
			Object o(Frame f) {
				try {
					return call.o(f);
				} catch (VmError e) {
					throw relocate(e, name, site, f);
				}
			}
		};
		default -> new Ex(call.type) {
			@Override
			long l(Frame f) {
				try {
					return call.l(f);
				} catch (VmError e) {
					throw relocate(e, name, site, f);
				}
			}
		};
		};
	}

	private VmError relocate(VmError e, String name, int site, Frame f) {
		if (e.getMessage().startsWith(name + ": ")) {
			return e;
		}
		return new VmError(program.site(site), f.lane.describe(), name + ": " + e.getMessage());
	}

}
