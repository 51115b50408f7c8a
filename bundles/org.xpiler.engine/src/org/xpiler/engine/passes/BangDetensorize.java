package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.catalog.CatalogFunction.Parameter;
import org.xpiler.lang.catalog.CatalogFunction.Signature;
import org.xpiler.lang.catalog.IntrinsicCatalog;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.TemplateParameter;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.MacroDefinition;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * Detensorize ({@code detensorize}) turns every BANG C tensor intrinsic into scalar C: each call of a catalog
 * intrinsic that works on memory ({@code __memcpy}, fills, vector, activation, reduction, pool, layout, convert,
 * matmul and conv calls) becomes a call of a plain C++ helper whose body is the catalog's {@code reference} for
 * the form called. The helper is a {@code template <typename T>} over the catalog's type parameters (deduced from
 * the arguments), named after the intrinsic without its leading underscores ({@code __bang_add} /
 * {@code bang_add}), or with {@code _ref} appended where that name is taken in the file, by a catalog or by a
 * dialect's headers ({@code __memcpy} / {@code memcpy_ref}). The forms of one intrinsic used in the file are
 * overloads by arity. Compile-time constant parameters the reference never reads (the direction of a copy) are
 * dropped from helper and call. Memory-space qualifiers, {@code taskId} and barriers stay: the output is BANG C
 * with scalar loops where the intrinsics were. Element-wise calls on a count padded for the vector unit get the
 * count of elements whose results are read, where that is provably the same program ({@link DemandedLanes}), so
 * that the scalar loops read no element that was never written; the knob {@code restricted} lists them
 * ({@code line 29: tail}).
 * <p>
 * Precondition: a BANG C kernel whose tensor intrinsics all have reference semantics in the catalog. Refused:
 * forms without a reference (cross-cluster copies with {@code dst_cluster}, the atomic reductions) and
 * intrinsics whose forms of one arity only argument types tell apart ({@code __bang_fusion}). Barriers
 * ({@code __sync_*}), space tests ({@code __is_nram}) and scalar builtins ({@code expf}, {@code __float2half_rn})
 * are not tensor intrinsics and are left as they are.
 *
 * <pre>
 * before: __bang_add(a_nram, a_nram, b_nram, 256);   __memcpy(a_nram, A + pos, len * sizeof(float), GDRAM2NRAM);
 * after:  template &lt;typename T&gt; void bang_add(T *dst, const T *src0, const T *src1, int n)
 *         { for (int i = 0; i &lt; n; ++i) dst[i] = src0[i] + src1[i]; }
 *         void memcpy_ref(void *dst, const void *src, int bytes)
 *         { for (int i = 0; i &lt; bytes; ++i) ((char *)dst)[i] = ((const char *)src)[i]; }
 *         ...
 *         bang_add(a_nram, a_nram, b_nram, 256);            memcpy_ref(a_nram, A + pos, len * sizeof(float));
 * </pre>
 */
public final class BangDetensorize implements Pass {
	/**
	 * Catalog categories of intrinsics that work on tensors in memory; sync, misc, math and runtime stay, and so
	 * do atomics, which loop recovery lifts once tasks no longer run side by side (as plain code here they race).
	 */
	private static final Set<String> TENSOR_CATEGORIES = Set.of("memory", "vector", "activation", "reduction", "pool",
			"layout", "convert", "matmul", "conv");
	private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_]\\w*");

	@Override
	public String name() {
		return "detensorize";
	}

	@Override
	public String summary() {
		return "replace BANG C tensor intrinsics by scalar C++ helpers whose bodies are the catalog's references";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (from != Dialect.BANG) {
			return Optional.of("detensorizes BANG C only, not " + from.displayName());
		}
		List<String> problems = new ArrayList<>();
		for (Call call : intrinsicCalls(unit)) {
			problem(call).ifPresent(problems::add);
		}
		return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		refusal(unit, from, to).ifPresent(reason -> {
			throw new IllegalStateException("detensorize does not apply: " + reason);
		});
		List<Call> calls = intrinsicCalls(unit);
		if (calls.isEmpty()) {
			return Map.of();
		}
		List<String> restricted = new DemandedLanes(unit).restrict();
		Set<String> taken = takenNames(unit);
		Map<String, String> baseNames = new LinkedHashMap<>(); // intrinsic -> helper name
		Map<List<Object>, Helper> helpers = new LinkedHashMap<>(); // by intrinsic and form
		Set<String> overloads = new HashSet<>(); // "name/arity" of the helpers made so far
		int insertAt = unit.getItems().size();
		for (Call call : calls) {
			CatalogFunction function = function(call).orElseThrow();
			Signature form = forms(function, call.getArgs().size()).get(0);
			Helper helper = helpers.computeIfAbsent(List.of(function.name(), form), key -> {
				String base = baseNames.computeIfAbsent(function.name(), n -> fresh(n.replaceFirst("^_+", ""), taken));
				Helper made = Helper.of(function, form, base);
				// two forms of one arity cannot share a name: the virtual device picks definitions by arity
				if (!overloads.add(made.name() + "/" + made.kept().size())) {
					made = Helper.of(function, form, fresh(base, taken));
					overloads.add(made.name() + "/" + made.kept().size());
				}
				return made;
			});
			helper.rewrite(call);
			insertAt = Math.min(insertAt, unit.getItems().indexOf(topLevelItem(call, unit)));
		}
		// in the order the intrinsics are first called, the overloads of one intrinsic side by side
		List<String> expanded = List.copyOf(baseNames.keySet());
		List<Helper> ordered = helpers.values().stream()
				.sorted(Comparator.comparingInt(h -> expanded.indexOf(h.function().name()))).toList();
		Set<String> macros = macroNames(unit);
		for (Helper helper : ordered) {
			unit.getItems().add(insertAt++, helper.definition(macros));
		}
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("expanded", String.join(", ", expanded));
		knobs.put("helpers", String.join(", ", new LinkedHashSet<>(ordered.stream().map(Helper::name).toList())));
		if (!restricted.isEmpty()) {
			knobs.put("restricted", String.join(", ", restricted));
		}
		return knobs;
	}

	/** The calls of catalog intrinsics that work on memory, in file order. */
	private static List<Call> intrinsicCalls(TranslationUnit unit) {
		List<Call> calls = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call call && function(call).isPresent()) {
				calls.add(call);
			}
		});
		return calls;
	}

	static Optional<CatalogFunction> function(Call call) {
		if (!(call.getCallee() instanceof Name callee)) {
			return Optional.empty();
		}
		return Dialect.BANG.catalog().function(callee.getName()).filter(BangDetensorize::isTensorIntrinsic);
	}

	/** Scalar conversions share the convert category with the vector ones: only forms taking a pointer count. */
	private static boolean isTensorIntrinsic(CatalogFunction function) {
		return TENSOR_CATEGORIES.contains(function.category()) && function.signatures().stream()
				.flatMap(s -> s.params().stream()).anyMatch(p -> p.type().contains("*"));
	}

	/** The forms a call with {@code arguments} arguments may take; exactly one once the refusal is empty. */
	static List<Signature> forms(CatalogFunction function, int arguments) {
		return function.signatures().stream().filter(s -> s.accepts(arguments)).toList();
	}

	private static Optional<String> problem(Call call) {
		CatalogFunction function = function(call).orElseThrow();
		String name = function.name();
		int arguments = call.getArgs().size();
		List<Signature> forms = forms(function, arguments);
		String at = Snippets.location(call) + ": " + name;
		if (forms.isEmpty()) {
			return Optional.of(at + " has no form with " + arguments + " arguments");
		}
		if (forms.size() > 1) {
			return Optional.of(at + " has " + forms.size() + " forms with " + arguments + " arguments that only the "
					+ "argument types tell apart; detensorize does not expand it");
		}
		Signature form = forms.get(0);
		if (reference(function, form) == null) {
			return Optional.of(at + " has no reference semantics in the catalog for the form " + form.parameterList()
					+ " and cannot be expanded into scalar code");
		}
		for (String typeParameter : function.typeParams().keySet()) {
			boolean inParameters = form.params().stream().anyMatch(p -> mentions(p.type(), typeParameter));
			boolean used = mentions(reference(function, form), typeParameter) || mentions(form.returns(), typeParameter);
			if (used && !inParameters) {
				return Optional.of(at + ": the form " + form.parameterList() + " uses the type " + typeParameter
						+ " that no argument determines");
			}
		}
		return Optional.empty();
	}

	private static String reference(CatalogFunction function, Signature form) {
		return form.reference() != null ? form.reference() : function.reference();
	}

	private static boolean mentions(String text, String identifier) {
		return text != null && Pattern.compile("\\b" + Pattern.quote(identifier) + "\\b").matcher(text).find();
	}

	/**
	 * Names a helper must not take: every identifier of the file (functions, variables, macros), the catalogs'
	 * names and the names the dialects' headers declare, so that the later passes to CUDA, HIP or C++ keep it
	 * free too ({@code memcpy}).
	 */
	private static Set<String> takenNames(TranslationUnit unit) {
		Set<String> taken = new HashSet<>();
		Matcher m = IDENTIFIER.matcher(Dialect.BANG.printer().print(unit));
		while (m.find()) {
			taken.add(m.group());
		}
		for (Dialect dialect : Dialect.values()) {
			taken.addAll(dialect.preludeNames());
		}
		return taken;
	}

	/** The names the file defines as macros ({@code #define M 32}), which a compiler would expand in a helper too. */
	private static Set<String> macroNames(TranslationUnit unit) {
		Set<String> macros = new HashSet<>();
		EcoreUtil2.eAllOfType(unit, Directive.class).forEach(d -> MacroDefinition.of(d.getText())
				.ifPresent(definition -> macros.add(definition.name())));
		return macros;
	}

	/** {@code wanted} if it is free, else {@code wanted_ref}, {@code wanted_ref2}, ...; reserves the result. */
	private static String fresh(String wanted, Set<String> taken) {
		String name = wanted;
		for (int i = 1; isTaken(name, taken); i++) {
			name = wanted + "_ref" + (i == 1 ? "" : Integer.toString(i));
		}
		taken.add(name);
		return name;
	}

	private static boolean isTaken(String name, Set<String> taken) {
		if (taken.contains(name)) {
			return true;
		}
		for (Dialect dialect : Dialect.values()) {
			IntrinsicCatalog catalog = dialect.catalog();
			if (catalog.knows(name)) {
				return true;
			}
		}
		return false;
	}

	private static EObject topLevelItem(EObject node, TranslationUnit unit) {
		EObject item = node;
		while (item.eContainer() != unit) {
			item = item.eContainer();
		}
		return item;
	}

	/** One helper: a form of an intrinsic, the parameters it keeps (by index) and its name. */
	private record Helper(CatalogFunction function, Signature form, List<Integer> kept, String name) {

		static Helper of(CatalogFunction function, Signature form, String name) {
			String body = reference(function, form);
			List<Integer> kept = new ArrayList<>();
			for (int i = 0; i < form.params().size(); i++) {
				Parameter p = form.params().get(i);
				// a constant the body never reads (a copy direction) only told the hardware where data goes
				if (!p.constant() || mentions(body, p.name())) {
					kept.add(i);
				}
			}
			return new Helper(function, form, List.copyOf(kept), name);
		}

		/** Renames the call and drops the arguments of the parameters the helper does not keep. */
		void rewrite(Call call) {
			((Name) call.getCallee()).setName(name);
			for (int i = form.params().size() - 1; i >= 0; i--) {
				if (!kept.contains(i)) {
					call.getArgs().remove(i);
				}
			}
		}

		/**
		 * The helper as a function of the file, parsed from its C++ text; its parameters and locals that share a
		 * name with one of the file's {@code macros} are renamed ({@code M} to {@code M_}).
		 */
		FunctionDefinition definition(Set<String> macros) {
			List<String> parameters = kept.stream().map(form.params()::get).map(p -> p.type() + " " + p.name()).toList();
			List<String> typeParameters = function.typeParams().keySet().stream()
					.filter(t -> parameters.stream().anyMatch(p -> mentions(p, t))).sorted().toList();
			StringBuilder text = new StringBuilder();
			if (!typeParameters.isEmpty()) {
				text.append("template <typename ").append(String.join(", typename ", typeParameters)).append(">\n");
			}
			text.append(form.returns()).append(' ').append(name).append('(').append(String.join(", ", parameters))
					.append(") {\n").append(reference(function, form)).append("\n}\n");
			ParsedKernel parsed = new KernelParser().parse(name + ".helper", text.toString(), Dialect.BANG);
			if (parsed.hasErrors() || !(parsed.unit().getItems().get(0) instanceof FunctionDefinition definition)) {
				throw new IllegalStateException("the reference of " + function.name() + " does not make a helper: "
						+ parsed.errors() + "\n" + text);
			}
			FunctionDefinition copy = EcoreUtil.copy(definition); // without the helper text's node model
			for (Declarator variable : EcoreUtil2.eAllOfType(copy, Declarator.class)) {
				String original = variable.getName();
				if (macros.contains(original)) {
					String renamed = unmacroed(original, macros, text);
					for (Name use : EcoreUtil2.eAllOfType(copy, Name.class)) {
						if (use.getName().equals(original)) {
							use.setName(renamed);
						}
					}
					variable.setName(renamed);
				}
			}
			// the type parameter T, where the file's #define T 64 would replace it too
			for (TemplateParameter type : EcoreUtil2.eAllOfType(copy, TemplateParameter.class)) {
				String original = type.getName();
				if (macros.contains(original)) {
					String renamed = unmacroed(original, macros, text);
					for (NamedType use : EcoreUtil2.eAllOfType(copy, NamedType.class)) {
						if (use.getName().equals(original)) {
							use.setName(renamed);
						}
					}
					type.setName(renamed);
				}
			}
			return copy;
		}

		/** {@code name} with underscores appended until neither a macro nor a name of the helper's text. */
		private static String unmacroed(String name, Set<String> macros, CharSequence text) {
			String renamed = name + "_";
			while (macros.contains(renamed) || mentions(text.toString(), renamed)) {
				renamed += "_";
			}
			return renamed;
		}
	}
}
