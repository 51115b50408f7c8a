package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.ContinueStatement;
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
 * Loop fuse: a block loop around a thread loop whose body starts from the linear index
 * {@code int i = b * B + t;} becomes one loop over {@code i}; a guard {@code if (i < N)} (or
 * {@code if (i >= N) continue;}) that the fused bound makes redundant up to {@code N} becomes the bound. What
 * loop recovery gives for a one-dimensional CUDA kernel is then the plain loop its author had in mind, ready
 * for binding and tensorizing.
 *
 * <pre>
 * before: for (int blockIdx_x = 0; blockIdx_x < 192; ++blockIdx_x)
 *             for (int threadIdx_x = 0; threadIdx_x < 256; ++threadIdx_x) {
 *                 int i = blockIdx_x * 256 + threadIdx_x;
 *                 if (i < 49152) { y[i] = fmaxf(x[i], 0.0f); } }
 * after:  for (int i = 0; i < 49152; ++i) { y[i] = fmaxf(x[i], 0.0f); }
 * </pre>
 *
 * Knobs: none. Precondition: sequential C++ with such a nest (others are left as they are).
 */
public final class LoopFuse implements Pass {

	@Override
	public String name() {
		return "loop-fuse";
	}

	@Override
	public String summary() {
		return "fuse a block loop and a thread loop over a linear index into one loop, with its guard as the bound";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI || to != Dialect.VNNI) {
			return Optional.of("fuses loops of sequential C++ only");
		}
		return fusible(unit).isEmpty() ? Optional.of("no block and thread loop pair over a linear index") : Optional.empty();
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		List<ForStatement> outers = fusible(unit);
		KernelPrinter printer = Dialect.VNNI.printer();
		for (ForStatement outer : outers) {
			ForStatement inner = innerLoop(outer);
			List<Statement> body = new ArrayList<>(statements(inner.getBody()));
			DeclarationStatement index = (DeclarationStatement) body.remove(0);
			Declarator x = index.getDeclaration().getDeclarators().get(0);
			long extent = bound(outer).getAsLong() * bound(inner).getAsLong();
			String limit = Long.toString(extent);
			ConstantFolder folder = new ConstantFolder();
			if (!body.isEmpty() && body.get(0) instanceof IfStatement guard && guard.getElse() == null
					&& guard.getCondition() instanceof Binary c) {
				OptionalLong n = folder.fold(c.getRight());
				boolean below = c.getOp().equals("<") && c.getLeft() instanceof Name l && l.getName().equals(x.getName());
				boolean exit = c.getOp().equals(">=") && c.getLeft() instanceof Name l2 && l2.getName().equals(x.getName())
						&& statements(guard.getThen()).size() == 1
						&& statements(guard.getThen()).get(0) instanceof ContinueStatement;
				if (n.isPresent() && n.getAsLong() <= extent && (below && body.size() == 1 || exit)) {
					limit = printer.expression(c.getRight());
					body.remove(0);
					if (below) {
						body = new ArrayList<>(statements(guard.getThen()));
					}
				}
			}
			StringBuilder text = new StringBuilder("for (int ").append(x.getName()).append(" = 0; ").append(x.getName())
					.append(" < ").append(limit).append("; ++").append(x.getName()).append(") {\n");
			body.forEach(s -> text.append(printer.statement(s, 1)));
			text.append("}\n");
			EcoreUtil.replace(outer, Snippets.statements(text.toString(), Dialect.VNNI).get(0));
		}
		return Map.of("fused", Integer.toString(outers.size()));
	}

	private static List<Statement> statements(Statement s) {
		return CanonicalLoop.statementsOf(s);
	}

	private static List<ForStatement> fusible(TranslationUnit unit) {
		List<ForStatement> found = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof ForStatement f && isFusible(f)) {
				found.add(f);
			}
		});
		return found;
	}

	/** {@code for (int v = 0; v < N; ++v)} with a constant N: N, else empty. */
	private static OptionalLong bound(ForStatement loop) {
		return CanonicalLoop.of(loop).filter(l -> l.constantLower().orElse(-1) == 0).map(CanonicalLoop::tripCount)
				.orElse(OptionalLong.empty());
	}

	private static ForStatement innerLoop(ForStatement outer) {
		List<Statement> body = statements(outer.getBody());
		return body.size() == 1 && body.get(0) instanceof ForStatement inner ? inner : null;
	}

	private static boolean isFusible(ForStatement outer) {
		ForStatement inner = innerLoop(outer);
		if (inner == null || bound(outer).isEmpty() || bound(inner).isEmpty()) {
			return false;
		}
		String b = LoopBind.canonical(outer);
		String t = LoopBind.canonical(inner);
		List<Statement> body = statements(inner.getBody());
		if (body.isEmpty() || !(body.get(0) instanceof DeclarationStatement d)
				|| d.getDeclaration().getDeclarators().size() != 1) {
			return false;
		}
		Declarator x = d.getDeclaration().getDeclarators().get(0);
		if (!(x.getInitializer() instanceof Expression init) || !x.getPointers().isEmpty()
				|| !Dialect.VNNI.printer().expression(init).replace(" ", "")
						.matches("(" + b + "\\*" + bound(inner).getAsLong() + "\\+" + t + "|" + t + "\\+" + b + "\\*"
								+ bound(inner).getAsLong() + ")")) {
			return false;
		}
		for (int k = 1; k < body.size(); k++) {
			if (Snippets.mentions(body.get(k), b) || Snippets.mentions(body.get(k), t)) {
				return false;
			}
		}
		return true;
	}
}
