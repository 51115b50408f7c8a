package org.xpiler.lang.validation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.EcoreUtil2;
import org.xpiler.lang.catalog.CatalogEntries.CatalogConstant;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.catalog.CatalogFunction.Rule;
import org.xpiler.lang.catalog.CatalogFunction.Signature;
import org.xpiler.lang.catalog.IntrinsicCatalog;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.validation.Symbols.Pointer;

/**
 * Calls of catalog intrinsics, checked against their catalog entry as far as the arguments are known
 * statically: pointer operands of the right element type (one T for all generic operands) and in the
 * memory space the entry names (for copies, the spaces of the direction constant), and the entry's rules —
 * alignment, length multiples, positive sizes — when the values they need are constants.
 */
final class IntrinsicCallCheck {
	private static final List<String> CHECKED_SPACES = List.of("nram", "wram", "sram", "gdram", "ldram", "shared",
			"global");
	/** Parsed rules by dialect and text; a rule our grammar cannot read maps to empty and is not checked. */
	private static final Map<String, Optional<Expression>> RULES = new ConcurrentHashMap<>();

	private final Dialect dialect;
	private final IntrinsicCatalog catalog;
	private final Reporter reporter;

	IntrinsicCallCheck(Dialect dialect, Reporter reporter) {
		this.dialect = dialect;
		this.catalog = dialect.catalog();
		this.reporter = reporter;
	}

	void check(TranslationUnit unit) {
		ConstantEvaluator constants = ConstantEvaluator.of(unit);
		List<TopLevel> items = ModelQueries.topLevels(unit.getItems());
		Symbols fileScope = Symbols.fileScope(dialect, constants,
				items.stream().filter(Declaration.class::isInstance).map(Declaration.class::cast).toList());
		for (TopLevel item : items) {
			if (item instanceof FunctionDefinition function && function.getBody() != null) {
				Symbols symbols = fileScope.enter(function);
				// declarations and calls in source order, so each name means what it means at the call
				for (EObject object : (Iterable<EObject>) function.getBody()::eAllContents) {
					if (object instanceof Declaration declaration) {
						symbols.declare(declaration);
					} else if (object instanceof Call call) {
						checkCall(call, symbols);
					}
				}
			}
		}
	}

	private void checkCall(Call call, Symbols symbols) {
		String callee = ModelQueries.calleeName(call);
		CatalogFunction function = callee == null ? null : catalog.function(callee).orElse(null);
		if (function == null) {
			return;
		}
		List<Expression> args = call.getArgs();
		Signature signature = function.signatures().stream().filter(s -> s.params().size() == args.size())
				.findFirst().orElse(null);
		if (signature == null) {
			return;
		}
		Map<String, Pointer> pointers = new HashMap<>();
		Map<String, OptionalLong> values = new LinkedHashMap<>();
		for (int i = 0; i < args.size(); i++) {
			String parameter = signature.params().get(i).name();
			symbols.pointer(args.get(i)).ifPresent(p -> pointers.put(parameter, p));
			values.put(parameter, symbols.constant(args.get(i)));
		}
		String elementType = checkElementTypes(call, function, signature, pointers);
		checkSpaces(call, signature, pointers);
		checkRules(call, function, signature, RuleEvaluator.constantsOf(values), pointers, elementType);
	}

	private static boolean isTemplateParameter(String type, Call call) {
		FunctionDefinition function = EcoreUtil2.getContainerOfType(call, FunctionDefinition.class);
		return function != null && function.getTemplate() != null
				&& function.getTemplate().getParams().stream().anyMatch(p -> p.getName().equals(type));
	}

	/** Reports operands whose element type the entry does not accept; returns the bound T, if known. */
	private String checkElementTypes(Call call, CatalogFunction function, Signature signature,
			Map<String, Pointer> pointers) {
		String bound = null;
		String boundBy = null;
		for (int i = 0; i < signature.params().size(); i++) {
			CatalogFunction.Parameter parameter = signature.params().get(i);
			Pointer pointer = pointers.get(parameter.name());
			String declared = parameter.type() == null ? "" : parameter.type().replace("const", "").strip();
			if (pointer == null || pointer.elementType() == null || !declared.endsWith("*")
					|| isTemplateParameter(pointer.elementType(), call)) {
				continue; // a template's T is checked where it is instantiated
			}
			String pointee = declared.substring(0, declared.length() - 1).strip();
			String actual = ElementTypes.canonical(pointer.elementType());
			if (pointee.equals("T")) {
				List<String> accepted = function.typeParams().getOrDefault("T", List.of());
				if (!accepted.isEmpty() && accepted.stream().map(ElementTypes::canonical).noneMatch(actual::equals)) {
					reporter.error("'" + function.name() + "' has no form for " + pointer.elementType() + " "
							+ parameter.name() + " (it takes " + String.join(", ", accepted) + ")",
							call.getArgs().get(i), "operand-type");
				} else if (bound != null && !bound.equals(actual)) {
					reporter.error("'" + function.name() + "' needs " + boundBy + " and " + parameter.name()
							+ " of one element type, but they point to " + bound + " and " + actual,
							call.getArgs().get(i), "operand-type");
				} else if (bound == null) {
					bound = actual;
					boundBy = parameter.name();
				}
			} else if (!pointee.equals("void") && ScalarSizes.bytes(pointee) != null
					&& !ElementTypes.canonical(pointee).equals(actual)) {
				reporter.error("'" + function.name() + "' needs " + parameter.name() + " to point to " + pointee
						+ ", but '" + ModelQueries.sourceText(call.getArgs().get(i)) + "' points to " + pointer.elementType(),
						call.getArgs().get(i), "operand-type");
			}
		}
		return bound;
	}

	private void checkSpaces(Call call, Signature signature, Map<String, Pointer> pointers) {
		List<Expression> args = call.getArgs();
		for (int i = 0; i < args.size(); i++) {
			CatalogFunction.Parameter parameter = signature.params().get(i);
			String expected = expectedSpace(parameter, signature, args);
			Pointer pointer = pointers.get(parameter.name());
			if (expected == null || !CHECKED_SPACES.contains(expected) || pointer == null || pointer.space() == null
					|| pointer.space().equals(expected)) {
				continue;
			}
			String direction = parameter.space().startsWith("dir.")
					? " for " + ModelQueries.sourceText(args.get(indexOfDir(signature)))
					: "";
			reporter.error("'" + ModelQueries.calleeName(call) + "' needs " + parameter.name() + " in "
					+ MemorySpaces.display(expected) + direction + ", but '" + ModelQueries.sourceText(args.get(i))
					+ "' is in " + MemorySpaces.display(pointer.space()), args.get(i), "memory-space");
		}
	}

	/** The space a parameter must point into; for copies, the direction constant's from/to. */
	private String expectedSpace(CatalogFunction.Parameter parameter, Signature signature, List<Expression> args) {
		String space = parameter.space();
		if (space == null || !space.startsWith("dir.")) {
			return space;
		}
		int dir = indexOfDir(signature);
		if (dir < 0 || !(args.get(dir) instanceof Name name)) {
			return null;
		}
		Optional<CatalogConstant> constant = catalog.constant(name.getName());
		return constant.map(c -> space.equals("dir.to") ? c.to() : c.from()).orElse(null);
	}

	private static int indexOfDir(Signature signature) {
		for (int i = 0; i < signature.params().size(); i++) {
			if (signature.params().get(i).name().equals("dir")) {
				return i;
			}
		}
		return -1;
	}

	private void checkRules(Call call, CatalogFunction function, Signature signature, Map<String, Long> constants,
			Map<String, Pointer> pointers, String elementType) {
		List<Rule> rules = new ArrayList<>(function.rules());
		rules.addAll(signature.rules());
		for (Rule rule : rules) {
			Optional<Expression> check = parsedRule(rule.check());
			if (check.isEmpty()) {
				continue;
			}
			RuleEvaluator evaluator = new RuleEvaluator(constants, pointers, elementType);
			if (evaluator.holds(check.get()).orElse(true)) {
				continue;
			}
			String values = evaluator.usedValues();
			reporter.error("'" + function.name() + "': " + rule.message() + (values.isEmpty() ? "" : " (" + values + ")"),
					call, "intrinsic-rule");
		}
	}

	private Optional<Expression> parsedRule(String check) {
		return RULES.computeIfAbsent(dialect.id() + "\u0000" + check, key -> {
			try {
				return Optional.of(new KernelParser().parseExpression(check, dialect));
			} catch (IllegalArgumentException e) {
				return Optional.empty();
			}
		});
	}
}
