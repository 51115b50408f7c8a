package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.core.vm.LaneWiseLoop;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.catalog.CatalogFunction.Parameter;
import org.xpiler.lang.catalog.CatalogFunction.Signature;
import org.xpiler.lang.catalog.IntrinsicCatalog;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CaseLabel;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.DefaultLabel;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.SizeOf;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeName;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.MacroDefinition;
import org.xpiler.lang.parsing.ParsedKernel;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Restricts BANG C's element-wise intrinsics to the elements whose results are read, for {@link BangDetensorize}.
 * The vector unit needs counts padded to 128 bytes, so a kernel computes a ragged tail on a padded count and
 * stores only the real elements; the padding lanes compute garbage that nobody reads. Scalar C++ reading those
 * never-written elements would read indeterminate values (and the virtual device rejects it), so the helper
 * calls get the count that is used:
 *
 * <pre>
 * before: __memcpy(x, src, tail * sizeof(float), GDRAM2NRAM);
 *         __bang_active_relu(x, x, tail_align);        // int tail_align = (tail + 31) / 32 * 32;
 *         __memcpy(dst, x, tail * sizeof(float), NRAM2GDRAM);
 * after:  __bang_active_relu(x, x, tail);
 * </pre>
 *
 * <b>Why it is equivalent.</b> The analysis computes, backwards over straight-line runs of intrinsic calls, which
 * elements of each on-chip buffer may still be read ("demanded"), and gives an element-wise call (its reference
 * is one loop {@code for (i = 0; i < n; ++i)} writing element {@code i} of its destination from element
 * {@code i} of its sources) the count of the demanded prefix of its destination. Element {@code i} of the result
 * is computed as before, and the elements it no longer computes are dead. Deadness across runs comes from
 * <i>run-local</i> buffers: an {@code __nram__}/{@code __wram__} array (memory of one core) every access of
 * which is an argument of an intrinsic call, directly or through a pointer that only ever holds its start, and
 * every run of which writes what it reads before reading it (nothing is demanded at the run's start). Such a
 * buffer carries nothing from one run to another, so nothing is demanded at the end of a run either; a buffer that
 * fails the test (read in scalar code, loaded once and reused, carved into views at offsets) keeps its counts.
 * <p>
 * A run is a sequence of statements of one block: intrinsic calls, and statements that touch no on-chip buffer
 * (and call no function that does), which may not change what a demanded count means (a demand whose count
 * names a variable such a statement assigns becomes the whole buffer). Counts are compared as text, by constant
 * folding (with the file's macros), or through definitions of variables that are never assigned again:
 * {@code (m + K - 1) / K * K} and {@code (m + K - 1) & ~(K - 1)} are at least {@code m} for a constant
 * {@code K > 0}. Where the new count is not provably at most the old one it becomes the smaller of the two
 * ({@code m < n ? m : n}); such a call is not counted as writing the whole demanded prefix.
 * <p>
 * Not restricted: asynchronous copies (they write at the next sync, not at the call), intrinsics whose reference
 * is not element-wise (reductions, transposes, matmul, pools read their whole operands), strided copies, and
 * forms that only argument types tell apart.
 */
final class DemandedLanes {
	private static final Set<String> CORE_MEMORY = Set.of("__nram__", "__wram__");
	/** Its copy lands at a later {@code __sync*}: at the call nothing is written yet. */
	private static final String ASYNC_COPY = "__memcpy_async";

	private final TranslationUnit unit;
	private final IntrinsicCatalog catalog = Dialect.BANG.catalog();
	private final KernelPrinter printer = Dialect.BANG.printer();
	private final Map<List<Object>, Optional<ElementWise>> forms = new HashMap<>();
	/** On-chip arrays by name: their element type. */
	private final Map<String, String> buffers = new HashMap<>();
	/** Pointers that only ever hold the start of a buffer: the buffer and the pointee type. */
	private final Map<String, Pointer> views = new HashMap<>();
	private final Map<FunctionDefinition, Facts> facts = new HashMap<>();
	/** The object-like macros of the file ({@code #define ALIGN 32}). */
	private final List<MacroDefinition> macros = new ArrayList<>();

	/** Where a pointer expression points: the start of {@code buffer}, as a {@code type *}. */
	private record Pointer(String buffer, String type) {
	}

	/** A statement list of one block and the function it is in. */
	private record Run(List<Statement> statements, FunctionDefinition function) {
	}

	DemandedLanes(TranslationUnit unit) {
		this.unit = unit;
		for (Directive directive : EcoreUtil2.eAllOfType(unit, Directive.class)) {
			MacroDefinition.of(directive.getText()).filter(d -> d.parameters() == null).ifPresent(macros::add);
		}
		findBuffers();
	}

	/**
	 * Gives the element-wise calls the counts their results are read over; returns where, as
	 * {@code "line 29: tail"}.
	 */
	List<String> restrict() {
		Set<String> candidates = new HashSet<>(buffers.keySet());
		candidates.removeIf(this::accessedOutsideIntrinsics);
		List<Run> runs = runs();
		while (true) {
			Map<Expression, String> counts = new LinkedHashMap<>();
			Set<String> demandedAtStart = new HashSet<>();
			for (Run run : runs) {
				demandedAtStart.addAll(new Analysis(run, candidates, counts).demandedAtStart());
			}
			if (demandedAtStart.isEmpty()) {
				List<String> restricted = new ArrayList<>();
				counts.forEach((count, replacement) -> {
					restricted.add(Snippets.location(count) + ": " + replacement);
					EcoreUtil.replace(count, Snippets.expression(replacement, Dialect.BANG));
				});
				return restricted;
			}
			candidates.removeAll(demandedAtStart);
		}
	}

	// ---------------------------------------------------------------- buffers and the pointers to their start

	private void findBuffers() {
		Map<String, Integer> declared = new HashMap<>();
		EcoreUtil2.eAllOfType(unit, Declarator.class).forEach(d -> declared.merge(String.valueOf(d.getName()), 1, Integer::sum));
		for (Declaration declaration : EcoreUtil2.eAllOfType(unit, Declaration.class)) {
			boolean onCore = declaration.getSpecifiers().stream()
					.anyMatch(s -> s instanceof Specifier q && CORE_MEMORY.contains(q.getName()));
			for (Declarator d : declaration.getDeclarators()) {
				if (onCore && d.getDimensions().size() == 1 && d.getPointers().isEmpty()
						&& declared.getOrDefault(d.getName(), 0) == 1) {
					buffers.put(d.getName(), typeName(declaration.getType()));
				}
			}
		}
		Set<String> assigned = assignedNames(unit);
		boolean grown = true;
		while (grown) { // a view may be made from another view
			grown = false;
			for (DeclarationStatement statement : EcoreUtil2.eAllOfType(unit, DeclarationStatement.class)) {
				Declaration declaration = statement.getDeclaration();
				for (Declarator d : declaration.getDeclarators()) {
					if (views.containsKey(d.getName()) || d.getPointers().size() != 1 || !d.getDimensions().isEmpty()
							|| !(d.getInitializer() instanceof Expression initializer) || declared.getOrDefault(d.getName(), 0) != 1
							|| assigned.contains(d.getName())) {
						continue;
					}
					Optional<Pointer> target = pointer(initializer);
					if (target.isPresent()) {
						views.put(d.getName(), new Pointer(target.get().buffer(), typeName(declaration.getType())));
						grown = true;
					}
				}
			}
		}
	}

	/** The buffer start {@code e} points to: a buffer, a view, or a cast of one to another pointer type. */
	private Optional<Pointer> pointer(Expression e) {
		Expression inner = Snippets.unparenthesized(e);
		if (inner instanceof Name name && buffers.containsKey(name.getName())) {
			return Optional.of(new Pointer(name.getName(), buffers.get(name.getName())));
		}
		if (inner instanceof Name name && views.containsKey(name.getName())) {
			return Optional.of(views.get(name.getName()));
		}
		if (inner instanceof Cast cast && cast.getType().getPointers().size() == 1) {
			TypeName type = cast.getType();
			return pointer(cast.getOperand()).map(p -> new Pointer(p.buffer(), typeName(type.getType())));
		}
		return Optional.empty();
	}

	/** The buffer a name is, or that a view of it names, or null. */
	private String bufferOf(String name) {
		return buffers.containsKey(name) ? name : views.containsKey(name) ? views.get(name).buffer() : null;
	}

	/**
	 * Whether some use of {@code buffer} is not a pointer argument of an intrinsic call statement (nor the
	 * initializer of a view): then anything may read it at any time.
	 */
	private boolean accessedOutsideIntrinsics(String buffer) {
		for (Name name : EcoreUtil2.eAllOfType(unit, Name.class)) {
			if (!buffer.equals(bufferOf(name.getName()))) {
				continue;
			}
			EObject use = name;
			while (use.eContainer() instanceof Parenthesized || use.eContainer() instanceof Cast) {
				use = use.eContainer();
			}
			boolean viewInitializer = use.eContainer() instanceof Declarator d && views.containsKey(d.getName());
			boolean pointerArgument = use.eContainer() instanceof Call call && intrinsic(call).isPresent()
					&& call.eContainer() instanceof ExpressionStatement && pointerParameter(call, call.getArgs().indexOf(use));
			if (!viewInitializer && !pointerArgument) {
				return true;
			}
		}
		return false;
	}

	private boolean pointerParameter(Call call, int argument) {
		List<Signature> accepting = forms(call);
		return argument >= 0 && accepting.size() == 1 && accepting.get(0).params().get(argument).type().contains("*");
	}

	// ---------------------------------------------------------------- runs

	/** The statement lists of all blocks, and the intrinsic call statements that are a loop's or if's body. */
	private List<Run> runs() {
		List<Run> runs = new ArrayList<>();
		for (FunctionDefinition f : Snippets.definedFunctions(unit)) {
			for (CompoundStatement block : EcoreUtil2.eAllOfType(f, CompoundStatement.class)) {
				runs.add(new Run(block.getStatements(), f));
			}
			for (ExpressionStatement s : EcoreUtil2.eAllOfType(f, ExpressionStatement.class)) {
				if (!(s.eContainer() instanceof CompoundStatement) && intrinsicCall(s).isPresent()) {
					runs.add(new Run(List.of(s), f));
				}
			}
		}
		return runs;
	}

	private Optional<Call> intrinsicCall(Statement s) {
		return s instanceof ExpressionStatement e && Snippets.unparenthesized(e.getExpression()) instanceof Call call
				&& intrinsic(call).isPresent() ? Optional.of(call) : Optional.empty();
	}

	private Optional<CatalogFunction> intrinsic(Call call) {
		return BangDetensorize.function(call);
	}

	private List<Signature> forms(Call call) {
		return intrinsic(call).map(f -> BangDetensorize.forms(f, call.getArgs().size())).orElse(List.of());
	}

	/**
	 * Whether {@code s} touches no buffer, itself or through a function it calls. A case label is not: control
	 * enters the block there, so a run cannot go on through it.
	 */
	private boolean neutral(Statement s) {
		return !(s instanceof CaseLabel || s instanceof DefaultLabel) && !mentionsBuffer(s) && !callsCodeTouchingBuffers(s);
	}

	private boolean mentionsBuffer(EObject code) {
		return EcoreUtil2.eAllOfType(code, Name.class).stream().anyMatch(name -> bufferOf(name.getName()) != null);
	}

	/** Whether a function {@code s} calls touches a buffer: what it does to them happens in the middle of the run. */
	private boolean callsCodeTouchingBuffers(Statement s) {
		return calledFunctions(s).stream().anyMatch(f -> mentionsBuffer(f.getBody()));
	}

	/** The functions of the file that {@code root} calls, directly or through each other. */
	private Set<FunctionDefinition> calledFunctions(EObject root) {
		Set<FunctionDefinition> called = new HashSet<>();
		List<EObject> pending = new ArrayList<>(List.of(root));
		while (!pending.isEmpty()) {
			for (Call call : EcoreUtil2.eAllOfType(pending.remove(pending.size() - 1), Call.class)) {
				for (FunctionDefinition f : Snippets.definedFunctions(unit)) {
					if (f.getName().equals(Snippets.callee(call)) && called.add(f)) {
						pending.add(f.getBody());
					}
				}
			}
		}
		return called;
	}

	// ---------------------------------------------------------------- the backward analysis of one run

	/** The elements of a buffer that may still be read: none, a prefix of {@code count} elements of {@code unit} bytes, or all. */
	private record Demand(Expression count, long unit, boolean all) {
		static final Demand NONE = new Demand(null, 0, false);
		static final Demand ALL = new Demand(null, 0, true);

		static Demand prefix(Expression count, long unit) {
			return new Demand(count, unit, false);
		}

		boolean none() {
			return count == null && !all;
		}
	}

	/**
	 * One run's statements, walked backwards in segments between statements that touch buffers otherwise: the
	 * demands of the candidate buffers (run-local if nothing is demanded at the start of any run).
	 */
	private final class Analysis {
		private final Run run;
		private final Set<String> candidates;
		private final Map<Expression, String> counts;
		private final Facts known;

		Analysis(Run run, Set<String> candidates, Map<Expression, String> counts) {
			this.run = run;
			this.candidates = candidates;
			this.counts = counts;
			this.known = facts.computeIfAbsent(run.function(), Facts::new);
		}

		/** The candidates something is demanded of at the start of a segment of the run. */
		Set<String> demandedAtStart() {
			Set<String> demandedAtStart = new HashSet<>();
			Map<String, Demand> demands = new HashMap<>();
			List<Statement> statements = run.statements();
			for (int i = statements.size() - 1; i >= -1; i--) {
				Statement s = i >= 0 ? statements.get(i) : null;
				Optional<Call> call = s == null || callsCodeTouchingBuffers(s) ? Optional.empty() : intrinsicCall(s);
				if (call.isPresent()) {
					step(call.get(), demands);
				} else if (s != null && neutral(s)) {
					forgetCountsAssignedBy(s, demands);
				} else { // the start of the run, or a statement that starts a new segment
					demands.forEach((buffer, demand) -> {
						if (!demand.none()) {
							demandedAtStart.add(buffer);
						}
					});
					demands.clear();
				}
			}
			return demandedAtStart;
		}

		private Demand demand(Map<String, Demand> demands, String buffer) {
			return candidates.contains(buffer) ? demands.getOrDefault(buffer, Demand.NONE) : Demand.ALL;
		}

		/**
		 * A demand whose count names a variable {@code s} declares or assigns, itself or in a function it calls,
		 * means something else before {@code s}.
		 */
		private void forgetCountsAssignedBy(Statement s, Map<String, Demand> demands) {
			Set<String> assigned = assignedNames(s);
			EcoreUtil2.eAllOfType(s, Declarator.class).forEach(d -> assigned.add(d.getName()));
			calledFunctions(s).forEach(f -> assigned.addAll(assignedNames(f.getBody())));
			demands.replaceAll((buffer, demand) -> demand.count() != null && EcoreUtil2.eAllOfType(demand.count(), Name.class)
					.stream().anyMatch(n -> assigned.contains(n.getName())) ? Demand.ALL : demand);
		}

		/** The demands before {@code call}, from those after it; records a new count for it where it can have one. */
		private void step(Call call, Map<String, Demand> demands) {
			Optional<Lanes> lanes = lanes(call);
			if (lanes.isEmpty()) {
				for (Expression argument : call.getArgs()) {
					pointer(argument).filter(p -> candidates.contains(p.buffer()))
							.ifPresent(p -> demands.put(p.buffer(), Demand.ALL));
				}
				return;
			}
			Expression count = lanes.get().count();
			Expression used = usedCount(lanes.get(), demands);
			Expression computed = count; // the elements the call computes after the change; null: at most used
			if (used != null && !known.atLeast(used, count, 0)) {
				boolean smaller = known.atLeast(count, used, 0);
				counts.put(count, smaller ? text(used)
						: "(" + text(used) + " < " + text(count) + " ? " + text(used) + " : " + text(count) + ")");
				computed = smaller ? used : null;
			}
			for (Operand o : lanes.get().operands()) {
				String buffer = o.pointer().map(Pointer::buffer).filter(candidates::contains).orElse(null);
				if (o.written() && buffer != null) {
					Demand after = demand(demands, buffer);
					demands.put(buffer, computed != null && covers(Demand.prefix(computed, o.unit()), after) ? Demand.NONE : after);
				}
			}
			Expression read = computed != null ? computed : used;
			for (Operand o : lanes.get().operands()) {
				String buffer = o.pointer().map(Pointer::buffer).filter(candidates::contains).orElse(null);
				if (o.read() && buffer != null) {
					demands.put(buffer, union(demand(demands, buffer), o.aligned() ? Demand.prefix(read, o.unit()) : Demand.ALL));
				}
			}
		}

		/**
		 * The count of elements of the call's destinations that are demanded, when it differs from the call's own
		 * count; null when the call keeps its count (a destination demanded entirely or not at all, or demands
		 * that do not agree).
		 */
		private Expression usedCount(Lanes lanes, Map<String, Demand> demands) {
			Expression used = null;
			for (Operand o : lanes.operands()) {
				if (!o.written()) {
					continue;
				}
				Demand d = o.pointer().map(p -> demand(demands, p.buffer())).orElse(Demand.ALL);
				if (d.none()) {
					continue;
				}
				Expression elements = d.all() ? null : elements(d, o.unit());
				if (elements == null || used != null && !text(used).equals(text(elements))) {
					return null;
				}
				used = elements;
			}
			return used == null || text(used).equals(text(lanes.count())) ? null : used;
		}

		/** The demanded prefix as a count of {@code unit}-byte elements, or null when it is not one. */
		private Expression elements(Demand d, long unit) {
			if (d.unit() == unit) {
				return d.count();
			}
			OptionalLong value = known.fold(d.count());
			return value.isPresent() && unit > 0 && value.getAsLong() * d.unit() % unit == 0
					? Snippets.expression(Long.toString(value.getAsLong() * d.unit() / unit), Dialect.BANG)
					: null;
		}

		/** Whether writing {@code written} leaves nothing of {@code demand} to read from before. */
		private boolean covers(Demand written, Demand demand) {
			return demand.none() || !demand.all() && atLeast(written, demand);
		}

		/** Whether prefix {@code a} has at least the bytes of prefix {@code b}. */
		private boolean atLeast(Demand a, Demand b) {
			if (a.unit() == b.unit() && known.atLeast(a.count(), b.count(), 0)) {
				return true;
			}
			OptionalLong x = known.fold(a.count());
			OptionalLong y = known.fold(b.count());
			return x.isPresent() && y.isPresent() && x.getAsLong() * a.unit() >= y.getAsLong() * b.unit();
		}

		private Demand union(Demand a, Demand b) {
			if (a.none() || b.all()) {
				return b;
			}
			if (b.none() || a.all()) {
				return a;
			}
			return atLeast(a, b) ? a : atLeast(b, a) ? b : Demand.ALL;
		}
	}

	/** {@code float}, {@code half}, {@code T}: the type's name (for sizes and type parameters). */
	private static String typeName(TypeSpecifier type) {
		return type instanceof BuiltinType b ? b.getName() : type instanceof NamedType n ? n.getName() : "";
	}

	private String text(Expression e) {
		return printer.expression(Snippets.unparenthesized(e));
	}

	// ---------------------------------------------------------------- element-wise calls

	/** A pointer operand of an element-wise call: where it points, how it is accessed, its element size. */
	private record Operand(Optional<Pointer> pointer, boolean written, boolean read, boolean aligned, long unit) {
	}

	/** An element-wise call: the expression counting its elements (in units of each operand's size) and its operands. */
	private record Lanes(Expression count, List<Operand> operands) {
	}

	/**
	 * The call as element-wise: each operand's element size from its parameter's type (or the buffer type it
	 * points to for a type parameter), the count with a constant factor ({@code tail * sizeof(float)} bytes)
	 * moved into the element size. Empty when the call is not element-wise or its count has side effects.
	 */
	private Optional<Lanes> lanes(Call call) {
		CatalogFunction function = intrinsic(call).orElseThrow();
		List<Signature> accepting = forms(call);
		if (accepting.size() != 1 || function.name().equals(ASYNC_COPY)) {
			return Optional.empty();
		}
		Signature form = accepting.get(0);
		Optional<ElementWise> shape = forms.computeIfAbsent(List.of(function.name(), form),
				key -> ElementWise.of(function, form, catalog));
		if (shape.isEmpty()) {
			return Optional.empty();
		}
		Expression count = call.getArgs().get(shape.get().countParameter());
		if (!pure(count)) {
			return Optional.empty();
		}
		Map<String, String> bindings = new HashMap<>(); // type parameter -> the type of the buffer it points into
		for (ElementWise.Access access : shape.get().accesses()) {
			Optional<Pointer> p = pointer(call.getArgs().get(access.parameter()));
			if (p.isPresent() && function.typeParams().containsKey(access.elementType())) {
				String bound = bindings.putIfAbsent(access.elementType(), p.get().type());
				if (bound != null && !bound.equals(p.get().type())) {
					return Optional.empty();
				}
			}
		}
		Expression lanesCounted = count;
		long factor = 1;
		if (Snippets.unparenthesized(count) instanceof Binary product && product.getOp().equals("*")) {
			OptionalLong right = known(call).fold(product.getRight());
			OptionalLong left = known(call).fold(product.getLeft());
			if (right.isPresent() && left.isEmpty()) {
				lanesCounted = product.getLeft();
				factor = right.getAsLong();
			} else if (left.isPresent() && right.isEmpty()) {
				lanesCounted = product.getRight();
				factor = left.getAsLong();
			}
		}
		List<Operand> operands = new ArrayList<>();
		for (ElementWise.Access access : shape.get().accesses()) {
			Expression argument = call.getArgs().get(access.parameter());
			Optional<Pointer> p = pointer(argument);
			String type = bindings.getOrDefault(access.elementType(), access.elementType());
			OptionalLong size = known(call).fold(Snippets.expression("sizeof(" + type + ")", Dialect.BANG));
			if (p.isPresent() && size.isEmpty()) {
				return Optional.empty();
			}
			operands.add(new Operand(p, access.written(), access.read(), access.aligned(), size.orElse(0) * factor));
		}
		return Optional.of(new Lanes(lanesCounted, operands));
	}

	private Facts known(EObject node) {
		return facts.computeIfAbsent(EcoreUtil2.getContainerOfType(node, FunctionDefinition.class), Facts::new);
	}

	/**
	 * Integer arithmetic of names and constants (no assignments, calls or memory reads): its value changes only
	 * where one of its names is assigned.
	 */
	private static boolean pure(Expression e) {
		List<Expression> all = new ArrayList<>(EcoreUtil2.eAllOfType(e, Expression.class));
		all.add(e);
		return all.stream().allMatch(x -> x instanceof Name || x instanceof IntLiteral || x instanceof Binary
				|| x instanceof Parenthesized || x instanceof Conditional || x instanceof Cast || x instanceof SizeOf
				|| x instanceof Unary u && Set.of("-", "+", "!", "~").contains(u.getOp()));
	}

	/**
	 * The element-wise shape of a catalog form: a reference whose loop {@code for (int i = 0; i < n; ++i)} runs
	 * over the count parameter {@code n}, each iteration writing element {@code i} of its destinations (the virtual
	 * device's {@link LaneWiseLoop} conditions hold), and what it reads of each pointer parameter.
	 */
	private record ElementWise(int countParameter, List<Access> accesses) {

		/** A pointer parameter: written and read as element {@code i}, or read elsewhere too (not aligned). */
		record Access(int parameter, boolean written, boolean read, boolean aligned, String elementType) {
		}

		static Optional<ElementWise> of(CatalogFunction function, Signature form, IntrinsicCatalog catalog) {
			String reference = form.reference() != null ? form.reference() : function.reference();
			if (reference == null) {
				return Optional.empty();
			}
			List<String> parameters = form.params().stream().map(p -> p.type() + " " + p.name()).toList();
			String template = function.typeParams().isEmpty() ? ""
					: "template <typename " + String.join(", typename ", function.typeParams().keySet()) + ">\n";
			String text = template + "void element_wise(" + String.join(", ", parameters) + ") {\n" + reference + "\n}\n";
			ParsedKernel parsed = new KernelParser().parse("element_wise.mlu", text, Dialect.BANG);
			if (parsed.hasErrors() || !(parsed.unit().getItems().get(0) instanceof FunctionDefinition f)) {
				return Optional.empty();
			}
			List<Statement> body = f.getBody().getStatements();
			Set<String> pointers = form.params().stream().filter(p -> p.type().contains("*")).map(Parameter::name)
					.collect(Collectors.toSet());
			if (!LaneWiseLoop.admits(body, pointers, catalog) || !(body.get(body.size() - 1) instanceof ForStatement loop)) {
				return Optional.empty();
			}
			Declarator counter = loop.getInitDeclaration().getDeclarators().get(0);
			List<String> names = form.params().stream().map(Parameter::name).toList();
			if (!(counter.getInitializer() instanceof IntLiteral zero && zero.getValue().equals("0"))
					|| !(Snippets.unparenthesized(loop.getCondition()) instanceof Binary below) || !below.getOp().equals("<")
					|| !Snippets.isName(below.getLeft(), counter.getName())
					|| !(Snippets.unparenthesized(below.getRight()) instanceof Name bound) || !names.contains(bound.getName())) {
				return Optional.empty();
			}
			if (EcoreUtil2.eAllOfType(f.getBody(), Name.class).stream().filter(n -> n.getName().equals(bound.getName()))
					.count() != 1) {
				return Optional.empty(); // the count means more than how many elements: changing it changes them
			}
			List<Access> accesses = new ArrayList<>();
			for (int p = 0; p < names.size(); p++) {
				if (form.params().get(p).type().contains("*")) {
					Optional<Access> access = access(loop.getBody(), names.get(p), counter.getName(), p, form.params().get(p));
					if (access.isEmpty()) {
						return Optional.empty();
					}
					accesses.add(access.get());
				}
			}
			return Optional.of(new ElementWise(names.indexOf(bound.getName()), accesses));
		}

		/** How the loop body accesses pointer parameter {@code name}: only by subscripts, through casts. */
		private static Optional<Access> access(Statement body, String name, String counter, int index, Parameter p) {
			boolean written = false;
			boolean read = false;
			boolean aligned = true;
			String elementType = p.type().replace("const", "").replace("*", "").strip();
			for (Name use : EcoreUtil2.eAllOfType(body, Name.class)) {
				if (!use.getName().equals(name)) {
					continue;
				}
				EObject target = use;
				while (target.eContainer() instanceof Parenthesized || target.eContainer() instanceof Cast) {
					if (target.eContainer() instanceof Cast cast) {
						elementType = typeName(cast.getType().getType());
					}
					target = target.eContainer();
				}
				if (!(target.eContainer() instanceof Index subscript) || subscript.getTarget() != target) {
					return Optional.empty(); // the pointer itself escapes: no element-wise footprint
				}
				boolean assigned = subscript.eContainer() instanceof Assignment a && a.getLeft() == subscript;
				written |= assigned;
				read |= !assigned || !((Assignment) subscript.eContainer()).getOp().equals("=");
				aligned &= Snippets.isName(subscript.getIndex(), counter);
			}
			return written && !aligned ? Optional.empty() : Optional.of(new Access(index, written, read, aligned, elementType));
		}
	}

	// ---------------------------------------------------------------- what is known of a function's integers

	/**
	 * Integer facts of one function for comparing counts: constants (with the file's macros and {@code const}
	 * variables) and the definitions of variables declared once and never assigned, so that their name and their
	 * initializer mean the same wherever the name is in scope.
	 */
	private final class Facts {
		private final ConstantFolder folder;
		private final Map<String, Expression> definitions = new HashMap<>();

		Facts(FunctionDefinition f) {
			folder = ConstantFolder.withConstantsOf(unit, f);
			for (MacroDefinition macro : macros) {
				try {
					folder.fold(Snippets.expression(macro.body(), Dialect.BANG))
							.ifPresent(value -> folder.define(macro.name(), value));
				} catch (IllegalArgumentException notAnExpression) {
					// a macro that is not an integer expression
				}
			}
			Map<String, Integer> declared = new HashMap<>();
			EcoreUtil2.eAllOfType(f, Declarator.class).forEach(d -> declared.merge(String.valueOf(d.getName()), 1, Integer::sum));
			Set<String> assigned = assignedNames(f);
			Set<String> immutable = new HashSet<>();
			declared.forEach((name, declarations) -> {
				if (declarations == 1 && !assigned.contains(name)) {
					immutable.add(name);
				}
			});
			for (Declarator d : EcoreUtil2.eAllOfType(f, Declarator.class)) {
				if (immutable.contains(d.getName()) && d.getPointers().isEmpty() && d.getDimensions().isEmpty()
						&& d.getInitializer() instanceof Expression initializer && pure(initializer)
						&& EcoreUtil2.eAllOfType(initializer, Name.class).stream().map(Name::getName)
								.allMatch(n -> immutable.contains(n) || catalog.variable(n).isPresent()
										|| folder.fold(Snippets.expression(n, Dialect.BANG)).isPresent())) {
					definitions.put(d.getName(), initializer);
				}
			}
		}

		OptionalLong fold(Expression e) {
			return folder.fold(e);
		}

		/** Whether {@code a >= b + slack} for every value of the variables. */
		boolean atLeast(Expression a, Expression b, long slack) {
			Expression x = Snippets.unparenthesized(a);
			if (text(x).equals(text(b))) {
				return slack <= 0;
			}
			OptionalLong xValue = folder.fold(x);
			OptionalLong bValue = folder.fold(b);
			if (xValue.isPresent() && bValue.isPresent()) {
				return xValue.getAsLong() >= bValue.getAsLong() + slack;
			}
			if (x instanceof Name name && definitions.containsKey(name.getName())) {
				return atLeast(definitions.get(name.getName()), b, slack);
			}
			if (!(x instanceof Binary binary)) {
				return false;
			}
			OptionalLong right = folder.fold(binary.getRight());
			return switch (binary.getOp()) {
			case "+" -> right.isPresent() ? atLeast(binary.getLeft(), b, slack - right.getAsLong())
					: folder.fold(binary.getLeft()).isPresent()
							&& atLeast(binary.getRight(), b, slack - folder.fold(binary.getLeft()).getAsLong());
			case "-" -> right.isPresent() && atLeast(binary.getLeft(), b, slack + right.getAsLong());
			// (A / K) * K >= A - (K - 1) under C's truncating division, for K > 0
			case "*" -> right.isPresent() && right.getAsLong() > 0
					&& Snippets.unparenthesized(binary.getLeft()) instanceof Binary quotient && quotient.getOp().equals("/")
					&& folder.fold(quotient.getRight()).equals(right)
					&& atLeast(quotient.getLeft(), b, slack + right.getAsLong() - 1);
			// A & ~M >= A - M for M = 2^j - 1 (two's complement)
			case "&" -> Snippets.unparenthesized(binary.getRight()) instanceof Unary not && not.getOp().equals("~")
					&& folder.fold(not.getOperand()).isPresent() && lowBits(folder.fold(not.getOperand()).getAsLong())
					&& atLeast(binary.getLeft(), b, slack + folder.fold(not.getOperand()).getAsLong());
			default -> false;
			};
		}

		private static boolean lowBits(long mask) {
			return mask >= 0 && (mask & (mask + 1)) == 0;
		}
	}

	/** Names assigned, incremented, decremented or whose address is taken in {@code root}. */
	private static Set<String> assignedNames(EObject root) {
		Set<String> assigned = new HashSet<>();
		for (EObject o : EcoreUtil2.eAllOfType(root, EObject.class)) {
			Expression target = switch (o) {
			case Assignment a -> a.getLeft();
			case Postfix p -> p.getOperand();
			case Unary u when u.getOp().equals("++") || u.getOp().equals("--") || u.getOp().equals("&") -> u.getOperand();
			default -> null;
			};
			if (target != null && Snippets.unparenthesized(target) instanceof Name name) {
				assigned.add(name.getName());
			}
		}
		return assigned;
	}
}
