package org.xpiler.lang.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.eclipse.cdt.core.dom.ast.ASTVisitor;
import org.eclipse.cdt.core.dom.ast.IASTName;
import org.eclipse.cdt.core.dom.ast.IASTNode;
import org.eclipse.cdt.core.dom.ast.IASTProblem;
import org.eclipse.cdt.core.dom.ast.IASTTranslationUnit;
import org.eclipse.cdt.core.dom.ast.IBinding;
import org.eclipse.cdt.core.dom.ast.IProblemBinding;
import org.eclipse.cdt.core.dom.ast.gnu.cpp.GPPLanguage;
import org.eclipse.cdt.core.parser.DefaultLogService;
import org.eclipse.cdt.core.parser.FileContent;
import org.eclipse.cdt.core.parser.IncludeFileContentProvider;
import org.eclipse.cdt.core.parser.ScannerInfo;
import org.eclipse.xtext.GrammarUtil;
import org.eclipse.xtext.Keyword;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xpiler.lang.catalog.CatalogHeader;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.services.BangGrammarAccess;

/**
 * The real compilers agree with our reading of the corpus: every CUDA file compiles with nvcc, every HIP file
 * with hipcc, every VNNI file with g++ (each after its prelude). BANG C has no compiler here: CDT's C++ parser
 * reads every BANG file against the header our catalog declares, with no problem binding. A compiler that
 * is not installed skips its files with a message.
 */
public class RealCompilersTest {
	private static final long TIMEOUT_SECONDS = 180;

	@TempDir
	Path work;

	static Stream<Path> cudaFiles() {
		return Corpus.files(Dialect.CUDA).stream();
	}

	static Stream<Path> hipFiles() {
		return Corpus.files(Dialect.HIP).stream();
	}

	static Stream<Path> vnniFiles() {
		return Corpus.files(Dialect.VNNI).stream();
	}

	static Stream<Path> bangFiles() {
		return Corpus.files(Dialect.BANG).stream();
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("cudaFiles")
	public void cudaFileCompilesWithNvcc(Path file) throws Exception {
		Path source = withPrelude(file, Dialect.CUDA, "kernel.cu");
		compile(List.of("nvcc", "-arch=sm_80", "-c", source.toString(), "-o", work.resolve("kernel.o").toString()),
				Map.of());
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("hipFiles")
	public void hipFileCompilesWithHipcc(Path file) throws Exception {
		Path source = withPrelude(file, Dialect.HIP, "kernel.hip");
		compile(List.of("hipcc", "--offload-arch=gfx90a", "-c", source.toString(), "-o",
				work.resolve("kernel.o").toString()), Map.of("HIP_PLATFORM", "amd"));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("vnniFiles")
	public void vnniFileCompilesWithGcc(Path file) throws Exception {
		Path source = withPrelude(file, Dialect.VNNI, "kernel.cpp");
		compile(List.of("g++", "-march=icelake-server", "-O2", "-shared", "-fPIC", source.toString(), "-o",
				work.resolve("kernel.so").toString()), Map.of());
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("bangFiles")
	public void bangFileHasNoProblemBindingsForCdtAgainstTheCatalogHeader(Path file) throws Exception {
		String header = CatalogHeader.write(Dialect.BANG.catalog(), bangQualifiers());
		int headerLines = (int) header.lines().count();
		String text = header + Files.readString(file);
		IASTTranslationUnit unit = GPPLanguage.getDefault().getASTTranslationUnit(
				FileContent.create(file.toString(), text.toCharArray()), new ScannerInfo(),
				IncludeFileContentProvider.getEmptyFilesProvider(), null, 0, new DefaultLogService());
		List<String> problems = new ArrayList<>();
		unit.accept(new ASTVisitor(true) {
			@Override
			public int visit(IASTName name) {
				IBinding binding = name.resolveBinding();
				if (binding instanceof IProblemBinding problem) {
					problems.add(at(name, headerLines) + problem.getMessage());
				}
				return PROCESS_CONTINUE;
			}

			@Override
			public int visit(IASTProblem problem) {
				problems.add(at(problem, headerLines) + problem.getMessageWithLocation());
				return PROCESS_CONTINUE;
			}
		});
		assertEquals(List.of(), problems);
	}

	/** The qualifier keywords of the BANG grammar, which the catalog header defines away. */
	private static List<String> bangQualifiers() {
		BangGrammarAccess grammar = KernelParser.injector(Dialect.BANG).getInstance(BangGrammarAccess.class);
		return GrammarUtil.containedKeywords(grammar.getQualifierRule()).stream().map(Keyword::getValue)
				.filter(k -> k.startsWith("__")).distinct().toList();
	}

	private static String at(IASTNode node, int headerLines) {
		return node.getFileLocation() == null ? ""
				: "line " + (node.getFileLocation().getStartingLineNumber() - headerLines) + ": ";
	}

	private Path withPrelude(Path file, Dialect dialect, String name) throws IOException {
		Path source = work.resolve(name);
		Files.writeString(source, dialect.prelude() + "\n" + Files.readString(file));
		return source;
	}

	private void compile(List<String> command, Map<String, String> environment) throws Exception {
		assumeTrue(onPath(command.get(0)), () -> command.get(0) + " is not installed: skipping this compiler check");
		ProcessBuilder builder = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true);
		builder.environment().putAll(environment);
		Process process = builder.start();
		byte[] output = process.getInputStream().readAllBytes();
		if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
			process.destroyForcibly();
		}
		assertEquals(0, process.exitValue(), () -> String.join(" ", command) + "\n"
				+ new String(output, StandardCharsets.UTF_8));
	}

	private static boolean onPath(String command) {
		String path = System.getenv("PATH");
		return path != null && Stream.of(path.split(File.pathSeparator))
				.anyMatch(dir -> Files.isExecutable(Path.of(dir, command)));
	}
}
