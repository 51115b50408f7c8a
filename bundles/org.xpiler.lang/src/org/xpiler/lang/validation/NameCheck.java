package org.xpiler.lang.validation;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.emf.ecore.EObject;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.catalog.IntrinsicCatalog;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.DirectiveStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.ItemBlock;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.StructDefinition;
import org.xpiler.lang.kernel.TemplateCall;
import org.xpiler.lang.kernel.TemplateId;
import org.xpiler.lang.kernel.TemplateHeader;
import org.xpiler.lang.kernel.TemplateMember;
import org.xpiler.lang.kernel.TemplateParameter;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypedefDeclaration;
import org.xpiler.lang.parsing.Namespaces;
import org.xpiler.lang.parsing.StandardLibrary;
import org.xpiler.lang.parsing.StructDefinitions;

/**
 * Every identifier, type name and called function must be declared in the file, be a builtin of the
 * dialect (its intrinsic catalog) or come from the dialect's prelude headers. A name that belongs to another
 * dialect is called out as such; calls to known functions must pass an accepted number of arguments.
 * Scopes follow C: locals are visible from their declaration to the end of their block.
 */
final class NameCheck {
	private static final Pattern DEFINE = Pattern.compile("^#\\s*define\\s+([A-Za-z_]\\w*)");
	private static final Pattern INCLUDE = Pattern.compile("^#\\s*include\\s*([<\"][^>\"]+[>\"])");

	private final Dialect dialect;
	private final IntrinsicCatalog catalog;
	private final Reporter reporter;
	private final Set<String> globals = new HashSet<>();
	private final Map<String, List<FunctionDefinition>> functions = new HashMap<>();
	private final Deque<Set<String>> scopes = new ArrayDeque<>();
	/** A header the file includes that the prelude does not: names may come from it, unseen. */
	private String unreadHeader;

	NameCheck(Dialect dialect, Reporter reporter) {
		this.dialect = dialect;
		this.catalog = dialect.catalog();
		this.reporter = reporter;
	}

	void check(TranslationUnit unit) {
		collectGlobals(unit);
		checkItems(unit.getItems());
	}

	/** The file's names; functions and variables in named namespaces also by their qualified names ({@link Namespaces}). */
	private void collectGlobals(TranslationUnit unit) {
		Namespaces.forEachItem(unit.getItems(), (item, namespaces) -> {
			switch (item) {
			case Directive directive -> {
				macroName(directive).ifPresent(globals::add);
				includedHeader(directive).filter(h -> !dialect.prelude().contains(h)).ifPresent(h -> {
					if (unreadHeader == null) {
						unreadHeader = h;
					}
				});
			}
			case FunctionDefinition function -> Namespaces.qualifiedNames(function.getName(), namespaces).forEach(name -> {
				globals.add(name);
				functions.computeIfAbsent(name, n -> new ArrayList<>()).add(function);
			});
			case TypedefDeclaration typedef -> typedef.getDeclarators().forEach(d -> globals.add(d.getName()));
			case StructDefinition struct -> StructDefinitions.typeNames(struct).forEach(globals::add);
			case Declaration declaration -> declaration.getDeclarators()
					.forEach(d -> globals.addAll(Namespaces.qualifiedNames(d.getName(), namespaces)));
			default -> {
			}
			}
		});
	}

	private static Optional<String> macroName(Directive directive) {
		Matcher matcher = DEFINE.matcher(directive.getText());
		return matcher.find() ? Optional.of(matcher.group(1)) : Optional.empty();
	}

	private static Optional<String> includedHeader(Directive directive) {
		Matcher matcher = INCLUDE.matcher(directive.getText());
		return matcher.find() ? Optional.of(matcher.group(1)) : Optional.empty();
	}

	private void checkItems(List<TopLevel> items) {
		for (TopLevel item : items) {
			switch (item) {
			case ItemBlock block -> checkItems(block.getItems());
			case FunctionDefinition function -> checkFunction(function);
			case Declaration declaration -> checkDeclaration(declaration);
			case TypedefDeclaration typedef -> checkSubtree(typedef.getType());
			case StructDefinition struct -> checkStruct(struct);
			default -> {
			}
			}
		}
	}

	/** The members' types and array sizes; {@code struct S { ... } s;} would also declare a variable, left out. */
	private void checkStruct(StructDefinition struct) {
		if (!struct.isTypedef() && struct.getAlias() != null) {
			reporter.error("declare the variable '" + struct.getAlias() + "' in a declaration of its own, after the struct",
					struct, "struct-variable");
		}
		scopes.push(new HashSet<>());
		declareTemplate(struct.getTemplate());
		struct.getMembers().forEach(this::checkDeclaration);
		scopes.pop();
	}

	private void checkFunction(FunctionDefinition function) {
		scopes.push(new HashSet<>());
		declareTemplate(function.getTemplate());
		function.getSpecialization().forEach(this::checkSubtree);
		checkSubtree(function.getReturnType());
		for (Parameter parameter : function.getParams()) {
			checkSubtree(parameter.getType());
			if (parameter.getDeclarator().getName() != null) {
				scopes.peek().add(parameter.getDeclarator().getName());
			}
			parameter.getDeclarator().getDimensions().forEach(this::checkSubtree);
		}
		if (function.getBody() != null) {
			checkStatement(function.getBody());
		}
		scopes.pop();
	}

	private void declareTemplate(TemplateHeader template) {
		if (template != null) {
			for (TemplateParameter parameter : template.getParams()) {
				scopes.peek().add(parameter.getName());
			}
		}
	}

	private void checkStatement(EObject statement) {
		switch (statement) {
		case CompoundStatement block -> {
			scopes.push(new HashSet<>());
			block.getStatements().forEach(this::checkStatement);
			scopes.pop();
		}
		case DeclarationStatement declaration -> checkDeclaration(declaration.getDeclaration());
		case DirectiveStatement directive -> macroName(directive.getDirective()).ifPresent(scopes.peek()::add);
		case ForStatement loop -> {
			scopes.push(new HashSet<>());
			if (loop.getInitDeclaration() != null) {
				checkDeclaration(loop.getInitDeclaration());
			}
			for (EObject part : new EObject[] { loop.getInitExpression(), loop.getCondition(), loop.getUpdate() }) {
				if (part != null) {
					checkSubtree(part);
				}
			}
			checkStatement(loop.getBody());
			scopes.pop();
		}
		default -> {
			// statements without declarations of their own: check what they contain, nested statements in order
			for (EObject child : statement.eContents()) {
				if (child instanceof Statement) {
					checkStatement(child);
				} else {
					checkSubtree(child);
				}
			}
		}
		}
	}

	/** A declaration's names are visible in their own initializers, as in C. */
	private void checkDeclaration(Declaration declaration) {
		checkSubtree(declaration.getType());
		for (Declarator declarator : declaration.getDeclarators()) {
			if (!scopes.isEmpty()) {
				scopes.peek().add(declarator.getName());
			}
			checkSubtree(declarator);
		}
	}

	/** Checks every name and type name of an expression or type, wherever it sits. */
	private void checkSubtree(EObject root) {
		if (root == null) {
			return;
		}
		visit(root);
		root.eAllContents().forEachRemaining(this::visit);
	}

	private void visit(EObject object) {
		switch (object) {
		case Name name -> {
			if (!(name.eContainer() instanceof Call call && call.getCallee() == name)) {
				requireKnown(name.getName(), name, "identifier");
			}
		}
		case Call call -> checkCall(call);
		case TemplateCall call -> requireKnown(call.getFunction(), call, "function");
		case TemplateMember member -> requireKnown(member.getType(), member, "type");
		case TemplateId id -> requireKnown(id.getName(), id, "function");
		case NamedType type -> requireKnown(type.getName(), type, "type");
		default -> {
		}
		}
	}

	private void checkCall(Call call) {
		String callee = ModelQueries.calleeName(call);
		if (callee == null) {
			return;
		}
		if (!requireKnown(callee, call.getCallee(), "function")) {
			return;
		}
		int arguments = call.getArgs().size();
		if (isLocal(callee)) {
			return;
		}
		List<FunctionDefinition> definitions = functions.get(callee);
		if (definitions != null) {
			if (definitions.stream().noneMatch(f -> accepts(f, arguments))) {
				FunctionDefinition first = definitions.get(0);
				reporter.error("'" + callee + "' takes " + parameterCount(first) + " argument"
						+ (parameterCount(first) == 1 ? "" : "s") + ", not " + arguments, call, "argument-count");
			}
			return;
		}
		catalog.function(callee).ifPresent(function -> {
			if (!function.signatures().isEmpty() && function.signatures().stream().noneMatch(s -> s.accepts(arguments))) {
				reporter.error("'" + callee + "' takes " + describeArities(function) + ", not " + arguments, call,
						"argument-count");
			}
		});
	}

	private static String describeArities(CatalogFunction function) {
		if (function.signatures().size() == 1) {
			CatalogFunction.Signature only = function.signatures().get(0);
			int count = only.params().size();
			return count + " argument" + (count == 1 ? "" : "s") + " " + only.parameterList();
		}
		List<String> counts = function.arities().stream().map(String::valueOf).toList();
		String joined = counts.size() == 1 ? counts.get(0)
				: String.join(", ", counts.subList(0, counts.size() - 1)) + " or " + counts.get(counts.size() - 1);
		return joined + " arguments";
	}

	private static boolean accepts(FunctionDefinition function, int arguments) {
		int count = parameterCount(function);
		return function.isVariadic() ? arguments >= count : arguments == count;
	}

	/** {@code f(void)} has no parameters. */
	private static int parameterCount(FunctionDefinition function) {
		List<Parameter> params = function.getParams();
		if (params.size() == 1 && params.get(0).getDeclarator().getName() == null
				&& "void".equals(params.get(0).getType().getName())
				&& params.get(0).getDeclarator().getPointers().isEmpty()) {
			return 0;
		}
		return params.size();
	}

	private boolean isLocal(String name) {
		return scopes.stream().anyMatch(scope -> scope.contains(name));
	}

	/** Reports an unknown name; answers whether the name is known. */
	private boolean requireKnown(String name, EObject at, String what) {
		if (isKnown(name)) {
			return true;
		}
		Optional<String> foreign = foreignOwner(name);
		if (foreign.isPresent()) {
			reporter.error("'" + name + "' is " + foreign.get() + ", not available in " + dialect.displayName(), at,
					"foreign-builtin");
		} else if (unreadHeader != null) {
			reporter.warning("unknown " + what + " '" + name + "' (unless " + unreadHeader
					+ " declares it: Xpiler does not read that header)", at, "unknown-name");
		} else {
			reporter.error("unknown " + what + " '" + name + "'", at, "unknown-name");
		}
		return false;
	}

	private boolean isKnown(String qualified) {
		String name = qualified.startsWith("::") ? qualified.substring(2) : qualified;
		if (isLocal(name) || globals.contains(name) || StandardLibrary.NAMES.contains(name)) {
			return true;
		}
		// nvcuda::wmma::mma_sync is known as wmma::mma_sync under the prelude's using-directive
		for (String suffix = name; suffix != null; suffix = dropFirstSegment(suffix)) {
			if (catalog.knows(suffix) || dialect.preludeNames().contains(suffix)) {
				return true;
			}
		}
		return false;
	}

	private static String dropFirstSegment(String name) {
		int separator = name.indexOf("::");
		return separator < 0 ? null : name.substring(separator + 2);
	}

	/** "a BANG C intrinsic" when another dialect's catalog knows the name. */
	private Optional<String> foreignOwner(String name) {
		for (Dialect other : Dialect.values()) {
			if (other == dialect || !other.catalog().knows(name)) {
				continue;
			}
			IntrinsicCatalog foreign = other.catalog();
			String kind = foreign.function(name).isPresent() ? "intrinsic"
					: foreign.variable(name).isPresent() ? "builtin variable"
							: foreign.constant(name).isPresent() ? "constant" : "type";
			return Optional.of("a " + other.displayName() + " " + kind);
		}
		return Optional.empty();
	}
}
