package org.xpiler.lang.parsing;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import org.eclipse.emf.common.util.URI;
import org.eclipse.xtext.resource.XtextResource;
import org.eclipse.xtext.resource.XtextResourceSet;
import org.eclipse.xtext.util.CancelIndicator;
import org.eclipse.xtext.validation.CheckMode;
import org.eclipse.xtext.validation.IResourceValidator;
import org.eclipse.xtext.validation.Issue;
import org.xpiler.lang.BangStandaloneSetup;
import org.xpiler.lang.CudaStandaloneSetup;
import org.xpiler.lang.HipStandaloneSetup;
import org.xpiler.lang.VnniStandaloneSetup;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.diagnostics.Diagnostic.Severity;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.TranslationUnit;

import com.google.inject.Injector;

/**
 * Reads kernel files of the four dialects into their Xtext models and reports everything wrong with them as
 * located {@link Diagnostic}s: unreadable bytes, nesting too deep to parse, syntax errors and the validators'
 * findings. Never throws for bad input.
 */
public final class KernelParser {
	/** Parsing runs on its own thread with a generous stack: the grammar is recursive-descent. */
	private static final long PARSER_STACK_BYTES = 64L << 20;

	private static final Map<Dialect, Injector> INJECTORS = new EnumMap<>(Dialect.class);

	/** The Xtext injector of a dialect's language, created on first use (it takes a moment). */
	public static synchronized Injector injector(Dialect dialect) {
		return INJECTORS.computeIfAbsent(dialect, d -> switch (d) {
		case CUDA -> new CudaStandaloneSetup().createInjectorAndDoEMFRegistration();
		case HIP -> new HipStandaloneSetup().createInjectorAndDoEMFRegistration();
		case BANG -> new BangStandaloneSetup().createInjectorAndDoEMFRegistration();
		case VNNI -> new VnniStandaloneSetup().createInjectorAndDoEMFRegistration();
		});
	}

	/** Reads a file; the dialect comes from its extension unless given. */
	public ParsedKernel parse(Path file, Optional<Dialect> dialect) {
		String name = file.toString();
		Optional<Dialect> chosen = dialect.or(() -> Dialect.fromFile(file));
		if (chosen.isEmpty()) {
			return unreadable(name, null, "cannot tell the dialect from the file name; name it .cu, .hip, .mlu or"
					+ " .cpp, or give the dialect explicitly");
		}
		byte[] bytes;
		try {
			bytes = Files.readAllBytes(file);
		} catch (NoSuchFileException e) {
			return unreadable(name, chosen.get(), "cannot read: no such file");
		} catch (IOException e) {
			return unreadable(name, chosen.get(), "cannot read: " + e.getMessage());
		}
		SourceDecoder.Decoded decoded = SourceDecoder.decode(name, bytes);
		if (decoded.problem() != null) {
			return new ParsedKernel(name, chosen.get(), null, List.of(decoded.problem()));
		}
		return parse(name, decoded.text(), chosen.get());
	}

	/**
	 * Parses and validates source text; {@code file} names it in diagnostics. Uses of loop-header macros are
	 * expanded first ({@link LoopHeaderMacros}).
	 */
	public ParsedKernel parse(String file, String source, Dialect dialect) {
		String text = LoopHeaderMacros.expand(source);
		Optional<Diagnostic> tooDeep = NestingLimit.check(file, text);
		if (tooDeep.isPresent()) {
			return new ParsedKernel(file, dialect, null, List.of(tooDeep.get()));
		}
		Injector injector = injector(dialect);
		XtextResourceSet resourceSet = injector.getInstance(XtextResourceSet.class);
		String extension = dialect.fileExtensions().get(0);
		XtextResource resource = (XtextResource) resourceSet
				.createResource(URI.createURI("kernel:/" + resourceSet.getResources().size() + "." + extension));
		AtomicReference<Throwable> failure = new AtomicReference<>();
		Thread parser = new Thread(null, () -> {
			try {
				resource.load(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), null);
			} catch (IOException | RuntimeException | StackOverflowError e) {
				failure.set(e);
			}
		}, "xpiler-parser", PARSER_STACK_BYTES);
		parser.start();
		try {
			parser.join();
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return unreadable(file, dialect, "parsing was interrupted");
		}
		if (failure.get() != null) {
			return unreadable(file, dialect, "the parser gave up on this file (" + failure.get() + ")");
		}
		List<Diagnostic> diagnostics = new ArrayList<>();
		for (Issue issue : injector.getInstance(IResourceValidator.class).validate(resource, CheckMode.ALL,
				CancelIndicator.NullImpl)) {
			diagnostics.add(toDiagnostic(file, issue));
		}
		diagnostics.sort(Comparator.comparingInt(Diagnostic::line).thenComparingInt(Diagnostic::column));
		return new ParsedKernel(file, dialect, resource, List.copyOf(diagnostics));
	}

	/**
	 * Parses one C expression of a dialect (a catalog rule, a reference snippet) without validating it.
	 *
	 * @throws IllegalArgumentException when the text is not a single expression
	 */
	public Expression parseExpression(String text, Dialect dialect) {
		XtextResourceSet resourceSet = injector(dialect).getInstance(XtextResourceSet.class);
		XtextResource resource = (XtextResource) resourceSet
				.createResource(URI.createURI("expression:/rule." + dialect.fileExtensions().get(0)));
		try {
			resource.load(new ByteArrayInputStream(
					("int __xpiler_expression = " + text + ";").getBytes(StandardCharsets.UTF_8)), null);
		} catch (IOException e) {
			throw new IllegalArgumentException("cannot read the expression " + text, e);
		}
		TranslationUnit unit = resource.getContents().isEmpty() ? null : (TranslationUnit) resource.getContents().get(0);
		if (resource.getErrors().isEmpty() && unit != null && unit.getItems().size() == 1
				&& unit.getItems().get(0) instanceof Declaration declaration
				&& declaration.getDeclarators().get(0).getInitializer() instanceof Expression expression) {
			return expression;
		}
		throw new IllegalArgumentException("not a C expression: " + text + " " + resource.getErrors());
	}

	private static ParsedKernel unreadable(String file, Dialect dialect, String message) {
		return new ParsedKernel(file, dialect, null,
				List.of(new Diagnostic(file, 0, 0, Severity.ERROR, message, "unreadable")));
	}

	private static Diagnostic toDiagnostic(String file, Issue issue) {
		Severity severity = switch (issue.getSeverity()) {
		case ERROR -> Severity.ERROR;
		case WARNING -> Severity.WARNING;
		default -> Severity.INFO;
		};
		int line = issue.getLineNumber() == null ? 0 : issue.getLineNumber();
		int column = issue.getColumn() == null ? 0 : issue.getColumn();
		return new Diagnostic(file, line, column, severity, issue.getMessage(), issue.getCode());
	}
}
