package org.xpiler.core.vm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.nodemodel.INode;
import org.eclipse.xtext.nodemodel.util.NodeModelUtils;
import org.xpiler.lang.catalog.IntrinsicCatalog;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.EmptyStatement;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypedefDeclaration;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.MacroDefinition;
import org.xpiler.lang.parsing.Namespaces;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * A kernel file prepared for the virtual device: its functions (compiled on first call, per template
 * binding), its static variables (file-scope and {@code __shared__}/{@code __nram__} declarations, instantiated
 * per program, block, cluster or task), its macros, and the table of source sites that errors point at.
 */
public final class Program {
	final Dialect dialect;
	final IntrinsicCatalog catalog;
	final TranslationUnit unit;
	final String file;
	final Types types;
	private final String text;
	private final List<Site> sites = new ArrayList<>();
	final Map<String, List<FunctionDefinition>> functions = new LinkedHashMap<>();
	final Map<String, Macro> macros = new HashMap<>();
	final List<StaticVariable> statics = new ArrayList<>();
	/** Per declarator and type: a declaration in a template has one static per instantiated type. */
	final Map<List<Object>, Integer> staticIndex = new HashMap<>();
	final Map<String, Integer> globalIndex = new HashMap<>();
	/** The values of file-scope integer constants, by static index, computed on first use (empty: not one). */
	private final Map<Integer, Optional<Long>> fileConstants = new HashMap<>();
	final Map<Object, CompiledFunction> compiled = new HashMap<>();
	final CatalogCalls catalogCalls;

	/**
	 * A {@code #define}: object-like when {@code parameters} is null; its body is an expression, or else a
	 * statement ({@code do { ... } while (0)}) that a call statement of the macro expands to.
	 */
	record Macro(String name, List<String> parameters, Expression body, Statement statement) {
	}

	/** Where a static variable lives and how many instances it has. */
	enum Scope {
		PROGRAM, CLUSTER, BLOCK_OR_TASK
	}

	record StaticVariable(String name, VmType type, Space space, Scope scope, Declarator declarator, int site) {
	}

	public Program(TranslationUnit unit, Dialect dialect, String file) {
		this.unit = unit;
		this.dialect = dialect;
		this.catalog = dialect.catalog();
		this.file = file;
		INode root = NodeModelUtils.getNode(unit);
		this.text = root == null ? "" : root.getRootNode().getText();
		this.types = new Types(this);
		sites.add(Site.UNKNOWN);
		this.catalogCalls = new CatalogCalls(this);
		Namespaces.forEachItem(unit.getItems(), this::collect);
	}

	/** Functions and variables in named namespaces are also known by their qualified names ({@link Namespaces}). */
	private void collect(TopLevel item, List<String> namespaces) {
		if (item instanceof FunctionDefinition f && f.getBody() != null) {
			Namespaces.qualifiedNames(f.getName(), namespaces)
					.forEach(name -> functions.computeIfAbsent(name, k -> new ArrayList<>()).add(f));
		} else if (item instanceof Directive directive) {
			defineMacro(directive);
		} else if (item instanceof Declaration declaration) {
			for (Declarator declarator : declaration.getDeclarators()) {
				VmType type = types.declared(declaration.getType(), declarator, Map.of());
				if (type instanceof VmType.Reference) {
					throw new CompileError(site(site(declarator)), "the file-scope reference '" + declarator.getName()
							+ "' is not supported by the virtual device (references in functions are): use a pointer");
				}
				int index = addStatic(declaration, declarator, type, true);
				Namespaces.qualifiedNames(declarator.getName(), namespaces).forEach(name -> globalIndex.putIfAbsent(name, index));
			}
		}
	}

	private void defineMacro(Directive directive) {
		MacroDefinition definition = MacroDefinition.of(directive.getText()).orElse(null);
		if (definition == null) {
			return;
		}
		try {
			Expression expression = new KernelParser().parseExpression(definition.body(), dialect);
			if (expression != null) {
				macros.put(definition.name(), new Macro(definition.name(), definition.parameters(), expression, null));
			}
		} catch (RuntimeException notAnExpression) {
			// a statement (an error check) is expanded where a call statement of it stands; others are not callable
			statementMacro(definition).ifPresent(macro -> macros.put(definition.name(), macro));
		}
	}

	/** A function-like macro whose body is one statement ({@code do { ... } while (0)}, {@code { ... }}). */
	private Optional<Macro> statementMacro(MacroDefinition definition) {
		if (definition.parameters() == null || definition.body().contains("#")) {
			return Optional.empty(); // # and ## work on tokens, which the model does not keep
		}
		ParsedKernel parsed = new KernelParser().parse(file, "void __xpiler_macro() {\n" + definition.body() + ";\n}\n",
				dialect);
		if (parsed.resource() == null || !parsed.resource().getErrors().isEmpty()
				|| !(parsed.unit().getItems().get(0) instanceof FunctionDefinition f)) {
			return Optional.empty();
		}
		List<Statement> statements = f.getBody().getStatements().stream()
				.filter(s -> !(s instanceof EmptyStatement)).toList();
		return statements.size() == 1
				? Optional.of(new Macro(definition.name(), definition.parameters(), null, statements.get(0)))
				: Optional.empty();
	}

	/** Registers a file-scope or on-chip declaration of the given type; returns its index in each lane's statics. */
	int addStatic(Declaration declaration, Declarator declarator, VmType type, boolean global) {
		List<Object> key = List.of(declarator, type);
		Integer known = staticIndex.get(key);
		if (known != null) {
			return known;
		}
		Space space = types.spaceOf(declaration.getSpecifiers(), global);
		Scope scope = switch (space) {
		case SHARED, NRAM, WRAM, LDRAM, LOCAL -> Scope.BLOCK_OR_TASK;
		case SRAM -> Scope.CLUSTER;
		default -> Scope.PROGRAM;
		};
		int index = statics.size();
		statics.add(new StaticVariable(declarator.getName(), type, space, scope, declarator, site(declarator)));
		staticIndex.put(key, index);
		if (global) {
			globalIndex.put(declarator.getName(), index);
		}
		return index;
	}

	List<TypedefDeclaration> typedefs() {
		List<TypedefDeclaration> result = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof TypedefDeclaration t) {
				result.add(t);
			}
		});
		return result;
	}

	/** The value of an integer constant expression at file scope (array sizes, template arguments). */
	long constantValue(Expression expression, Map<String, VmType> bindings) {
		return constantValue(expression, new FunctionCompiler(this, bindings));
	}

	/**
	 * The value of an integer constant expression in the scope {@code scope} is compiling: besides literals,
	 * macros and template values it may name the file's and the scope's {@code const}/{@code constexpr}
	 * integers with constant initializers.
	 */
	long constantValue(Expression expression, FunctionCompiler scope) {
		Long value = scope.constantExpression(expression).constant();
		if (value == null) {
			throw new CompileError(site(site(expression)), "'" + ExpressionCompiler.text(expression)
					+ "' is not an integer constant");
		}
		return value;
	}

	/**
	 * The value of the file-scope variable at {@code index} when it is a {@code const}/{@code constexpr}
	 * integer with a constant initializer (which may name earlier such constants), else null.
	 */
	Long fileConstant(int index) {
		Optional<Long> known = fileConstants.get(index);
		if (known == null) {
			fileConstants.put(index, Optional.empty()); // an initializer naming its own variable is not constant
			StaticVariable s = statics.get(index);
			Declaration declaration = (Declaration) s.declarator().eContainer();
			known = Optional.ofNullable(new FunctionCompiler(this, Map.of()).statements.constantInitializer(declaration,
					s.declarator(), s.type()));
			fileConstants.put(index, known);
		}
		return known.orElse(null);
	}

	/** Initializes the program-wide statics that have initializers, in declaration order. */
	CompiledFunction staticInitializer() {
		CompiledFunction target = new CompiledFunction("static initialization", 0);
		FunctionCompiler fc = new FunctionCompiler(this, Map.of());
		fc.function = target;
		List<Stmt> parts = new ArrayList<>();
		for (int i = 0; i < statics.size(); i++) {
			StaticVariable s = statics.get(i);
			if (s.scope() == Scope.PROGRAM && s.declarator().getInitializer() != null) {
				parts.add(fc.statements.initializeStatic(new FunctionCompiler.Var(s.name(), s.type(),
						FunctionCompiler.Storage.STATIC, i), s.declarator()));
			}
		}
		Stmt[] all = parts.toArray(Stmt[]::new);
		target.body = f -> {
			for (Stmt part : all) {
				part.exec(f);
			}
			return Stmt.NORMAL;
		};
		fc.finish(target);
		return target;
	}

	/** Registers the source place of a model node and returns its id for compiled code. */
	int site(EObject node) {
		INode n = node == null ? null : NodeModelUtils.findActualNodeFor(node);
		if (n == null) {
			return 0;
		}
		// a catalog reference is parsed on its own, as a function __memcpy_reference: its places are in its text
		EObject root = EcoreUtil.getRootContainer(node);
		String reference = root != unit && root instanceof TranslationUnit parsed && parsed.getItems().size() == 1
				&& parsed.getItems().get(0) instanceof FunctionDefinition f && f.getName().endsWith(CatalogCalls.REFERENCE_SUFFIX)
						? f.getName() : null;
		String placeText = reference != null ? NodeModelUtils.getNode(root).getRootNode().getText() : text;
		int offset = n.getOffset();
		int lineStart = placeText.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
		String snippet = n.getText().strip();
		int newline = snippet.indexOf('\n');
		snippet = newline >= 0 ? snippet.substring(0, newline) + " ..." : snippet;
		sites.add(new Site(reference != null ? reference : file, n.getStartLine(),
				offset - lineStart + 1, snippet));
		return sites.size() - 1;
	}

	public Site site(int id) {
		return id >= 0 && id < sites.size() ? sites.get(id) : Site.UNKNOWN;
	}

	public Dialect dialect() {
		return dialect;
	}

	public String file() {
		return file;
	}

	public TranslationUnit unit() {
		return unit;
	}
}
