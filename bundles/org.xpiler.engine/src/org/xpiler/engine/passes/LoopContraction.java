package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Loop contraction (the paper's "merge a producer into its consumer"): a loop that fills a temporary array and
 * the adjacent loop with the same bounds that reads it become one loop (the second loop's variable renamed to
 * the first's); when nothing else uses the temporary, each iteration's element becomes a scalar local and the
 * array disappears: less memory and one pass over the data instead of two.
 *
 * <pre>
 * before: float t[1024];
 *         for (int i = 0; i < 1024; i++) { t[i] = x[i] * x[i]; }
 *         for (int k = 0; k < 1024; k++) { y[k] = t[k] + 1.0f; }
 * after:  for (int i = 0; i < 1024; i++) { float t_value = x[i] * x[i]; y[i] = t_value + 1.0f; }
 * </pre>
 *
 * Fusing is legal when no two accesses of the loops, one writing, touch the same element with the producer at
 * a later iteration than the consumer ({@link ArrayAccesses#conflictAtLaterIteration}: the consumer may read
 * {@code t[k]} or {@code t[k - 1]}, not {@code t[k + 1]}; it may write what the producer reads only where the
 * producer has read it already), and no variable one loop assigns is used by the other. The temporary becomes
 * a scalar when it is a local array of plain scalars, used nowhere but in the two loops, every access touches
 * the iteration's own element ({@code t[i]}), and the producer's first use of it is a plain assignment
 * {@code t[i] = e;} at the top of its body (which becomes the scalar's declaration).
 * <p>
 * Knob: {@code loops}, the pre-order index of the producer among the canonical loops of the entry (the
 * consumer is the statement after it); {@link #options} gives the pairs that fuse, in order. The record tells
 * the {@code temporary} and whether it was {@code contracted}. Precondition: sequential C++ (VNNI to VNNI);
 * two adjacent canonical loops in one block with equal bounds (that neither body changes) and types, a local
 * array that the first writes and the second reads, no jump out of either loop and no access the dependence
 * summary cannot describe ({@link ArrayAccesses}).
 */
public final class LoopContraction implements Pass {
	private final int loops;

	/** @param loops the pre-order index of the producer loop among the canonical loops of the entry */
	public LoopContraction(int loops) {
		this.loops = loops;
	}

	/** The producer loops of {@code unit}'s entry that fuse with the loop after them, in order. */
	public static List<LoopContraction> options(TranslationUnit unit) {
		List<LoopContraction> options = new ArrayList<>();
		int count = CanonicalLoop.all(EntryPoint.find(unit, Optional.empty()).function().getBody()).size();
		for (int k = 0; k < count; k++) {
			LoopContraction candidate = new LoopContraction(k);
			if (candidate.refusal(unit, Dialect.VNNI, Dialect.VNNI).isEmpty()) {
				options.add(candidate);
			}
		}
		return options;
	}

	@Override
	public String name() {
		return "loop-contraction";
	}

	@Override
	public String summary() {
		return "fuse a loop that fills a temporary array into the next loop that reads it; the array becomes a scalar "
				+ "when nothing else uses it";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI || to != Dialect.VNNI) {
			return Optional.of("contracts loops of sequential C++ only");
		}
		return PassRefusal.of(() -> plan(unit));
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI || to != Dialect.VNNI) {
			throw new PassRefusal("contracts loops of sequential C++ only");
		}
		Plan plan = plan(unit);
		plan.contraction().ifPresent(c -> contract(c, plan));
		ForStatement producer = plan.producer().loop();
		ForStatement consumer = plan.consumer().loop();
		String variable = plan.producer().variable();
		consumer.getBody().eAllContents().forEachRemaining(o -> {
			if (o instanceof Name n && n.getName().equals(plan.consumer().variable())) {
				n.setName(variable);
			}
		});
		CompoundStatement body = producer.getBody() instanceof CompoundStatement block ? block
				: Snippets.ensureInBlock(producer.getBody());
		body.getStatements().addAll(new ArrayList<>(plan.consumer().body()));
		EcoreUtil.remove(consumer);
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("loops", Integer.toString(loops));
		knobs.put("temporary", plan.temporary());
		knobs.put("contracted", Boolean.toString(plan.contraction().isPresent()));
		return knobs;
	}

	/** The two loops, the temporary that links them, and how it becomes a scalar when it can. */
	private record Plan(CanonicalLoop producer, CanonicalLoop consumer, String temporary, ArrayAccesses.Memory memory,
			Optional<Contraction> contraction) {
	}

	/**
	 * The temporary's declarator, the producer's statement {@code t[i] = e;} that defines the iteration's element,
	 * and every other access of it.
	 */
	private record Contraction(Declarator array, ExpressionStatement definition, List<Index> uses) {
	}

	private Plan plan(TranslationUnit unit) {
		FunctionDefinition entry = EntryPoint.find(unit, Optional.empty()).function();
		List<CanonicalLoop> all = CanonicalLoop.all(entry.getBody());
		if (loops < 0 || loops >= all.size()) {
			throw new PassRefusal("the entry has no canonical loop #" + loops + " (it has " + all.size() + ")");
		}
		CanonicalLoop producer = all.get(loops);
		ForStatement p = producer.loop();
		CanonicalLoop consumer = next(producer)
				.orElseThrow(() -> PassRefusal.at(p, "the loop over " + producer.variable() + " is not followed by a loop"));
		ForStatement q = consumer.loop();
		String pair = "the loop over " + consumer.variable() + " and the loop over " + producer.variable() + " ("
				+ Snippets.location(p) + ")";
		if (!EcoreUtil.equals(producer.lower(), consumer.lower()) || !EcoreUtil.equals(producer.upper(), consumer.upper())
				|| !EcoreUtil.equals(p.getInitDeclaration().getType(), q.getInitDeclaration().getType())) {
			throw PassRefusal.at(q, pair + " have different headers");
		}
		ArrayAccesses.Memory memory = ArrayAccesses.Memory.of(unit, entry);
		ArrayAccesses produced = ArrayAccesses.of(p.getBody(), producer, memory);
		ArrayAccesses consumed = ArrayAccesses.of(q.getBody(), consumer, memory);
		for (ArrayAccesses accesses : List.of(produced, consumed)) {
			accesses.obstacle().ifPresent(o -> {
				throw new PassRefusal(o.message());
			});
			if (accesses.changesAnyOf(producer.lower()) || accesses.changesAnyOf(producer.upper())) {
				throw PassRefusal.at(q, pair + " change what their bounds read");
			}
		}
		String temporary = produced.accesses().stream().filter(ArrayAccesses.Access::writes)
				.map(ArrayAccesses.Access::array).filter(memory::isLocalArray)
				.filter(t -> consumed.accesses().stream().anyMatch(a -> a.reads() && a.array().equals(t))).findFirst()
				.orElseThrow(() -> PassRefusal.at(p, "the loop over " + producer.variable()
						+ " writes no local array that the next loop reads"));
		checkNames(producer, consumer, pair);
		for (String s : produced.scalarsWritten()) {
			if (Snippets.mentions(q.getBody(), s)) {
				throw PassRefusal.at(q,
						pair + " both use " + s + ", which the loop over " + producer.variable() + " changes");
			}
		}
		for (String s : consumed.scalarsWritten()) {
			if (Snippets.mentions(p.getBody(), s)) {
				throw PassRefusal.at(q,
						pair + " both use " + s + ", which the loop over " + consumer.variable() + " changes");
			}
		}
		for (ArrayAccesses.Access x : produced.accesses()) {
			for (ArrayAccesses.Access y : consumed.accesses()) {
				if (ArrayAccesses.conflictAtLaterIteration(x, y)) {
					throw PassRefusal.at(y.node(), y.text() + " may touch what " + x.text() + " ("
							+ Snippets.location(x.node()) + ") touches at a later iteration of the fused loop");
				}
			}
		}
		return new Plan(producer, consumer, temporary, memory,
				contraction(temporary, entry, producer, consumer, produced, consumed));
	}

	/** The canonical loop right after {@code loop} in its block. */
	private static Optional<CanonicalLoop> next(CanonicalLoop loop) {
		if (!(loop.loop().eContainer() instanceof CompoundStatement block)) {
			return Optional.empty();
		}
		int at = block.getStatements().indexOf(loop.loop());
		return at + 1 < block.getStatements().size() && block.getStatements().get(at + 1) instanceof ForStatement f
				? CanonicalLoop.of(f)
				: Optional.empty();
	}

	/**
	 * In the fused body the consumer's statements follow the producer's: the producer's variable and the locals
	 * it declares at its top must not mean something else to them.
	 */
	private static void checkNames(CanonicalLoop producer, CanonicalLoop consumer, String pair) {
		EObject consumerBody = consumer.loop().getBody();
		if (!consumer.variable().equals(producer.variable()) && Snippets.mentions(consumerBody, producer.variable())) {
			throw PassRefusal.at(consumer.loop(),
					pair + " both use " + producer.variable() + ", the variable of the fused loop");
		}
		for (Statement s : producer.body()) {
			if (s instanceof DeclarationStatement d) {
				for (Declarator x : d.getDeclaration().getDeclarators()) {
					if (Snippets.mentions(consumerBody, x.getName()) || CanonicalLoop.declares(consumerBody, x.getName())) {
						throw PassRefusal.at(consumer.loop(), pair + " both use " + x.getName() + ", a local of the loop over "
								+ producer.variable());
					}
				}
			}
		}
	}

	/** How {@code temporary} becomes a scalar, when the rules in the class comment hold. */
	private static Optional<Contraction> contraction(String temporary, FunctionDefinition entry, CanonicalLoop producer,
			CanonicalLoop consumer, ArrayAccesses produced, ArrayAccesses consumed) {
		List<Declarator> declarators = new ArrayList<>();
		List<Name> outside = new ArrayList<>();
		entry.getBody().eAllContents().forEachRemaining(o -> {
			if (o instanceof Declarator x && x.getName().equals(temporary)) {
				declarators.add(x);
			} else if (o instanceof Name n && n.getName().equals(temporary)
					&& !EcoreUtil.isAncestor(producer.loop(), n) && !EcoreUtil.isAncestor(consumer.loop(), n)) {
				outside.add(n);
			}
		});
		if (declarators.size() != 1 || !outside.isEmpty()
				|| !(declarators.get(0).eContainer() instanceof Declaration declaration)
				|| !(declaration.eContainer() instanceof DeclarationStatement)
				|| !(declaration.getType() instanceof BuiltinType) || !declaration.getSpecifiers().isEmpty()) {
			return Optional.empty();
		}
		List<ArrayAccesses.Access> accesses = new ArrayList<>();
		produced.accesses().stream().filter(a -> a.array().equals(temporary)).forEach(accesses::add);
		consumed.accesses().stream().filter(a -> a.array().equals(temporary)).forEach(accesses::add);
		ArrayAccesses.Access first = accesses.get(0);
		if (!accesses.stream().allMatch(a -> a.sameElementEachIteration(first))) {
			return Optional.empty();
		}
		Statement definition = producer.body().stream().filter(s -> Snippets.mentions(s, temporary)).findFirst().get();
		if (!(definition instanceof ExpressionStatement e) || !(e.getExpression() instanceof Assignment a)
				|| !a.getOp().equals("=") || a.getLeft() != first.node() || Snippets.mentions(a.getRight(), temporary)) {
			return Optional.empty();
		}
		return Optional.of(new Contraction(declarators.get(0), e,
				accesses.stream().skip(1).map(ArrayAccesses.Access::node).toList()));
	}

	/** Replaces the temporary by a scalar declared where the producer defines the iteration's element. */
	private static void contract(Contraction contraction, Plan plan) {
		Declarator array = contraction.array();
		Declaration declaration = (Declaration) array.eContainer();
		String scalar = plan.memory().freshName(array.getName() + "_value");
		contraction.uses().forEach(use -> EcoreUtil.replace(use, Snippets.expression(scalar, Dialect.VNNI)));
		Assignment definition = (Assignment) contraction.definition().getExpression();
		String text = ((BuiltinType) declaration.getType()).getName() + " " + scalar + " = "
				+ Dialect.VNNI.printer().expression(definition.getRight()) + ";";
		EcoreUtil.replace(contraction.definition(), Snippets.statements(text, Dialect.VNNI).get(0));
		if (declaration.getDeclarators().size() == 1) {
			EcoreUtil.remove(declaration.eContainer());
		} else {
			EcoreUtil.remove(array);
		}
	}

}
