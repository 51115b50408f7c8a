package org.xpiler.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

import org.xpiler.lang.ast.AstNode;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code xpiler parse}: reads kernel files as their compilers would and reports what is wrong, with locations. */
@Command(name = "parse", mixinStandardHelpOptions = true,
		description = { "Parse and validate kernel files; print every problem as file:line:column: severity: message.",
				"Exits 1 when any file has an error." })
class ParseCommand implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	@Mixin
	JsonOption json;

	@Parameters(paramLabel = "FILE", arity = "1..*",
			description = "Kernel files: .cu (CUDA), .hip (HIP), .mlu (BANG C), .cpp/.cc (VNNI).")
	List<Path> files;

	@Option(names = "--dialect", paramLabel = "D", converter = DialectConverter.class,
			description = "Read every file as this dialect (cuda, hip, bang, vnni) instead of by extension.")
	Dialect dialect;

	@Option(names = "--ast", description = "Also print the syntax tree of each file.")
	boolean ast;

	@Override
	public Integer call() {
		KernelParser parser = new KernelParser();
		PrintWriter out = spec.commandLine().getOut();
		boolean anyError = false;
		int errors = 0;
		int warnings = 0;
		List<Map<String, Object>> reports = new ArrayList<>();
		for (Path file : files) {
			ParsedKernel parsed = parser.parse(file, Optional.ofNullable(dialect));
			anyError |= parsed.hasErrors();
			errors += parsed.errors().size();
			warnings += (int) parsed.diagnostics().stream().filter(d -> d.severity() == Diagnostic.Severity.WARNING)
					.count();
			if (json.enabled()) {
				reports.add(report(parsed));
				continue;
			}
			parsed.diagnostics().forEach(d -> out.println(d.format()));
			if (ast && parsed.unit() != null) {
				out.print(AstNode.of(parsed.unit()).toOutline());
			}
		}
		if (json.enabled()) {
			JsonOption.print(out, reports);
		} else if (files.size() > 1) {
			out.printf("%d files: %d errors, %d warnings%n", files.size(), errors, warnings);
		}
		return anyError ? ExitCode.USER_ERROR : ExitCode.OK;
	}

	private Map<String, Object> report(ParsedKernel parsed) {
		Map<String, Object> report = new LinkedHashMap<>();
		report.put("file", parsed.file());
		report.put("dialect", parsed.dialect() == null ? null : parsed.dialect().id());
		report.put("errors", parsed.errors().size());
		List<Map<String, Object>> diagnostics = new ArrayList<>();
		for (Diagnostic d : parsed.diagnostics()) {
			Map<String, Object> entry = new LinkedHashMap<>();
			entry.put("line", d.line());
			entry.put("column", d.column());
			entry.put("severity", d.severity().label());
			entry.put("message", d.message());
			entry.put("code", d.code());
			diagnostics.add(entry);
		}
		report.put("diagnostics", diagnostics);
		if (ast && parsed.unit() != null) {
			report.put("ast", AstNode.of(parsed.unit()));
		}
		return report;
	}
}
