package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.FloatLiteral;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.Unary;

/**
 * The core of matrix products, matrix-vector products and their batched forms in sequential C++: a loop over
 * outputs whose body starts an accumulator, adds the products of two array elements over a reduction loop, and
 * then uses the accumulator (usually storing it).
 *
 * <pre>
 * for (int j = 0; j &lt; N; ++j) {               // outputs
 *     float acc = 0.0f;                         // initial value
 *     for (int k = 0; k &lt; K; ++k) {           // reduction
 *         acc += A[i * K + k] * B[k * N + j];   // left * right, each may be cast: (int32_t)A[...]
 *     }
 *     C[i * N + j] = acc;                       // finish: here a plain store (the accumulator, or it cast)
 * }
 * </pre>
 *
 * Factors subscript one-dimensional arrays (pointer parameters, local or global arrays) by name. Subscripts are
 * read as affine functions of one loop variable by {@link #coefficient}; what tensorize may do with the nest
 * depends on those coefficients (which factor is contiguous in which loop), not on names.
 */
record DotProductNest(CanonicalLoop outputs, String accumulator, String accumulatorType, Expression initial,
		CanonicalLoop reduction, Factor left, Factor right, Statement finish) {

	/** One factor of the product: the element read, its array and the array's normalised element type. */
	record Factor(Index load, String array, String elementType) {
		Expression subscript() {
			return load.getIndex();
		}
	}

	/** Every dot-product nest of the unit, outermost first. */
	static List<DotProductNest> all(TranslationUnit unit) {
		List<DotProductNest> nests = new ArrayList<>();
		for (CanonicalLoop loop : CanonicalLoop.all(unit)) {
			of(loop).ifPresent(nests::add);
		}
		return nests;
	}

	/** The nest whose loop over outputs is {@code outputs}, if it has the shape. */
	static Optional<DotProductNest> of(CanonicalLoop outputs) {
		List<Statement> body = outputs.body();
		if (body.size() != 3 || !(body.get(0) instanceof DeclarationStatement d)
				|| d.getDeclaration().getDeclarators().size() != 1 || !(body.get(1) instanceof ForStatement f)) {
			return Optional.empty();
		}
		Declarator acc = d.getDeclaration().getDeclarators().get(0);
		Optional<CanonicalLoop> reduction = CanonicalLoop.of(f);
		if (!acc.getPointers().isEmpty() || !acc.getDimensions().isEmpty() || !(acc.getInitializer() instanceof Expression init)
				|| reduction.isEmpty() || reduction.get().body().size() != 1
				|| !(reduction.get().body().get(0) instanceof ExpressionStatement update)) {
			return Optional.empty();
		}
		String name = acc.getName();
		Expression product = accumulated(update.getExpression(), name);
		if (!(product instanceof Binary times) || !times.getOp().equals("*")) {
			return Optional.empty();
		}
		String type = NestClassifier.elementType(acc);
		Optional<Factor> left = factor(times.getLeft(), type);
		Optional<Factor> right = factor(times.getRight(), type);
		Statement finish = body.get(2);
		if (left.isEmpty() || right.isEmpty() || Snippets.mentions(init, reduction.get().variable())
				|| Snippets.mentions(finish, reduction.get().variable())
				|| Stream.of(left.get().subscript(), right.get().subscript(), reduction.get().lower(), reduction.get().upper())
						.anyMatch(e -> Snippets.mentions(e, name))) {
			return Optional.empty();
		}
		return Optional.of(new DotProductNest(outputs, name, type, init, reduction.get(), left.get(), right.get(), finish));
	}

	/** Whether the accumulator starts at 0. */
	boolean startsAtZero() {
		return isZero(initial);
	}

	/** {@code X[e]} of a finish {@code X[e] = acc;} (or {@code X[e] = (T) acc;}), with {@code e} free of it. */
	Optional<Index> plainStore() {
		return finish instanceof ExpressionStatement st && st.getExpression() instanceof Assignment store
				&& store.getOp().equals("=") && store.getLeft() instanceof Index target
				&& target.getTarget() instanceof Name && isAccumulator(store.getRight(), accumulator)
				&& !Snippets.mentions(target.getIndex(), accumulator) ? Optional.of(target) : Optional.empty();
	}

	/** The normalised element type of the plain store's array, or null. */
	String storeType() {
		return plainStore().map(target -> arrayElementType((Name) target.getTarget())).orElse(null);
	}

	/** The trip count of the reduction loop when its bounds fold (with the file's and function's constants). */
	OptionalLong reductionTrips() {
		return trips(reduction);
	}

	/** The trip count of the loop over outputs when its bounds fold. */
	OptionalLong outputTrips() {
		return trips(outputs);
	}

	private OptionalLong trips(CanonicalLoop loop) {
		ConstantFolder folder = folder();
		OptionalLong lo = folder.fold(loop.lower());
		OptionalLong hi = folder.fold(loop.upper());
		return lo.isPresent() && hi.isPresent() ? OptionalLong.of(Math.max(0, hi.getAsLong() - lo.getAsLong()))
				: OptionalLong.empty();
	}

	ConstantFolder folder() {
		return ConstantFolder.withConstantsOf(EcoreUtil2.getContainerOfType(outputs.loop(), TranslationUnit.class),
				EcoreUtil2.getContainerOfType(outputs.loop(), FunctionDefinition.class));
	}

	/**
	 * The coefficient of {@code variable} in {@code e} when {@code e} is affine in it ({@code k * N + j} has
	 * coefficient 1 in {@code j} and {@code N} in {@code k}, when {@code N} folds); 0 when {@code e} does not
	 * mention it; empty otherwise.
	 */
	OptionalLong coefficient(Expression e, String variable) {
		return coefficient(e, variable, folder());
	}

	private static OptionalLong coefficient(Expression e, String variable, ConstantFolder folder) {
		if (!Snippets.mentions(e, variable)) {
			return OptionalLong.of(0);
		}
		return switch (e) {
		case Name n -> OptionalLong.of(1);
		case Parenthesized p -> coefficient(p.getExpression(), variable, folder);
		case Unary u when u.getOp().equals("-") -> negate(coefficient(u.getOperand(), variable, folder));
		case Unary u when u.getOp().equals("+") -> coefficient(u.getOperand(), variable, folder);
		case Binary b when b.getOp().equals("+") || b.getOp().equals("-") -> {
			OptionalLong l = coefficient(b.getLeft(), variable, folder);
			OptionalLong r = coefficient(b.getRight(), variable, folder);
			yield l.isEmpty() || r.isEmpty() ? OptionalLong.empty()
					: OptionalLong.of(l.getAsLong() + (b.getOp().equals("+") ? 1 : -1) * r.getAsLong());
		}
		case Binary b when b.getOp().equals("*") -> {
			boolean leftVaries = Snippets.mentions(b.getLeft(), variable);
			OptionalLong factor = folder.fold(leftVaries ? b.getRight() : b.getLeft());
			OptionalLong inner = coefficient(leftVaries ? b.getLeft() : b.getRight(), variable, folder);
			yield factor.isEmpty() || inner.isEmpty() || leftVaries && Snippets.mentions(b.getRight(), variable)
					? OptionalLong.empty()
					: OptionalLong.of(factor.getAsLong() * inner.getAsLong());
		}
		default -> OptionalLong.empty();
		};
	}

	private static OptionalLong negate(OptionalLong value) {
		return value.isEmpty() ? value : OptionalLong.of(-value.getAsLong());
	}

	/** {@code p} of {@code acc += p} or {@code acc = acc + p}; null for anything else. */
	private static Expression accumulated(Expression update, String acc) {
		if (!(update instanceof Assignment a) || !Snippets.isName(a.getLeft(), acc)) {
			return null;
		}
		if (a.getOp().equals("+=")) {
			return Snippets.unparenthesized(a.getRight());
		}
		return a.getOp().equals("=") && Snippets.unparenthesized(a.getRight()) instanceof Binary plus
				&& plus.getOp().equals("+") && Snippets.isName(plus.getLeft(), acc) ? Snippets.unparenthesized(plus.getRight())
						: null;
	}

	/** {@code X[e]}, or {@code (T) X[e]} with {@code T} the accumulator's type, of a one-dimensional array. */
	private static Optional<Factor> factor(Expression e, String accumulatorType) {
		Expression x = Snippets.unparenthesized(e);
		if (x instanceof Cast c) {
			TypeSpecifier castTo = c.getType().getType();
			String spelled = castTo instanceof BuiltinType b ? b.getName() : castTo instanceof NamedType n ? n.getName() : "?";
			if (!c.getType().getPointers().isEmpty() || !NestClassifier.normalisedType(spelled).equals(accumulatorType)) {
				return Optional.empty();
			}
			x = Snippets.unparenthesized(c.getOperand());
		}
		if (!(x instanceof Index load) || !(load.getTarget() instanceof Name array)) {
			return Optional.empty();
		}
		String type = arrayElementType(array);
		return type == null ? Optional.empty() : Optional.of(new Factor(load, array.getName(), type));
	}

	/** The accumulator, or it cast. */
	private static boolean isAccumulator(Expression e, String acc) {
		Expression x = Snippets.unparenthesized(e);
		return Snippets.isName(x instanceof Cast c ? c.getOperand() : x, acc);
	}

	private static boolean isZero(Expression e) {
		return switch (Snippets.unparenthesized(e)) {
		case IntLiteral i -> ConstantFolder.literal(i.getValue()) == 0;
		case FloatLiteral f -> Double.parseDouble(f.getValue().replaceAll("[fFlL]$", "")) == 0;
		default -> false;
		};
	}

	/**
	 * The normalised element type of the one-dimensional array or pointer {@code name} refers to, when the
	 * function (parameters and locals) or the file declares that name once; else null.
	 */
	private static String arrayElementType(Name name) {
		FunctionDefinition function = EcoreUtil2.getContainerOfType(name, FunctionDefinition.class);
		TranslationUnit unit = EcoreUtil2.getContainerOfType(name, TranslationUnit.class);
		List<Declarator> found = new ArrayList<>();
		List<EObject> scopes = new ArrayList<>(function.getParams());
		scopes.add(function.getBody());
		Snippets.topLevelItems(unit).stream().filter(Declaration.class::isInstance).forEach(scopes::add);
		for (EObject scope : scopes) {
			for (Declarator x : EcoreUtil2.eAllOfType(scope, Declarator.class)) {
				if (name.getName().equals(x.getName())) {
					found.add(x);
				}
			}
		}
		if (found.size() != 1 || found.get(0).getPointers().size() + found.get(0).getDimensions().size() != 1) {
			return null;
		}
		return NestClassifier.elementType(found.get(0));
	}
}
