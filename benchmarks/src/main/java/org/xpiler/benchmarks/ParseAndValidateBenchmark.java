package org.xpiler.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * Parse and validate a 200-line CUDA file (two corpus kernels, self-attention and layer norm, in one file)
 * with the language's real parser and every validation rule, warm. Target: under 50 ms per file.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ParseAndValidateBenchmark {
	private final KernelParser parser = new KernelParser();
	private String source;

	@Setup
	public void readKernel() throws IOException {
		Path corpus = Path.of(System.getProperty("xpiler.corpus", "tests/corpus"), "cuda");
		source = Files.readString(corpus.resolve("self_attention_4x64x64.cu"))
				+ Files.readString(corpus.resolve("layernorm_64x768.cu"));
		ParsedKernel parsed = parser.parse("bench.cu", source, Dialect.CUDA);
		if (parsed.hasErrors() || source.lines().count() < 190) {
			throw new IllegalStateException("the benchmark input is not a clean 200-line kernel: "
					+ parsed.diagnostics());
		}
	}

	@Benchmark
	public ParsedKernel parseAndValidate200LineKernel() {
		return parser.parse("bench.cu", source, Dialect.CUDA);
	}
}
