package org.xpiler.lang.validation;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.nodemodel.INode;
import org.eclipse.xtext.nodemodel.util.NodeModelUtils;
import org.xpiler.lang.catalog.CatalogEntries.CatalogConstant;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.catalog.CatalogFunction.Signature;
import org.xpiler.lang.catalog.IntrinsicCatalog;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CxxCast;
import org.xpiler.lang.kernel.DeclSpecifier;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.LinkageBlock;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.Unary;

/**
 * Pointers passed to an intrinsic must point into the memory space its catalog entry names: NRAM operands
 * of the {@code __bang_*} vector intrinsics, WRAM weights of matmul and conv, and for {@code __memcpy} the
 * spaces its direction constant names. A pointer's space is known when it is an on-chip array, a kernel
 * parameter (device memory), or a local pointer initialised from one of those; otherwise it is not checked.
 */
final class SpaceCheck {
	private static final Map<String, String> SPACE_OF_QUALIFIER = Map.of("__nram__", "nram", "__wram__", "wram",
			"__mlu_shared__", "sram", "__ldram__", "ldram", "__shared__", "shared");
	private static final Set<String> ENTRY_QUALIFIERS = Set.of("__global__", "__mlu_global__", "__mlu_entry__");
	private static final Set<String> CHECKED_SPACES = Set.of("nram", "wram", "sram", "gdram", "ldram", "shared",
			"global");
	private static final Map<String, String> DISPLAY = Map.of("nram", "NRAM", "wram", "WRAM", "sram", "SRAM",
			"gdram", "GDRAM", "ldram", "LDRAM", "shared", "shared memory", "global", "global memory");

	private final Dialect dialect;
	private final IntrinsicCatalog catalog;
	private final Reporter reporter;
	private final Map<String, String> fileScope = new HashMap<>();

	SpaceCheck(Dialect dialect, Reporter reporter) {
		this.dialect = dialect;
		this.catalog = dialect.catalog();
		this.reporter = reporter;
	}

	void check(TranslationUnit unit) {
		List<TopLevel> items = flatten(unit.getItems());
		for (TopLevel item : items) {
			if (item instanceof Declaration declaration) {
				declare(declaration, fileScope);
			}
		}
		for (TopLevel item : items) {
			if (item instanceof FunctionDefinition function && function.getBody() != null) {
				checkFunction(function);
			}
		}
	}

	private static List<TopLevel> flatten(List<TopLevel> items) {
		return items.stream().flatMap(i -> i instanceof LinkageBlock b ? flatten(b.getItems()).stream()
				: Stream.of(i)).toList();
	}

	private void checkFunction(FunctionDefinition function) {
		Map<String, String> spaces = new HashMap<>(fileScope);
		boolean entry = function.getSpecifiers().stream()
				.anyMatch(s -> s instanceof Specifier q && ENTRY_QUALIFIERS.contains(q.getName()));
		for (Parameter parameter : function.getParams()) {
			String name = parameter.getDeclarator().getName();
			if (name == null) {
				continue;
			}
			boolean pointer = !parameter.getDeclarator().getPointers().isEmpty();
			if (entry && pointer) {
				spaces.put(name, dialect == Dialect.BANG ? "gdram" : "global");
			} else {
				spaces.remove(name);
			}
		}
		// declarations and calls in source order, so a local shadows from its declaration on
		for (EObject object : (Iterable<EObject>) function.getBody()::eAllContents) {
			if (object instanceof Declaration declaration) {
				declare(declaration, spaces);
			} else if (object instanceof Call call) {
				checkCall(call, spaces);
			}
		}
	}

	private void declare(Declaration declaration, Map<String, String> spaces) {
		String qualified = null;
		for (DeclSpecifier specifier : declaration.getSpecifiers()) {
			if (specifier instanceof Specifier s && SPACE_OF_QUALIFIER.containsKey(s.getName())) {
				qualified = SPACE_OF_QUALIFIER.get(s.getName());
			}
		}
		for (Declarator declarator : declaration.getDeclarators()) {
			String space = qualified;
			if (space == null && !declarator.getPointers().isEmpty()
					&& declarator.getInitializer() instanceof Expression initializer) {
				space = spaceOf(initializer, spaces).orElse(null);
			}
			if (space != null) {
				spaces.put(declarator.getName(), space);
			} else {
				spaces.remove(declarator.getName());
			}
		}
	}

	private Optional<String> spaceOf(Expression expression, Map<String, String> spaces) {
		return switch (expression) {
		case Name name -> Optional.ofNullable(spaces.get(name.getName()));
		case Parenthesized p -> spaceOf(p.getExpression(), spaces);
		case Cast cast -> spaceOf(cast.getOperand(), spaces);
		case CxxCast cast -> spaceOf(cast.getOperand(), spaces);
		case Binary binary when binary.getOp().equals("+") || binary.getOp().equals("-") -> spaceOf(binary.getLeft(),
				spaces).or(() -> binary.getOp().equals("+") ? spaceOf(binary.getRight(), spaces) : Optional.empty());
		case Unary unary when unary.getOp().equals("&") && unary.getOperand() instanceof Index index -> spaceOf(
				index.getTarget(), spaces);
		default -> Optional.empty();
		};
	}

	private void checkCall(Call call, Map<String, String> spaces) {
		String callee = Expressions.calleeName(call);
		Optional<CatalogFunction> function = callee == null ? Optional.empty() : catalog.function(callee);
		if (function.isEmpty()) {
			return;
		}
		List<Expression> args = call.getArgs();
		Signature signature = function.get().signatures().stream().filter(s -> s.params().size() == args.size())
				.findFirst().orElse(null);
		if (signature == null) {
			return;
		}
		for (int i = 0; i < args.size(); i++) {
			CatalogFunction.Parameter parameter = signature.params().get(i);
			String expected = expectedSpace(parameter, signature, args);
			if (expected == null || !CHECKED_SPACES.contains(expected)) {
				continue;
			}
			Optional<String> actual = spaceOf(args.get(i), spaces);
			if (actual.isPresent() && !actual.get().equals(expected)) {
				String direction = parameter.space().startsWith("dir.")
						? " for " + text(args.get(signature.params().indexOf(directionParameter(signature))))
						: "";
				reporter.error("'" + callee + "' needs " + parameter.name() + " in " + DISPLAY.get(expected)
						+ direction + ", but '" + text(args.get(i)) + "' is in " + DISPLAY.get(actual.get()),
						args.get(i), "memory-space");
			}
		}
	}

	/** The space a parameter must point into; for copies, the direction constant's from/to. */
	private String expectedSpace(CatalogFunction.Parameter parameter, Signature signature, List<Expression> args) {
		String space = parameter.space();
		if (space == null || !space.startsWith("dir.")) {
			return space;
		}
		CatalogFunction.Parameter dir = directionParameter(signature);
		if (dir == null || !(args.get(signature.params().indexOf(dir)) instanceof Name name)) {
			return null;
		}
		Optional<CatalogConstant> constant = catalog.constant(name.getName());
		return constant.map(c -> space.equals("dir.to") ? c.to() : c.from()).orElse(null);
	}

	private static CatalogFunction.Parameter directionParameter(Signature signature) {
		return signature.params().stream().filter(p -> p.name().equals("dir")).findFirst().orElse(null);
	}

	private static String text(EObject object) {
		INode node = NodeModelUtils.findActualNodeFor(object);
		return node == null ? "?" : NodeModelUtils.getTokenText(node);
	}
}
