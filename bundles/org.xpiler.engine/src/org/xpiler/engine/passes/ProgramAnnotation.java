package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.engine.passes.NestClassifier.Computation;
import org.xpiler.engine.passes.NestClassifier.Kind;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.DoStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.WhileStatement;

/**
 * Program annotation: marks each top-level loop nest of each function with what it computes, as a
 * platform-neutral operation ({@link NestClassifier}: matmul, matvec, conv, pool, reduce, elementwise, copy,
 * fill, other), and with the intrinsics of the target dialect that could carry it, as its catalog names them.
 * The code does not change: the annotation is a comment line just before the nest (the printer keeps comments
 * that precede a statement), and the same text is returned in the record, so that the pass explorer and
 * later passes (tensorize) can read it. A nest is named after its most telling computation (in the order of
 * {@link Kind}); the kinds of the others follow after {@code also}.
 *
 * <pre>
 * before: for (int i = 0; i &lt; 32; ++i)
 *             for (int j = 0; j &lt; 64; ++j) {
 *                 float acc = 0.0f;
 *                 for (int k = 0; k &lt; 256; ++k) { acc += A[i * 256 + k] * B[k * 64 + j]; }
 *                 C[i * 64 + j] = acc; }
 * after:  // xpiler: matmul acc += A[i * 256 + k] * B[k * 64 + j] over i&lt;32, j&lt;64, k&lt;256 reducing k,
 *         float; BANG candidates: __bang_matmul; also copy        (one line)
 *         for (int i = 0; i &lt; 32; ++i) ... (unchanged)
 * </pre>
 *
 * The comment's format: {@code // xpiler: <operation> <statement> over <loops> [reducing <loops>], <types>;
 * <TARGET> candidates: <intrinsics or none>[; also <operations>]}, or {@code // xpiler: other; <TARGET>
 * candidates: none} for a nest that computes no data (index bookkeeping only, or intrinsics already). Re-running
 * the pass replaces its own comment. Knob: {@code target}, the dialect whose candidates the comments name
 * (default: the dialect written). The record maps {@code line N} (the nest's line) to its annotation,
 * {@code line N candidates} to the candidates on all four dialects, and {@code nests} to their number.
 * Precondition: at least one loop nest.
 */
public final class ProgramAnnotation implements Pass {
	/** How every annotation starts; a comment that starts so is this pass's own and is replaced. */
	public static final String MARK = "// xpiler: ";

	private final Dialect target;

	/** Candidates for the dialect each step writes (the pass's {@code to}). */
	public ProgramAnnotation() {
		this(null);
	}

	/**
	 * @param target the dialect whose intrinsics the comments name, when it is not the one this step writes:
	 *               a translation annotates its sequential C++ with the candidates of its final target
	 */
	public ProgramAnnotation(Dialect target) {
		this.target = target;
	}

	@Override
	public String name() {
		return "annotate";
	}

	@Override
	public String summary() {
		return "mark each loop nest with its platform-neutral operation and the target's candidate intrinsics";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		boolean any = Snippets.definedFunctions(unit).stream().anyMatch(f -> !nests(f).isEmpty());
		return any ? Optional.empty() : Optional.of("no loop nest to annotate");
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		Map<String, String> record = new LinkedHashMap<>();
		Map<Statement, String> annotations = new LinkedHashMap<>();
		for (FunctionDefinition function : Snippets.definedFunctions(unit)) {
			NestClassifier classifier = new NestClassifier(function, unit, from.printer());
			for (Statement nest : nests(function)) {
				List<Computation> computations = classifier.computations(nest);
				String location = Snippets.location(nest);
				// the comment stays in the target's code: its half is the target's half
				Dialect candidates = target == null ? to : target;
				annotations.put(nest, annotation(computations, candidates).replace(HalfPrecision.SEQUENTIAL_TYPE,
						HalfPrecision.typeName(candidates)));
				record.put(location, annotations.get(nest));
				record.put(location + " candidates",
						principal(computations).map(ProgramAnnotation::everywhere).orElse(""));
			}
		}
		if (annotations.isEmpty()) {
			throw new PassRefusal("no loop nest to annotate");
		}
		// every nest is read before any is replaced: the classifier works on the model as it was parsed
		annotations.forEach((nest, text) -> EcoreUtil.replace(nest, annotated(nest, text, from)));
		record.put("nests", Integer.toString(annotations.size()));
		return record;
	}

	/** The annotation of a nest whose computations are {@code computations}, for {@code to}. */
	public static String annotation(List<Computation> computations, Dialect to) {
		Optional<Computation> principal = principal(computations);
		if (principal.isEmpty()) {
			return "other; " + label(to) + " candidates: none";
		}
		List<String> candidates = candidates(principal.get(), to);
		List<String> also = computations.stream().map(Computation::operation).distinct()
				.filter(o -> !o.equals(principal.get().operation())).toList();
		return principal.get().describe() + "; " + label(to) + " candidates: "
				+ (candidates.isEmpty() ? "none" : String.join(", ", candidates))
				+ (also.isEmpty() ? "" : "; also " + String.join(", ", also));
	}

	/** The first computation of the most telling kind. */
	private static Optional<Computation> principal(List<Computation> computations) {
		return computations.stream().reduce((a, b) -> b.kind().compareTo(a.kind()) < 0 ? b : a);
	}

	private static String everywhere(Computation c) {
		return Arrays.stream(Dialect.values()).map(d -> d.id() + ": " + String.join(", ", candidates(c, d)))
				.collect(Collectors.joining("; "));
	}

	private static String label(Dialect d) {
		return d.id().toUpperCase(Locale.ROOT);
	}

	// ------------------------------------------------------------------ candidates

	/**
	 * The intrinsics of {@code dialect} that could carry {@code c}, best first: proposed from the operation and
	 * the element type, kept when the dialect's catalog has them, not deprecated, and (for a function generic
	 * in its element type T) accepting one of the computation's types.
	 */
	public static List<String> candidates(Computation c, Dialect dialect) {
		Set<String> spellings = spellings(c);
		return proposals(c, family(c), dialect).stream().distinct()
				.filter(name -> dialect.catalog().function(name)
						.filter(f -> f.deprecated() == null && accepts(f, spellings)).isPresent())
				.toList();
	}

	private static boolean accepts(CatalogFunction f, Set<String> spellings) {
		List<String> elements = f.typeParams().get("T");
		return elements == null || elements.stream().anyMatch(spellings::contains);
	}

	/** The element type that picks a contraction's instruction (its operands'), else the result's. */
	private static String family(Computation c) {
		List<String> operands = c.operandTypes();
		if (!isContraction(c) || operands.isEmpty()) {
			return c.resultType();
		}
		if (operands.stream().allMatch(t -> t.equals("int8") || t.equals("uint8"))) {
			return "int8";
		}
		return operands.stream().allMatch(operands.get(0)::equals) ? operands.get(0) : c.resultType();
	}

	private static boolean isContraction(Computation c) {
		return c.kind() == Kind.MATMUL || c.kind() == Kind.MATVEC || c.kind() == Kind.CONV
				|| c.kind() == Kind.REDUCE && "dot".equals(c.variant());
	}

	/** How the catalogs spell the computation's element types ({@code int32}: int32_t, int). */
	private static Set<String> spellings(Computation c) {
		Set<String> types = new HashSet<>(c.operandTypes());
		types.add(c.resultType());
		Set<String> spelled = new HashSet<>();
		for (String t : types) {
			spelled.addAll(switch (t) {
			case "half" -> List.of("half", "__half");
			case "int8" -> List.of("int8_t", "signed char", "char");
			case "uint8" -> List.of("uint8_t", "unsigned char");
			case "int16" -> List.of("int16_t", "short");
			case "uint16" -> List.of("uint16_t", "unsigned short");
			case "int32" -> List.of("int32_t", "int");
			case "uint32" -> List.of("uint32_t", "unsigned int");
			case "int64" -> List.of("int64_t", "long long", "long");
			default -> List.of(t);
			});
		}
		return spelled;
	}

	private static List<String> proposals(Computation c, String family, Dialect d) {
		String v = c.variant() == null ? "" : c.variant();
		return switch (c.kind()) {
		case MATMUL, MATVEC, CONV -> contraction(c.kind(), family, d);
		case REDUCE -> v.equals("dot") ? contraction(Kind.MATVEC, family, d) : reduction(v, family, d);
		case POOL -> switch (d) {
		case BANG -> v.equals("avg") ? List.of("__bang_avgpool", "__bang_sumpool") : List.of("__bang_" + v + "pool");
		case VNNI -> vector(v.equals("max") || v.equals("min") ? v : "add", family);
		default -> List.of();
		};
		case ELEMENTWISE -> Arrays.stream(v.split(", ")).flatMap(f -> elementwise(f, family, d).stream()).toList();
		case COPY -> switch (d) {
		case BANG -> List.of("__memcpy");
		case VNNI -> family.equals("float") ? List.of("_mm512_loadu_ps", "_mm512_storeu_ps")
				: List.of("_mm512_loadu_si512", "_mm512_storeu_si512");
		default -> List.of();
		};
		case FILL -> switch (d) {
		case BANG -> List.of("__bang_write_value");
		case VNNI -> family.equals("float") ? List.of("_mm512_set1_ps", "_mm512_storeu_ps")
				: List.of("_mm512_set1_epi" + bits(family), "_mm512_storeu_si512");
		default -> List.of();
		};
		case OTHER -> List.of();
		};
	}

	private static List<String> contraction(Kind kind, String family, Dialect d) {
		return switch (d) {
		case BANG -> kind == Kind.CONV ? List.of("__bang_conv")
				: kind == Kind.MATVEC ? List.of("__bang_mlp", "__bang_matmul") : List.of("__bang_matmul");
		case CUDA -> switch (family) {
		case "half" -> List.of("wmma::mma_sync", "__hfma");
		case "int8" -> List.of("__dp4a");
		case "float" -> List.of("fmaf");
		default -> List.of();
		};
		case HIP -> switch (family) {
		case "float" -> List.of("__builtin_amdgcn_mfma_f32_16x16x4f32", "fmaf");
		case "half" -> List.of("__hfma");
		default -> List.of();
		};
		case VNNI -> switch (family) {
		case "int8" -> List.of("_mm512_dpbusd_epi32");
		case "int16" -> List.of("_mm512_dpwssd_epi32");
		case "float" -> List.of("_mm512_fmadd_ps");
		default -> List.of();
		};
		};
	}

	private static List<String> reduction(String combine, String family, Dialect d) {
		return switch (d) {
		case BANG -> switch (combine) {
		case "sum" -> List.of("__bang_sum", "__bang_reduce_sum");
		case "max" -> List.of("__bang_argmax", "__bang_max");
		case "min" -> List.of("__bang_argmin", "__bang_min");
		case "sumsq" -> List.of("__bang_square", "__bang_sum");
		default -> List.of();
		};
		case CUDA -> List.of("__shfl_down_sync");
		case HIP -> List.of("__shfl_down");
		case VNNI -> switch (combine) {
		case "sum", "max", "min" -> concat(vector(combine.equals("sum") ? "add" : combine, family),
				vector("reduce_" + (combine.equals("sum") ? "add" : combine), family));
		case "sumsq" -> concat(vector("fmadd", family), vector("reduce_add", family));
		default -> List.of();
		};
		};
	}

	private static List<String> elementwise(String function, String family, Dialect d) {
		return switch (d) {
		case BANG -> switch (function) {
		case "add", "sub", "mul", "div" -> List.of("__bang_" + function);
		case "max", "min" -> List.of("__bang_" + function + "imum");
		default -> List.of("__bang_active_" + function, "__bang_" + function); // relu, exp, sigmoid, gelu, sign...
		};
		case CUDA, HIP -> switch (family) {
		case "half" -> function.equals("add") ? List.of("__hadd")
				: function.equals("mul") ? List.of("__hmul") : List.of();
		case "float" -> List.of("__" + function + "f"); // the fast single-precision forms: __expf, __logf
		default -> List.of();
		};
		case VNNI -> vector(function.equals("relu") ? "max" : function, family);
		};
	}

	/** The AVX-512 instruction for {@code op} on 16 lanes of {@code family}: _mm512_add_ps, _mm512_add_epi32. */
	private static List<String> vector(String op, String family) {
		return switch (family) {
		case "float" -> List.of("_mm512_" + op + "_ps");
		case "int32" -> List.of("_mm512_" + op + "_epi32");
		default -> List.of();
		};
	}

	private static String bits(String family) {
		return family.replaceAll("\\D", "");
	}

	private static List<String> concat(List<String> a, List<String> b) {
		List<String> all = new ArrayList<>(a);
		all.addAll(b);
		return all;
	}

	// ------------------------------------------------------------------ nests and comments

	/** The loops of {@code function} that no other loop of it encloses. */
	private static List<Statement> nests(FunctionDefinition function) {
		List<Statement> found = new ArrayList<>();
		function.getBody().eAllContents().forEachRemaining(o -> {
			if (isLoop(o) && !insideLoop(o)) {
				found.add((Statement) o);
			}
		});
		return found;
	}

	private static boolean isLoop(EObject o) {
		return o instanceof ForStatement || o instanceof WhileStatement || o instanceof DoStatement;
	}

	private static boolean insideLoop(EObject o) {
		for (EObject c = o.eContainer(); c != null && !(c instanceof FunctionDefinition); c = c.eContainer()) {
			if (isLoop(c)) {
				return true;
			}
		}
		return false;
	}

	/**
	 * {@code nest} read back with {@code annotation} as the last comment before it: the comments it had are
	 * kept, an earlier annotation of this pass is dropped.
	 */
	private static Statement annotated(Statement nest, String annotation, Dialect dialect) {
		List<String> lines = dialect.printer().statement(nest, 0).lines().toList();
		StringBuilder text = new StringBuilder();
		int first = 0;
		for (boolean inBlockComment = false; first < lines.size(); first++) {
			String line = lines.get(first).strip();
			boolean comment = inBlockComment || line.startsWith("/*") || line.startsWith("//");
			if (!comment) {
				break;
			}
			inBlockComment = (inBlockComment || line.startsWith("/*")) && !line.contains("*/");
			if (!line.startsWith(MARK.strip())) {
				text.append(lines.get(first)).append('\n');
			}
		}
		text.append(MARK).append(annotation).append('\n');
		lines.subList(first, lines.size()).forEach(l -> text.append(l).append('\n'));
		List<Statement> parsed = Snippets.statements(text.toString(), dialect);
		if (parsed.size() != 1) {
			throw PassRefusal.at(nest, "the annotated loop nest does not read back as one statement");
		}
		return parsed.get(0);
	}
}
