package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.eclipse.xtext.nodemodel.util.NodeModelUtils;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.IfStatement;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.WhileStatement;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.Namespaces;
import org.xpiler.lang.parsing.ParsedKernel;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Small helpers the passes share: new model nodes are written as C text and parsed (the grammar is the one
 * authority on their shape), source locations for refusals, and whole-file replacement when a pass
 * regenerates a file's text.
 */
public final class Snippets {
	private static final KernelParser PARSER = new KernelParser();

	private Snippets() {
	}

	/** {@code line 12}, for refusals and knob descriptions. */
	public static String location(EObject node) {
		var n = NodeModelUtils.findActualNodeFor(node);
		return n == null ? "?" : "line " + n.getStartLine();
	}

	/** Parses a whole file; a parse error is a bug in the pass that wrote the text, so it says so. */
	public static TranslationUnit file(String text, Dialect dialect) {
		ParsedKernel parsed = PARSER.parse("generated" + "." + dialect.fileExtensions().get(0), text, dialect);
		if (parsed.resource() == null || !parsed.resource().getErrors().isEmpty()) {
			String errors = parsed.resource() == null ? first(parsed.errors())
					: parsed.resource().getErrors().stream().limit(3).map(e -> "line " + e.getLine() + ": " + e.getMessage())
							.collect(Collectors.joining("; "));
			throw new IllegalStateException("generated code does not parse: " + errors + "\n" + text);
		}
		return parsed.unit();
	}

	private static String first(List<Diagnostic> diagnostics) {
		return diagnostics.stream().limit(3).map(Diagnostic::format).collect(Collectors.joining("; "));
	}

	/** Statements parsed from {@code text} (one or more, in a function body). */
	public static List<Statement> statements(String text, Dialect dialect) {
		TranslationUnit unit = file("void snippet__() {\n" + text + "\n}\n", dialect);
		FunctionDefinition f = (FunctionDefinition) unit.getItems().get(0);
		return new ArrayList<>(f.getBody().getStatements());
	}

	public static Expression expression(String text, Dialect dialect) {
		return PARSER.parseExpression(text, dialect);
	}

	/** Replaces every item of {@code unit} by the items of {@code text} parsed in {@code dialect}. */
	public static void replaceFile(TranslationUnit unit, String text, Dialect dialect) {
		TranslationUnit fresh = file(text, dialect);
		unit.getItems().clear();
		unit.getItems().addAll(new ArrayList<>(fresh.getItems()));
	}

	/**
	 * The file's items with {@code extern "C" { ... }} and namespace blocks opened: functions and declarations in
	 * order.
	 */
	public static List<org.xpiler.lang.kernel.TopLevel> topLevelItems(TranslationUnit unit) {
		List<org.xpiler.lang.kernel.TopLevel> items = new ArrayList<>();
		Namespaces.forEachItem(unit.getItems(), (item, namespaces) -> items.add(item));
		return items;
	}

	/** The functions of the file that have a body (prototypes left out), in order. */
	public static List<FunctionDefinition> definedFunctions(TranslationUnit unit) {
		return topLevelItems(unit).stream().filter(FunctionDefinition.class::isInstance).map(FunctionDefinition.class::cast)
				.filter(f -> f.getBody() != null).toList();
	}

	/**
	 * The functions of the file that have a body by every name calls may give them: the plain name, and in named
	 * namespaces the qualified ones too ({@code ops::blocks}, see {@link Namespaces}).
	 */
	public static Map<String, FunctionDefinition> functionsByName(TranslationUnit unit) {
		Map<String, FunctionDefinition> functions = new LinkedHashMap<>();
		Namespaces.forEachItem(unit.getItems(), (item, namespaces) -> {
			if (item instanceof FunctionDefinition f && f.getBody() != null) {
				Namespaces.qualifiedNames(f.getName(), namespaces).forEach(name -> functions.put(name, f));
			}
		});
		return functions;
	}

	/**
	 * Moves the items of the file's namespace blocks out to where the blocks stand, and writes the qualified names
	 * of its own functions and variables unqualified ({@code cfg::kRows} as {@code kRows}), so that passes that
	 * read and write a file item by item see one scope. Two namespaces that declare one name are refused.
	 */
	public static void flattenNamespaces(TranslationUnit unit) {
		Map<String, String> plain = new HashMap<>();
		Map<String, List<String>> declaredIn = new HashMap<>();
		Namespaces.forEachItem(unit.getItems(), (item, namespaces) -> {
			List<String> names = switch (item) {
			case FunctionDefinition f -> f.getBody() == null ? List.of() : List.of(f.getName());
			case org.xpiler.lang.kernel.Declaration d -> d.getDeclarators().stream().map(x -> x.getName()).toList();
			default -> List.of();
			};
			for (String name : names) {
				List<String> earlier = declaredIn.putIfAbsent(name, namespaces);
				if (earlier != null && !earlier.equals(namespaces)) {
					throw PassRefusal.at(item, name + " is declared in two namespaces of the file; passes read the file as "
							+ "one scope");
				}
				Namespaces.qualifiedNames(name, namespaces).stream().skip(1).forEach(q -> plain.put(q, name));
			}
		});
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Name n) {
				String written = n.getName().startsWith("::") ? n.getName().substring(2) : n.getName();
				n.setName(plain.getOrDefault(written, n.getName()));
			}
		});
		openNamespaceBlocks(unit.getItems());
	}

	private static void openNamespaceBlocks(List<org.xpiler.lang.kernel.TopLevel> items) {
		for (int i = 0; i < items.size(); i++) {
			if (items.get(i) instanceof org.xpiler.lang.kernel.ItemBlock block) {
				openNamespaceBlocks(block.getItems());
				if (block instanceof org.xpiler.lang.kernel.NamespaceBlock) {
					List<org.xpiler.lang.kernel.TopLevel> inner = new ArrayList<>(block.getItems());
					items.remove(i);
					items.addAll(i, inner);
					i += inner.size() - 1;
				}
			}
		}
	}

	/** Whether {@code within} evaluates {@code node} whenever it runs: no {@code ?:}, {@code &&} or {@code ||} between them. */
	public static boolean evaluatedUnconditionally(EObject node, EObject within) {
		for (EObject up = node.eContainer(); up != within; up = up.eContainer()) {
			if (up instanceof org.xpiler.lang.kernel.Conditional
					|| up instanceof org.xpiler.lang.kernel.Binary b && (b.getOp().equals("&&") || b.getOp().equals("||"))) {
				return false;
			}
		}
		return true;
	}

	/** Whether {@code root} is or contains the name {@code name} (a use or a call of it). */
	public static boolean mentions(EObject root, String name) {
		return EcoreUtil2.eAllOfType(root, Name.class).stream().anyMatch(n -> n.getName().equals(name));
	}

	/** Whether {@code root} contains a call of any function. */
	public static boolean containsCall(EObject root) {
		for (var it = root.eAllContents(); it.hasNext();) {
			if (it.next() instanceof Call) {
				return true;
			}
		}
		return false;
	}

	/** Whether {@code root} is or contains a call of {@code name}. */
	public static boolean calls(EObject root, String name) {
		return EcoreUtil2.eAllOfType(root, Call.class).stream().anyMatch(c -> isCallOf(c, name));
	}

	public static boolean isCallOf(EObject node, String name) {
		return node instanceof Call call && call.getCallee() instanceof Name callee && callee.getName().equals(name);
	}

	/** The callee's name, or null for calls through expressions. */
	public static String callee(Call call) {
		return call.getCallee() instanceof Name n ? n.getName() : null;
	}

	/** Makes {@code statement} sit in a block's statement list (wrapping a bare loop or if body in braces). */
	public static CompoundStatement ensureInBlock(Statement statement) {
		if (statement.eContainer() instanceof CompoundStatement block) {
			return block;
		}
		CompoundStatement block = KernelFactory.eINSTANCE.createCompoundStatement();
		EcoreUtil.replace(statement, block);
		block.getStatements().add(statement);
		return block;
	}

	/** The statement directly inside a block's list that contains {@code node}. */
	public static Statement enclosingStatement(EObject node) {
		EObject current = node;
		while (current != null && !(current instanceof Statement s && s.eContainer() instanceof CompoundStatement)) {
			if (current instanceof Statement s && !(s.eContainer() instanceof CompoundStatement)
					&& !(s.eContainer() instanceof Statement)) {
				return s;
			}
			current = current.eContainer();
		}
		return (Statement) current;
	}
	/**
	 * {@code for (int s = 128; s > 0; s >>= 1)}: a loop, while or if printed without its body (and else), for a
	 * pass that rebuilds the body as text.
	 */
	public static String header(Statement s, KernelPrinter printer) {
		Statement copy = EcoreUtil.copy(s);
		CompoundStatement empty = KernelFactory.eINSTANCE.createCompoundStatement();
		switch (copy) {
		case ForStatement f -> f.setBody(empty);
		case WhileStatement w -> w.setBody(empty);
		case IfStatement i -> {
			i.setThen(empty);
			i.setElse(null);
		}
		default -> throw new IllegalArgumentException("no header to print: " + s.eClass().getName());
		}
		String text = printer.statement(copy, 0).strip();
		return text.substring(0, text.lastIndexOf('{')).strip();
	}

	/** {@code extern "C" void f(const float *x)}: a function printed without its body (specifiers included). */
	public static String signature(FunctionDefinition f, KernelPrinter printer) {
		FunctionDefinition copy = EcoreUtil.copy(f);
		copy.getBody().getStatements().clear();
		String text = printer.topLevel(copy).strip();
		return text.substring(0, text.lastIndexOf('{')).strip();
	}
	/** Every name the file declares or uses, functions included. */
	public static Set<String> takenNames(EObject root) {
		Set<String> taken = new HashSet<>();
		root.eAllContents().forEachRemaining(o -> {
			if (o instanceof Name n) {
				taken.add(n.getName());
			} else if (o instanceof Declarator d && d.getName() != null) {
				taken.add(d.getName());
			} else if (o instanceof FunctionDefinition f) {
				taken.add(f.getName());
			}
		});
		return taken;
	}

	/**
	 * {@code base}, or {@code base_2}, {@code base_3}, ...: the first name that neither the file nor the
	 * dialect's catalog uses, so a new variable neither clashes with nor shadows anything.
	 */
	public static String freshName(TranslationUnit unit, String base, Dialect dialect) {
		return freshName(takenNames(unit), base, dialect);
	}

	/** The same over the names {@code taken} so far, to which the new name is added. */
	public static String freshName(Set<String> taken, String base, Dialect dialect) {
		String name = base;
		for (int k = 2; taken.contains(name) || dialect.catalog().knows(name); k++) {
			name = base + "_" + k;
		}
		taken.add(name);
		return name;
	}
	/** {@code e} without the parentheses around it. */
	public static Expression unparenthesized(Expression e) {
		Expression inner = e;
		while (inner instanceof org.xpiler.lang.kernel.Parenthesized p) {
			inner = p.getExpression();
		}
		return inner;
	}

	/** Whether {@code e} is the name {@code name}, parenthesized or not. */
	public static boolean isName(Expression e, String name) {
		return unparenthesized(e) instanceof Name n && n.getName().equals(name);
	}

	/** The type specifier {@code d} is declared with, as a variable or a parameter; null for anything else. */
	static TypeSpecifier declaredType(Declarator d) {
		return d == null ? null
				: d.eContainer() instanceof Declaration declaration ? declaration.getType()
						: d.eContainer() instanceof Parameter p ? p.getType() : null;
	}

	/**
	 * The declarator of {@code name} in scope at {@code at}: the declarations before it in each enclosing block,
	 * the enclosing loop headers, the function's parameters, then the file's declarations; null when none is.
	 */
	static Declarator visibleDeclaration(String name, EObject at) {
		EObject child = at;
		for (EObject parent = at.eContainer(); parent != null; child = parent, parent = parent.eContainer()) {
			List<Declaration> declarations = new ArrayList<>();
			if (parent instanceof CompoundStatement block) {
				for (Statement s : block.getStatements().subList(0, block.getStatements().indexOf(child))) {
					if (s instanceof DeclarationStatement d) {
						declarations.add(0, d.getDeclaration()); // the later declaration hides the earlier
					}
				}
			} else if (parent instanceof ForStatement loop && loop.getInitDeclaration() != null) {
				declarations.add(loop.getInitDeclaration());
			} else if (parent instanceof FunctionDefinition f) {
				for (Parameter p : f.getParams()) {
					if (name.equals(p.getDeclarator().getName())) {
						return p.getDeclarator();
					}
				}
			} else if (parent instanceof TranslationUnit unit) {
				Snippets.topLevelItems(unit).stream().filter(Declaration.class::isInstance)
						.forEach(d -> declarations.add((Declaration) d));
			}
			for (Declaration d : declarations) {
				for (Declarator declarator : d.getDeclarators()) {
					if (name.equals(declarator.getName())) {
						return declarator;
					}
				}
			}
		}
		return null;
	}

	/** Adds {@code #include <header>} at the top of the file unless the file includes it. */
	static void include(TranslationUnit unit, String header) {
		for (var it = unit.eAllContents(); it.hasNext();) {
			if (it.next() instanceof Directive d && d.getText() != null && d.getText().startsWith("#include")
					&& d.getText().contains("<" + header + ">")) {
				return;
			}
		}
		Directive include = KernelFactory.eINSTANCE.createDirective();
		include.setText("#include <" + header + ">");
		unit.getItems().add(0, include);
	}
}
