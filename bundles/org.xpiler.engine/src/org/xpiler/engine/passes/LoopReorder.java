package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Loop reorder (interchange): the loops of a perfect nest of canonical loops run in another order. The body
 * stays where it is and each loop keeps its own header; only the headers move, so the innermost loop can
 * become the one whose variable walks arrays with unit stride, which is what tensorize turns into vectors.
 *
 * <pre>
 * before: for (int i = 0; i < 16; ++i)
 *             for (int j = 0; j < 32; ++j)
 *                 for (int k = 0; k < 8; ++k)
 *                     C[i * 32 + j] += A[i * 8 + k] * B[k * 32 + j];
 * after (order i,k,j):
 *         for (int i = 0; i < 16; ++i)
 *             for (int k = 0; k < 8; ++k)
 *                 for (int j = 0; j < 32; ++j)
 *                     C[i * 32 + j] += A[i * 8 + k] * B[k * 32 + j];
 * </pre>
 *
 * Knobs: {@code function} (the function that holds the nest), {@code nest} (its outermost loop, named as
 * {@link LoopSplit#loopId} names loops: {@code i} or {@code i#2}) and {@code order}, a permutation of the
 * variables of the nest's loops, outermost first; the nest is as deep as the order is long. {@link #options}
 * enumerates, for each perfect nest of the {@code extern "C"} functions and then of the others (its innermost
 * three loops when it is deeper, its innermost two when those three cannot be reordered), the orders other
 * than the nest's own, best first: first those whose innermost variable is an un-multiplied term of the last
 * subscript in the most array accesses of the body (unit stride) and a multiplied one in the fewest, then
 * those that move the fewest pairs of loops.
 *
 * <p>
 * Precondition: sequential C++ (VNNI to VNNI), and the loops can run in any order:
 * <ul>
 * <li>each loop's body is exactly the next loop (a perfect nest) and each loop is canonical
 * ({@link CanonicalLoop});
 * <li>no bound mentions another loop of the nest (a triangular nest); bounds are arithmetic on names and
 * constants (no memory read, call or assignment);
 * <li>the body has no {@code return} and no {@code break} out of the nest ({@code continue} only ends the
 * current iteration, in any order);
 * <li>the body assigns no scalar declared outside it (a value carried from one iteration to the next);
 * <li>the body writes memory only as {@code a[...]} of an array or pointer declared outside the nest, and every
 * access to such an array in the body has the same subscript (and none uses it unsubscripted, as an alias
 * could); for each written element the iterations that
 * reach it, those that differ only in the loops its subscript does not mention (the {@code k} of
 * {@code C[i * N + j] += ...}), keep their relative order, so accumulations are bit-identical;
 * <li>no call receives an array or pointer unsubscripted (it could write through it unseen).
 * </ul>
 * Left to the oracle: two names for one buffer, and a subscript that reaches one element from two
 * combinations of the loops it mentions ({@code C[i + j]}).
 */
public final class LoopReorder implements Pass {
	/** The deepest nest whose orders {@link #options} enumerates (3! orders). */
	private static final int DEEPEST_ENUMERATED = 3;

	private final String function;
	private final String nest;
	private final List<String> order;

	/**
	 * @param function the function holding the nest
	 * @param nest     the nest's outermost loop ({@link LoopSplit#loopId})
	 * @param order    the variables of the nest's loops in their new order, outermost first
	 */
	public LoopReorder(String function, String nest, List<String> order) {
		this.function = function;
		this.nest = nest;
		this.order = List.copyOf(order);
	}

	/** Every reorder worth trying in {@code unit}, best first (see the class comment). */
	public static List<LoopReorder> options(TranslationUnit unit) {
		List<LoopReorder> options = new ArrayList<>();
		for (FunctionDefinition f : LoopSplit.functions(unit)) {
			for (CanonicalLoop start : CanonicalLoop.all(f.getBody())) {
				if (!headsANest(start)) {
					continue;
				}
				List<CanonicalLoop> chain = perfectChain(start, Integer.MAX_VALUE);
				for (int depth = Math.min(DEEPEST_ENUMERATED, chain.size()); depth >= 2; depth--) {
					List<CanonicalLoop> levels = chain.subList(chain.size() - depth, chain.size());
					if (checkNest(f, levels).isEmpty()) {
						options.addAll(orders(f, levels));
						break;
					}
				}
			}
		}
		return options;
	}

	/**
	 * Whether {@code l} is the outermost loop of a perfect nest: not the only statement of a canonical loop's
	 * body. Every nest is visited once, from there.
	 */
	private static boolean headsANest(CanonicalLoop l) {
		EObject parent = l.loop().eContainer();
		if (parent instanceof CompoundStatement block) {
			if (block.getStatements().size() != 1) {
				return true;
			}
			parent = block.eContainer();
		}
		return !(parent instanceof ForStatement outer && CanonicalLoop.of(outer).isPresent());
	}

	/** The orders of {@code levels} other than their own that the nest admits, best first. */
	private static List<LoopReorder> orders(FunctionDefinition f, List<CanonicalLoop> levels) {
		List<String> own = levels.stream().map(CanonicalLoop::variable).toList();
		Statement body = levels.get(levels.size() - 1).loop().getBody();
		List<List<String>> orders = new ArrayList<>();
		permutations(own, new ArrayList<>(), orders);
		orders.remove(own);
		orders.removeIf(o -> checkOrder(levels, o).isPresent());
		orders.sort(Comparator.comparingInt((List<String> o) -> -unitStrideAccesses(body, o.get(o.size() - 1)))
				.thenComparingInt(o -> stridedAccesses(body, o.get(o.size() - 1)))
				.thenComparingInt(o -> inversions(own, o)));
		String id = LoopSplit.loopId(f, levels.get(0));
		return orders.stream().map(o -> new LoopReorder(f.getName(), id, o)).toList();
	}

	private static void permutations(List<String> rest, List<String> prefix, List<List<String>> out) {
		if (rest.isEmpty()) {
			out.add(List.copyOf(prefix));
		}
		for (String v : rest) {
			List<String> remaining = new ArrayList<>(rest);
			remaining.remove(v);
			prefix.add(v);
			permutations(remaining, prefix, out);
			prefix.remove(prefix.size() - 1);
		}
	}

	/** The pairs of loops whose relative order {@code order} swaps. */
	private static int inversions(List<String> own, List<String> order) {
		int count = 0;
		for (int a = 0; a < order.size(); a++) {
			for (int b = a + 1; b < order.size(); b++) {
				count += own.indexOf(order.get(a)) > own.indexOf(order.get(b)) ? 1 : 0;
			}
		}
		return count;
	}

	@Override
	public String name() {
		return "loop-reorder";
	}

	@Override
	public String summary() {
		return "interchange the loops of a perfect nest so that the innermost one walks arrays with unit stride";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		return PassRefusal.of(() -> target(unit, from, to));
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		List<CanonicalLoop> levels = target(unit, from, to);
		List<String> own = levels.stream().map(CanonicalLoop::variable).toList();
		List<ForStatement> loops = levels.stream().map(CanonicalLoop::loop).toList();
		List<Header> headers = loops.stream().map(Header::of).toList();
		for (int level = 0; level < loops.size(); level++) {
			headers.get(own.indexOf(order.get(level))).moveTo(loops.get(level));
		}
		return knobs();
	}

	/** The knob values of this reorder, as {@link #apply} reports them. */
	public Map<String, String> knobs() {
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("function", function);
		knobs.put("nest", nest);
		knobs.put("order", String.join(",", order));
		return knobs;
	}

	/** What a loop's position in the nest holds apart from its body; the headers move, the bodies stay. */
	private record Header(Declaration init, Expression condition, Expression update) {
		static Header of(ForStatement loop) {
			return new Header(loop.getInitDeclaration(), loop.getCondition(), loop.getUpdate());
		}

		void moveTo(ForStatement loop) {
			loop.setInitDeclaration(init);
			loop.setCondition(condition);
			loop.setUpdate(update);
		}
	}

	/** The nest this reorder rewrites, outermost loop first, once every precondition holds. */
	private List<CanonicalLoop> target(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI || to != Dialect.VNNI) {
			throw new PassRefusal("reorders loops of sequential C++ only (VNNI to VNNI), not " + from + " to " + to);
		}
		FunctionDefinition f = LoopSplit.function(unit, function);
		CanonicalLoop outer = LoopSplit.findLoop(f, nest);
		List<CanonicalLoop> levels = perfectChain(outer, order.size());
		List<String> own = levels.stream().map(CanonicalLoop::variable).toList();
		if (levels.size() < order.size()) {
			CanonicalLoop last = levels.get(levels.size() - 1);
			throw PassRefusal.at(last.loop(), "the loop over " + last.variable() + " holds more than a single canonical"
					+ " loop: no perfect nest of " + order.size() + " loops starts at the loop over " + own.get(0));
		}
		if (order.size() < 2 || !new HashSet<>(order).equals(new HashSet<>(own)) || order.size() != own.size()) {
			throw PassRefusal.at(outer.loop(), "the order " + String.join(",", order)
					+ " is not a permutation of the nest's loops " + String.join(",", own));
		}
		if (order.equals(own)) {
			throw PassRefusal.at(outer.loop(), "the order " + String.join(",", order) + " is the nest's own");
		}
		checkNest(f, levels).ifPresent(refusal -> {
			throw refusal;
		});
		checkOrder(levels, order).ifPresent(refusal -> {
			throw refusal;
		});
		return levels;
	}

	/** {@code outer} and the loops perfectly nested in it, at most {@code depth} of them. */
	private static List<CanonicalLoop> perfectChain(CanonicalLoop outer, int depth) {
		List<CanonicalLoop> chain = new ArrayList<>(List.of(outer));
		for (var next = outer.perfectlyNested(); next.isPresent() && chain.size() < depth; next = next.get()
				.perfectlyNested()) {
			chain.add(next.get());
		}
		return chain;
	}

	// ------------------------------------------------------------------ legality

	/** Why the loops of {@code levels} cannot run in any order, whatever the order. */
	private static Optional<PassRefusal> checkNest(FunctionDefinition f, List<CanonicalLoop> levels) {
		Statement body = levels.get(levels.size() - 1).loop().getBody();
		List<String> variables = levels.stream().map(CanonicalLoop::variable).toList();
		for (CanonicalLoop level : levels) {
			for (Expression bound : List.of(level.lower(), level.upper())) {
				for (String v : variables) {
					if (Snippets.mentions(bound, v)) {
						return refuse(level.loop(), "the bound of the loop over " + level.variable() + " depends on " + v
								+ ": the loops cannot be interchanged (a triangular nest)");
					}
				}
				// names in bounds stay put: the body may assign no scalar declared outside it (checked below)
				Optional<EObject> access = find(bound, o -> writeTarget(o) != null || o instanceof Call
						|| o instanceof Index || o instanceof MemberAccess || o instanceof Unary u && u.getOp().equals("*"));
				if (access.isPresent()) {
					return refuse(level.loop(), "the bound of the loop over " + level.variable()
							+ " is more than arithmetic on names and constants: "
							+ Dialect.VNNI.printer().expression((Expression) access.get()));
				}
			}
		}
		Optional<EObject> exit = find(body, o -> o instanceof ReturnStatement);
		if (exit.isPresent()) {
			return refuse(exit.get(), "return leaves the nest " + String.join(",", variables) + " in the middle");
		}
		Optional<? extends EObject> escape = LoopSplit.escapingBreak(body);
		if (escape.isPresent()) {
			return refuse(escape.get(), "break leaves the nest " + String.join(",", variables)
					+ "; in another order it would skip other iterations");
		}
		Set<String> pointers = pointersAndArrays(f);
		for (EObject o : contents(body)) {
			Expression target = writeTarget(o);
			if (target != null) {
				Optional<PassRefusal> refused = checkWrite(body, target, pointers);
				if (refused.isPresent()) {
					return refused;
				}
			}
			if (o instanceof Call call) {
				for (Expression argument : call.getArgs()) {
					Optional<String> address = names(argument).stream().filter(pointers::contains)
							.filter(n -> !onlySubscripted(argument, n)).findFirst();
					if (address.isPresent()) {
						return refuse(call, "a call receives " + address.get()
								+ " unsubscripted; the reorder cannot see what it writes");
					}
				}
			}
		}
		return Optional.empty();
	}

	/** Why a write to {@code target} in {@code body} keeps the iterations from running in any order. */
	private static Optional<PassRefusal> checkWrite(Statement body, Expression target, Set<String> pointers) {
		KernelPrinter printer = Dialect.VNNI.printer();
		if (target instanceof Name n) {
			return CanonicalLoop.declares(body, n.getName()) ? Optional.empty()
					: refuse(target, "the nest writes the scalar " + n.getName()
							+ ", declared outside it, so iterations depend on each other");
		}
		String array = target instanceof Index index ? root(index) : null;
		Optional<Declarator> local = array == null ? Optional.empty() : declarator(body, array);
		if (array == null || local.isPresent() && !local.get().getPointers().isEmpty()) {
			return refuse(target, "the nest writes through " + printer.expression(target)
					+ ", which the reorder cannot follow");
		}
		if (local.isPresent()) {
			return Optional.empty(); // an array of the iteration's own
		}
		String written = printer.expression(target);
		if (!onlySubscripted(body, array)) {
			return refuse(target, "the nest writes " + written + " and uses " + array
					+ " unsubscripted: the reorder cannot follow the accesses through it");
		}
		for (Index access : accesses(body)) {
			if (array.equals(root(access)) && !printer.expression(access).equals(written)) {
				return refuse(access, "the nest writes " + written + " and reads " + printer.expression(access)
						+ ": an iteration may read what another writes");
			}
		}
		return Optional.empty();
	}

	/** Why {@code order} would change the order in which a written element sees its iterations. */
	private static Optional<PassRefusal> checkOrder(List<CanonicalLoop> levels, List<String> order) {
		List<String> own = levels.stream().map(CanonicalLoop::variable).toList();
		Statement body = levels.get(levels.size() - 1).loop().getBody();
		for (Index written : sharedWrites(body)) {
			List<String> free = own.stream().filter(v -> !Snippets.mentions(written, v)).toList();
			List<String> reordered = order.stream().filter(free::contains).toList();
			if (!reordered.equals(free)) {
				return refuse(written, Dialect.VNNI.printer().expression(written) + " is updated over "
						+ String.join(",", free) + " in this order; the order " + String.join(",", order)
						+ " would change it");
			}
		}
		return Optional.empty();
	}

	/** The array elements {@code body} writes that outlive the iteration (not those of its own arrays). */
	private static List<Index> sharedWrites(Statement body) {
		List<Index> writes = new ArrayList<>();
		for (EObject o : contents(body)) {
			if (writeTarget(o) instanceof Index written && root(written) != null
					&& declarator(body, root(written)).isEmpty()) {
				writes.add(written);
			}
		}
		return writes;
	}

	/** The declaration of {@code name} inside {@code root}, if it has one. */
	private static Optional<Declarator> declarator(EObject root, String name) {
		return contents(root).stream().filter(o -> o instanceof Declarator d && name.equals(d.getName()))
				.map(Declarator.class::cast).findFirst();
	}

	private static Optional<PassRefusal> refuse(EObject node, String message) {
		return Optional.of(PassRefusal.at(node, message));
	}

	/** What {@code node} assigns (=, op=, ++, --), or null. */
	private static Expression writeTarget(EObject node) {
		return node instanceof Assignment a ? a.getLeft()
				: node instanceof Postfix p ? p.getOperand() : isIncrement(node) ? ((Unary) node).getOperand() : null;
	}

	private static boolean isIncrement(EObject node) {
		return node instanceof Unary u && (u.getOp().equals("++") || u.getOp().equals("--"));
	}

	/** The array a subscript chain starts from ({@code A} of {@code A[i][j]}), or null for {@code (p + 1)[i]}. */
	private static String root(Index index) {
		Expression target = index.getTarget();
		while (target instanceof Index inner) {
			target = inner.getTarget();
		}
		return target instanceof Name n ? n.getName() : null;
	}

	/** The whole array accesses in {@code root}: subscript chains, not the {@code A[i]} inside {@code A[i][j]}. */
	private static List<Index> accesses(EObject root) {
		List<Index> found = new ArrayList<>();
		for (EObject o : contents(root)) {
			if (o instanceof Index index && !(index.eContainer() instanceof Index outer && outer.getTarget() == index)) {
				found.add(index);
			}
		}
		return found;
	}

	/** Whether every use of {@code name} in {@code root} is the array of a subscript ({@code name[...]}). */
	private static boolean onlySubscripted(EObject root, String name) {
		for (EObject o : contents(root)) {
			if (o instanceof Name n && n.getName().equals(name)
					&& !(n.eContainer() instanceof Index index && index.getTarget() == n)) {
				return false;
			}
		}
		return true;
	}

	/** The pointer and array variables of {@code f} and of the file. */
	private static Set<String> pointersAndArrays(FunctionDefinition f) {
		Set<String> names = new HashSet<>();
		List<EObject> scopes = new ArrayList<>(List.of(f));
		if (EcoreUtil.getRootContainer(f) instanceof TranslationUnit unit) {
			Snippets.topLevelItems(unit).stream().filter(Declaration.class::isInstance).forEach(scopes::add);
		}
		for (EObject scope : scopes) {
			for (EObject o : contents(scope)) {
				if (o instanceof Declarator d && d.getName() != null
						&& (!d.getPointers().isEmpty() || !d.getDimensions().isEmpty())) {
					names.add(d.getName());
				}
			}
		}
		return names;
	}

	// ------------------------------------------------------------------ strides

	/** The accesses of {@code body} whose last subscript has {@code v} as an un-multiplied term. */
	private static int unitStrideAccesses(Statement body, String v) {
		return (int) accesses(body).stream().filter(a -> isUnitStride(a, v)).count();
	}

	/** The accesses of {@code body} that mention {@code v} other than as an un-multiplied term of the last subscript. */
	private static int stridedAccesses(Statement body, String v) {
		return (int) accesses(body).stream().filter(a -> Snippets.mentions(a, v) && !isUnitStride(a, v)).count();
	}

	/**
	 * Whether consecutive values of {@code v} reach consecutive elements of {@code access}: {@code v} is one of
	 * the terms added up in the last subscript, on its own, and appears nowhere else in the access.
	 */
	private static boolean isUnitStride(Index access, String v) {
		List<Expression> added = new ArrayList<>();
		addedTerms(access.getIndex(), added);
		boolean alone = added.stream().anyMatch(t -> t instanceof Name n && n.getName().equals(v));
		long uses = contents(access).stream().filter(o -> o instanceof Name n && n.getName().equals(v)).count();
		return alone && uses == 1;
	}

	/** The terms a sum adds: {@code a} and {@code b * c} of {@code a + b * c - d}. */
	private static void addedTerms(Expression e, List<Expression> added) {
		if (e instanceof Parenthesized p) {
			addedTerms(p.getExpression(), added);
		} else if (e instanceof Binary b && b.getOp().equals("+")) {
			addedTerms(b.getLeft(), added);
			addedTerms(b.getRight(), added);
		} else if (e instanceof Binary b && b.getOp().equals("-")) {
			addedTerms(b.getLeft(), added); // a subtracted term walks backwards: no unit stride
		} else {
			added.add(e);
		}
	}

	// ------------------------------------------------------------------ model walking

	/** {@code root} and everything inside it. */
	private static List<EObject> contents(EObject root) {
		List<EObject> all = new ArrayList<>(List.of(root));
		root.eAllContents().forEachRemaining(all::add);
		return all;
	}

	private static Optional<EObject> find(EObject root, Predicate<EObject> test) {
		return contents(root).stream().filter(test).findFirst();
	}

	/** The names {@code root} uses. */
	private static Set<String> names(EObject root) {
		Set<String> names = new HashSet<>();
		contents(root).forEach(o -> {
			if (o instanceof Name n) {
				names.add(n.getName());
			}
		});
		return names;
	}
}
