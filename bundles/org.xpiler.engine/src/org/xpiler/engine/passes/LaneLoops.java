package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Conditional;
import org.xpiler.lang.kernel.CxxCast;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.Initializer;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * The lane-wise vector loops of AVX-512 C++ become the scalar loops they vectorize: one iteration per float lane
 * instead of one per vector of 16, each vector a float, each intrinsic its lane's expression from the catalog's
 * reference body ({@code result[i] = a[i] + b[i];}), a load or store through {@code x + i} the element
 * {@code x[i]}. The output is the loop a porting engineer would write, which every target binds and tensorizes
 * as it does the loops of C++ sources, rather than vectors emulated in byte arrays.
 *
 * <pre>
 * before: int i = 0;
 *         for (; i + 16 &lt;= n; i += 16) {
 *             __m512 v = _mm512_loadu_ps(x + i);
 *             _mm512_storeu_ps(y + i, _mm512_max_ps(v, zero));   // const __m512 zero = _mm512_setzero_ps();
 *         }
 * after:  int i = 0;
 *         for (; i + 1 &lt;= 49152; i += 1) {                    // n = 49152: the vectors' elements
 *             float v = x[i];
 *             y[i] = (v) &gt; (0.0f) ? (v) : (0.0f);
 *         }
 * </pre>
 *
 * A reduction's accumulator ({@link LaneAccumulator}) becomes one float as well, and its reduce that float (a
 * sum's only when its additions may be reassociated); a masked tail right after the loop becomes a scalar loop
 * over the elements its mask keeps:
 *
 * <pre>
 * before: __m512 acc = _mm512_setzero_ps();
 *         int i = 0;
 *         for (; i + 16 &lt;= n; i += 16)
 *             acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
 *         if (i &lt; n) {
 *             __mmask16 m = (__mmask16)((1u &lt;&lt; (n - i)) - 1u);
 *             acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc);
 *         }
 *         float dot = _mm512_reduce_add_ps(acc);
 * after:  float acc = 0.0f;
 *         int i = 0;
 *         for (; i &lt; n / 16 * 16; ++i)                      // n is not a constant here
 *             acc = fmaf(a[i], b[i], acc);
 *         for (; i &lt; n; ++i)
 *             acc = fmaf(a[i], b[i], acc);
 *         float dot = acc;
 * </pre>
 *
 * Applies to a loop {@code for ([int] i = a; i + 16 <= n; i += 16)} (or {@code i < n} with n - a a constant whole
 * number of vectors) with a constant start, and a constant bound (or, from 0, one made of names the loop leaves alone),
 * whose body only declares, assigns and stores {@code __m512} vectors: each vector is declared in the body (a
 * value carried from one vector to the next is not lane-wise), or declared before the loop from scalars alone
 * ({@code _mm512_set1_ps}, {@code _mm512_setzero_ps}) and never assigned, or is an accumulator whose every update
 * is in such a loop; every intrinsic's reference body is one lane loop {@code result[i] = f(a[i], ..., s)} (a
 * {@code ?:} with a scalar condition between two such values too); loads and stores go through a float array
 * plus {@code i} (coefficient 1), and {@code i} appears nowhere else. A masked tail is {@code if (i < n)} right
 * after such a loop with {@code i + 16 <= n}, whose loads and stores are masked by {@code (1 << (n - i)) - 1}
 * (declared in the tail or written in place), whose updates leave an accumulator alone in the lanes the mask
 * leaves out, and after which nothing reads {@code i} before assigning it. Other loops stay vectors.
 */
final class LaneLoops {
	/** Float lanes of a {@code __m512}, the loop's step. */
	private static final int LANES = 16;
	private static final String VECTOR = "__m512";
	private static final String MASK = "__mmask16";
	private static final Set<String> LOADS = Set.of("_mm512_loadu_ps", "_mm512_load_ps");
	private static final Set<String> STORES = Set.of("_mm512_storeu_ps", "_mm512_store_ps");
	/** {@code (k, p)}, 0.0f in the lanes k leaves out. */
	private static final String ZERO_MASKED_LOAD = "_mm512_maskz_loadu_ps";
	/** {@code (src, k, p)}, src in the lanes k leaves out. */
	private static final String MASKED_LOAD = "_mm512_mask_loadu_ps";
	/** {@code (p, k, a)}. */
	private static final String MASKED_STORE = "_mm512_mask_storeu_ps";

	/** A name, an element or a number: an operand that needs no parentheses. */
	private static final Pattern SIMPLE = Pattern
			.compile("[A-Za-z_]\\w*(\\[[^\\[\\]]*\\])?|[0-9][\\w.]*");

	/** A catalog reference body that computes each lane from the same lane of its operands. */
	private static final Pattern LANE_LOOP = Pattern
			.compile("for \\(int i = 0; i < 16; \\+\\+i\\) result\\[i\\] = (.*);");

	private final KernelPrinter printer = Dialect.VNNI.printer();
	/** Whether sums' accumulators become floats, their additions reassociated (maxima and minima always do). */
	private final boolean reassociateSums;
	private int liftedSums;

	LaneLoops(boolean reassociateSums) {
		this.reassociateSums = reassociateSums;
	}

	/** How many sums' accumulators became floats. */
	int liftedSums() {
		return liftedSums;
	}

	/** Rewrites every such loop of {@code unit}; returns how many loops (masked tails included) it wrote. */
	int scalarize(TranslationUnit unit) {
		int loops = 0;
		for (FunctionDefinition f : Snippets.definedFunctions(unit)) {
			loops += scalarize(f, ConstantFolder.withConstantsOf(unit, f));
		}
		return loops;
	}

	/** What replaces a vector loop or its masked tail, and the lanes that translated it. */
	private record Rewrite(Statement replaced, String text, Lanes lanes) {
	}

	private int scalarize(FunctionDefinition f, ConstantFolder folder) {
		Map<String, LaneAccumulator> accumulators = new HashMap<>();
		// each accumulator's declaration and resets, as the float's
		Map<String, Map<Statement, String>> starts = new HashMap<>();
		List<DeclarationStatement> uniformVectors = new ArrayList<>();
		for (LaneAccumulator accumulator : LaneAccumulator.candidates(f).values()) {
			boolean exact = accumulator.reduction() != LaneAccumulator.Reduction.SUM;
			Map<Statement, String> own = exact || reassociateSums ? starts(f, accumulator, uniformVectors) : null;
			if (own != null) {
				accumulators.put(accumulator.name(), accumulator);
				starts.put(accumulator.name(), own);
			}
		}
		List<Rewrite> rewrites;
		while (true) {
			rewrites = rewrites(f, folder, accumulators);
			Set<Statement> translated = new HashSet<>();
			rewrites.forEach(r -> translated.addAll(r.lanes().updates));
			starts.values().forEach(own -> translated.addAll(own.keySet()));
			// an accumulator updated outside the loops that become scalar stays a vector, and so do its loops
			if (!accumulators.values().removeIf(a -> !translated.containsAll(a.updates()))) {
				break;
			}
		}
		for (Rewrite rewrite : rewrites) {
			EcoreUtil.replace(rewrite.replaced(), Snippets.statements(rewrite.text(), Dialect.VNNI).get(0));
			uniformVectors.addAll(rewrite.lanes().uniformVectors);
		}
		for (LaneAccumulator accumulator : accumulators.values()) {
			liftedSums += accumulator.reduction() == LaneAccumulator.Reduction.SUM ? 1 : 0;
			starts.get(accumulator.name()).forEach((statement, text) -> EcoreUtil.replace(statement,
					Snippets.statements(text, Dialect.VNNI).get(0)));
			accumulator.reads().forEach(read -> EcoreUtil.replace(read, Snippets.expression(accumulator.name(), Dialect.VNNI)));
		}
		uniformVectors.forEach(LaneLoops::removeIfUnused);
		return rewrites.size();
	}

	/**
	 * The accumulator's declaration and resets ({@code acc = _mm512_setzero_ps();}) as the float's, when its
	 * reduction may start from each value; else null.
	 */
	private Map<Statement, String> starts(FunctionDefinition f, LaneAccumulator accumulator,
			List<DeclarationStatement> uniformVectors) {
		Map<Statement, String> starts = new HashMap<>();
		String name = accumulator.name();
		Initializer initializer = accumulator.declaration().getDeclaration().getDeclarators().get(0).getInitializer();
		String declared = initializer == null ? "" : start(f, accumulator, (Expression) initializer, uniformVectors);
		if (declared == null) {
			return null;
		}
		starts.put(accumulator.declaration(), "float " + name + (declared.isEmpty() ? "" : " = " + declared) + ";\n");
		for (ExpressionStatement update : accumulator.updates()) {
			Expression value = ((Assignment) update.getExpression()).getRight();
			if (!Snippets.mentions(value, name)) {
				String reset = start(f, accumulator, value, uniformVectors);
				if (reset == null) {
					return null;
				}
				starts.put(update, name + " = " + reset + ";\n");
			}
		}
		return starts;
	}

	/** The lane of a value the accumulator starts from, when its reduction may start there; else null. */
	private String start(FunctionDefinition f, LaneAccumulator accumulator, Expression value,
			List<DeclarationStatement> uniformVectors) {
		Lanes lanes = new Lanes(f, accumulator.declaration(), null, Map.of(), null);
		String lane = lanes.lane(value);
		uniformVectors.addAll(lanes.uniformVectors);
		return lane != null && accumulator.reduction().startsWith(Snippets.expression(lane, Dialect.VNNI)) ? lane : null;
	}

	/** The loops (and tails) that are lane-wise once {@code accumulators} are floats. */
	private List<Rewrite> rewrites(FunctionDefinition f, ConstantFolder folder, Map<String, LaneAccumulator> accumulators) {
		List<Rewrite> rewrites = new ArrayList<>();
		for (ForStatement loop : EcoreUtil2.eAllOfType(f.getBody(), ForStatement.class)) {
			Optional<Range> range = range(loop, folder);
			if (range.isEmpty()) {
				continue;
			}
			Lanes lanes = new Lanes(f, loop, range.get().counter(), accumulators, null);
			String body = lanes.body(loop.getBody());
			if (body != null) {
				rewrites.add(new Rewrite(loop, header(loop, range.get()) + " {\n" + body + "}\n", lanes));
				maskedTail(f, loop, range.get(), accumulators).ifPresent(rewrites::add);
			}
		}
		return rewrites;
	}

	private static String header(ForStatement loop, Range range) {
		String i = range.counter();
		if (loop.getInitDeclaration() != null) {
			return "for (int " + i + " = " + range.start() + "; " + i + " < " + range.end() + "; ++" + i + ")";
		}
		// the counter lives on after the loop: VectorLoops makes the pair with the tail canonical when it can
		return range.constantEnd() ? "for (; " + i + " + 1 <= " + range.end() + "; " + i + " += 1)"
				: "for (; " + i + " < " + range.end() + "; ++" + i + ")";
	}

	/**
	 * {@code if (i < n) {...}} right after {@code loop}, its masked vector as a loop over the lanes its mask keeps,
	 * when nothing reads {@code i} after it (the loop leaves it at n, where the vector left it).
	 */
	private Optional<Rewrite> maskedTail(FunctionDefinition f, ForStatement loop, Range range,
			Map<String, LaneAccumulator> accumulators) {
		String i = range.counter();
		if (range.bound() == null || loop.getInitDeclaration() != null
				|| !(loop.eContainer() instanceof CompoundStatement block)) {
			return Optional.empty();
		}
		List<Statement> statements = block.getStatements();
		int at = statements.indexOf(loop) + 1;
		if (at >= statements.size() || !(statements.get(at) instanceof IfStatement tail) || tail.getElse() != null
				|| !(tail.getCondition() instanceof Binary condition) || !condition.getOp().equals("<")
				|| !Snippets.isName(condition.getLeft(), i)
				|| !printer.expression(condition.getRight()).equals(printer.expression(range.bound()))
				|| !VectorLoops.deadAfter(statements, at, i)) {
			return Optional.empty();
		}
		Lanes lanes = new Lanes(f, tail, i, accumulators, range.bound());
		String body = lanes.body(tail.getThen());
		String header = "for (; " + i + " < " + printer.expression(range.bound()) + "; ++" + i + ")";
		return body == null ? Optional.empty() : Optional.of(new Rewrite(tail, header + " {\n" + body + "}\n", lanes));
	}

	/**
	 * The counter, its constant start, the end of the vectors' elements (a number, or an expression of the bound
	 * when that is not constant) and the bound {@code n} of {@code i + 16 <= n} (null for {@code i < n}).
	 */
	private record Range(String counter, long start, String end, boolean constantEnd, Expression bound) {
	}

	private Optional<Range> range(ForStatement loop, ConstantFolder folder) {
		if (!(loop.getCondition() instanceof Binary condition) || !(loop.getUpdate() instanceof Assignment step)
				|| !step.getOp().equals("+=") || !(step.getLeft() instanceof Name counter)
				|| folder.fold(step.getRight()).orElse(0) != LANES
				|| CanonicalLoop.assignsAny(loop.getBody(), Set.of(counter.getName()))) {
			return Optional.empty();
		}
		String i = counter.getName();
		OptionalLong folded = loop.getInitDeclaration() != null ? initial(loop, i, folder) : setBefore(loop, i, folder);
		if (folded.isEmpty()) {
			return Optional.empty();
		}
		long start = folded.getAsLong();
		if (condition.getOp().equals("<=") && condition.getLeft() instanceof Binary sum && sum.getOp().equals("+")
				&& Snippets.isName(sum.getLeft(), i) && folder.fold(sum.getRight()).orElse(0) == LANES) {
			Expression bound = condition.getRight();
			OptionalLong n = folder.fold(bound);
			if (n.isPresent()) {
				long end = start + Math.max(0, n.getAsLong() - start) / LANES * LANES;
				return Optional.of(new Range(i, start, Long.toString(end), true, bound));
			}
			// from 0, the whole vectors end at n / 16 * 16 (at or below 0 for a negative n, signed or not); from
			// another start, n - start could wrap around in an unsigned n
			if (start != 0 || !invariant(bound, i)) {
				return Optional.empty();
			}
			String end = operand(printer.expression(bound)) + " / " + LANES + " * " + LANES;
			return Optional.of(new Range(i, start, end, false, bound));
		}
		if (condition.getOp().equals("<") && Snippets.isName(condition.getLeft(), i)) {
			OptionalLong end = folder.fold(condition.getRight());
			// the last vector must not reach past n: its lanes would not be the scalar loop's
			return end.isPresent() && (end.getAsLong() - start) % LANES == 0
					? Optional.of(new Range(i, start, Long.toString(end.getAsLong()), true, null))
					: Optional.empty();
		}
		return Optional.empty();
	}

	/** Whether {@code bound} is names and numbers alone, without the counter: nothing in the loop changes it. */
	private static boolean invariant(Expression bound, String counter) {
		return !Snippets.mentions(bound, counter) && EcoreUtil2.eAllOfType(bound, EObject.class).stream()
				.allMatch(o -> o instanceof Name || o instanceof IntLiteral || o instanceof Parenthesized
						|| o instanceof Binary);
	}

	private static String operand(String value) {
		return SIMPLE.matcher(value).matches() ? value : "(" + value + ")";
	}

	private static OptionalLong initial(ForStatement loop, String i, ConstantFolder folder) {
		List<Declarator> declarators = loop.getInitDeclaration().getDeclarators();
		return declarators.size() == 1 && declarators.get(0).getName().equals(i)
				&& declarators.get(0).getInitializer() instanceof Expression e ? folder.fold(e) : OptionalLong.empty();
	}

	/** The constant start of a counter declared (or set) before the loop in its block, nothing between reading it. */
	private static OptionalLong setBefore(ForStatement loop, String i, ConstantFolder folder) {
		if (loop.getInitExpression() != null || !(loop.eContainer() instanceof CompoundStatement block)) {
			return OptionalLong.empty();
		}
		List<Statement> statements = block.getStatements();
		int start = VectorLoops.startOf(statements, statements.indexOf(loop), i);
		return start < 0 ? OptionalLong.empty() : folder.fold(VectorLoops.startValue(statements.get(start)));
	}

	/** A vector declared before the loop, from scalars alone, that only the loop's lanes now read. */
	private static void removeIfUnused(DeclarationStatement declaration) {
		String name = declaration.getDeclaration().getDeclarators().get(0).getName();
		FunctionDefinition f = EcoreUtil2.getContainerOfType(declaration, FunctionDefinition.class);
		if (f != null && EcoreUtil2.eAllOfType(f.getBody(), Name.class).stream().noneMatch(n -> n.getName().equals(name))) {
			EcoreUtil.remove(declaration);
		}
	}

	/**
	 * The lanes of one loop's body (or its masked tail's): statements and expressions as their lane's scalar code.
	 * In a tail, each vector also has the value its lanes past the mask hold ({@link #offLanes}), which says
	 * whether an accumulator's update leaves them alone.
	 */
	private final class Lanes {
		private final FunctionDefinition function;
		/** The loop or tail translated: vectors declared outside it are uniform or accumulators. */
		private final Statement scope;
		private final String counter;
		private final Map<String, LaneAccumulator> accumulators;
		/** The bound {@code n} of a masked tail's {@code (1 << (n - i)) - 1}; null in a loop. */
		private final Expression tailBound;
		/** Vectors declared in the body so far. */
		private final Set<String> bodyVectors = new HashSet<>();
		/** Body vectors' values in the lanes a tail's mask leaves out. */
		private final Map<String, String> offValues = new HashMap<>();
		/** Masks declared in a tail with its lanes. */
		private final Set<String> tailMasks = new HashSet<>();
		/** Vectors declared before the loop from scalars alone, never assigned: their one lane value. */
		private final Map<String, String> uniform = new HashMap<>();
		private final List<DeclarationStatement> uniformVectors = new ArrayList<>();
		/** The accumulator updates translated. */
		private final Set<ExpressionStatement> updates = new HashSet<>();
		/** The elements (as written, {@code x[i]}) the body stores and loads. */
		private final Set<String> stored = new HashSet<>();
		private final Set<String> loaded = new HashSet<>();
		/** The accumulator whose update is being read: the one place its name is its lane. */
		private String updating;
		/** Whether {@link #lane} gives the value of the lanes a tail's mask leaves out. */
		private boolean offLanes;

		Lanes(FunctionDefinition function, Statement scope, String counter, Map<String, LaneAccumulator> accumulators,
				Expression tailBound) {
			this.function = function;
			this.scope = scope;
			this.counter = counter;
			this.accumulators = accumulators;
			this.tailBound = tailBound;
		}

		/** The lane code of {@code body}'s statements, or null when one is not lane-wise. */
		String body(Statement body) {
			StringBuilder text = new StringBuilder();
			for (Statement s : CanonicalLoop.statementsOf(body)) {
				String scalar = statement(s);
				if (scalar == null) {
					return null;
				}
				text.append(scalar);
			}
			return elementsStayApart() ? text.toString() : null;
		}

		/** The statement's lane code, or null when it is not lane-wise. */
		private String statement(Statement s) {
			if (s instanceof DeclarationStatement d && d.getDeclaration().getDeclarators().size() == 1
					&& VECTOR.equals(d.getDeclaration().getType().getName())) {
				Declarator x = d.getDeclaration().getDeclarators().get(0);
				String value = x.getInitializer() instanceof Expression e && x.getPointers().isEmpty()
						&& x.getDimensions().isEmpty() && !accumulators.containsKey(x.getName()) ? lane(e) : null;
				if (value != null && tailBound != null && !off(x.getName(), (Expression) x.getInitializer())) {
					return null;
				}
				bodyVectors.add(x.getName());
				return value == null ? null : "float " + x.getName() + " = " + value + ";\n";
			}
			if (tailBound != null && s instanceof DeclarationStatement d && d.getDeclaration().getDeclarators().size() == 1
					&& MASK.equals(d.getDeclaration().getType().getName())) {
				// the tail's mask: every lane of the loop is one it keeps
				Declarator x = d.getDeclaration().getDeclarators().get(0);
				boolean tailMask = x.getInitializer() instanceof Expression e && x.getPointers().isEmpty()
						&& x.getDimensions().isEmpty() && prefixMask(e) && !assigned(x.getName());
				if (tailMask) {
					tailMasks.add(x.getName());
				}
				return tailMask ? "" : null;
			}
			if (s instanceof ExpressionStatement es && es.getExpression() instanceof Assignment a && a.getOp().equals("=")
					&& a.getLeft() instanceof Name target) {
				if (accumulators.containsKey(target.getName())) {
					return accumulate(es, accumulators.get(target.getName()), a.getRight());
				}
				String value = bodyVectors.contains(target.getName()) ? lane(a.getRight()) : null;
				if (value != null && tailBound != null && !off(target.getName(), a.getRight())) {
					return null;
				}
				return value == null ? null : target.getName() + " = " + value + ";\n";
			}
			if (s instanceof ExpressionStatement es && es.getExpression() instanceof Call store) {
				String callee = Snippets.callee(store);
				// a tail stores only the lanes its mask keeps
				boolean plain = tailBound == null && STORES.contains(callee) && store.getArgs().size() == 2;
				boolean masked = tailBound != null && MASKED_STORE.equals(callee) && store.getArgs().size() == 3
						&& tailMask(store.getArgs().get(1));
				if (plain || masked) {
					String element = element(store.getArgs().get(0));
					String value = lane(store.getArgs().get(store.getArgs().size() - 1));
					if (element != null) {
						stored.add(element);
					}
					return element == null || value == null ? null : element + " = " + value + ";\n";
				}
			}
			// anything else now runs once per lane: only a scalar declaration that reads neither vectors nor the
			// counter and writes nothing
			boolean scalar = s instanceof DeclarationStatement d && !VECTOR.equals(d.getDeclaration().getType().getName())
					&& !Snippets.mentions(s, counter) && !CanonicalLoop.writesAnything(s)
					&& EcoreUtil2.eAllOfType(s, Name.class).stream().noneMatch(n -> isVector(n.getName()));
			return scalar ? printer.statement(s, 1) : null;
		}

		/**
		 * {@code acc = update} as the float's update, when its lane folds one more value in the way of the
		 * accumulator's reduction and, in a tail, leaves the lanes past the mask as they are; else null.
		 */
		private String accumulate(ExpressionStatement statement, LaneAccumulator accumulator, Expression update) {
			String acc = accumulator.name();
			updating = acc;
			try {
				String value = lane(update);
				Expression lane = value == null ? null : Snippets.expression(value, Dialect.VNNI);
				if (lane == null || !accumulator.reduction().accumulates(lane, acc, printer)) {
					return null;
				}
				if (tailBound != null) {
					String off = offLane(update);
					if (off == null || !LaneAccumulator.leavesAlone(Snippets.expression(off, Dialect.VNNI), acc)) {
						return null;
					}
				}
				updates.add(statement);
				// acc = acc + x reads as acc += x
				if (lane instanceof Binary b && (b.getOp().equals("+") || b.getOp().equals("-"))
						&& Snippets.isName(b.getLeft(), acc)) {
					return acc + " " + b.getOp() + "= " + printer.expression(b.getRight()) + ";\n";
				}
				if (lane instanceof Binary b && b.getOp().equals("+") && Snippets.isName(b.getRight(), acc)) {
					return acc + " += " + printer.expression(b.getLeft()) + ";\n";
				}
				return acc + " = " + value + ";\n";
			} finally {
				updating = null;
			}
		}

		/** Records the value of {@code vector} past a tail's mask; false when it has none lane by lane. */
		private boolean off(String vector, Expression value) {
			String off = offLane(value);
			offValues.put(vector, off);
			return off != null;
		}

		private String offLane(Expression e) {
			offLanes = true;
			try {
				return lane(e);
			} finally {
				offLanes = false;
			}
		}

		/**
		 * Whether every element the loop stores is the only one of its array the loop touches in that iteration:
		 * a vector loads all its lanes before it stores any, so {@code x[i - 1]} read next to {@code x[i]} stored
		 * would see the new value one lane at a time.
		 */
		private boolean elementsStayApart() {
			for (String element : stored) {
				String array = element.substring(0, element.indexOf('['));
				boolean other = Stream.concat(stored.stream(), loaded.stream())
						.anyMatch(e -> e.startsWith(array + "[") && !e.equals(element));
				if (other) {
					return false;
				}
			}
			return true;
		}

		/** The lane value of a vector expression, or null when it is not lane-wise. */
		private String lane(Expression e) {
			Expression x = Snippets.unparenthesized(e);
			if (x instanceof Name n) {
				if (n.getName().equals(updating)) {
					return updating;
				}
				if (bodyVectors.contains(n.getName())) {
					return offLanes ? offValues.get(n.getName()) : n.getName();
				}
				return uniform(n.getName());
			}
			if (x instanceof Conditional choice) {
				return conditional(choice);
			}
			if (!(x instanceof Call call) || Snippets.callee(call) == null) {
				return null;
			}
			String callee = Snippets.callee(call);
			if (LOADS.contains(callee) && call.getArgs().size() == 1) {
				return load(call.getArgs().get(0));
			}
			if (ZERO_MASKED_LOAD.equals(callee) && call.getArgs().size() == 2
					|| MASKED_LOAD.equals(callee) && call.getArgs().size() == 3) {
				List<Expression> args = call.getArgs();
				if (tailBound == null || !tailMask(args.get(args.size() - 2))) {
					return null;
				}
				if (!offLanes) {
					return load(args.get(args.size() - 1));
				}
				return ZERO_MASKED_LOAD.equals(callee) ? "0.0f" : lane(args.get(0));
			}
			Optional<CatalogFunction> function = Dialect.VNNI.catalog().function(callee);
			if (function.isEmpty() || function.get().signatures().size() != 1) {
				return null;
			}
			CatalogFunction.Signature signature = function.get().signatures().get(0);
			String reference = signature.reference() != null ? signature.reference() : function.get().reference();
			if (!VECTOR.equals(signature.returns()) || reference == null
					|| signature.params().size() != call.getArgs().size()) {
				return null;
			}
			var lanePattern = LANE_LOOP.matcher(reference.strip());
			if (!lanePattern.matches()) {
				return null;
			}
			Expression body = Snippets.expression(lanePattern.group(1), Dialect.VNNI);
			Map<String, String> arguments = new HashMap<>();
			for (int p = 0; p < call.getArgs().size(); p++) {
				CatalogFunction.Parameter param = signature.params().get(p);
				String value = VECTOR.equals(param.type()) ? lane(call.getArgs().get(p))
						: scalarArgument(call.getArgs().get(p));
				if (value == null) {
					return null;
				}
				arguments.put(param.name(), operand(value));
			}
			return substituted(body, arguments);
		}

		private String load(Expression address) {
			String element = element(address);
			if (element != null) {
				loaded.add(element);
			}
			return element;
		}

		/** {@code c ? a : b} between two vectors, on a scalar condition: the same choice in every lane. */
		private String conditional(Conditional choice) {
			String condition = scalarArgument(choice.getCondition());
			if (condition == null || CanonicalLoop.writesAnything(choice.getCondition())) {
				return null;
			}
			String then = lane(choice.getThen());
			String otherwise = lane(choice.getElse());
			return then == null || otherwise == null ? null : condition + " ? " + then + " : " + otherwise;
		}

		/** The reference's lane expression with {@code a[i]} and scalar {@code a} replaced by the arguments. */
		private String substituted(Expression body, Map<String, String> arguments) {
			List<EObject> uses = new ArrayList<>();
			EcoreUtil2.eAllOfType(body, EObject.class).forEach(o -> { // the body itself included
				if (o instanceof Index index && index.getTarget() instanceof Name n && arguments.containsKey(n.getName())
						&& Snippets.isName(index.getIndex(), "i")) {
					uses.add(index);
				} else if (o instanceof Name n && arguments.containsKey(n.getName())
						&& !(n.eContainer() instanceof Index index && index.getTarget() == n)) {
					uses.add(n);
				}
			});
			// lane-wise: the lane index appears only as the subscript of an operand's lane
			boolean otherLanes = EcoreUtil2.eAllOfType(body, Name.class).stream()
					.anyMatch(n -> n.getName().equals("result") || n.getName().equals("i")
							&& !(n.eContainer() instanceof Index index && uses.contains(index)));
			if (otherLanes) {
				return null;
			}
			EObject root = body;
			for (EObject use : uses) {
				String name = use instanceof Index index ? ((Name) index.getTarget()).getName() : ((Name) use).getName();
				Expression value = Snippets.expression(arguments.get(name), Dialect.VNNI);
				if (use == root) {
					root = value;
				} else {
					EcoreUtil.replace(use, value);
				}
			}
			return printer.expression((Expression) root);
		}

		/** A scalar argument: neither vectors nor the counter. */
		private String scalarArgument(Expression e) {
			boolean scalar = !Snippets.mentions(e, counter)
					&& EcoreUtil2.eAllOfType(e, Name.class).stream().noneMatch(n -> isVector(n.getName()));
			return scalar ? printer.expression(e) : null;
		}

		/** A tail's mask: one it declared, or {@link #prefixMask} in place. */
		private boolean tailMask(Expression mask) {
			return Snippets.unparenthesized(mask) instanceof Name n && tailMasks.contains(n.getName()) || prefixMask(mask);
		}

		/** {@code (1 << (n - i)) - 1}, cast or converted to a mask: the lanes below n, for i + 16 > n. */
		private boolean prefixMask(Expression mask) {
			return withoutConversions(mask) instanceof Binary minus && minus.getOp().equals("-") && isOne(minus.getRight())
					&& withoutConversions(minus.getLeft()) instanceof Binary shift && shift.getOp().equals("<<")
					&& isOne(shift.getLeft()) && Snippets.unparenthesized(shift.getRight()) instanceof Binary count
					&& count.getOp().equals("-") && Snippets.isName(count.getRight(), counter)
					&& printer.expression(count.getLeft()).equals(printer.expression(tailBound));
		}

		private static Expression withoutConversions(Expression e) {
			Expression x = Snippets.unparenthesized(e);
			while (true) {
				if (x instanceof Cast cast) {
					x = Snippets.unparenthesized(cast.getOperand());
				} else if (x instanceof CxxCast cast) {
					x = Snippets.unparenthesized(cast.getOperand());
				} else if (x instanceof Call call && Snippets.isCallOf(call, "_cvtu32_mask16") && call.getArgs().size() == 1) {
					x = Snippets.unparenthesized(call.getArgs().get(0));
				} else {
					return x;
				}
			}
		}

		private static boolean isOne(Expression e) {
			return Snippets.unparenthesized(e) instanceof IntLiteral one && one.getValue().matches("1[uUlL]*");
		}

		/**
		 * {@code x[e]} for the address {@code x + e} (or {@code &x[e]}) of a float array, where {@code e} holds the
		 * counter once with coefficient 1; else null.
		 */
		private String element(Expression address) {
			Expression a = Snippets.unparenthesized(address);
			if (a instanceof Unary u && u.getOp().equals("&") && u.getOperand() instanceof Index index) {
				return index.getTarget() instanceof Name array && "float".equals(floatArray(array.getName()))
						&& unitCoefficient(index.getIndex()) ? array.getName() + "[" + printer.expression(index.getIndex()) + "]"
								: null;
			}
			// x + e, or e1 + x + e2: the one float array added, the rest its offset
			List<Name> arrays = EcoreUtil2.eAllOfType(a, Name.class).stream()
					.filter(n -> added(n, a) && "float".equals(floatArray(n.getName()))).toList();
			if (arrays.size() != 1 || arrays.get(0) == a) {
				return null;
			}
			EcoreUtil.Copier copier = new EcoreUtil.Copier();
			Expression offset = (Expression) copier.copy(a);
			EObject base = copier.get(arrays.get(0));
			while (base.eContainer() instanceof Parenthesized p) {
				base = p;
			}
			if (!(base.eContainer() instanceof Binary sum) || !sum.getOp().equals("+")) {
				return null;
			}
			Expression rest = sum.getLeft() == base ? sum.getRight() : sum.getLeft();
			if (sum == offset) {
				offset = rest;
			} else {
				EcoreUtil.replace(sum, rest);
			}
			offset = Snippets.unparenthesized(offset);
			return unitCoefficient(offset) ? arrays.get(0).getName() + "[" + printer.expression(offset) + "]" : null;
		}

		/** Whether {@code e} holds the counter exactly once, added (not subtracted, scaled or under a call). */
		private boolean unitCoefficient(Expression e) {
			List<Name> uses = new ArrayList<>(EcoreUtil2.eAllOfType(e, Name.class)); // e itself included
			uses.removeIf(n -> !n.getName().equals(counter));
			return uses.size() == 1 && added(uses.get(0), e);
		}

		/** Whether {@code e} counts with coefficient +1 in {@code root}: only sums and parentheses lie between. */
		private static boolean added(Expression e, Expression root) {
			for (EObject o = e; o != root; o = o.eContainer()) {
				EObject parent = o.eContainer();
				boolean added = parent instanceof Parenthesized
						|| parent instanceof Binary b && (b.getOp().equals("+") || b.getOp().equals("-") && b.getLeft() == o);
				if (!added) {
					return false;
				}
			}
			return true;
		}

		/** The element type of a pointer parameter or local array named {@code name}, or null. */
		private String floatArray(String name) {
			List<Declarator> found = new ArrayList<>();
			function.getParams().forEach(p -> {
				if (name.equals(p.getDeclarator().getName())) {
					found.add(p.getDeclarator());
				}
			});
			EcoreUtil2.eAllOfType(function.getBody(), Declarator.class).stream().filter(x -> name.equals(x.getName()))
					.forEach(found::add);
			if (found.size() != 1 || found.get(0).getPointers().size() + found.get(0).getDimensions().size() != 1) {
				return null;
			}
			return NestClassifier.elementType(found.get(0));
		}

		/** Whether the function assigns {@code name} or takes its address anywhere. */
		private boolean assigned(String name) {
			return EcoreUtil2.eAllOfType(function.getBody(), EObject.class).stream().anyMatch(o -> {
				Expression target = o instanceof Unary u && u.getOp().equals("&") ? u.getOperand()
						: CanonicalLoop.writeTarget(o);
				return target != null && Snippets.isName(Snippets.unparenthesized(target), name);
			});
		}

		private boolean isVector(String name) {
			return bodyVectors.contains(name) || declaredVector(name) != null;
		}

		/** The lane value of a vector declared before the loop from scalars alone and never assigned, or null. */
		private String uniform(String name) {
			if (uniform.containsKey(name)) {
				return uniform.get(name);
			}
			DeclarationStatement declaration = declaredVector(name);
			if (declaration == null || assigned(name)) {
				return null;
			}
			// the value is now computed in the loop: what it reads must not change in between
			Declarator x = declaration.getDeclaration().getDeclarators().get(0);
			if (!(x.getInitializer() instanceof Expression init) || EcoreUtil2.eAllOfType(init, Name.class).stream()
					.anyMatch(n -> isVector(n.getName()) || assigned(n.getName()))) {
				return null;
			}
			String value = lane(init);
			if (value != null && (counter == null || !Snippets.mentions(Snippets.expression(value, Dialect.VNNI), counter))) {
				uniform.put(name, value);
				uniformVectors.add(declaration);
				return value;
			}
			return null;
		}

		/** The declaration of a vector named {@code name} in the function outside the scope, when it is the only one. */
		private DeclarationStatement declaredVector(String name) {
			List<DeclarationStatement> found = EcoreUtil2.eAllOfType(function.getBody(), DeclarationStatement.class).stream()
					.filter(d -> VECTOR.equals(d.getDeclaration().getType().getName())
							&& d.getDeclaration().getDeclarators().size() == 1
							&& d.getDeclaration().getDeclarators().get(0).getName().equals(name)
							&& !EcoreUtil.isAncestor(scope, d))
					.toList();
			return found.size() == 1 ? found.get(0) : null;
		}
	}
}
