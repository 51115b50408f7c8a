package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.catalog.CatalogEntries.DeviceModel;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.ArrayDimension;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BreakStatement;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.ContinueStatement;
import org.xpiler.lang.kernel.DeclSpecifier;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.SwitchStatement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.kernel.WhileStatement;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Pipeline ({@code pipeline}) double-buffers the tile loops of a BANG C kernel so that the IO-DMA transfer of
 * the next tile overlaps the computation of the current one: the paper's load / compute / store pipeline. A
 * tile loop, as {@code tensorize} writes it, loads NRAM tiles with {@code __memcpy(..., GDRAM2NRAM)}, computes
 * on NRAM and stores with {@code __memcpy(..., NRAM2GDRAM)}. Every {@code __nram__} array the loop loads gets a
 * second buffer ({@code x_nram[1024]} becomes {@code x_nram[2][1024]}); tile 0 is loaded with
 * {@code __memcpy_async} before the loop, and iteration t waits for its tile ({@code __sync_io()}), starts the
 * asynchronous load of tile t+1 into the other buffer, computes and stores tile t from its own buffer, and
 * flips the buffer index.
 * <p>
 * Why the result computes the same: the load of tile t+1 moves ahead of tile t's compute and store. It writes
 * only the other buffers, which tile t does not touch, and reads GDRAM that tile t does not write (the loop
 * stores to no pointer it loads from, and its compute names only on-chip arrays and scalars); its scalar
 * prelude ({@code int n = ...}) is recomputed for t+1 from the index and loop invariants. An asynchronous
 * copy's destination is defined only after the next sync, so tile t is read after {@code __sync_io()} only
 * (that sync waits for every transfer in flight, so it comes before the next load starts, not after). The
 * core's pipelines are not ordered against each other, so {@code __sync_compute()} precedes the asynchronous
 * loads: the zero fill of a padded tile and the earlier compute on that buffer finish before the DMA writes
 * it. Stores stay blocking, so a buffer is free again once its store returns.
 *
 * <pre>
 * before: __nram__ float input_nram[1024];
 *         for (int t = first; t &lt; end; t += 1024) {
 *             int n = end - t &lt; 1024 ? end - t : 1024;
 *             int padded = (n + 31) / 32 * 32;
 *             if (n &lt; padded) { __bang_write_zero(input_nram, padded); }
 *             __memcpy(input_nram, input + t, n * sizeof(float), GDRAM2NRAM);
 *             __bang_active_relu(output_nram, input_nram, padded);
 *             __memcpy(output + t, output_nram, n * sizeof(float), NRAM2GDRAM); }
 * after:  __nram__ float input_nram[2][1024];
 *         { int stage = 0;
 *           { int t_next = first;
 *             if (t_next &lt; end) {
 *                 int n_next = end - t_next &lt; 1024 ? end - t_next : 1024;
 *                 int padded_next = (n_next + 31) / 32 * 32;
 *                 if (n_next &lt; padded_next) { __bang_write_zero(input_nram[0], padded_next); }
 *                 __sync_compute();
 *                 __memcpy_async(input_nram[0], input + t_next, n_next * sizeof(float), GDRAM2NRAM); } }
 *           for (int t = first; t &lt; end; t += 1024) {
 *               int n = ...; int padded = ...;
 *               __sync_io();
 *               { int t_next = t + 1024; if (t_next &lt; end) { ... the same into input_nram[stage ^ 1] ... } }
 *               __bang_active_relu(output_nram, input_nram[stage], padded);
 *               __memcpy(output + t, output_nram, n * sizeof(float), NRAM2GDRAM);
 *               stage ^= 1; } }
 * </pre>
 *
 * Knob: {@code depth}, the buffers per loaded array; {@link #options()} enumerates 2 only, because
 * {@code __sync_io()} waits for every transfer in flight: a third buffer would be waited for a tile early and
 * overlap nothing more. {@code apply} reports {@code depth} and {@code tiles}, the number of arrays doubled.
 * <p>
 * Precondition: BANG C into BANG C, and a loop {@code for (int t = A; t < B; t += S)} ({@code <=} and
 * {@code ++t} too) whose body is, in order: scalar declarations computed from t and loop invariants; the
 * loads {@code __memcpy(X, P + ..., bytes, GDRAM2NRAM)} into {@code __nram__} arrays X declared outside the
 * loop, each X optionally filled first ({@code __bang_write_zero}, also under an {@code if}); then compute
 * (catalog intrinsics on on-chip arrays and scalars) and the stores {@code __memcpy(Q + ..., ..., NRAM2GDRAM)}.
 * Refused, with the line: other dialects; a load after compute (it may depend on the tile's results); a
 * store to a pointer the loop also loads; compute that names a pointer or calls a non-catalog function; a
 * loop that already syncs or copies asynchronously, or leaves by break, continue or return; a loop that runs
 * at most one tile even when one task does all the work (nothing to overlap); a doubled array whose size is
 * not a multiple of 64 bytes (its second buffer would be misaligned); doubled arrays that overflow the usable
 * NRAM of the catalog's default device model. Distinct pointer parameters are assumed not to overlap, as the
 * single-buffered kernel's tiles are.
 */
public final class Pipeline implements Pass {
	private static final String NONE = "no tile loop to pipeline";
	private static final String LOAD = "GDRAM2NRAM";
	private static final String STORE = "NRAM2GDRAM";
	private static final Set<String> FILLS = Set.of("__bang_write_zero", "__bang_write_value", "__memset_nram",
			"__nramset");
	private static final Set<String> ON_CHIP = Set.of("__nram__", "__wram__", "__mlu_shared__");
	/** Launch variables of a one-task launch, where the one task runs every tile. */
	private static final Map<String, Long> ONE_TASK = Map.ofEntries(Map.entry("taskId", 0L),
			Map.entry("taskIdX", 0L), Map.entry("taskIdY", 0L), Map.entry("taskIdZ", 0L), Map.entry("clusterId", 0L),
			Map.entry("coreId", 0L), Map.entry("taskDim", 1L), Map.entry("taskDimX", 1L), Map.entry("taskDimY", 1L),
			Map.entry("taskDimZ", 1L), Map.entry("clusterDim", 1L), Map.entry("coreDim", 1L));

	private final int depth;

	/** @param depth buffers per loaded array: 2 (see the class comment for why not more) */
	public Pipeline(int depth) {
		if (depth != 2) {
			throw new IllegalArgumentException("only double buffering (depth 2) is implemented: " + depth);
		}
		this.depth = depth;
	}

	public Pipeline() {
		this(2);
	}

	/** The depths a tuner may enumerate. */
	public static List<Pipeline> options() {
		return List.of(new Pipeline(2));
	}

	@Override
	public String name() {
		return "pipeline";
	}

	@Override
	public String summary() {
		return "double-buffer the NRAM tiles of load / compute / store loops so the next tile's DMA overlaps this tile's compute";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		return PassRefusal.of(() -> plan(unit, from, to));
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		Plan plan = plan(unit, from, to);
		Set<String> taken = Snippets.takenNames(unit);
		List<String> rewritten = plan.loops().stream().map(t -> pipelined(t, plan.buffers().keySet(), taken)).toList();
		// code outside the pipelined loops keeps using the first buffer
		List<Name> elsewhere = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Name n && plan.buffers().containsKey(n.getName()) && !isCallee(n)
					&& plan.loops().stream().noneMatch(t -> EcoreUtil.isAncestor(t.loop(), n))) {
				elsewhere.add(n);
			}
		});
		elsewhere.forEach(n -> index(n, "0"));
		for (int k = 0; k < rewritten.size(); k++) {
			EcoreUtil.replace(plan.loops().get(k).loop(), Snippets.statements(rewritten.get(k), Dialect.BANG).get(0));
		}
		for (Buffer buffer : plan.buffers().values()) {
			ArrayDimension buffers = KernelFactory.eINSTANCE.createArrayDimension();
			buffers.setSize(Snippets.expression(Integer.toString(depth), Dialect.BANG));
			buffer.declarator().getDimensions().add(0, buffers);
		}
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("depth", Integer.toString(depth));
		knobs.put("tiles", Integer.toString(plan.buffers().size()));
		return knobs;
	}

	// ------------------------------------------------------------------ analysis

	/** The loops to pipeline and the arrays they double. */
	private record Plan(List<TileLoop> loops, Map<String, Buffer> buffers) {
	}

	/** An {@code __nram__} array that gets a second buffer. */
	private record Buffer(Declarator declarator, long bytes) {
	}

	/**
	 * A tile loop in its parts: the scalar prelude, the fills and loads of the tile's buffers, and the rest
	 * (compute and stores).
	 */
	private record TileLoop(ForStatement loop, String index, Expression first, Expression step,
			List<Statement> prelude, List<Statement> fills, List<Statement> loads, List<Statement> work,
			Set<String> buffers) {
	}

	private Plan plan(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.BANG || to != Dialect.BANG) {
			throw new PassRefusal("pipelines BANG C into BANG C only");
		}
		Symbols symbols = new Symbols(unit);
		List<TileLoop> loops = tileLoops(unit, symbols);
		Map<String, Buffer> buffers = new LinkedHashMap<>();
		for (TileLoop t : loops) {
			for (String name : t.buffers()) {
				if (!buffers.containsKey(name)) {
					buffers.put(name, buffer(symbols.declared.get(name).get(0)));
				}
			}
		}
		DeviceModel device = Dialect.BANG.catalog().defaultDeviceModel().orElseThrow();
		long usable = device.usableBytes("nram");
		long used = 0;
		for (Declarator d : symbols.nram) {
			used += arrayBytes(d).orElseThrow(() -> PassRefusal.at(d, "the size of the NRAM array " + d.getName()
					+ " does not fold, so the NRAM a second buffer needs cannot be checked"));
		}
		long added = (depth - 1) * buffers.values().stream().mapToLong(Buffer::bytes).sum();
		if (used + added > usable) {
			String arrays = buffers.entrySet().stream().map(e -> e.getKey() + " (" + e.getValue().bytes() + " bytes)")
					.collect(Collectors.joining(", "));
			throw PassRefusal.at(buffers.values().iterator().next().declarator(), "too little NRAM for double buffers: "
					+ "the file's NRAM arrays take " + used + " bytes, doubling " + arrays + " adds " + added
					+ ", and the " + device.name() + " model has " + usable + " usable bytes of NRAM");
		}
		return new Plan(loops, buffers);
	}

	/** The file's tile loops, outermost first; refuses with the first reason when none qualifies. */
	private static List<TileLoop> tileLoops(TranslationUnit unit, Symbols symbols) {
		List<ForStatement> candidates = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof ForStatement loop && EcoreUtil2.eAllOfType(loop.getBody(), EObject.class).stream()
					.anyMatch(n -> n instanceof Call call && transfer(call, LOAD))) {
				candidates.add(loop);
			}
		});
		List<TileLoop> found = new ArrayList<>();
		List<String> reasons = new ArrayList<>();
		for (ForStatement loop : candidates) {
			if (found.stream().noneMatch(t -> EcoreUtil.isAncestor(t.loop(), loop))) {
				try {
					found.add(read(loop, symbols));
				} catch (PassRefusal refused) {
					reasons.add(refused.getMessage());
				}
			}
		}
		if (found.isEmpty()) {
			throw new PassRefusal(reasons.isEmpty() ? NONE + " (no loop loads from GDRAM to NRAM)"
					: NONE + " (" + reasons.get(0) + ")");
		}
		return found;
	}

	/** The loop's parts, or a refusal that names the construct in the way. */
	private static TileLoop read(ForStatement loop, Symbols symbols) {
		if (loop.getInitDeclaration() == null || loop.getInitDeclaration().getDeclarators().size() != 1
				|| !(loop.getInitDeclaration().getDeclarators().get(0).getInitializer() instanceof Expression first)
				|| !loop.getInitDeclaration().getDeclarators().get(0).getPointers().isEmpty()) {
			throw PassRefusal.at(loop, "the loop does not declare its index");
		}
		String index = loop.getInitDeclaration().getDeclarators().get(0).getName();
		if (!(Snippets.unparenthesized(loop.getCondition()) instanceof Binary condition) || !Snippets.isName(condition.getLeft(), index)
				|| !condition.getOp().equals("<") && !condition.getOp().equals("<=")) {
			throw PassRefusal.at(loop, "the condition is not " + index + " < bound");
		}
		Expression step = step(loop.getUpdate(), index);
		if (step == null) {
			throw PassRefusal.at(loop, "the index does not step by " + index + " += S");
		}
		Set<String> invariant = new HashSet<>(names(condition.getRight()));
		invariant.addAll(names(step));
		invariant.add(index);
		if (!pure(first) || !pure(condition) || !pure(step) || CanonicalLoop.assignsAny(loop.getBody(), invariant)) {
			throw PassRefusal.at(loop, "the loop's start, bound or step has side effects or changes in the body");
		}
		for (EObject o : EcoreUtil2.eAllOfType(loop.getBody(), EObject.class)) {
			if (o instanceof ReturnStatement || (o instanceof BreakStatement || o instanceof ContinueStatement)
					&& innermostLoop(o) == loop) {
				throw PassRefusal.at(o, "the loop body leaves by break, continue or return");
			}
			if (o instanceof Call call && (Snippets.isCallOf(call, "__memcpy_async") || catalogFunction(call)
					.map(f -> f.category().equals("sync")).orElse(false))) {
				throw PassRefusal.at(call, "the loop already copies asynchronously or syncs");
			}
		}
		List<Statement> body = CanonicalLoop.statementsOf(loop.getBody());
		Set<String> loaded = new HashSet<>();
		for (Statement s : body) {
			if (transfer(s, LOAD) != null) {
				loaded.add(loadBuffer(transfer(s, LOAD), loop, symbols));
			}
		}
		List<Statement> prelude = new ArrayList<>(), fills = new ArrayList<>(), loads = new ArrayList<>(),
				work = new ArrayList<>();
		Set<String> buffers = new LinkedHashSet<>(), sources = new HashSet<>();
		int at = 0;
		while (at < body.size() && scalarDeclaration(body.get(at), symbols)) {
			prelude.add(body.get(at++));
		}
		for (; at < body.size(); at++) {
			Statement s = body.get(at);
			Call load = transfer(s, LOAD);
			Set<String> filled = fillTargets(s, symbols);
			if (load != null) {
				buffers.add(loadBuffer(load, loop, symbols));
				sources.add(gdramBase(load.getArgs().get(1), load.getArgs().get(2), symbols, s));
				loads.add(s);
			} else if (!filled.isEmpty() && loaded.containsAll(filled) && Collections.disjoint(filled, buffers)) {
				fills.add(s); // a fill before the load it prepares: it moves with the load
			} else {
				break;
			}
		}
		if (loads.isEmpty()) {
			throw PassRefusal.at(at < body.size() ? body.get(at) : loop,
					"the loop body does not start with scalar declarations and the loads of its tiles");
		}
		Statement store = null;
		Set<String> targets = new HashSet<>();
		for (; at < body.size(); at++) {
			Statement s = body.get(at);
			if (transfer(s, LOAD) != null) {
				throw PassRefusal.at(s, "the load follows this tile's compute (" + Snippets.location(work.get(0))
						+ ") and may depend on its results");
			}
			Call copy = transfer(s, STORE);
			if (copy != null) {
				String base = gdramBase(copy.getArgs().get(0), copy.getArgs().get(2), symbols, s);
				if (sources.contains(base)) {
					throw PassRefusal.at(s, "the loop stores to " + base + ", which it also loads: the next tile's "
							+ "load would run before this tile's store");
				}
				onChipOnly(copy.getArgs().get(1), symbols, s);
				targets.add(base);
				store = s;
			} else {
				compute(s, symbols);
			}
			work.add(s);
		}
		if (store == null) {
			throw PassRefusal.at(loop, "the loop stores nothing from NRAM to GDRAM");
		}
		// the next tile's loads run before this tile's compute: nothing they read may change in the body
		Set<String> needed = new HashSet<>();
		for (List<Statement> part : List.of(prelude, fills, loads)) {
			part.forEach(s -> needed.addAll(names(s)));
		}
		for (String name : needed) {
			if (CanonicalLoop.assignsAny(loop.getBody(), Set.of(name))) {
				throw PassRefusal.at(loop, "the loads use " + name + ", which the loop body changes");
			}
		}
		OptionalLong tiles = mostTiles(loop, first, condition, step);
		if (tiles.isPresent() && tiles.getAsLong() < 2) {
			throw PassRefusal.at(loop, "the loop runs at most " + tiles.getAsLong()
					+ " tile even when one task does all the work: nothing to overlap");
		}
		return new TileLoop(loop, index, first, step, prelude, fills, loads, work, buffers);
	}

	/** {@code S} of {@code i += S}, {@code 1} of {@code ++i} / {@code i++}, else null. */
	private static Expression step(Expression update, String index) {
		update = Snippets.unparenthesized(update);
		if (update instanceof Assignment a && a.getOp().equals("+=") && Snippets.isName(a.getLeft(), index)) {
			return a.getRight();
		}
		boolean increment = update instanceof Postfix p && p.getOp().equals("++") && Snippets.isName(p.getOperand(), index)
				|| update instanceof Unary u && u.getOp().equals("++") && Snippets.isName(u.getOperand(), index);
		return increment ? Snippets.expression("1", Dialect.BANG) : null;
	}

	/** {@code int n = end - t < 1024 ? end - t : 1024;}: arithmetic scalars from side-effect free scalars. */
	private static boolean scalarDeclaration(Statement s, Symbols symbols) {
		if (!(s instanceof DeclarationStatement ds) || !(ds.getDeclaration().getType() instanceof BuiltinType type)
				|| type.getName().equals("void")) {
			return false;
		}
		return ds.getDeclaration().getDeclarators().stream()
				.allMatch(d -> d.getPointers().isEmpty() && d.getDimensions().isEmpty()
						&& d.getConstructorArgs().isEmpty() && d.getInitializer() instanceof Expression init
						&& pure(init) && Collections.disjoint(names(init), symbols.memory));
	}

	/**
	 * The arrays {@code s} fills from their start with scalar arguments ({@code __bang_write_zero(X, n)}, also
	 * several under an {@code if} on scalars); empty when {@code s} is something else.
	 */
	private static Set<String> fillTargets(Statement s, Symbols symbols) {
		if (s instanceof IfStatement guard && guard.getElse() == null && pure(guard.getCondition())
				&& Collections.disjoint(names(guard.getCondition()), symbols.memory)) {
			Set<String> targets = new HashSet<>();
			for (Statement inner : CanonicalLoop.statementsOf(guard.getThen())) {
				Set<String> filled = fillTargets(inner, symbols);
				if (filled.isEmpty()) {
					return Set.of();
				}
				targets.addAll(filled);
			}
			return targets;
		}
		if (s instanceof ExpressionStatement e && e.getExpression() instanceof Call call
				&& FILLS.contains(Snippets.callee(call)) && !call.getArgs().isEmpty()
				&& Snippets.unparenthesized(call.getArgs().get(0)) instanceof Name target) {
			List<Expression> rest = call.getArgs().subList(1, call.getArgs().size());
			boolean scalar = rest.stream().allMatch(a -> pure(a) && Collections.disjoint(names(a), symbols.memory));
			return scalar ? Set.of(target.getName()) : Set.of();
		}
		return Set.of();
	}

	/** The {@code __nram__} array a load writes, declared once and outside the loop, else a refusal. */
	private static String loadBuffer(Call load, ForStatement loop, Symbols symbols) {
		Expression target = Snippets.unparenthesized(load.getArgs().get(0));
		if (target instanceof Name n && symbols.declared.getOrDefault(n.getName(), List.of()).size() == 1) {
			Declarator d = symbols.declared.get(n.getName()).get(0);
			if (symbols.nram.contains(d) && d.getDimensions().size() == 1 && !EcoreUtil.isAncestor(loop, d)) {
				return n.getName();
			}
		}
		throw PassRefusal.at(load, "the load writes " + Dialect.BANG.printer().expression(target)
				+ ", not a one-dimensional __nram__ array declared once outside the loop");
	}

	/** The one GDRAM pointer an address names (the byte count must be a scalar), else a refusal. */
	private static String gdramBase(Expression address, Expression bytes, Symbols symbols, Statement s) {
		Set<String> pointers = new HashSet<>(names(address));
		pointers.retainAll(symbols.memory);
		if (pointers.size() != 1 || !symbols.offChip.containsAll(pointers) || !pure(address) || !pure(bytes)
				|| !Collections.disjoint(names(bytes), symbols.memory)) {
			throw PassRefusal.at(s, "cannot tell which GDRAM array " + Dialect.BANG.printer().expression(address)
					+ " addresses");
		}
		return pointers.iterator().next();
	}

	/** Refuses unless {@code e} names on-chip arrays and scalars only. */
	private static void onChipOnly(EObject e, Symbols symbols, EObject at) {
		for (String name : names(e)) {
			if (symbols.offChip.contains(name)) {
				throw PassRefusal.at(at, "the compute uses " + name + ", which is not an on-chip array: the next "
						+ "tile's load could not be moved ahead of it");
			}
		}
	}

	/** Compute: catalog intrinsics (no transfers to or from GDRAM) on on-chip arrays and scalars. */
	private static void compute(Statement s, Symbols symbols) {
		for (EObject o : EcoreUtil2.eAllOfType(s, EObject.class)) {
			if (o instanceof Call call) {
				if (catalogFunction(call).isEmpty()) {
					throw PassRefusal.at(call, "the compute calls " + Dialect.BANG.printer().expression(call.getCallee())
							+ ", which the pass cannot see into");
				}
				if (Snippets.isCallOf(call, "__memcpy") && !(call.getArgs().size() >= 4
						&& Snippets.isName(call.getArgs().get(3), "NRAM2NRAM"))) {
					throw PassRefusal.at(call, "a transfer inside the compute: the pass reads only loads and stores "
							+ "that are statements of the loop body");
				}
			}
		}
		onChipOnly(s, symbols, s);
	}

	/** The call of {@code s} when it is {@code __memcpy(dst, src, bytes, direction);}, else null. */
	private static Call transfer(Statement s, String direction) {
		return s instanceof ExpressionStatement e && e.getExpression() instanceof Call call && transfer(call, direction)
				? call
				: null;
	}

	private static boolean transfer(Call call, String direction) {
		return Snippets.isCallOf(call, "__memcpy") && call.getArgs().size() == 4
				&& Snippets.isName(call.getArgs().get(3), direction);
	}

	private static Optional<CatalogFunction> catalogFunction(Call call) {
		String name = Snippets.callee(call);
		return name == null ? Optional.empty() : Dialect.BANG.catalog().function(name);
	}

	/** The loop or switch that a break or continue at {@code o} leaves. */
	private static EObject innermostLoop(EObject o) {
		EObject c = o.eContainer();
		while (c != null && !(c instanceof ForStatement || c instanceof WhileStatement || c instanceof DoStatement
				|| c instanceof SwitchStatement)) {
			c = c.eContainer();
		}
		return c;
	}

	private Buffer buffer(Declarator d) {
		long bytes = arrayBytes(d).orElseThrow(
				() -> PassRefusal.at(d, "the size of " + d.getName() + " does not fold, so it cannot be doubled"));
		if (bytes % 64 != 0) {
			throw PassRefusal.at(d, d.getName() + " holds " + bytes + " bytes, not a multiple of 64: its second "
					+ "buffer would not be 64-byte aligned");
		}
		return new Buffer(d, bytes);
	}

	private static OptionalLong arrayBytes(Declarator d) {
		long bytes;
		try {
			bytes = ConstantFolder.size(((Declaration) d.eContainer()).getType());
		} catch (RuntimeException unknownType) {
			return OptionalLong.empty();
		}
		ConstantFolder folder = new ConstantFolder();
		for (ArrayDimension dimension : d.getDimensions()) {
			OptionalLong count = dimension.getSize() == null ? OptionalLong.empty() : folder.fold(dimension.getSize());
			if (count.isEmpty()) {
				return OptionalLong.empty();
			}
			bytes *= count.getAsLong();
		}
		return OptionalLong.of(bytes);
	}

	/**
	 * The most tiles one task runs, when the bounds fold after substituting the function's single-assignment
	 * scalars: at a one-task launch, where that task runs every tile.
	 */
	private static OptionalLong mostTiles(ForStatement loop, Expression first, Binary condition, Expression step) {
		Map<String, Expression> definitions = definitions(loop);
		ConstantFolder folder = new ConstantFolder();
		ONE_TASK.forEach(folder::define);
		OptionalLong lower = folder.fold(resolved(first, definitions, folder));
		OptionalLong upper = folder.fold(resolved(condition.getRight(), definitions, folder));
		OptionalLong stride = folder.fold(resolved(step, definitions, folder));
		if (lower.isEmpty() || upper.isEmpty() || stride.isEmpty() || stride.getAsLong() <= 0) {
			return OptionalLong.empty();
		}
		long end = upper.getAsLong() + (condition.getOp().equals("<=") ? 1 : 0);
		long span = Math.max(0, end - lower.getAsLong());
		return OptionalLong.of((span + stride.getAsLong() - 1) / stride.getAsLong());
	}

	/** Scalars declared once with an initializer, outside the loop, in its function or at file scope, never assigned. */
	private static Map<String, Expression> definitions(ForStatement loop) {
		FunctionDefinition function = EcoreUtil2.getContainerOfType(loop.eContainer(), FunctionDefinition.class);
		TranslationUnit unit = EcoreUtil2.getContainerOfType(loop.eContainer(), TranslationUnit.class);
		Map<String, List<Declarator>> declared = new HashMap<>();
		List<EObject> scope = new ArrayList<>(EcoreUtil2.eAllOfType(function, EObject.class));
		Snippets.topLevelItems(unit).stream().filter(Declaration.class::isInstance)
				.forEach(d -> scope.addAll(EcoreUtil2.eAllOfType(d, EObject.class)));
		for (EObject o : scope) {
			if (o instanceof Declarator d && d.getName() != null) {
				declared.computeIfAbsent(d.getName(), k -> new ArrayList<>()).add(d);
			}
		}
		Map<String, Expression> definitions = new HashMap<>();
		declared.forEach((name, declarators) -> {
			Declarator d = declarators.get(0);
			if (declarators.size() == 1 && d.getPointers().isEmpty() && d.getDimensions().isEmpty()
					&& d.getInitializer() instanceof Expression init && !EcoreUtil.isAncestor(loop, d)
					&& !written(unit, name)) {
				definitions.put(name, init);
			}
		});
		return definitions;
	}

	/** {@code e} with defined names replaced by their initializers and decided conditionals by their branch. */
	private static Expression resolved(Expression e, Map<String, Expression> definitions, ConstantFolder folder) {
		Parenthesized holder = parenthesized(EcoreUtil.copy(e));
		for (int round = 0; round < 32; round++) { // bounded: a definition may (wrongly) refer to itself
			boolean changed = false;
			for (EObject o : EcoreUtil2.eAllOfType(holder, EObject.class)) {
				if (o instanceof Name n && definitions.containsKey(n.getName()) && !isCallee(n)) {
					EcoreUtil.replace(n, parenthesized(EcoreUtil.copy(definitions.get(n.getName()))));
					changed = true;
				}
			}
			List<EObject> inside = EcoreUtil2.eAllOfType(holder, EObject.class);
			Collections.reverse(inside); // inner conditionals first
			for (EObject o : inside) {
				if (o instanceof Conditional c) {
					OptionalLong decided = folder.fold(c.getCondition());
					if (decided.isPresent()) {
						Expression branch = decided.getAsLong() != 0 ? c.getThen() : c.getElse();
						Parenthesized p = KernelFactory.eINSTANCE.createParenthesized();
						EcoreUtil.replace(c, p);
						p.setExpression(branch);
						changed = true;
					}
				}
			}
			if (!changed) {
				break;
			}
		}
		return holder;
	}

	/** What the file declares, by name. */
	private static final class Symbols {
		/** Every declarator: parameters, globals and locals. */
		final Map<String, List<Declarator>> declared = new HashMap<>();
		/** Names of pointers and arrays. */
		final Set<String> memory = new HashSet<>();
		/** Names of pointers, and of arrays outside NRAM, WRAM and SRAM, somewhere in the file. */
		final Set<String> offChip = new HashSet<>();
		/** The {@code __nram__} arrays. */
		final Set<Declarator> nram = new LinkedHashSet<>();

		Symbols(TranslationUnit unit) {
			unit.eAllContents().forEachRemaining(o -> {
				if (o instanceof Parameter p && p.getDeclarator().getName() != null) {
					add(p.getDeclarator(), false);
				} else if (o instanceof Declaration d) {
					for (Declarator x : d.getDeclarators()) {
						add(x, hasSpecifier(d.getSpecifiers(), ON_CHIP));
						if (hasSpecifier(d.getSpecifiers(), Set.of("__nram__")) && !x.getDimensions().isEmpty()) {
							nram.add(x);
						}
					}
				}
			});
		}

		private void add(Declarator d, boolean onChip) {
			declared.computeIfAbsent(d.getName(), k -> new ArrayList<>()).add(d);
			if (!d.getPointers().isEmpty() || !d.getDimensions().isEmpty()) {
				memory.add(d.getName());
				if (!onChip || !d.getPointers().isEmpty() || d.getDimensions().isEmpty()) {
					offChip.add(d.getName());
				}
			}
		}
	}

	// ------------------------------------------------------------------ code generation

	/** The block that replaces the loop: prologue load of the first tile, then the pipelined loop. */
	private static String pipelined(TileLoop t, Set<String> doubled, Set<String> taken) {
		KernelPrinter printer = Dialect.BANG.printer();
		String stage = Snippets.freshName(taken, "stage", Dialect.BANG);
		String next = Snippets.freshName(taken, t.index() + "_next", Dialect.BANG);
		Map<String, String> renames = new HashMap<>(Map.of(t.index(), next));
		for (Statement s : t.prelude()) {
			for (Declarator d : ((DeclarationStatement) s).getDeclaration().getDeclarators()) {
				renames.put(d.getName(), Snippets.freshName(taken, d.getName() + "_next", Dialect.BANG));
			}
		}
		Map<String, String> current = slots(t, doubled, stage);
		StringBuilder text = new StringBuilder("{\nint " + stage + " = 0;\n");
		text.append(loadTile(t, printer.expression(t.first()), "0", next, renames, doubled));
		ForStatement header = EcoreUtil.copy(t.loop());
		header.setBody(KernelFactory.eINSTANCE.createCompoundStatement());
		text.append(printer.statement(header, 0).strip().replaceFirst("\\{\\s*}$", "{\n"));
		t.prelude().forEach(s -> text.append(printer.statement(s, 0)));
		text.append("__sync_io();\n"); // this tile has landed; nothing else is in flight
		Expression step = Snippets.unparenthesized(t.step());
		String following = t.index() + " + " + (step instanceof IntLiteral || step instanceof Name
				? printer.expression(step)
				: "(" + printer.expression(t.step()) + ")");
		text.append(loadTile(t, following, stage + " ^ 1", next, renames, doubled));
		t.work().forEach(s -> text.append(printer.statement(rewritten(s, Map.of(), current), 0)));
		text.append(stage).append(" ^= 1;\n}\n}\n");
		return text.toString();
	}

	/** Starts loading the tile at index {@code start}, when the loop runs it, into buffer {@code slot}. */
	private static String loadTile(TileLoop t, String start, String slot, String next, Map<String, String> renames,
			Set<String> doubled) {
		KernelPrinter printer = Dialect.BANG.printer();
		Map<String, String> slots = slots(t, doubled, slot);
		StringBuilder text = new StringBuilder("{\nint " + next + " = " + start + ";\n");
		text.append("if (").append(printer.expression(rewritten(t.loop().getCondition(), renames, Map.of())))
				.append(") {\n");
		for (List<Statement> part : List.of(t.prelude(), t.fills())) {
			part.forEach(s -> text.append(printer.statement(rewritten(s, renames, slots), 0)));
		}
		text.append("__sync_compute();\n"); // fills and earlier compute on these buffers finish before the DMA
		for (Statement load : t.loads()) {
			ExpressionStatement copy = rewritten((ExpressionStatement) load, renames, slots);
			((Name) ((Call) copy.getExpression()).getCallee()).setName("__memcpy_async");
			text.append(printer.statement(copy, 0));
		}
		return text.append("}\n}\n").toString();
	}

	/** The buffer each doubled array is read at in {@code t}: its own loads at {@code slot}, the others at 0. */
	private static Map<String, String> slots(TileLoop t, Set<String> doubled, String slot) {
		Map<String, String> slots = new HashMap<>();
		doubled.forEach(name -> slots.put(name, t.buffers().contains(name) ? slot : "0"));
		return slots;
	}

	/** A copy with variables renamed and doubled arrays indexed by their buffer. */
	private static <T extends EObject> T rewritten(T node, Map<String, String> renames, Map<String, String> slots) {
		T copy = EcoreUtil.copy(node);
		for (EObject o : EcoreUtil2.eAllOfType(copy, EObject.class)) {
			if (o instanceof Declarator d && renames.containsKey(d.getName())) {
				d.setName(renames.get(d.getName()));
			} else if (o instanceof Name n && renames.containsKey(n.getName())) {
				n.setName(renames.get(n.getName()));
			} else if (o instanceof Name n && slots.containsKey(n.getName()) && !isCallee(n)) {
				index(n, slots.get(n.getName()));
			}
		}
		return copy;
	}

	/** {@code x} becomes {@code x[slot]}. */
	private static void index(Name n, String slot) {
		Index indexed = KernelFactory.eINSTANCE.createIndex();
		EcoreUtil.replace(n, indexed);
		indexed.setTarget(n);
		indexed.setIndex(Snippets.expression(slot, Dialect.BANG));
	}

	// ------------------------------------------------------------------ small helpers

	private static Set<String> names(EObject root) {
		return EcoreUtil2.eAllOfType(root, Name.class).stream().map(Name::getName).collect(Collectors.toSet());
	}

	/** No calls, assignments, increments or decrements. */
	private static boolean pure(EObject root) {
		return EcoreUtil2.eAllOfType(root, EObject.class).stream().noneMatch(o -> o instanceof Call || o instanceof Assignment
				|| o instanceof Postfix || o instanceof Unary u && (u.getOp().equals("++") || u.getOp().equals("--")));
	}

	/** Whether {@code root} assigns, increments or takes the address of {@code name} anywhere. */
	private static boolean written(EObject root, String name) {
		for (EObject o : EcoreUtil2.eAllOfType(root, EObject.class)) {
			Expression target = o instanceof Assignment a ? a.getLeft()
					: o instanceof Postfix p ? p.getOperand()
							: o instanceof Unary u && Set.of("++", "--", "&").contains(u.getOp()) ? u.getOperand() : null;
			if (target != null && Snippets.isName(target, name)) {
				return true;
			}
		}
		return false;
	}

	private static boolean isCallee(Name n) {
		return n.eContainer() instanceof Call call && call.getCallee() == n;
	}

	private static boolean hasSpecifier(List<DeclSpecifier> specifiers, Set<String> names) {
		return specifiers.stream().anyMatch(s -> s instanceof Specifier sp && names.contains(sp.getName()));
	}

	private static Parenthesized parenthesized(Expression e) {
		Parenthesized p = KernelFactory.eINSTANCE.createParenthesized();
		p.setExpression(e);
		return p;
	}

}
