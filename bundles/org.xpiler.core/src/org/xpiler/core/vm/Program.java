package org.xpiler.core.vm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.nodemodel.INode;
import org.eclipse.xtext.nodemodel.util.NodeModelUtils;
import org.xpiler.lang.catalog.IntrinsicCatalog;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.LinkageBlock;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypedefDeclaration;
import org.xpiler.lang.parsing.KernelParser;

/**
 * A kernel file prepared for the virtual device: its functions (compiled on first call, per template
 * binding), its static variables (file-scope and {@code __shared__}/{@code __nram__} declarations, instantiated
 * per program, block, cluster or task), its macros, and the table of source sites that errors point at.
 */
public final class Program {
	private static final Pattern DEFINE = Pattern
			.compile("^#\\s*define\\s+([A-Za-z_]\\w*)(\\(([^)]*)\\))?\\s*(.*?)\\s*$", Pattern.DOTALL);

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
	final Map<Declarator, Integer> staticIndex = new IdentityHashMap<>();
	final Map<String, Integer> globalIndex = new HashMap<>();
	final Map<Object, CompiledFunction> compiled = new HashMap<>();
	final CatalogCalls catalogCalls;

	/** A {@code #define}: object-like when {@code parameters} is null. */
	record Macro(String name, List<String> parameters, Expression body) {
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
		collect(unit.getItems());
	}

	private void collect(List<TopLevel> items) {
		for (TopLevel item : items) {
			if (item instanceof LinkageBlock block) {
				collect(block.getItems());
			} else if (item instanceof FunctionDefinition f && f.getBody() != null) {
				functions.computeIfAbsent(f.getName(), k -> new ArrayList<>()).add(f);
			} else if (item instanceof Directive directive) {
				defineMacro(directive);
			} else if (item instanceof Declaration declaration) {
				for (Declarator declarator : declaration.getDeclarators()) {
					addStatic(declaration, declarator, true);
				}
			}
		}
	}

	private void defineMacro(Directive directive) {
		String line = directive.getText().replace("\\\n", " ").replace("\\\r\n", " ");
		Matcher m = DEFINE.matcher(line.strip());
		if (!m.matches() || m.group(4).isEmpty()) {
			return;
		}
		String body = m.group(4).replaceAll("//.*$", "").replaceAll("/\\*.*?\\*/", "").strip();
		try {
			Expression expression = new KernelParser().parseExpression(body, dialect);
			if (expression == null) {
				return;
			}
			List<String> parameters = m.group(2) == null ? null
					: List.of(m.group(3).split(",")).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
			macros.put(m.group(1), new Macro(m.group(1), parameters, expression));
		} catch (RuntimeException notAnExpression) {
			// a macro that is not an expression (a statement, a pragma helper) is not callable as a value
		}
	}

	/** Registers a file-scope or on-chip declaration; returns its index in each lane's statics. */
	int addStatic(Declaration declaration, Declarator declarator, boolean global) {
		Integer known = staticIndex.get(declarator);
		if (known != null) {
			return known;
		}
		Space space = types.spaceOf(declaration.getSpecifiers(), global);
		VmType type = types.declared(declaration.getType(), declarator, Map.of());
		Scope scope = switch (space) {
		case SHARED, NRAM, WRAM, LDRAM, LOCAL -> Scope.BLOCK_OR_TASK;
		case SRAM -> Scope.CLUSTER;
		default -> Scope.PROGRAM;
		};
		int index = statics.size();
		statics.add(new StaticVariable(declarator.getName(), type, space, scope, declarator, site(declarator)));
		staticIndex.put(declarator, index);
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

	/** The value of an integer constant expression (array sizes, template arguments). */
	long constantValue(Expression expression, Map<String, VmType> bindings) {
		Ex compiled = new FunctionCompiler(this, bindings).constantExpression(expression);
		Long value = compiled.constant();
		if (value == null) {
			throw new UnsupportedOperationException("'" + NodeModelUtils.getTokenText(NodeModelUtils.findActualNodeFor(expression))
					+ "' is not an integer constant");
		}
		return value;
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
		int offset = n.getOffset();
		int lineStart = text.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
		String snippet = n.getText().strip();
		int newline = snippet.indexOf('\n');
		snippet = newline >= 0 ? snippet.substring(0, newline) + " ..." : snippet;
		sites.add(new Site(file, n.getStartLine(), offset - lineStart + 1, snippet));
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
