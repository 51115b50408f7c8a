package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Loop expansion (the paper's "split a loop body", loop fission): a canonical loop whose body holds several
 * statements becomes several loops with the same header, one per group of statements that must stay together.
 * BANG and VNNI tensorize vectorize a loop whose body is one kind of element-wise store; after expansion each
 * piece can be tensorized on its own.
 *
 * <pre>
 * before: for (int i = 0; i < 256; ++i) { float t = a[i] * b[i]; y[i] = t + 1.0f; z[i] = a[i] - b[i]; }
 * after:  float t_per_i[256];
 *         for (int i = 0; i < 256; ++i) { t_per_i[i] = a[i] * b[i]; }
 *         for (int i = 0; i < 256; ++i) { y[i] = t_per_i[i] + 1.0f; }
 *         for (int i = 0; i < 256; ++i) { z[i] = a[i] - b[i]; }
 * </pre>
 *
 * The loop is cut between two statements unless something ties a statement before the cut to one after it:
 * <ul>
 * <li>a local declared in the body and used by a later statement, unless it is expanded: a plain scalar of a
 * loop with a constant trip count becomes an array {@code <name>_per_<v>} indexed by the loop variable;</li>
 * <li>a variable of the enclosing code that the loop assigns (a reduction): every statement that uses it;</li>
 * <li>two accesses of one array, one writing, that may touch the same element with the earlier statement at a
 * later iteration ({@link ArrayAccesses#conflictAtLaterIteration}): {@code z[i] = y[i + 1]} after
 * {@code y[i] = ...}, or any access of {@code acc[0]} after a write of it.</li>
 * </ul>
 * The pieces are the maximal runs of statements between cuts.
 * <p>
 * Knobs: {@code loop}, the pre-order index of the loop among the canonical loops of the entry, and whether
 * locals may be expanded into arrays; {@link #options} gives the loops that split into two or more pieces,
 * outermost first. Precondition: sequential
 * C++ (VNNI to VNNI); the loop holds two statements or more, no {@code break}, {@code continue} or
 * {@code return} that leaves it, no access the dependence summary cannot describe ({@link ArrayAccesses}), and
 * its bounds read nothing the body writes.
 */
public final class LoopExpansion implements Pass {
	/** An expanded local above this many elements would crowd a native run's stack. */
	private static final long MAX_EXPANDED_ELEMENTS = 1 << 16;

	private final int loop;
	private final boolean expandScalars;

	/** @param loop the pre-order index of the loop among the canonical loops of the entry */
	public LoopExpansion(int loop) {
		this(loop, true);
	}

	/**
	 * @param expandScalars whether a local that crosses a cut may become an array; without, such a local ties
	 *                      its statements together and only splits that need no new array are made
	 */
	public LoopExpansion(int loop, boolean expandScalars) {
		this.loop = loop;
		this.expandScalars = expandScalars;
	}

	/** The loops of {@code unit}'s entry that split into two or more pieces, outermost first. */
	public static List<LoopExpansion> options(TranslationUnit unit) {
		return options(unit, true);
	}

	/** The same, with or without scalar expansion. */
	public static List<LoopExpansion> options(TranslationUnit unit, boolean expandScalars) {
		List<CanonicalLoop> loops = CanonicalLoop.all(EntryPoint.find(unit, Optional.empty()).function().getBody());
		List<Integer> splittable = new ArrayList<>();
		for (int k = 0; k < loops.size(); k++) {
			if (new LoopExpansion(k, expandScalars).refusal(unit, Dialect.VNNI, Dialect.VNNI).isEmpty()) {
				splittable.add(k);
			}
		}
		splittable.sort(Comparator.comparingInt(k -> depth(loops.get(k).loop())));
		return splittable.stream().map(k -> new LoopExpansion(k, expandScalars)).toList();
	}

	@Override
	public String name() {
		return "loop-expansion";
	}

	@Override
	public String summary() {
		return "split a loop into one loop per group of statements, expanding locals that cross the split into arrays";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI || to != Dialect.VNNI) {
			return Optional.of("expands loops of sequential C++ only");
		}
		return PassRefusal.of(() -> plan(unit));
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI || to != Dialect.VNNI) {
			throw new PassRefusal("expands loops of sequential C++ only");
		}
		Plan plan = plan(unit);
		ForStatement original = plan.loop().loop();
		CompoundStatement block = Snippets.ensureInBlock(original);
		List<String> arrays = new ArrayList<>();
		for (DeclarationStatement local : plan.expanded()) {
			arrays.add(expand(local, plan, block));
		}
		List<List<Statement>> pieces = plan.pieces().stream().filter(p -> !p.isEmpty()).toList();
		int position = block.getStatements().indexOf(original);
		for (List<Statement> statements : pieces.subList(1, pieces.size())) {
			ForStatement piece = EcoreUtil.copy(original);
			CompoundStatement body = (CompoundStatement) piece.getBody();
			body.getStatements().clear();
			body.getStatements().addAll(statements);
			block.getStatements().add(++position, piece);
		}
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("loop", Integer.toString(loop));
		knobs.put("pieces", Integer.toString(pieces.size()));
		if (!expandScalars) {
			knobs.put("expand-scalars", "false");
		}
		if (!arrays.isEmpty()) {
			knobs.put("expanded", String.join(",", arrays));
		}
		return knobs;
	}

	/**
	 * The chosen loop, its body's statements in pieces (the first stays in the loop, each other gets a copy of
	 * it), and the locals that become arrays because their uses cross from one piece to another.
	 */
	private record Plan(CanonicalLoop loop, ArrayAccesses.Memory memory, List<List<Statement>> pieces,
			List<DeclarationStatement> expanded) {
	}

	/** What keeps the statements {@code first..last} of the body in one piece, and why. */
	private record Tie(int first, int last, String reason) {
	}

	private Plan plan(TranslationUnit unit) {
		FunctionDefinition entry = EntryPoint.find(unit, Optional.empty()).function();
		List<CanonicalLoop> loops = CanonicalLoop.all(entry.getBody());
		if (loop < 0 || loop >= loops.size()) {
			throw new PassRefusal("the entry has no canonical loop #" + loop + " (it has " + loops.size() + ")");
		}
		CanonicalLoop chosen = loops.get(loop);
		ForStatement f = chosen.loop();
		ArrayAccesses.Memory memory = ArrayAccesses.Memory.of(unit, entry);
		List<Statement> body = chosen.body();
		if (body.size() < 2) {
			throw PassRefusal.at(f, "the loop over " + chosen.variable() + " holds a single statement");
		}
		ArrayAccesses whole = ArrayAccesses.of(f.getBody(), chosen, memory);
		whole.obstacle().ifPresent(o -> {
			throw new PassRefusal(o.message());
		});
		if (whole.changesAnyOf(chosen.lower()) || whole.changesAnyOf(chosen.upper())) {
			throw PassRefusal.at(f, "the body of the loop over " + chosen.variable() + " changes what its bounds read");
		}
		List<ArrayAccesses> parts = body.stream().map(s -> ArrayAccesses.of(s, chosen, memory)).toList();
		List<Tie> ties = new ArrayList<>();
		List<DeclarationStatement> expandable = new ArrayList<>();
		Set<String> locals = new TreeSet<>();
		for (int a = 0; a < body.size(); a++) {
			if (body.get(a) instanceof DeclarationStatement d) {
				for (Declarator x : d.getDeclaration().getDeclarators()) {
					locals.add(x.getName());
					localTie(chosen, body, a, x, ties, expandable, expandScalars);
				}
			}
		}
		Set<String> changed = new TreeSet<>();
		parts.forEach(p -> changed.addAll(p.scalarsWritten()));
		changed.removeAll(locals);
		for (String s : changed) {
			usesTie(body, s, "use " + s + ", which the loop changes at every iteration", ties);
		}
		for (int a = 0; a < body.size(); a++) {
			for (int b = a + 1; b < body.size(); b++) {
				for (ArrayAccesses.Access x : parts.get(a).accesses()) {
					for (ArrayAccesses.Access y : parts.get(b).accesses()) {
						if (ArrayAccesses.conflictAtLaterIteration(x, y)) {
							ties.add(new Tie(a, b, Snippets.location(y.node()) + " touches " + y.text() + ", which "
									+ x.text() + " (" + Snippets.location(x.node()) + ") may touch at a later iteration"));
						}
					}
				}
			}
		}
		String[] tiedBy = new String[body.size() - 1];
		for (Tie tie : ties) {
			for (int k = tie.first(); k < tie.last(); k++) {
				tiedBy[k] = tiedBy[k] == null ? tie.reason() : tiedBy[k];
			}
		}
		if (Arrays.stream(tiedBy).allMatch(Objects::nonNull)) {
			throw PassRefusal.at(f, "the statements of the loop over " + chosen.variable() + " must stay together: "
					+ tiedBy[0]);
		}
		List<List<Statement>> pieces = new ArrayList<>();
		pieces.add(new ArrayList<>(List.of(body.get(0))));
		for (int k = 1; k < body.size(); k++) {
			if (tiedBy[k - 1] == null) {
				pieces.add(new ArrayList<>());
			}
			pieces.get(pieces.size() - 1).add(body.get(k));
		}
		List<DeclarationStatement> crossing = expandable.stream()
				.filter(d -> crossesCut(body.indexOf(d), lastUse(body, name(d)), tiedBy)).toList();
		return new Plan(chosen, memory, pieces, crossing);
	}

	/** Ties a local to its later uses unless it can become an array, which then carries no tie. */
	private static void localTie(CanonicalLoop loop, List<Statement> body, int a, Declarator x, List<Tie> ties,
			List<DeclarationStatement> expandable, boolean expandScalars) {
		int first = firstUse(body, x.getName());
		int last = lastUse(body, x.getName());
		if (last <= a) {
			return;
		}
		DeclarationStatement d = (DeclarationStatement) body.get(a);
		if (expandScalars && first > a && isExpandable(loop, d)) {
			expandable.add(d);
		} else {
			ties.add(new Tie(Math.min(first, a), last, Snippets.location(d) + " declares " + x.getName() + ", which "
					+ Snippets.location(body.get(last)) + " uses"));
		}
	}

	private static void usesTie(List<Statement> body, String name, String reason, List<Tie> ties) {
		int first = firstUse(body, name);
		int last = lastUse(body, name);
		if (first < last) {
			ties.add(new Tie(first, last, Snippets.location(body.get(first)) + " and " + Snippets.location(body.get(last))
					+ " both " + reason));
		}
	}

	private static int firstUse(List<Statement> body, String name) {
		for (int k = 0; k < body.size(); k++) {
			if (Snippets.mentions(body.get(k), name)) {
				return k;
			}
		}
		return body.size();
	}

	private static int lastUse(List<Statement> body, String name) {
		for (int k = body.size() - 1; k >= 0; k--) {
			if (Snippets.mentions(body.get(k), name)) {
				return k;
			}
		}
		return -1;
	}

	private static boolean crossesCut(int declaration, int lastUse, String[] tiedBy) {
		for (int k = declaration; k < lastUse; k++) {
			if (tiedBy[k] == null) {
				return true;
			}
		}
		return false;
	}

	/**
	 * A local the body declares once, alone in its declaration, of a plain scalar type (at most {@code const}),
	 * in a loop with a constant trip count small enough for an array on the stack.
	 */
	private static boolean isExpandable(CanonicalLoop loop, DeclarationStatement d) {
		Declaration declaration = d.getDeclaration();
		if (declaration.getDeclarators().size() != 1 || !(declaration.getType() instanceof BuiltinType type)
				|| type.getName().equals("void")
				|| !declaration.getSpecifiers().stream()
						.allMatch(s -> s instanceof Specifier q && q.getName().equals("const"))) {
			return false;
		}
		Declarator x = declaration.getDeclarators().get(0);
		boolean plain = x.getPointers().isEmpty() && x.getDimensions().isEmpty() && x.getConstructorArgs().isEmpty()
				&& (x.getInitializer() == null || x.getInitializer() instanceof Expression);
		long declarations = countDeclarators(loop.loop().getBody(), x.getName());
		long trip = loop.tripCount().orElse(0);
		return plain && declarations == 1 && trip > 0 && trip <= MAX_EXPANDED_ELEMENTS;
	}

	private static long countDeclarators(EObject root, String name) {
		long count = 0;
		for (var it = root.eAllContents(); it.hasNext();) {
			if (it.next() instanceof Declarator x && name.equals(x.getName())) {
				count++;
			}
		}
		return count;
	}

	private static String name(DeclarationStatement d) {
		return d.getDeclaration().getDeclarators().get(0).getName();
	}

	/**
	 * Turns the local of {@code local} into an array declared before the loop: its uses become
	 * {@code <name>_per_<v>[v - lower]}, its declaration an assignment of its initializer (or nothing, in the
	 * plan's pieces too). Returns the array's name.
	 */
	private static String expand(DeclarationStatement local, Plan plan, CompoundStatement block) {
		CanonicalLoop l = plan.loop();
		Declarator x = local.getDeclaration().getDeclarators().get(0);
		String type = ((BuiltinType) local.getDeclaration().getType()).getName();
		String array = plan.memory().freshName(x.getName() + "_per_" + l.variable());
		long lower = l.constantLower().getAsLong();
		String element = array + "[" + l.variable() + (lower == 0 ? "" : lower > 0 ? " - " + lower : " + " + -lower) + "]";
		List<Name> uses = new ArrayList<>();
		l.loop().getBody().eAllContents().forEachRemaining(o -> {
			if (o instanceof Name n && n.getName().equals(x.getName())) {
				uses.add(n);
			}
		});
		uses.forEach(n -> EcoreUtil.replace(n, Snippets.expression(element, Dialect.VNNI)));
		List<Statement> piece = plan.pieces().stream().filter(p -> p.contains(local)).findFirst().orElseThrow();
		int at = piece.indexOf(local);
		if (x.getInitializer() instanceof Expression init) {
			String assignment = element + " = " + Dialect.VNNI.printer().expression(init) + ";";
			Statement replacement = Snippets.statements(assignment, Dialect.VNNI).get(0);
			EcoreUtil.replace(local, replacement);
			piece.set(at, replacement);
		} else {
			EcoreUtil.remove(local);
			piece.remove(at);
		}
		Statement declaration = Snippets.statements(type + " " + array + "[" + l.tripCount().getAsLong() + "];",
				Dialect.VNNI).get(0);
		block.getStatements().add(block.getStatements().indexOf(l.loop()), declaration);
		return array;
	}

	private static int depth(ForStatement loop) {
		int depth = 0;
		for (EObject c = loop.eContainer(); c != null; c = c.eContainer()) {
			depth += c instanceof ForStatement ? 1 : 0;
		}
		return depth;
	}
}
