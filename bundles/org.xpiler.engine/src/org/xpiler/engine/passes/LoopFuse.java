package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Loop fuse: two perfectly nested loops whose body works on the linear index of the pair become one loop over
 * that index. What loop recovery gives for a CUDA kernel is then the plain loop its author had in mind, ready
 * for binding and tensorizing. The pass repeats four rewrites until none applies:
 * <ul>
 * <li><b>fuse</b>: a nest over {@code [0, A) x [0, B)} whose body declares {@code int x = o * B + i} (through
 * copies such as {@code int row = o;}) becomes one loop over {@code x < A * B} in the same iteration order;
 * other uses of {@code o} and {@code i} read {@code x / B} and {@code x % B}. A grid-stride loop
 * {@code for (int x = o * B + i; x < N; x += A * B)} as the whole body of the nest becomes
 * {@code for (int x = 0; x < N; ++x)}: every {@code x} below {@code N} runs once, in ascending order instead of
 * by thread, which the source's threads (free of races) allow. {@code A} may be a grid extent the wrapper
 * computes at run time ({@code const int gridDim_x = ((n + 255) / 256);}): the fused loop runs to
 * {@code gridDim_x * B}, and the extent's declaration goes once nothing reads it;</li>
 * <li><b>interchange</b>: in a perfect nest of recovered block and thread loops (a 2-D launch gives
 * {@code blockIdx_y, blockIdx_x, threadIdx_y, threadIdx_x}) whose body declares {@code row = blockIdx_y * 16 +
 * threadIdx_y} and {@code col = blockIdx_x * 16 + threadIdx_x}, the loops of each pair move next to each other,
 * so that both pairs can fuse. Iterations of these loops are the source's threads, which run in any order;</li>
 * <li><b>hoist</b>: a declaration {@code int row = o * B + i;} at the top of a loop that is the only statement of
 * loop {@code i} moves out of it (it does not depend on that loop), so that {@code o} and {@code i} fuse;</li>
 * <li><b>bound</b>: a guard {@code if (row < M && col < N)} that is all a nest does (besides declarations that
 * compute nothing but values) tightens the bounds of the loops over {@code row} and {@code col} to the constants
 * {@code M} and {@code N}, and disappears when nothing else is left of it; {@code if (x >= N) continue;} at the
 * top of a loop does the same.</li>
 * </ul>
 *
 * <pre>
 * before: for (int blockIdx_x = 0; blockIdx_x < 192; ++blockIdx_x)
 *             for (int threadIdx_x = 0; threadIdx_x < 256; ++threadIdx_x) {
 *                 int i = blockIdx_x * 256 + threadIdx_x;
 *                 if (i < 49000) { y[i] = fmaxf(x[i], 0.0f); } }
 * after:  for (int i = 0; i < 49000; ++i) { y[i] = fmaxf(x[i], 0.0f); }
 * </pre>
 *
 * Knobs: none (the knob values report how often each rewrite applied). Precondition: sequential C++ with such a
 * nest (others are left as they are).
 */
public final class LoopFuse implements Pass {
	/** Each rewrite removes a loop, a conjunct or a misplaced loop, so this only guards against a bug looping forever. */
	private static final int MAX_REWRITES = 256;

	private final KernelPrinter printer = Dialect.VNNI.printer();

	@Override
	public String name() {
		return "loop-fuse";
	}

	@Override
	public String summary() {
		return "fuse nested loops over a linear index (block and thread loops, grid-stride loops) into one loop";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI || to != Dialect.VNNI) {
			return Optional.of("fuses loops of sequential C++ only");
		}
		return next(unit) == null ? Optional.of("no nest of two loops over a linear index") : Optional.empty();
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		Map<String, Integer> applied = new LinkedHashMap<>();
		int rewrites = 0;
		for (Rewrite rewrite = next(unit); rewrite != null && rewrites < MAX_REWRITES; rewrite = next(unit)) {
			rewrite.action().run();
			applied.merge(rewrite.kind(), 1, Integer::sum);
			rewrites++;
		}
		removeUnreadExtents(unit);
		Map<String, String> knobs = new LinkedHashMap<>();
		applied.forEach((kind, count) -> knobs.put(kind, Integer.toString(count)));
		return knobs;
	}

	/**
	 * Removes {@code const int gridDim_x = ((n + 255) / 256);} where the loops it bounded fused and their guard
	 * took {@code n} as bound, so that nothing reads it any more.
	 */
	private static void removeUnreadExtents(TranslationUnit unit) {
		for (DeclarationStatement d : EcoreUtil2.eAllOfType(unit, DeclarationStatement.class)) {
			List<Declarator> declarators = d.getDeclaration().getDeclarators();
			if (declarators.size() == 1 && SimtLoops.isGridExtent(declarators.get(0).getName())
					&& ConstantFolder.isConstant(d.getDeclaration()) && !Snippets.containsCall(declarators.get(0))
					&& d.eContainer() instanceof CompoundStatement block
					&& !Snippets.mentions(block, declarators.get(0).getName())) {
				EcoreUtil.remove(d);
			}
		}
	}

	/** One rewrite of the code: which of the four it is, and the change. */
	private record Rewrite(String kind, Runnable action) {
	}

	/** The first rewrite that applies, fusions first (they keep the iteration order). */
	private Rewrite next(TranslationUnit unit) {
		List<CanonicalLoop> loops = CanonicalLoop.all(unit);
		for (CanonicalLoop outer : loops) {
			String text = fusion(outer);
			if (text != null) {
				return new Rewrite("fused", () -> replace(outer, text));
			}
		}
		for (CanonicalLoop outer : loops) {
			String text = interchange(outer);
			if (text != null) {
				return new Rewrite("interchanged", () -> replace(outer, text));
			}
		}
		for (CanonicalLoop outer : loops) {
			Rewrite hoist = hoist(outer);
			if (hoist != null) {
				return hoist;
			}
		}
		for (IfStatement guard : EcoreUtil2.eAllOfType(unit, IfStatement.class)) {
			Runnable bound = GuardBounds.of(guard);
			if (bound != null) {
				return new Rewrite("bounded", bound);
			}
		}
		return null;
	}

	private static void replace(CanonicalLoop loop, String text) {
		EcoreUtil.replace(loop.loop(), Snippets.statements(text, Dialect.VNNI).get(0));
	}

	// ------------------------------------------------------------------ fuse

	/** The loop that replaces {@code outer} and the loop it holds, or null. */
	private String fusion(CanonicalLoop outer) {
		Optional<CanonicalLoop> nested = outer.perfectlyNested();
		Optional<String> a = extent(outer);
		if (nested.isEmpty() || a.isEmpty() || fromZero(nested.get()).isEmpty()) {
			return null;
		}
		CanonicalLoop inner = nested.get();
		long b = fromZero(inner).getAsLong();
		String o = outer.variable();
		String i = inner.variable();
		List<Statement> body = inner.body();
		if (body.size() == 1 && body.get(0) instanceof ForStatement stride) {
			return gridStride(stride, o, i, a.get(), b);
		}
		Map<String, String> copies = new HashMap<>();
		for (int k = 0; k < body.size(); k++) {
			Declarator x = initializedScalar(body.get(k));
			if (x == null || CanonicalLoop.assignsAny(inner.loop().getBody(), Set.of(x.getName()))) {
				break; // past the declarations at the top of the body
			}
			String name = x.getName();
			Expression init = (Expression) x.getInitializer();
			if (isLinear(init, o, i, b, copies) && body.subList(0, k).stream().noneMatch(s -> Snippets.mentions(s, name))) {
				// (an earlier mention would be another variable of that name, which the fused loop's would hide)
				List<Statement> rest = new ArrayList<>(body.subList(0, k));
				rest.addAll(body.subList(k + 1, body.size()));
				return fused(x.getName(), product(a.get(), b), rest, o, i, b);
			}
			if (init instanceof Name n && (n.getName().equals(o) || n.getName().equals(i) || copies.containsKey(n.getName()))) {
				copies.put(x.getName(), copies.getOrDefault(n.getName(), n.getName()));
			}
		}
		return fusedInline(inner, o, i, a.get(), b);
	}

	/**
	 * The trip count of a loop from 0: a number, or the name of a constant computed before the loop (a grid
	 * that the wrapper computes from a runtime size, {@code const int gridDim_x = ((n + 255) / 256);}).
	 */
	private static Optional<String> extent(CanonicalLoop loop) {
		OptionalLong constant = fromZero(loop);
		if (constant.isPresent()) {
			return Optional.of(Long.toString(constant.getAsLong()));
		}
		if (loop.constantLower().orElse(-1) == 0 && Snippets.unparenthesized(loop.upper()) instanceof Name bound
				&& ConstantFolder.constantScalar(bound) != null
				&& !CanonicalLoop.assignsAny(loop.loop(), Set.of(bound.getName()))) {
			return Optional.of(bound.getName());
		}
		return Optional.empty();
	}

	/** {@code a * b} for the extent {@code a} and the constant {@code b}: folded where {@code a} is a number. */
	private static String product(String a, long b) {
		return a.matches("\\d+") ? Long.toString(Long.parseLong(a) * b) : a + " * " + b;
	}

	/**
	 * The fused loop of a body that writes the linear index out at each use instead of declaring it, as
	 * generated kernels do ({@code T[((int)blockIdx.x * 1024) + (int)threadIdx.x] = ...}): every use becomes the
	 * new loop's variable. Null when the body has no such use, or reads either loop variable otherwise too (a
	 * nest over rows and columns stays one).
	 */
	private String fusedInline(CanonicalLoop inner, String o, String i, String a, long b) {
		List<Statement> body = inner.body().stream().map(EcoreUtil::copy).toList();
		List<Expression> uses = new ArrayList<>();
		for (Statement s : body) {
			s.eAllContents().forEachRemaining(node -> {
				if (node instanceof Binary sum && isLinear(sum, o, i, b, Map.of())
						&& uses.stream().noneMatch(use -> EcoreUtil.isAncestor(use, sum))) {
					uses.add(sum);
				}
			});
		}
		if (uses.isEmpty()) {
			return null;
		}
		String x = Snippets.freshName(EcoreUtil2.getContainerOfType(inner.loop(), TranslationUnit.class), "index",
				Dialect.VNNI);
		for (Expression use : uses) {
			Expression whole = use;
			while (whole.eContainer() instanceof org.xpiler.lang.kernel.Parenthesized p) {
				whole = p;
			}
			EcoreUtil.replace(whole, Snippets.expression(x, Dialect.VNNI));
		}
		if (body.stream().anyMatch(s -> Snippets.mentions(s, o) || Snippets.mentions(s, i))) {
			return null;
		}
		return fused(x, product(a, b), body, o, i, b);
	}

	/** The declarator of {@code int x = e;} (one scalar, initialized), else null. */
	private static Declarator initializedScalar(Statement s) {
		if (!(s instanceof DeclarationStatement d) || d.getDeclaration().getDeclarators().size() != 1) {
			return null;
		}
		Declarator x = d.getDeclaration().getDeclarators().get(0);
		return x.getInitializer() instanceof Expression && x.getPointers().isEmpty() && x.getDimensions().isEmpty() ? x
				: null;
	}

	/** {@code for (int x = o * B + i; x < N; x += A * B)} over all (o, i): one loop over {@code x < N}. */
	private String gridStride(ForStatement stride, String o, String i, String a, long b) {
		if (stride.getInitDeclaration() == null || stride.getInitDeclaration().getDeclarators().size() != 1) {
			return null;
		}
		Declarator x = stride.getInitDeclaration().getDeclarators().get(0);
		ConstantFolder folder = new ConstantFolder();
		if (!(x.getInitializer() instanceof Expression init) || !isLinear(init, o, i, b, Map.of())
				|| !(stride.getCondition() instanceof Binary c) || !c.getOp().equals("<")
				|| !(c.getLeft() instanceof Name n) || !n.getName().equals(x.getName())
				|| !(stride.getUpdate() instanceof Assignment u) || !u.getOp().equals("+=")
				|| !(u.getLeft() instanceof Name un) || !un.getName().equals(x.getName())
				|| !isProduct(u.getRight(), a, b, folder) || Snippets.mentions(stride.getBody(), o)
				|| Snippets.mentions(stride.getBody(), i)
				|| CanonicalLoop.assignsAny(stride.getBody(), Set.of(x.getName()))) {
			return null;
		}
		StringBuilder text = new StringBuilder("for (int ").append(x.getName()).append(" = 0; ").append(x.getName())
				.append(" < ").append(printer.expression(c.getRight())).append("; ++").append(x.getName()).append(") {\n");
		CanonicalLoop.statementsOf(stride.getBody()).forEach(s -> text.append(printer.statement(s, 1)));
		return text.append("}\n").toString();
	}

	/** Whether {@code e} is {@code a * b}: their product's value, or {@code a * b} or {@code b * a} for a named {@code a}. */
	private static boolean isProduct(Expression e, String a, long b, ConstantFolder folder) {
		if (a.matches("\\d+")) {
			return folder.fold(e).orElse(-1) == Long.parseLong(a) * b;
		}
		return Snippets.unparenthesized(e) instanceof Binary times && times.getOp().equals("*")
				&& (names(times.getLeft(), a, Map.of()) && folder.fold(times.getRight()).orElse(-1) == b
						|| names(times.getRight(), a, Map.of()) && folder.fold(times.getLeft()).orElse(-1) == b);
	}

	/** The fused loop over {@code x < extent}; what still reads the old variables gets them back from {@code x}. */
	private String fused(String x, String extent, List<Statement> rest, String o, String i, long b) {
		List<Statement> kept = withoutDeadCopies(rest);
		StringBuilder text = new StringBuilder("for (int ").append(x).append(" = 0; ").append(x).append(" < ")
				.append(extent).append("; ++").append(x).append(") {\n");
		if (kept.stream().anyMatch(s -> Snippets.mentions(s, o))) {
			text.append("int ").append(o).append(" = ").append(x).append(" / ").append(b).append(";\n");
		}
		if (kept.stream().anyMatch(s -> Snippets.mentions(s, i))) {
			text.append("int ").append(i).append(" = ").append(x).append(" % ").append(b).append(";\n");
		}
		kept.forEach(s -> text.append(printer.statement(s, 1)));
		return text.append("}\n").toString();
	}

	/** The statements without the declarations {@code int v = w;} whose variable nothing reads any more. */
	private static List<Statement> withoutDeadCopies(List<Statement> statements) {
		List<Statement> list = new ArrayList<>(statements);
		boolean removed = true;
		while (removed) {
			removed = false;
			for (Statement s : list) {
				if (s instanceof DeclarationStatement d && d.getDeclaration().getDeclarators().size() == 1
						&& d.getDeclaration().getDeclarators().get(0).getInitializer() instanceof Name
						&& list.stream().filter(other -> other != s).noneMatch(
								other -> Snippets.mentions(other, d.getDeclaration().getDeclarators().get(0).getName()))) {
					list.remove(s);
					removed = true;
					break;
				}
			}
		}
		return list;
	}

	// ------------------------------------------------------------------ interchange

	/**
	 * A perfect nest of recovered block and thread loops, from 0 with constant trips (or grid extents), reordered so that the two
	 * loops of each linear index its body declares are adjacent (outer one first); null when nothing moves.
	 */
	private String interchange(CanonicalLoop outer) {
		List<CanonicalLoop> nest = new ArrayList<>(List.of(outer));
		for (Optional<CanonicalLoop> next = outer.perfectlyNested(); next.isPresent(); next = next.get().perfectlyNested()) {
			nest.add(next.get());
		}
		Map<String, Long> trips = new HashMap<>();
		for (CanonicalLoop loop : nest) {
			if (extent(loop).isEmpty() || !SimtLoops.isParallelIndex(loop.variable())) {
				return null;
			}
			trips.put(loop.variable(), fromZero(loop).orElse(-1)); // -1: a grid extent known at run time
		}
		if (nest.size() < 3) {
			return null;
		}
		Map<String, String> innerOf = new HashMap<>();
		for (Statement s : nest.get(nest.size() - 1).body()) {
			Declarator x = initializedScalar(s);
			if (x == null) {
				break;
			}
			for (String o : trips.keySet()) {
				for (String i : trips.keySet()) {
					if (!o.equals(i) && !innerOf.containsKey(o) && !innerOf.containsValue(i) && !innerOf.containsKey(i)
							&& !innerOf.containsValue(o) && isLinear((Expression) x.getInitializer(), o, i, trips.get(i), Map.of())) {
						innerOf.put(o, i);
					}
				}
			}
		}
		List<CanonicalLoop> order = new ArrayList<>();
		for (CanonicalLoop loop : nest) {
			String v = loop.variable();
			String o = innerOf.containsKey(v) ? v
					: innerOf.entrySet().stream().filter(e -> e.getValue().equals(v)).map(Map.Entry::getKey).findFirst().orElse(null);
			if (o == null) {
				order.add(loop);
			} else if (nest.stream().noneMatch(l -> order.contains(l) && l.variable().equals(o))) {
				// a pair is placed where its first loop was, outer loop first
				nest.stream().filter(l -> l.variable().equals(o)).forEach(order::add);
				nest.stream().filter(l -> l.variable().equals(innerOf.get(o))).forEach(order::add);
			}
		}
		if (order.equals(nest)) {
			return null;
		}
		StringBuilder text = new StringBuilder();
		order.forEach(loop -> text.append(Snippets.header(loop.loop(), printer)).append(" {\n"));
		nest.get(nest.size() - 1).body().forEach(s -> text.append(printer.statement(s, 1)));
		order.forEach(loop -> text.append("}\n"));
		return text.toString();
	}

	// ------------------------------------------------------------------ hoist

	/**
	 * When {@code outer} holds loop {@code p} alone, which holds loop {@code l} alone, and {@code l} starts with
	 * declarations of {@code x = outer * B + p}: those move out of {@code l} to the top of {@code p}, where
	 * {@code outer} and {@code p} then fuse. They read only the two loop variables, which {@code l} does not
	 * change, so they hold the same value in every iteration of {@code l}.
	 */
	private Rewrite hoist(CanonicalLoop outer) {
		Optional<CanonicalLoop> p = outer.perfectlyNested();
		if (p.isEmpty() || extent(outer).isEmpty() || fromZero(p.get()).isEmpty()) {
			return null;
		}
		Optional<CanonicalLoop> l = p.get().perfectlyNested();
		if (l.isEmpty()) {
			return null;
		}
		long b = fromZero(p.get()).getAsLong();
		List<Statement> moved = new ArrayList<>();
		for (Statement s : l.get().body()) {
			Declarator x = initializedScalar(s);
			if (x == null) {
				break;
			}
			if (isLinear((Expression) x.getInitializer(), outer.variable(), p.get().variable(), b, Map.of())
					&& !x.getName().equals(l.get().variable())
					&& !CanonicalLoop.assignsAny(l.get().loop().getBody(), Set.of(x.getName()))) {
				moved.add(s);
			}
		}
		if (moved.isEmpty()) {
			return null;
		}
		return new Rewrite("hoisted", () -> {
			CompoundStatement block = Snippets.ensureInBlock(l.get().loop());
			block.getStatements().addAll(0, moved);
		});
	}

	// ------------------------------------------------------------------ linear indices

	/** {@code o * B + i} or {@code i + B * o} (in any order, parenthesized, through copies of o and i). */
	private static boolean isLinear(Expression e, String o, String i, long b, Map<String, String> copies) {
		Expression sum = Snippets.unparenthesized(e);
		if (!(sum instanceof Binary plus) || !plus.getOp().equals("+")) {
			return false;
		}
		return isScaled(plus.getLeft(), o, b, copies) && names(plus.getRight(), i, copies)
				|| isScaled(plus.getRight(), o, b, copies) && names(plus.getLeft(), i, copies);
	}

	private static boolean isScaled(Expression e, String o, long b, Map<String, String> copies) {
		Expression product = Snippets.unparenthesized(e);
		if (!(product instanceof Binary times) || !times.getOp().equals("*")) {
			return false;
		}
		ConstantFolder folder = new ConstantFolder();
		return names(times.getLeft(), o, copies) && folder.fold(times.getRight()).orElse(-1) == b
				|| names(times.getRight(), o, copies) && folder.fold(times.getLeft()).orElse(-1) == b;
	}

	private static boolean names(Expression e, String variable, Map<String, String> copies) {
		return Snippets.unparenthesized(e) instanceof Name n && (n.getName().equals(variable) || variable.equals(copies.get(n.getName())));
	}

	/** The trip count of a loop from 0 with a constant bound. */
	private static OptionalLong fromZero(CanonicalLoop loop) {
		return loop.constantLower().orElse(-1) == 0 ? loop.tripCount() : OptionalLong.empty();
	}
}
