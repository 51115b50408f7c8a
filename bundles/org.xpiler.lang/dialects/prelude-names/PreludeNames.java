/*
 * Lists every name a dialect's prelude makes visible at file scope, from the prelude as the real compiler
 * preprocessed it. Run by generate.sh beside this file (which also writes the two-line header); by hand:
 *
 *   java -cp <eclipse-cdt-core.jar and its Eclipse jars> PreludeNames.java <dialect> <preprocessed.i> <macros.txt> [builtins.txt]
 *
 * <preprocessed.i>  output of the compiler's -E on the prelude. It may hold several passes, each between
 *                   "// __CLANG_OFFLOAD_BUNDLE____START__ <pass>" and "..._END__ <pass>" lines (what clang -E
 *                   writes for HIP's device and host passes; generate.sh writes CUDA's two passes the same
 *                   way): each pass is parsed on its own and the names are the union.
 * <macros.txt>      output of the compiler's -E -dM (any number of passes, concatenated): every #define'd name.
 * [builtins.txt]    optional: names the compiler knows without any declaration (one a line; '#' comments).
 *
 * Names are found with Eclipse CDT's GNU C++ parser: every name declared at global or namespace scope
 * (functions, overloaded and template functions, variables, typedefs, using-aliases, classes, structs,
 * unions, enums, their enumerators, namespaces, names brought in by using-declarations). Names inside a
 * namespace are written qualified by their namespace path ("nvcuda::wmma::mma_sync"), and again relative
 * to each namespace a file-scope using-directive makes visible ("wmma::mma_sync" under
 * "using namespace nvcuda;"). Inline and unnamed namespaces are transparent. Left out: parameter, local
 * and class-member names, operator functions, namespace std and implementation-internal namespaces
 * (__gnu_cxx and the like, any whose name starts with "__" or "_" and a capital letter, or is
 * detail/details/internal/impl/hip_impl), and __builtin_* except __builtin_amdgcn_* (HIP's real intrinsics:
 * clang declares them nowhere, so they come from builtins.txt, or, without one, from the headers' calls).
 *
 * Prints the sorted, unique names on standard output and a summary (counts, parse problems) on standard error.
 */

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.cdt.core.dom.ast.IASTCompositeTypeSpecifier;
import org.eclipse.cdt.core.dom.ast.IASTDeclSpecifier;
import org.eclipse.cdt.core.dom.ast.IASTDeclaration;
import org.eclipse.cdt.core.dom.ast.IASTDeclarator;
import org.eclipse.cdt.core.dom.ast.IASTElaboratedTypeSpecifier;
import org.eclipse.cdt.core.dom.ast.IASTEnumerationSpecifier;
import org.eclipse.cdt.core.dom.ast.IASTFileLocation;
import org.eclipse.cdt.core.dom.ast.IASTFunctionDefinition;
import org.eclipse.cdt.core.dom.ast.IASTName;
import org.eclipse.cdt.core.dom.ast.IASTProblemDeclaration;
import org.eclipse.cdt.core.dom.ast.IASTSimpleDeclaration;
import org.eclipse.cdt.core.dom.ast.IASTTranslationUnit;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTAliasDeclaration;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTConversionName;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTEnumerationSpecifier;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTExplicitTemplateInstantiation;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTLinkageSpecification;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTNamespaceAlias;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTNamespaceDefinition;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTOperatorName;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTQualifiedName;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTTemplateDeclaration;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTTemplateId;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTTemplateSpecialization;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTUsingDeclaration;
import org.eclipse.cdt.core.dom.ast.cpp.ICPPASTUsingDirective;
import org.eclipse.cdt.core.dom.ast.gnu.cpp.GPPLanguage;
import org.eclipse.cdt.core.parser.DefaultLogService;
import org.eclipse.cdt.core.parser.FileContent;
import org.eclipse.cdt.core.parser.IncludeFileContentProvider;
import org.eclipse.cdt.core.parser.ScannerInfo;

public class PreludeNames {
	private static final Pattern BUNDLE_START = Pattern.compile("^// __CLANG_OFFLOAD_BUNDLE____START__ (\\S+)\\s*$");
	private static final Pattern BUNDLE_END = Pattern.compile("^// __CLANG_OFFLOAD_BUNDLE____END__ (\\S+)\\s*$");
	private static final Pattern DEFINE = Pattern.compile("^\\s*#\\s*define\\s+([A-Za-z_$][A-Za-z0-9_$]*)");
	private static final Pattern AMDGCN_BUILTIN = Pattern.compile("\\b__builtin_amdgcn_[A-Za-z0-9_]+\\b");
	private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*");
	private static final Pattern LINE_MARKER = Pattern.compile("^#\\s*(?:line\\s+)?(\\d+)\\s+\"([^\"]*)\"");
	private static final Set<String> INTERNAL_NAMESPACES = Set.of("std", "detail", "details", "internal", "impl",
			"hip_impl");

	/** A declared name and the namespace it was declared in (inline and unnamed namespaces left out). */
	record Entity(List<String> namespace, String name) {
	}

	/** A using-directive: the namespace it stands in, and the namespace it names as written. */
	record UsingDirective(List<String> scope, String target) {
	}

	private final Set<Entity> entities = new LinkedHashSet<>();
	private final Set<String> namespaces = new TreeSet<>();
	private final Map<String, String> namespaceAliases = new LinkedHashMap<>();
	private final List<UsingDirective> usingDirectives = new ArrayList<>();
	private final Map<String, Integer> problemsByFile = new TreeMap<>();
	private final List<String> problemSamples = new ArrayList<>();
	private int problems;
	private int fallbackNames;
	private String[] passLines;
	private String[] passFileOfLine;

	public static void main(String[] args) throws IOException {
		if (args.length < 3 || args.length > 4) {
			System.err.println("usage: java -cp <cdt jars> PreludeNames.java <dialect> <preprocessed.i> <macros.txt> [builtins.txt]");
			System.exit(2);
		}
		String dialect = args[0];
		String preprocessed = Files.readString(Path.of(args[1]), StandardCharsets.ISO_8859_1);
		List<String> macroLines = Files.readAllLines(Path.of(args[2]), StandardCharsets.ISO_8859_1);
		List<String> builtinLines = args.length == 4
				? Files.readAllLines(Path.of(args[3]), StandardCharsets.ISO_8859_1)
				: List.of();

		PreludeNames extractor = new PreludeNames();
		Map<String, String> passes = splitPasses(preprocessed);
		for (Map.Entry<String, String> pass : passes.entrySet()) {
			int before = extractor.entities.size();
			int problemsBefore = extractor.problems;
			extractor.parse(pass.getKey(), pass.getValue());
			System.err.printf("%s: pass %s: %d lines, %d new declared names, %d problem declarations%n", dialect,
					pass.getKey(), pass.getValue().lines().count(), extractor.entities.size() - before,
					extractor.problems - problemsBefore);
		}

		Set<String> declared = extractor.visibleNames();
		Set<String> macros = new TreeSet<>();
		for (String line : macroLines) {
			Matcher m = DEFINE.matcher(line);
			if (m.find() && keep(m.group(1))) {
				macros.add(m.group(1));
			}
		}
		// clang's __builtin_amdgcn_* are declared nowhere: the compiler's own table (builtins.txt) lists them; without
		// one, the ones the headers themselves call stand in (which may include a block-scope redeclaration or two)
		Set<String> builtins = new TreeSet<>();
		for (String line : builtinLines) {
			String name = line.strip();
			if (!name.isEmpty() && !name.startsWith("#") && IDENTIFIER.matcher(name).matches() && keep(name)) {
				builtins.add(name);
			}
		}
		if (builtins.isEmpty()) {
			Matcher used = AMDGCN_BUILTIN.matcher(preprocessed);
			while (used.find()) {
				builtins.add(used.group());
			}
		}

		Set<String> all = new TreeSet<>();
		all.addAll(declared);
		all.addAll(macros);
		all.addAll(builtins);
		StringBuilder out = new StringBuilder();
		for (String name : all) {
			out.append(name).append('\n');
		}
		System.out.print(out);
		System.out.flush();

		System.err.printf("%s: %d names (%d declared in %d namespaces + global, %d macros, %d compiler builtins)%n",
				dialect, all.size(), declared.size(), extractor.namespaces.size(), macros.size(), builtins.size());
		System.err.printf("%s: using-directives in effect at file scope: %s%n", dialect, extractor.visibleNamespaces());
		if (extractor.problems > 0) {
			System.err.printf("%s: %d problem declarations (CDT could not parse them; %d names recovered from them by "
					+ "the fallback scan), by header: %s%n", dialect, extractor.problems, extractor.fallbackNames,
					extractor.problemsByFile);
			for (String sample : extractor.problemSamples) {
				System.err.println("  " + sample);
			}
		}
	}

	/** Splits the text at clang offload-bundle markers; the whole text is one pass when there are none. */
	static Map<String, String> splitPasses(String text) {
		Map<String, String> passes = new LinkedHashMap<>();
		String current = null;
		StringBuilder body = new StringBuilder();
		for (String line : text.split("\n", -1)) {
			Matcher start = BUNDLE_START.matcher(line);
			Matcher end = BUNDLE_END.matcher(line);
			if (start.matches()) {
				current = start.group(1);
				body.setLength(0);
			} else if (end.matches() && current != null) {
				passes.put(current, body.toString());
				current = null;
			} else if (current != null) {
				body.append(line).append('\n');
			}
		}
		if (passes.isEmpty()) {
			passes.put("single", text);
		}
		return passes;
	}

	void parse(String passName, String text) {
		passLines = text.split("\n", -1);
		passFileOfLine = new String[passLines.length + 1];
		String file = "?";
		for (int i = 0; i < passLines.length; i++) {
			Matcher m = LINE_MARKER.matcher(passLines[i]);
			if (m.find()) {
				file = m.group(2);
			}
			passFileOfLine[i + 1] = file;
		}
		IASTTranslationUnit unit;
		try {
			unit = GPPLanguage.getDefault().getASTTranslationUnit(
					FileContent.create(passName + ".ii", text.toCharArray()), new ScannerInfo(),
					IncludeFileContentProvider.getEmptyFilesProvider(), null, 0, new DefaultLogService());
		} catch (Exception e) {
			throw new IllegalStateException("CDT failed on pass " + passName, e);
		}
		for (IASTDeclaration declaration : unit.getDeclarations()) {
			declaration(declaration, List.of());
		}
	}

	private void declaration(IASTDeclaration declaration, List<String> namespace) {
		if (declaration instanceof ICPPASTNamespaceDefinition definition) {
			String name = definition.getName().toString();
			List<String> inner = namespace;
			if (!name.isEmpty()) {
				if (!internalNamespace(name)) {
					add(namespace, name);
				}
				if (!definition.isInline()) {
					inner = append(namespace, name);
					namespaces.add(String.join("::", inner));
				}
			}
			for (IASTDeclaration member : definition.getDeclarations(true)) {
				declaration(member, inner);
			}
		} else if (declaration instanceof ICPPASTLinkageSpecification linkage) {
			for (IASTDeclaration member : linkage.getDeclarations(true)) {
				declaration(member, namespace);
			}
		} else if (declaration instanceof ICPPASTTemplateDeclaration template) {
			declaration(template.getDeclaration(), namespace);
		} else if (declaration instanceof ICPPASTTemplateSpecialization specialization) {
			declaration(specialization.getDeclaration(), namespace);
		} else if (declaration instanceof ICPPASTExplicitTemplateInstantiation) {
			// names nothing new
		} else if (declaration instanceof IASTSimpleDeclaration simple) {
			declSpecifier(simple.getDeclSpecifier(), namespace);
			for (IASTDeclarator declarator : simple.getDeclarators()) {
				declarator(declarator, namespace);
			}
		} else if (declaration instanceof IASTFunctionDefinition function) {
			declSpecifier(function.getDeclSpecifier(), namespace);
			declarator(function.getDeclarator(), namespace);
		} else if (declaration instanceof ICPPASTUsingDirective directive) {
			usingDirectives.add(new UsingDirective(namespace, directive.getQualifiedName().toString()));
		} else if (declaration instanceof ICPPASTUsingDeclaration using) {
			IASTName name = using.getName();
			if (name instanceof ICPPASTQualifiedName qualified) {
				name = qualified.getLastName();
			}
			simpleName(name, namespace);
		} else if (declaration instanceof ICPPASTAliasDeclaration alias) {
			simpleName(alias.getAlias(), namespace);
		} else if (declaration instanceof ICPPASTNamespaceAlias alias) {
			String name = alias.getAlias().toString();
			add(namespace, name);
			namespaceAliases.put(String.join("::", append(namespace, name)), alias.getMappingName().toString());
		} else if (declaration instanceof IASTProblemDeclaration problem) {
			problem(problem, namespace);
		}
	}

	private void declSpecifier(IASTDeclSpecifier specifier, List<String> namespace) {
		if (specifier instanceof IASTCompositeTypeSpecifier composite) {
			// the members are class members: not visible at file scope
			typeName(composite.getName(), namespace);
		} else if (specifier instanceof IASTEnumerationSpecifier enumeration) {
			String enumName = typeName(enumeration.getName(), namespace);
			boolean scoped = enumeration instanceof ICPPASTEnumerationSpecifier cpp && cpp.isScoped();
			for (IASTEnumerationSpecifier.IASTEnumerator enumerator : enumeration.getEnumerators()) {
				String name = enumerator.getName().toString();
				if (name.isEmpty()) {
					continue;
				}
				if (!scoped) {
					add(namespace, name);
				} else if (enumName != null) {
					add(namespace, enumName + "::" + name);
				}
			}
		} else if (specifier instanceof IASTElaboratedTypeSpecifier elaborated) {
			// "struct X;" or "typedef struct X X_t;" declares X in the enclosing namespace
			typeName(elaborated.getName(), namespace);
		}
	}

	/** Adds a class, union or enum name unless it is anonymous, qualified or a specialization's template-id. */
	private String typeName(IASTName name, List<String> namespace) {
		if (name == null || name instanceof ICPPASTQualifiedName || name instanceof ICPPASTTemplateId) {
			return null;
		}
		String text = name.toString();
		if (text.isEmpty()) {
			return null;
		}
		add(namespace, text);
		return text;
	}

	private void declarator(IASTDeclarator declarator, List<String> namespace) {
		IASTDeclarator innermost = declarator;
		while (innermost.getNestedDeclarator() != null) {
			innermost = innermost.getNestedDeclarator();
		}
		IASTName name = innermost.getName();
		if (name == null || name instanceof ICPPASTQualifiedName) {
			return; // a qualified declarator defines something declared elsewhere (often a class member)
		}
		if (name instanceof ICPPASTTemplateId templateId) {
			name = templateId.getTemplateName(); // explicit specialization of a function template
		}
		simpleName(name, namespace);
	}

	private void simpleName(IASTName name, List<String> namespace) {
		if (name == null || name instanceof ICPPASTOperatorName || name instanceof ICPPASTConversionName) {
			return;
		}
		if (name instanceof ICPPASTTemplateId templateId) {
			name = templateId.getTemplateName();
		}
		String text = name.toString();
		if (IDENTIFIER.matcher(text).matches() && !text.equals("operator")) {
			add(namespace, text);
		}
	}

	/**
	 * A declaration CDT could not parse. Fallback: the last identifier before the first '(' of its first line
	 * (a function's name) or before ';' / '=' / '[' at the end (a variable), so no parameter or local name is
	 * taken; anything else is only reported.
	 */
	private void problem(IASTProblemDeclaration problem, List<String> namespace) {
		problems++;
		IASTFileLocation location = problem.getFileLocation();
		String file = "?";
		String text = problem.getRawSignature();
		if (location != null) {
			int line = location.getStartingLineNumber();
			if (line > 0 && line < passFileOfLine.length) {
				file = passFileOfLine[line];
			}
		}
		problemsByFile.merge(Path.of(file).getFileName().toString(), 1, Integer::sum);
		String head = text.strip();
		if (problemSamples.size() < 40) {
			problemSamples.add(Path.of(file).getFileName() + ": "
					+ head.substring(0, Math.min(head.length(), 160)).replaceAll("\\s+", " "));
		}
		String name = fallbackName(head);
		if (name != null) {
			fallbackNames++;
			add(namespace, name);
			if (problemSamples.size() < 40) {
				problemSamples.add("    recovered " + (namespace.isEmpty() ? "" : String.join("::", namespace) + "::") + name);
			}
		}
	}

	private static final Pattern FALLBACK_FUNCTION = Pattern.compile(
			"^(?:[A-Za-z_][\\w:<>,\\s*&]*?|(?:__attribute__\\s*\\(\\(.*?\\)\\)\\s*)*)\\b([A-Za-z_]\\w*)\\s*\\(");

	private static String fallbackName(String text) {
		if (text.startsWith("#") || text.startsWith("template") || text.startsWith("namespace")
				|| text.startsWith("class") || text.startsWith("struct") || text.startsWith("union")) {
			return null;
		}
		String declarationHead = text.replaceAll("__attribute__\\s*\\(\\((?:[^()]|\\([^()]*\\))*\\)\\)", " ");
		Matcher m = FALLBACK_FUNCTION.matcher(declarationHead);
		if (m.find()) {
			String name = m.group(1);
			if (!Set.of("if", "while", "for", "switch", "return", "sizeof", "decltype", "__attribute__", "alignas",
					"static_assert", "__declspec", "__asm__", "asm", "typeof", "__typeof__").contains(name)) {
				return name;
			}
		}
		return null;
	}

	private void add(List<String> namespace, String name) {
		entities.add(new Entity(namespace, name));
	}

	private static List<String> append(List<String> path, String name) {
		List<String> longer = new ArrayList<>(path);
		longer.add(name);
		return List.copyOf(longer);
	}

	/** The namespaces whose names file-scope code sees unqualified: using-directives at global scope, transitively. */
	Set<String> visibleNamespaces() {
		Set<String> visible = new LinkedHashSet<>();
		List<String> work = new ArrayList<>();
		work.add("");
		while (!work.isEmpty()) {
			String scope = work.remove(0);
			for (UsingDirective directive : usingDirectives) {
				if (!String.join("::", directive.scope()).equals(scope)) {
					continue;
				}
				String target = resolveNamespace(directive.scope(), directive.target());
				if (target != null && visible.add(target)) {
					work.add(target);
				}
			}
		}
		return visible;
	}

	private String resolveNamespace(List<String> scope, String written) {
		if (written.startsWith("::")) {
			return known(written.substring(2));
		}
		for (int depth = scope.size(); depth >= 0; depth--) {
			String prefix = String.join("::", scope.subList(0, depth));
			String candidate = known(prefix.isEmpty() ? written : prefix + "::" + written);
			if (candidate != null) {
				return candidate;
			}
		}
		return null;
	}

	private String known(String path) {
		String target = namespaceAliases.getOrDefault(path, path);
		return namespaces.contains(target) ? target : null;
	}

	Set<String> visibleNames() {
		Set<String> visible = visibleNamespaces();
		Set<String> names = new TreeSet<>();
		for (Entity entity : entities) {
			String last = entity.name().substring(entity.name().lastIndexOf(':') + 1);
			if (!keep(last)) {
				continue;
			}
			List<String> path = entity.namespace();
			if (path.isEmpty()) {
				names.add(entity.name());
				continue;
			}
			if (path.stream().anyMatch(PreludeNames::internalNamespace)) {
				continue;
			}
			names.add(String.join("::", path) + "::" + entity.name());
			String joined = String.join("::", path);
			for (String using : visible) {
				if (joined.equals(using)) {
					names.add(entity.name());
				} else if (joined.startsWith(using + "::")) {
					names.add(joined.substring(using.length() + 2) + "::" + entity.name());
				}
			}
		}
		return names;
	}

	static boolean internalNamespace(String name) {
		return INTERNAL_NAMESPACES.contains(name) || name.startsWith("__")
				|| (name.length() > 1 && name.charAt(0) == '_' && Character.isUpperCase(name.charAt(1)));
	}

	/** Reserved __builtin_* names are left out, except HIP's __builtin_amdgcn_* intrinsics. */
	static boolean keep(String name) {
		return !name.startsWith("__builtin_") || name.startsWith("__builtin_amdgcn_");
	}
}
