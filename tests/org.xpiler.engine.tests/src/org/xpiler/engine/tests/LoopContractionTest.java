package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.xpiler.engine.passes.LoopContraction;
import org.xpiler.engine.passes.PassRefusal;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Loop contraction fuses a loop that fills a temporary array into the next loop that reads it: the temporary
 * becomes a scalar when nothing else uses it and stays an array otherwise; a consumer that reads ahead of the
 * producer, overwrites what the producer has still to read, or shares a changing variable keeps the loops
 * apart.
 */
public class LoopContractionTest {
	private static final String SQUARE_PLUS = """
			extern "C" void square_plus_kernel(const float* x, float* y)
			{
			    float t[1024];
			    for (int i = 0; i < 1024; i++) {
			        t[i] = x[i] * x[i];
			    }
			    for (int k = 0; k < 1024; k++) {
			        y[k] = t[k] + 1.0f;
			    }
			}
			""";

	/** The centred values feed the variance only; the normalized row recomputes them. */
	private static final String LAYERNORM = """
			extern "C" void layernorm_kernel(const float* x, float* y)
			{
			    for (int r = 0; r < 8; r++) {
			        float mean = 0.0f;
			        for (int j = 0; j < 128; j++) {
			            mean += x[r * 128 + j];
			        }
			        mean = mean / 128.0f;
			        float d[128];
			        float var = 0.0f;
			        for (int j = 0; j < 128; j++) {
			            d[j] = x[r * 128 + j] - mean;
			        }
			        for (int k = 0; k < 128; k++) {
			            var += d[k] * d[k];
			        }
			        float rstd = 1.0f / sqrtf(var / 128.0f + 0.00001f);
			        for (int j = 0; j < 128; j++) {
			            y[r * 128 + j] = (x[r * 128 + j] - mean) * rstd;
			        }
			    }
			}
			""";

	/** The exponentials are summed, then read again to normalize: fused with the sum, kept as an array. */
	private static final String SOFTMAX = """
			extern "C" void softmax_kernel(const float* x, float* y)
			{
			    float e[64];
			    for (int r = 0; r < 16; r++) {
			        float m = x[r * 64];
			        for (int j = 1; j < 64; j++) {
			            m = fmaxf(m, x[r * 64 + j]);
			        }
			        float s = 0.0f;
			        for (int j = 0; j < 64; j++) {
			            e[j] = expf(x[r * 64 + j] - m);
			        }
			        for (int j = 0; j < 64; j++) {
			            s += e[j];
			        }
			        for (int j = 0; j < 64; j++) {
			            y[r * 64 + j] = e[j] / s;
			        }
			    }
			}
			""";

	private static TranslationUnit parse(String text) {
		return PassTesting.parse(text, Dialect.VNNI);
	}

	private record Contracted(String output, Map<String, String> knobs) {
	}

	private static Contracted contract(String source, int loops) {
		TranslationUnit unit = parse(source);
		LoopContraction pass = new LoopContraction(loops);
		assertEquals(Optional.empty(), pass.refusal(unit, Dialect.VNNI, Dialect.VNNI));
		Map<String, String> knobs = pass.apply(unit, Dialect.VNNI, Dialect.VNNI);
		String output = Dialect.VNNI.printer().print(unit);
		PassTesting.assertVerifies(source, Dialect.VNNI, output, Dialect.VNNI);
		return new Contracted(output, knobs);
	}

	private static String refusal(String source, int loops) {
		TranslationUnit unit = parse(source);
		LoopContraction pass = new LoopContraction(loops);
		String reason = pass.refusal(unit, Dialect.VNNI, Dialect.VNNI).orElseThrow();
		PassRefusal thrown = assertThrows(PassRefusal.class, () -> pass.apply(unit, Dialect.VNNI, Dialect.VNNI));
		assertEquals(reason, thrown.getMessage());
		return reason;
	}

	@Test
	public void aTemporaryUsedOnlyByTheNextLoopBecomesAScalarOfTheFusedLoop() {
		Contracted result = contract(SQUARE_PLUS, 0);
		assertEquals(Map.of("loops", "0", "temporary", "t", "contracted", "true"), result.knobs());
		assertTrue(result.output().contains("""
				{
				    for (int i = 0; i < 1024; i++) {
				        float t_value = x[i] * x[i];
				        y[i] = t_value + 1.0f;
				    }
				}
				"""), result.output());
		assertFalse(result.output().contains("t["), result.output());
	}

	@Test
	public void layernormsCentredValuesAreContractedIntoTheVarianceLoop() {
		assertEquals(List.of(2), LoopContraction.options(parse(LAYERNORM)).stream()
				.map(o -> Integer.valueOf(o.apply(parse(LAYERNORM), Dialect.VNNI, Dialect.VNNI).get("loops"))).toList());
		Contracted result = contract(LAYERNORM, 2);
		assertEquals("true", result.knobs().get("contracted"));
		assertTrue(result.output().contains("""
				        for (int j = 0; j < 128; j++) {
				            float d_value = x[r * 128 + j] - mean;
				            var += d_value * d_value;
				        }
				"""), result.output());
		assertFalse(result.output().contains("float d[128];"), result.output());
	}

	@Test
	public void aTemporaryReadAgainLaterIsFusedButKeptAsAnArray() {
		assertEquals(1, LoopContraction.options(parse(SOFTMAX)).size());
		Contracted result = contract(SOFTMAX, 2);
		assertEquals(Map.of("loops", "2", "temporary", "e", "contracted", "false"), result.knobs());
		assertTrue(result.output().contains("""
				        for (int j = 0; j < 64; j++) {
				            e[j] = expf(x[r * 64 + j] - m);
				            s += e[j];
				        }
				"""), result.output());
		assertTrue(result.output().contains("float e[64];"), result.output());
	}

	@Test
	public void aConsumerReadingAheadOfTheProducerIsRefusedWithItsLine() {
		String ahead = SQUARE_PLUS.replace("y[k] = t[k] + 1.0f;", "y[k] = t[k + 1] + 1.0f;").replace("k < 1024", "k < 1023")
				.replace("i < 1024", "i < 1023");
		assertEquals("line 8: t[k + 1] may touch what t[i] (line 5) touches at a later iteration of the fused loop",
				refusal(ahead, 0));
		assertEquals(List.of(), LoopContraction.options(parse(ahead)));
	}

	@Test
	public void overwritingWhatTheProducerStillReadsIsRefusedButOverwritingWhatItHasReadIsNot() {
		String behind = """
				extern "C" void smooth_kernel(const float* x, float* a)
				{
				    float t[256];
				    for (int i = 1; i < 255; i++) {
				        t[i] = a[i - 1] + x[i];
				    }
				    for (int k = 1; k < 255; k++) {
				        a[k] = t[k] * 0.5f;
				    }
				}
				""";
		assertEquals("line 8: a[k] may touch what a[i - 1] (line 5) touches at a later iteration of the fused loop",
				refusal(behind, 0));
		Contracted ahead = contract(behind.replace("a[i - 1]", "a[i + 1]"), 0);
		assertEquals("true", ahead.knobs().get("contracted"));
		assertTrue(ahead.output().contains("a[i] = t_value * 0.5f;"), ahead.output());
	}

	@Test
	public void aVariableTheProducerAccumulatesKeepsTheLoopsApart() {
		String source = """
				extern "C" void scale_kernel(const float* x, float* y)
				{
				    float t[256];
				    float s = 0.0f;
				    for (int i = 0; i < 256; i++) {
				        t[i] = x[i] * 2.0f;
				        s += x[i];
				    }
				    for (int k = 0; k < 256; k++) {
				        y[k] = t[k] / s;
				    }
				}
				""";
		assertEquals("line 9: the loop over k and the loop over i (line 5) both use s, which the loop over i changes",
				refusal(source, 0));
	}

	@Test
	public void differentHeadersNoTemporaryAndOtherDialectsAreRefused() {
		assertEquals("line 7: the loop over k and the loop over i (line 4) have different headers",
				refusal(SQUARE_PLUS.replace("k < 1024", "k < 512"), 0));
		assertEquals("line 4: the loop over i writes no local array that the next loop reads",
				refusal(SQUARE_PLUS.replace("y[k] = t[k] + 1.0f;", "y[k] = x[k];"), 0));
		assertEquals("line 7: the loop over k is not followed by a loop", refusal(SQUARE_PLUS, 1));
		assertEquals(Optional.of("contracts loops of sequential C++ only"),
				new LoopContraction(0).refusal(parse(SQUARE_PLUS), Dialect.CUDA, Dialect.VNNI));
	}
}
