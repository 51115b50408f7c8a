package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.engine.passes.DotProductNest.Factor;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Assignment;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Postfix;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Tensorize for dot products: the nests at the core of matrix and matrix-vector products ({@link DotProductNest})
 * run on AVX-512 with the instruction made for them: {@code _mm512_fmadd_ps} for float, VNNI's
 * {@code _mm512_dpbusd_epi32} for unsigned-by-signed bytes and {@code _mm512_dpwssd_epi32} for other 8- and
 * 16-bit integers, each accumulating exactly in 32 bits. Two ways to fill the lanes:
 * <ul>
 * <li><b>outputs</b>: 16 neighbouring outputs at once. One factor does not depend on the output loop and is
 * broadcast; the other and the store are contiguous in it. For integers each lane's 32 bits hold 4 (dpbusd) or 2
 * (dpwssd) consecutive reduction steps, so the contiguous factor is packed once into that layout before the
 * outermost loop that does not change it. Outputs that do not fill a vector keep the scalar nest.</li>
 * <li><b>reduction</b>: one output at a time, 16 floats (or 64 bytes) of the reduction per step, summed across the
 * lanes at the end: both factors are contiguous in the reduction loop. Float sums change their order (the oracle's
 * tolerance decides); integer sums are exact. A scalar loop finishes the reduction.</li>
 * </ul>
 *
 * <pre>
 * before: for (int j = 0; j &lt; 80; ++j) {
 *             float sum = 0.0f;
 *             for (int k = 0; k &lt; 96; ++k) { sum += A[i * 96 + k] * B[k * 80 + j]; }
 *             C[i * 80 + j] = sum;
 *         }
 * after:  { int j = 0;
 *           for (; j + 16 &lt;= 80; j += 16) {
 *               __m512 sum_v = _mm512_setzero_ps();
 *               for (int k = 0; k &lt; 96; ++k) {
 *                   sum_v = _mm512_fmadd_ps(_mm512_set1_ps(A[i * 96 + k]), _mm512_loadu_ps(B + (k * 80 + j)), sum_v); }
 *               _mm512_storeu_ps(C + (i * 80 + j), sum_v); }
 *           for (; j &lt; 80; ++j) { ...the scalar nest... } }
 * </pre>
 *
 * Knobs: {@code lanes} = {@code outputs} or {@code reduction}, the form tried first for each nest (the other
 * where the first does not fit); the knob values report the intrinsics used. Precondition: sequential C++ with a
 * dot-product nest whose factors are float, or 8/16-bit integers accumulated in 32 bits. Lanes over outputs need
 * an accumulator that starts at 0 and is stored as it is, and for integers reduction trip counts that fold to a
 * multiple of 4 (dpbusd) or 2 (dpwssd) and a packed array that the function only reads; lanes over the
 * reduction take any start and any use of the sum (a bias, a scale, an activation).
 */
public final class VnniDotTensorize implements Pass {
	/** How a dot-product nest fills the vector lanes. */
	public enum Lanes {
		OUTPUTS, REDUCTION
	}

	private static final int FLOAT_LANES = 16;
	private static final int BYTE_LANES = 64;
	/** Packed operands stay below this many 32-bit words (a local array of the output). */
	private static final long MAX_PACKED_WORDS = 64 * 1024;

	private final Lanes preferred;
	private final KernelPrinter printer = Dialect.VNNI.printer();

	public VnniDotTensorize(Lanes preferred) {
		this.preferred = preferred;
	}

	/** Both preferences, lanes over outputs first (no reordered sums, contiguous stores). */
	public static List<VnniDotTensorize> options() {
		return List.of(new VnniDotTensorize(Lanes.OUTPUTS), new VnniDotTensorize(Lanes.REDUCTION));
	}

	@Override
	public String name() {
		return "tensorize";
	}

	@Override
	public String summary() {
		return "compute dot-product nests (matrix and matrix-vector products) with AVX-512 FMA or VNNI dpbusd/dpwssd";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.VNNI || to != Dialect.VNNI) {
			return Optional.of("tensorizes sequential C++ (VNNI to VNNI) only");
		}
		if (plans(unit).isEmpty()) {
			return Optional.of(DotProductNest.all(unit).isEmpty()
					? "no dot-product nest (acc = 0; for k: acc += x[..] * y[..]; out[..] = acc) to tensorize"
					: "no dot-product nest with float or 8/16-bit integer factors laid out for vector lanes");
		}
		return Optional.empty();
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		List<Plan> plans = plans(unit);
		Set<String> intrinsics = new LinkedHashSet<>();
		for (Plan plan : plans) {
			if (plan.prelude() != null) {
				Statement at = plan.before();
				var block = Snippets.ensureInBlock(at);
				block.getStatements().addAll(block.getStatements().indexOf(at), Snippets.statements(plan.prelude(), Dialect.VNNI));
			}
			EcoreUtil.replace(plan.replaced(), Snippets.statements(plan.text(), Dialect.VNNI).get(0));
			intrinsics.addAll(plan.intrinsics());
		}
		Snippets.include(unit, "immintrin.h");
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("lanes", preferred.name().toLowerCase());
		knobs.put("nests", Integer.toString(plans.size()));
		knobs.put("intrinsics", String.join(", ", intrinsics));
		return knobs;
	}

	/**
	 * A loop to replace and its replacement; an optional prelude (packing) inserted before the statement
	 * {@code before}; the intrinsics the text uses.
	 */
	private record Plan(ForStatement replaced, String text, Statement before, String prelude, List<String> intrinsics) {
	}

	private List<Plan> plans(TranslationUnit unit) {
		List<Plan> plans = new ArrayList<>();
		Set<String> taken = Snippets.takenNames(unit);
		for (DotProductNest nest : DotProductNest.all(unit)) {
			if (plans.stream().anyMatch(p -> EcoreUtil.isAncestor(p.replaced(), nest.outputs().loop()))) {
				continue;
			}
			Plan outputs = overOutputs(nest, taken);
			Plan reduction = overReduction(nest, taken);
			Plan plan = preferred == Lanes.OUTPUTS ? (outputs != null ? outputs : reduction)
					: (reduction != null ? reduction : outputs);
			if (plan != null) {
				plan.intrinsics().forEach(name -> {
					if (!Dialect.VNNI.catalog().knows(name)) {
						throw new IllegalStateException(name + " is not in the VNNI catalog");
					}
				});
				plans.add(plan);
			}
		}
		return plans;
	}

	// ------------------------------------------------------------------ lanes over outputs

	private Plan overOutputs(DotProductNest nest, Set<String> taken) {
		String j = nest.outputs().variable();
		String k = nest.reduction().variable();
		Factor broadcast = null;
		Factor vector = null;
		for (Factor[] pair : new Factor[][] { { nest.left(), nest.right() }, { nest.right(), nest.left() } }) {
			if (!Snippets.mentions(pair[0].subscript(), j) && unit(nest, pair[1].subscript(), j)) {
				broadcast = pair[0];
				vector = pair[1];
				break;
			}
		}
		Optional<Index> store = nest.plainStore();
		if (broadcast == null || store.isEmpty() || !nest.startsAtZero() || !unit(nest, store.get().getIndex(), j)
				|| Snippets.mentions(nest.reduction().lower(), j) || Snippets.mentions(nest.reduction().upper(), j)) {
			return null;
		}
		if (isFloat(nest) && "float".equals(nest.storeType())) {
			String acc = fresh(taken, nest.accumulator() + "_v");
			String body = "__m512 " + acc + " = _mm512_setzero_ps();\n" + Snippets.header(nest.reduction().loop(), printer)
					+ " {\n" + acc + " = _mm512_fmadd_ps(_mm512_set1_ps(" + load(broadcast) + "), _mm512_loadu_ps("
					+ address(vector) + "), " + acc + ");\n}\n_mm512_storeu_ps(" + address(store.get()) + ", " + acc
					+ ");\n";
			return new Plan(nest.outputs().loop(), stripMined(nest, FLOAT_LANES, body), null, null,
					List.of("_mm512_setzero_ps", "_mm512_fmadd_ps", "_mm512_set1_ps", "_mm512_loadu_ps", "_mm512_storeu_ps"));
		}
		Integer group = integerGroup(nest);
		OptionalLong trips = nest.reductionTrips();
		OptionalLong outputs = nest.outputTrips();
		OptionalLong kLow = nest.folder().fold(nest.reduction().lower());
		OptionalLong jLow = nest.folder().fold(nest.outputs().lower());
		if (group == null || !"int32".equals(nest.storeType()) || trips.isEmpty() || trips.getAsLong() % group != 0
				|| outputs.isEmpty() || kLow.isEmpty() || jLow.isEmpty()
				|| trips.getAsLong() / group * outputs.getAsLong() > MAX_PACKED_WORDS || isWritten(vector, nest)) {
			return null;
		}
		// the contiguous factor packed once: word (k - k0) / g of column j holds its g consecutive steps
		String packed = fresh(taken, vector.array() + "_packed");
		long columns = outputs.getAsLong();
		String slot = offset(k, kLow.getAsLong()) + " / " + group + " * " + columns + " + " + offset(j, jLow.getAsLong());
		String steps = "for (int " + k + " = " + kLow.getAsLong() + "; " + k + " < " + (kLow.getAsLong() + trips.getAsLong())
				+ "; " + k + " += " + group + ")";
		String prelude = "int32_t " + packed + "[" + (trips.getAsLong() / group * columns) + "];\n" + steps + " {\nfor (int "
				+ j + " = " + jLow.getAsLong() + "; " + j + " < " + (jLow.getAsLong() + columns) + "; ++" + j + ") {\n"
				+ packed + "[" + slot + "] = " + word(vector, k, group) + ";\n}\n}\n";
		String broadcastWord = "_mm512_set1_epi32(" + word(broadcast, k, group) + ")";
		String vectorWords = "_mm512_loadu_si512((const void *)(" + packed + " + " + slot + "))";
		// dpbusd multiplies unsigned bytes of its first operand by signed bytes of its second
		boolean broadcastFirst = group == 2 || broadcast.elementType().equals("uint8");
		String intrinsic = group == 4 ? "_mm512_dpbusd_epi32" : "_mm512_dpwssd_epi32";
		String acc = fresh(taken, nest.accumulator() + "_v");
		String body = "__m512i " + acc + " = _mm512_setzero_si512();\n" + steps + " {\n" + acc + " = " + intrinsic + "("
				+ acc + ", " + (broadcastFirst ? broadcastWord + ", " + vectorWords : vectorWords + ", " + broadcastWord)
				+ ");\n}\n_mm512_storeu_si512((void *)(" + address(store.get()) + "), " + acc + ");\n";
		return new Plan(nest.outputs().loop(), stripMined(nest, FLOAT_LANES, body), hoistPoint(nest, vector), prelude,
				List.of("_mm512_setzero_si512", intrinsic, "_mm512_set1_epi32", "_mm512_loadu_si512", "_mm512_storeu_si512"));
	}

	/**
	 * The loop over outputs cut into whole vectors of {@code lanes} outputs ({@code vectorBody}, which reads the
	 * output variable as the first lane) and the scalar nest for the rest.
	 */
	private String stripMined(DotProductNest nest, int lanes, String vectorBody) {
		String j = nest.outputs().variable();
		String upper = printer.expression(nest.outputs().upper());
		StringBuilder text = new StringBuilder("{\nint ").append(j).append(" = ")
				.append(printer.expression(nest.outputs().lower())).append(";\nfor (; ").append(j).append(" + ")
				.append(lanes).append(" <= ").append(upper).append("; ").append(j).append(" += ").append(lanes)
				.append(") {\n").append(vectorBody).append("}\nfor (; ").append(j).append(" < ").append(upper)
				.append("; ++").append(j).append(") {\n");
		nest.outputs().body().forEach(s -> text.append(printer.statement(s, 1)));
		return text.append("}\n}\n").toString();
	}

	/**
	 * The 32-bit word of {@code group} consecutive reduction steps of a factor, lowest step in the lowest bits:
	 * bytes for dpbusd, 16-bit halves for dpwssd.
	 */
	private String word(Factor factor, String k, int group) {
		List<String> parts = new ArrayList<>();
		for (int t = 0; t < group; t++) {
			Expression subscript = t == 0 ? factor.subscript() : substituted(factor.subscript(), k, k + " + " + t);
			String element = factor.array() + "[" + printer.expression(subscript) + "]";
			String bits = group == 4 ? "(uint32_t)(uint8_t)" + element : "(uint32_t)(uint16_t)(int16_t)" + element;
			int shift = t * 32 / group;
			parts.add(shift == 0 ? bits : "(" + bits + " << " + shift + ")");
		}
		return "(int32_t)(" + String.join(" | ", parts) + ")";
	}

	/** {@code v - low}, or {@code v} when {@code low} is 0. */
	private static String offset(String v, long low) {
		return low == 0 ? v : "(" + v + " - " + low + ")";
	}

	/**
	 * Where the packing goes: before the outermost enclosing loop that neither declares nor changes a name the
	 * packed factor or the nest's bounds read (besides the nest's own two loop variables), so it runs once for
	 * all its iterations.
	 */
	private static Statement hoistPoint(DotProductNest nest, Factor packed) {
		Set<String> read = new HashSet<>();
		for (Expression e : List.of(packed.subscript(), nest.reduction().lower(), nest.reduction().upper(),
				nest.outputs().lower(), nest.outputs().upper())) {
			EcoreUtil2.eAllOfType(e, Name.class).forEach(n -> read.add(n.getName()));
			if (e instanceof Name n) {
				read.add(n.getName());
			}
		}
		read.remove(nest.outputs().variable());
		read.remove(nest.reduction().variable());
		Statement at = nest.outputs().loop();
		for (ForStatement up = EcoreUtil2.getContainerOfType(at.eContainer(), ForStatement.class); up != null;
				up = EcoreUtil2.getContainerOfType(up.eContainer(), ForStatement.class)) {
			ForStatement loop = up;
			if (CanonicalLoop.of(loop).isEmpty() || CanonicalLoop.assignsAny(loop, read)
					|| read.stream().anyMatch(name -> CanonicalLoop.declares(loop, name))) {
				break;
			}
			at = loop;
		}
		return at;
	}

	/** Whether the function writes the factor's array anywhere (packing it once would then read stale values). */
	private static boolean isWritten(Factor factor, DotProductNest nest) {
		FunctionDefinition f = EcoreUtil2.getContainerOfType(nest.outputs().loop(), FunctionDefinition.class);
		for (EObject o : EcoreUtil2.eAllOfType(f, EObject.class)) {
			Expression target = o instanceof Assignment a ? a.getLeft()
					: o instanceof Postfix p ? p.getOperand() : o instanceof Unary u ? u.getOperand() : null;
			Expression base = target;
			while (base instanceof Index ix) {
				base = ix.getTarget();
			}
			if (target != base && base instanceof Name n && n.getName().equals(factor.array())) {
				return true;
			}
		}
		return false;
	}

	// ------------------------------------------------------------------ lanes over the reduction

	private Plan overReduction(DotProductNest nest, Set<String> taken) {
		String k = nest.reduction().variable();
		if (!unit(nest, nest.left().subscript(), k) || !unit(nest, nest.right().subscript(), k)) {
			return null;
		}
		String acc = nest.accumulator();
		String lanesVar = fresh(taken, acc + "_v");
		String step;
		String setup;
		String total;
		int lanes;
		List<String> intrinsics;
		if (isFloat(nest)) {
			lanes = FLOAT_LANES;
			setup = "__m512 " + lanesVar + " = _mm512_setzero_ps();\n";
			step = lanesVar + " = _mm512_fmadd_ps(_mm512_loadu_ps(" + address(nest.left()) + "), _mm512_loadu_ps("
					+ address(nest.right()) + "), " + lanesVar + ");\n";
			total = "_mm512_reduce_add_ps(" + lanesVar + ")";
			intrinsics = List.of("_mm512_setzero_ps", "_mm512_fmadd_ps", "_mm512_loadu_ps", "_mm512_reduce_add_ps");
		} else if (Integer.valueOf(4).equals(integerGroup(nest))) {
			Factor unsigned = nest.left().elementType().equals("uint8") ? nest.left() : nest.right();
			Factor signed = unsigned == nest.left() ? nest.right() : nest.left();
			lanes = BYTE_LANES;
			setup = "__m512i " + lanesVar + " = _mm512_setzero_si512();\n";
			step = lanesVar + " = _mm512_dpbusd_epi32(" + lanesVar + ", _mm512_loadu_si512((const void *)("
					+ address(unsigned) + ")), _mm512_loadu_si512((const void *)(" + address(signed) + ")));\n";
			total = "_mm512_reduce_add_epi32(" + lanesVar + ")";
			intrinsics = List.of("_mm512_setzero_si512", "_mm512_dpbusd_epi32", "_mm512_loadu_si512",
					"_mm512_reduce_add_epi32");
		} else {
			return null;
		}
		String upper = printer.expression(nest.reduction().upper());
		StringBuilder text = new StringBuilder("{\n").append(setup).append("int ").append(k).append(" = ")
				.append(printer.expression(nest.reduction().lower())).append(";\nfor (; ").append(k).append(" + ")
				.append(lanes).append(" <= ").append(upper).append("; ").append(k).append(" += ").append(lanes)
				.append(") {\n").append(step).append("}\n").append(acc).append(" += ").append(total).append(";\nfor (; ")
				.append(k).append(" < ").append(upper).append("; ++").append(k).append(") {\n");
		nest.reduction().body().forEach(s -> text.append(printer.statement(s, 1)));
		text.append("}\n}\n");
		return new Plan(nest.reduction().loop(), text.toString(), null, null, intrinsics);
	}

	// ------------------------------------------------------------------ shared

	private static boolean isFloat(DotProductNest nest) {
		return nest.accumulatorType().equals("float") && nest.left().elementType().equals("float")
				&& nest.right().elementType().equals("float");
	}

	/**
	 * Reduction steps per 32-bit lane for integer factors accumulated in 32 bits: 4 for unsigned by signed
	 * bytes (dpbusd), 2 for other pairs that fit 16-bit signed halves (dpwssd); null otherwise.
	 */
	private static Integer integerGroup(DotProductNest nest) {
		if (!nest.accumulatorType().equals("int32")) {
			return null;
		}
		Set<String> types = new HashSet<>(List.of(nest.left().elementType(), nest.right().elementType()));
		if (types.equals(Set.of("uint8", "int8"))) {
			return 4;
		}
		Set<String> halves = Set.of("int8", "uint8", "int16");
		return halves.containsAll(types) ? 2 : null;
	}

	/** Whether {@code subscript} advances by one element per step of {@code variable}. */
	private static boolean unit(DotProductNest nest, Expression subscript, String variable) {
		return nest.coefficient(subscript, variable).orElse(0) == 1;
	}

	/** {@code X[e]} as written. */
	private String load(Factor factor) {
		return printer.expression(factor.load());
	}

	/** {@code X + (e)}: the address of the element. */
	private String address(Factor factor) {
		return address(factor.load());
	}

	private String address(Index element) {
		return printer.expression(element.getTarget()) + " + (" + printer.expression(element.getIndex()) + ")";
	}

	/** A copy of {@code e} with every use of {@code variable} replaced by {@code (replacement)}. */
	private static Expression substituted(Expression e, String variable, String replacement) {
		Expression copy = EcoreUtil.copy(e);
		if (copy instanceof Name n && n.getName().equals(variable)) {
			return Snippets.expression("(" + replacement + ")", Dialect.VNNI);
		}
		for (Name n : EcoreUtil2.eAllOfType(copy, Name.class)) {
			if (n.getName().equals(variable)) {
				EcoreUtil.replace(n, Snippets.expression("(" + replacement + ")", Dialect.VNNI));
			}
		}
		return copy;
	}

	private static String fresh(Set<String> taken, String base) {
		return Snippets.freshName(taken, base, Dialect.VNNI);
	}
}
