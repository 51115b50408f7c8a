package org.xpiler.devices;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.cdt.core.dom.ast.ASTVisitor;
import org.eclipse.cdt.core.dom.ast.IASTFileLocation;
import org.eclipse.cdt.core.dom.ast.IASTName;
import org.eclipse.cdt.core.dom.ast.IASTNode;
import org.eclipse.cdt.core.dom.ast.IASTProblem;
import org.eclipse.cdt.core.dom.ast.IASTTranslationUnit;
import org.eclipse.cdt.core.dom.ast.IProblemBinding;
import org.eclipse.cdt.core.dom.ast.gnu.cpp.GPPLanguage;
import org.eclipse.cdt.core.parser.DefaultLogService;
import org.eclipse.cdt.core.parser.FileContent;
import org.eclipse.cdt.core.parser.IncludeFileContentProvider;
import org.eclipse.cdt.core.parser.ScannerInfo;
import org.eclipse.core.runtime.CoreException;
import org.eclipse.xtext.GrammarUtil;
import org.eclipse.xtext.Keyword;
import org.xpiler.lang.catalog.CatalogHeader;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.diagnostics.Diagnostic.Severity;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.services.BangGrammarAccess;

/**
 * Checks a BANG C kernel where no BANG compiler exists: CDT's C++ parser reads the kernel behind a header
 * that declares the BANG intrinsic catalog ({@link CatalogHeader}, with the BANG qualifiers defined away), and
 * every syntax problem and every name CDT cannot resolve (an unknown intrinsic, a misspelt variable) is an
 * error located in the kernel file. Kept apart from {@link CompileOnlyDevice} because CDT is an optional
 * dependency of this bundle: this class is loaded only when a BANG check runs.
 */
final class BangCdtCheck {
	/** The diagnostics' code: which tool found them. */
	static final String TOOL = "cdt";

	/** The BANG declarations, written once: the catalog does not change while the tool runs. */
	private static final class Header {
		static final String TEXT = CatalogHeader.write(Dialect.BANG.catalog(), bangQualifiers());
		static final int LINES = (int) TEXT.lines().count();
	}

	private BangCdtCheck() {
	}

	/** Whether CDT's parser can be loaded in this installation. */
	static boolean cdtAvailable() {
		try {
			Class.forName("org.eclipse.cdt.core.dom.ast.gnu.cpp.GPPLanguage", false, BangCdtCheck.class.getClassLoader());
			return true;
		} catch (ClassNotFoundException | LinkageError e) {
			return false;
		}
	}

	static CompileResult check(String device, KernelSource source) {
		String text = Header.TEXT + withLaunchesAsCalls(source.text());
		IASTTranslationUnit unit;
		try {
			unit = GPPLanguage.getDefault().getASTTranslationUnit(
					FileContent.create(source.displayName(), text.toCharArray()), new ScannerInfo(),
					IncludeFileContentProvider.getEmptyFilesProvider(), null, 0, new DefaultLogService());
		} catch (CoreException e) {
			return CompilerDiagnostics.wholeFileFailure(device, source.displayName(),
					"CDT cannot parse the file: " + e.getMessage(), TOOL, "");
		}
		List<Diagnostic> diagnostics = new ArrayList<>();
		List<String> output = new ArrayList<>();
		unit.accept(new ASTVisitor(true) {
			@Override
			public int visit(IASTName name) {
				if (name.resolveBinding() instanceof IProblemBinding problem) {
					report(name, problem.getID() == IProblemBinding.SEMANTIC_NAME_NOT_FOUND
							? "'" + name + "' is declared neither in the kernel nor in the BANG intrinsic catalog"
							: problem.getMessage());
				}
				return PROCESS_CONTINUE;
			}

			@Override
			public int visit(IASTProblem problem) {
				report(problem, problem.getMessage());
				return PROCESS_CONTINUE;
			}

			private void report(IASTNode node, String message) {
				IASTFileLocation location = node.getFileLocation();
				int line = location == null ? 0 : location.getStartingLineNumber() - Header.LINES;
				if (line < 1) {
					output.add("in the BANG declarations header: " + message);
					return;
				}
				Diagnostic diagnostic = new Diagnostic(source.displayName(), line,
						column(text, location.getNodeOffset()), Severity.ERROR, message, TOOL);
				diagnostics.add(diagnostic);
				output.add(diagnostic.format());
			}
		});
		return new CompileResult(device, output.isEmpty(), List.copyOf(diagnostics), String.join("\n", output));
	}

	/** {@code kernel<<<dim, type, queue>>>(args)}: C++ has no launch syntax. */
	private static final Pattern LAUNCH = Pattern.compile("([A-Za-z_][A-Za-z_0-9]*)\\s*<<<(.*?)>>>", Pattern.DOTALL);

	/**
	 * Launches as the calls they are, {@code (dim, type, queue, kernel)(args)}: CDT reads plain C++, and every
	 * name of the configuration and the kernel still has to resolve. Lines stay where they were.
	 */
	static String withLaunchesAsCalls(String text) {
		return LAUNCH.matcher(text).replaceAll(m -> Matcher.quoteReplacement(
				"(" + m.group(2) + ", " + m.group(1) + ")"));
	}

	/** The qualifier keywords of the BANG grammar ({@code __mlu_global__}, {@code __nram__}, ...). */
	private static List<String> bangQualifiers() {
		BangGrammarAccess grammar = KernelParser.injector(Dialect.BANG).getInstance(BangGrammarAccess.class);
		return GrammarUtil.containedKeywords(grammar.getQualifierRule()).stream().map(Keyword::getValue)
				.filter(keyword -> keyword.startsWith("__")).distinct().toList();
	}

	/** The column of a character offset, counted from 1 as compilers do. */
	private static int column(String text, int offset) {
		return offset - (text.lastIndexOf('\n', offset - 1) + 1) + 1;
	}
}
