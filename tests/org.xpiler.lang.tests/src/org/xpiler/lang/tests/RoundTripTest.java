package org.xpiler.lang.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.ReturnStatement;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/** parse → print → parse gives an equal model, and printing is stable. */
public class RoundTripTest {
	private static final KernelParser PARSER = new KernelParser();

	static Stream<Path> corpusFiles() {
		return Corpus.files().stream();
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("corpusFiles")
	public void printedCorpusFileParsesToAnEqualModel(Path file) {
		ParsedKernel original = PARSER.parse(file, Optional.empty());
		Dialect dialect = original.dialect();
		String printed = dialect.printer().print(original.unit());
		ParsedKernel reparsed = PARSER.parse(file + " (printed)", printed, dialect);
		assertEquals(List.of(), reparsed.errors(), () -> "printed:\n" + printed);
		assertTrue(EcoreUtil.equals(original.unit(), reparsed.unit()), () -> "models differ; printed:\n" + printed);
		assertEquals(printed, dialect.printer().print(reparsed.unit()), "printing is stable");
	}

	@Test
	public void printerUsesTheConventionalLayout() {
		String source = "extern \"C\"   void  f(const float*a,float *  __restrict__ b){for(int i=0;i<4;++i){if(a[i]>0)"
				+ "b[i]=-a[i];else b[i]=(float)i*2.0f;}}";
		ParsedKernel parsed = PARSER.parse("f.cpp", source, Dialect.VNNI);
		assertEquals(List.of(), parsed.errors());
		assertEquals("""
				extern "C" void f(const float *a, float *__restrict__ b) {
				    for (int i = 0; i < 4; ++i) {
				        if (a[i] > 0)
				            b[i] = -a[i];
				        else
				            b[i] = (float)i * 2.0f;
				    }
				}
				""", Dialect.VNNI.printer().print(parsed.unit()));
	}

	@Test
	public void aCastToATypedefNameOfACastOrANegationIsPrintedAsOneAgain() {
		// passes build such casts from parts: (T)(float)x and (T)-x would read as a call and a subtraction
		ParsedKernel parsed = PARSER.parse("c.cpp", """
				typedef float T;
				float f(float x) {
				    return (T)(0) + (T)(0) + (T)(0);
				}
				""", Dialect.VNNI);
		assertEquals(List.of(), parsed.errors());
		List<Cast> casts = EcoreUtil2.eAllOfType(parsed.unit(), Cast.class);
		List<String> operands = List.of("(float)x", "-x", "!x");
		for (int i = 0; i < casts.size(); i++) {
			Expression operand = PARSER.parse("o.cpp", "float g(float x) { return " + operands.get(i) + "; }", Dialect.VNNI)
					.unit().eAllContents().next() instanceof FunctionDefinition g
							? ((ReturnStatement) g.getBody().getStatements().get(0)).getValue() : null;
			casts.get(i).setOperand(operand);
		}
		String printed = Dialect.VNNI.printer().print(parsed.unit());
		assertTrue(printed.contains("return (T)((float)x) + (T)(-x) + (T)!x;"), printed);
		ParsedKernel reparsed = PARSER.parse("c.cpp (printed)", printed, Dialect.VNNI);
		assertEquals(List.of(), reparsed.errors(), printed);
		assertEquals(4, EcoreUtil2.eAllOfType(reparsed.unit(), Cast.class).size(), printed); // and (float)x
	}

	@Test
	public void launchBoundsAndKernelLaunchesSurviveTheRoundTrip() {
		String source = """
				__global__ void __launch_bounds__(256, 2) scale(float *x) {
				    x[blockIdx.x * blockDim.x + threadIdx.x] *= 2.0f;
				}

				extern "C" void scale_kernel(float *x) {
				    scale<<<dim3(4), 256, 0>>>(x);
				}
				""";
		ParsedKernel parsed = PARSER.parse("s.cu", source, Dialect.CUDA);
		assertEquals(List.of(), parsed.errors());
		assertEquals(source, Dialect.CUDA.printer().print(parsed.unit()));
	}
}
