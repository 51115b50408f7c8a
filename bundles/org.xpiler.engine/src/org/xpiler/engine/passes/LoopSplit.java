package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.BreakStatement;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.ItemBlock;
import org.xpiler.lang.kernel.LinkageBlock;
import org.xpiler.lang.kernel.LinkageSpecifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.SwitchStatement;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.WhileStatement;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Loop split (strip-mining): a canonical loop with a constant trip count N becomes an outer loop over N / F
 * strips and an inner loop over the F iterations of a strip, the body reading the original variable from both.
 * An inner loop with a known, aligned trip count is what tensorize turns into whole vectors, and an outer
 * loop over strips is what bind spreads over blocks or tasks. When F does not divide N, the last N mod F
 * iterations run in a remainder loop after the nest (a copy of the loop over them), so that the inner loop
 * keeps its constant trip count and no guard enters the body. A lower bound other than 0 is carried into
 * the index.
 *
 * <pre>
 * before: for (int i = 0; i < 1000; ++i) { y[i] = x[i] * 2.0f; }
 * after (factor 64):
 *         for (int i_o = 0; i_o < 15; ++i_o) {
 *             for (int i_i = 0; i_i < 64; ++i_i) {
 *                 const int i = i_o * 64 + i_i;
 *                 y[i] = x[i] * 2.0f;
 *             }
 *         }
 *         for (int i = 960; i < 1000; ++i) { y[i] = x[i] * 2.0f; }
 * </pre>
 *
 * Knobs: {@code function} (the function that holds the loop), {@code loop} (its variable, {@code i}, or
 * {@code i#2} for the second canonical loop over {@code i} in that function, counted in source order) and
 * {@code factor} F. {@link #options} enumerates, for the outermost splittable loops of the
 * {@code extern "C"} functions and then of the others, the divisors F of the trip count N other than 1 and N,
 * the alignment-friendly ones first: those whose largest power-of-two divisor is larger (up to 64 elements)
 * come first, smaller F first among equals (for N = 1024: 64, 128, 256, 512, 32, 16, 8, 4, 2). Precondition:
 * sequential C++ (VNNI to VNNI); the loop is canonical ({@link CanonicalLoop}) with bounds that fold to
 * constants (literals and {@code const} integers) and has no {@code break} that leaves it (it would leave
 * only the inner loop); 2 <= F < N.
 */
public final class LoopSplit implements Pass {
	/** Factors rank by their largest power-of-two divisor up to this many elements (64 floats: four AVX-512 vectors). */
	private static final long ALIGNMENT_CAP = 64;

	private final String function;
	private final String loop;
	private final long factor;

	/**
	 * @param function the function holding the loop
	 * @param loop     the loop's variable, with {@code #n} for the n-th canonical loop over it ({@link #loopId})
	 * @param factor   the iterations of one strip
	 */
	public LoopSplit(String function, String loop, long factor) {
		this.function = function;
		this.loop = loop;
		this.factor = factor;
	}

	/** Every split worth trying in {@code unit}, best first (see the class comment). */
	public static List<LoopSplit> options(TranslationUnit unit) {
		List<LoopSplit> options = new ArrayList<>();
		for (FunctionDefinition f : functions(unit)) {
			ConstantFolder folder = ConstantFolder.withConstantsOf(unit, f);
			List<CanonicalLoop> splittable = CanonicalLoop.all(f.getBody()).stream()
					.filter(l -> !factors(l, folder).isEmpty() && escapingBreak(l.loop().getBody()).isEmpty()).toList();
			for (CanonicalLoop l : splittable) {
				boolean nested = splittable.stream().anyMatch(o -> o != l && EcoreUtil.isAncestor(o.loop(), l.loop()));
				if (!nested) {
					factors(l, folder).forEach(factor -> options.add(new LoopSplit(f.getName(), loopId(f, l), factor)));
				}
			}
		}
		return options;
	}

	/** The divisors of the loop's trip count in 2..N-1, best first; none when the count is not constant. */
	private static List<Long> factors(CanonicalLoop l, ConstantFolder folder) {
		OptionalLong trips = tripCount(l, folder);
		List<Long> divisors = new ArrayList<>();
		for (long f = 2; trips.isPresent() && f < trips.getAsLong(); f++) {
			if (trips.getAsLong() % f == 0) {
				divisors.add(f);
			}
		}
		divisors.sort(Comparator.comparingLong((Long f) -> -Math.min(ALIGNMENT_CAP, Long.lowestOneBit(f)))
				.thenComparingLong(f -> f));
		return divisors;
	}

	@Override
	public String name() {
		return "loop-split";
	}

	@Override
	public String summary() {
		return "split a loop with a constant trip count into strips of a fixed size: an outer and an inner loop";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		return PassRefusal.of(() -> target(unit, from, to));
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		Target t = target(unit, from, to);
		CanonicalLoop l = t.loop();
		KernelPrinter printer = Dialect.VNNI.printer();
		String type = l.loop().getInitDeclaration().getType().getName();
		String v = l.variable();
		String outer = Snippets.freshName(unit, v + "_o", Dialect.VNNI);
		String inner = Snippets.freshName(unit, v + "_i", Dialect.VNNI);
		long strips = t.trips() / factor;
		String offset = t.lower() == 0 ? "" : t.lower() + " + ";
		StringBuilder text = new StringBuilder();
		text.append("for (").append(type).append(' ').append(outer).append(" = 0; ").append(outer).append(" < ")
				.append(strips).append("; ++").append(outer).append(") {\n");
		text.append("for (").append(type).append(' ').append(inner).append(" = 0; ").append(inner).append(" < ")
				.append(factor).append("; ++").append(inner).append(") {\n");
		text.append("const ").append(type).append(' ').append(v).append(" = ").append(offset).append(outer)
				.append(" * ").append(factor).append(" + ").append(inner).append(";\n");
		l.body().forEach(s -> text.append(printer.statement(s, 2)));
		text.append("}\n}\n");
		if (t.trips() % factor != 0) {
			text.append("for (").append(type).append(' ').append(v).append(" = ").append(t.lower() + strips * factor)
					.append("; ").append(v).append(" < ").append(printer.expression(l.upper())).append("; ++").append(v)
					.append(") ").append(printer.statement(l.loop().getBody(), 0).stripLeading());
		}
		List<Statement> replacement = Snippets.statements(text.toString(), Dialect.VNNI);
		if (replacement.size() > 1) {
			CompoundStatement block = Snippets.ensureInBlock(l.loop());
			block.getStatements().addAll(block.getStatements().indexOf(l.loop()) + 1,
					replacement.subList(1, replacement.size()));
		}
		EcoreUtil.replace(l.loop(), replacement.get(0));
		return knobs();
	}

	/** The knob values of this split, as {@link #apply} reports them. */
	public Map<String, String> knobs() {
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("function", function);
		knobs.put("loop", loop);
		knobs.put("factor", Long.toString(factor));
		return knobs;
	}

	/** The loop this split rewrites, with its folded lower bound and trip count. */
	private record Target(CanonicalLoop loop, long lower, long trips) {
	}

	private Target target(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI || to != Dialect.VNNI) {
			throw new PassRefusal("splits loops of sequential C++ only (VNNI to VNNI), not " + from + " to " + to);
		}
		FunctionDefinition f = function(unit, function);
		CanonicalLoop l = findLoop(f, loop);
		ConstantFolder folder = ConstantFolder.withConstantsOf(unit, f);
		OptionalLong trips = tripCount(l, folder);
		if (trips.isEmpty()) {
			throw PassRefusal.at(l.loop(), "the loop over " + l.variable() + " has no constant trip count");
		}
		if (factor < 2 || factor >= trips.getAsLong()) {
			throw PassRefusal.at(l.loop(), "the factor " + factor + " is not in 2.." + (trips.getAsLong() - 1)
					+ " for the " + trips.getAsLong() + " iterations of the loop over " + l.variable());
		}
		escapingBreak(l.loop().getBody()).ifPresent(b -> {
			throw PassRefusal.at(b, "break leaves the loop over " + l.variable()
					+ "; after the split it would leave only the strip");
		});
		return new Target(l, folder.fold(l.lower()).getAsLong(), trips.getAsLong());
	}

	private static OptionalLong tripCount(CanonicalLoop l, ConstantFolder folder) {
		OptionalLong lower = folder.fold(l.lower());
		OptionalLong upper = folder.fold(l.upper());
		return lower.isPresent() && upper.isPresent()
				? OptionalLong.of(Math.max(0, upper.getAsLong() - lower.getAsLong()))
				: OptionalLong.empty();
	}

	// ------------------------------------------------------------------ shared with LoopReorder

	/** The functions with a body, {@code extern "C"} ones (the entries) first, each group in file order. */
	static List<FunctionDefinition> functions(TranslationUnit unit) {
		List<FunctionDefinition> entries = new ArrayList<>();
		List<FunctionDefinition> others = new ArrayList<>();
		collectFunctions(unit.getItems(), false, entries, others);
		entries.addAll(others);
		return entries;
	}

	private static void collectFunctions(List<TopLevel> items, boolean externC, List<FunctionDefinition> entries,
			List<FunctionDefinition> others) {
		for (TopLevel item : items) {
			if (item instanceof ItemBlock block) {
				collectFunctions(block.getItems(), externC || block instanceof LinkageBlock, entries, others);
			} else if (item instanceof FunctionDefinition f && f.getBody() != null) {
				boolean entry = externC || f.getSpecifiers().stream().anyMatch(s -> s instanceof LinkageSpecifier);
				(entry ? entries : others).add(f);
			}
		}
	}

	/** The function named {@code name}, or a refusal. */
	static FunctionDefinition function(TranslationUnit unit, String name) {
		return functions(unit).stream().filter(f -> f.getName().equals(name)).findFirst()
				.orElseThrow(() -> new PassRefusal("the file defines no function " + name));
	}

	/**
	 * How a knob names a canonical loop of {@code f}: its variable, followed by {@code #n} when it is the n-th
	 * (n >= 2) canonical loop over that variable in the function in source order. Unlike a line number, this
	 * survives printing and re-reading.
	 */
	static String loopId(FunctionDefinition f, CanonicalLoop l) {
		List<ForStatement> same = CanonicalLoop.all(f.getBody()).stream()
				.filter(o -> o.variable().equals(l.variable())).map(CanonicalLoop::loop).toList();
		int n = same.indexOf(l.loop()) + 1;
		return n == 1 ? l.variable() : l.variable() + "#" + n;
	}

	/** The canonical loop that {@link #loopId} names {@code id} in {@code f}, or a refusal at the function. */
	static CanonicalLoop findLoop(FunctionDefinition f, String id) {
		return CanonicalLoop.all(f.getBody()).stream().filter(l -> loopId(f, l).equals(id)).findFirst()
				.orElseThrow(() -> PassRefusal.at(f, f.getName() + " has no canonical loop " + id
						+ " (for (int v = a; v < b; ++v) over " + id.replaceFirst("#.*", "") + ")"));
	}

	/** A {@code break} in {@code body} that leaves the loop around it (not an inner loop or switch), if any. */
	static Optional<BreakStatement> escapingBreak(Statement body) {
		return EcoreUtil2.eAllOfType(body, BreakStatement.class).stream().filter(b -> !insideBreakable(b, body))
				.findFirst();
	}

	private static boolean insideBreakable(EObject node, Statement body) {
		for (EObject c = node.eContainer(); c != null && c != body.eContainer(); c = c.eContainer()) {
			if (c instanceof ForStatement || c instanceof WhileStatement || c instanceof DoStatement
					|| c instanceof SwitchStatement) {
				return true;
			}
		}
		return false;
	}
}
