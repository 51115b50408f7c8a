package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
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
 * Loop fuse: two perfectly nested loops whose body works on the linear index of the pair become one loop over
 * that index. What loop recovery gives for a CUDA kernel is then the plain loop its author had in mind, ready
 * for binding and tensorizing. Two shapes fuse:
 * <ul>
 * <li>a nest over {@code [0, A) x [0, B)} whose body declares {@code int x = o * B + i} (through copies such as
 * {@code int row = o;}) becomes one loop over {@code x < A * B} in the same iteration order; a leading guard
 * {@code if (x < N)} or {@code if (x >= N) continue;} becomes the bound, other uses of {@code o} and {@code i}
 * read {@code x / B} and {@code x % B}. Nests fuse repeatedly, so a block-y, block-x, thread-x nest over
 * {@code row * 768 + col} becomes one loop;</li>
 * <li>a grid-stride loop {@code for (int x = o * B + i; x < N; x += A * B)} as the whole body of the nest becomes
 * {@code for (int x = 0; x < N; ++x)}: every {@code x} below {@code N} runs once, in ascending order instead of
 * by thread, which the source's threads (free of races) allow.</li>
 * </ul>
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
	/** Each fusion removes a loop, so this only guards against a bug looping forever. */
	private static final int MAX_FUSIONS = 256;

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
		int fused = 0;
		for (Fusion fusion = next(unit); fusion != null && fused < MAX_FUSIONS; fusion = next(unit)) {
			EcoreUtil.replace(fusion.outer().loop(), Snippets.statements(fusion.text(), Dialect.VNNI).get(0));
			fused++;
		}
		return Map.of("fused", Integer.toString(fused));
	}

	/** A nest to fuse and the loop that replaces it. */
	private record Fusion(CanonicalLoop outer, String text) {
	}

	private Fusion next(TranslationUnit unit) {
		for (CanonicalLoop outer : CanonicalLoop.all(unit)) {
			Fusion fusion = fusion(outer);
			if (fusion != null) {
				return fusion;
			}
		}
		return null;
	}

	private Fusion fusion(CanonicalLoop outer) {
		Optional<CanonicalLoop> nested = outer.perfectlyNested();
		OptionalLong a = fromZero(outer);
		if (nested.isEmpty() || a.isEmpty() || fromZero(nested.get()).isEmpty()) {
			return null;
		}
		CanonicalLoop inner = nested.get();
		long b = fromZero(inner).getAsLong();
		String o = outer.variable();
		String i = inner.variable();
		List<Statement> body = inner.body();
		if (body.size() == 1 && body.get(0) instanceof ForStatement stride) {
			return gridStride(outer, stride, o, i, a.getAsLong(), b);
		}
		Map<String, String> copies = new HashMap<>();
		for (int k = 0; k < body.size(); k++) {
			if (!(body.get(k) instanceof DeclarationStatement d) || d.getDeclaration().getDeclarators().size() != 1) {
				return null;
			}
			Declarator x = d.getDeclaration().getDeclarators().get(0);
			if (!(x.getInitializer() instanceof Expression init) || !x.getPointers().isEmpty() || !x.getDimensions().isEmpty()
					|| CanonicalLoop.assignsAny(inner.loop().getBody(), java.util.Set.of(x.getName()))) {
				return null;
			}
			String name = x.getName();
			if (isLinear(init, o, i, b, copies) && body.subList(0, k).stream().noneMatch(s -> Snippets.mentions(s, name))) {
				// (an earlier mention would be another variable of that name, which the fused loop's would hide)
				List<Statement> rest = new ArrayList<>(body.subList(0, k));
				rest.addAll(body.subList(k + 1, body.size()));
				return new Fusion(outer, fused(x.getName(), a.getAsLong() * b, rest, o, i, b));
			}
			if (init instanceof Name n && (n.getName().equals(o) || n.getName().equals(i) || copies.containsKey(n.getName()))) {
				copies.put(x.getName(), copies.getOrDefault(n.getName(), n.getName()));
			}
		}
		return null;
	}

	/** {@code for (int x = o * B + i; x < N; x += A * B)} over all (o, i): one loop over {@code x < N}. */
	private Fusion gridStride(CanonicalLoop outer, ForStatement stride, String o, String i, long a, long b) {
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
				|| folder.fold(u.getRight()).orElse(-1) != a * b || Snippets.mentions(stride.getBody(), o)
				|| Snippets.mentions(stride.getBody(), i)
				|| CanonicalLoop.assignsAny(stride.getBody(), java.util.Set.of(x.getName()))) {
			return null;
		}
		StringBuilder text = new StringBuilder("for (int ").append(x.getName()).append(" = 0; ").append(x.getName())
				.append(" < ").append(printer.expression(c.getRight())).append("; ++").append(x.getName()).append(") {\n");
		CanonicalLoop.statementsOf(stride.getBody()).forEach(s -> text.append(printer.statement(s, 1)));
		return new Fusion(outer, text.append("}\n").toString());
	}

	/**
	 * The fused loop over {@code x < extent}: a guard on {@code x} after the leading declarations becomes the
	 * bound, and what still reads the old variables gets them back from {@code x}.
	 */
	private String fused(String x, long extent, List<Statement> rest, String o, String i, long b) {
		String limit = Long.toString(extent);
		List<Statement> body = new ArrayList<>(rest);
		int g = 0;
		while (g < body.size() && body.get(g) instanceof DeclarationStatement) {
			g++;
		}
		if (g < body.size() && body.get(g) instanceof IfStatement guard && guard.getElse() == null
				&& guard.getCondition() instanceof Binary c && c.getLeft() instanceof Name l && l.getName().equals(x)) {
			OptionalLong n = new ConstantFolder().fold(c.getRight());
			List<Statement> then = CanonicalLoop.statementsOf(guard.getThen());
			boolean below = c.getOp().equals("<") && g == body.size() - 1;
			boolean exit = c.getOp().equals(">=") && then.size() == 1 && then.get(0) instanceof ContinueStatement;
			if (n.isPresent() && n.getAsLong() <= extent && (below || exit)) {
				limit = printer.expression(c.getRight());
				body.remove(g);
				if (below) {
					body.addAll(then);
				}
			}
		}
		List<Statement> kept = withoutDeadCopies(body);
		StringBuilder text = new StringBuilder("for (int ").append(x).append(" = 0; ").append(x).append(" < ")
				.append(limit).append("; ++").append(x).append(") {\n");
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
