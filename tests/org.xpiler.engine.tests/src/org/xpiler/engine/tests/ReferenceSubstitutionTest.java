package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.xpiler.engine.passes.ReferenceSubstitution;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * Reference substitution replaces the uses of reference locals of sequential C++ by the places they are bound
 * to: what it writes, that the oracle accepts it, and the references it keeps because the place could name
 * another object at a later use.
 */
public class ReferenceSubstitutionTest {
	private final ReferenceSubstitution pass = new ReferenceSubstitution();

	private record Substituted(String output, Map<String, String> knobs) {
	}

	private Substituted substitute(String source) {
		TranslationUnit unit = PassTesting.parse(source, Dialect.VNNI);
		assertEquals(Optional.empty(), pass.refusal(unit, Dialect.VNNI, Dialect.VNNI));
		Map<String, String> knobs = pass.apply(unit, Dialect.VNNI, Dialect.VNNI);
		String output = Dialect.VNNI.printer().print(unit);
		PassTesting.assertVerifies(source, Dialect.VNNI, output, Dialect.VNNI);
		return new Substituted(output, knobs);
	}

	private String refusal(String source) {
		return pass.refusal(PassTesting.parse(source, Dialect.VNNI), Dialect.VNNI, Dialect.VNNI).orElseThrow();
	}

	@Test
	public void anAccumulatorBoundToTheOutputElementBecomesTheElement() {
		Substituted result = substitute("""
				#define OW 8
				extern "C" void conv_kernel(const float* input, const float* weight, float* output) {
				    const int OH = 8;
				    for (int f = 0; f < 4; ++f)
				        for (int oh = 0; oh < OH; ++oh)
				            for (int ow = 0; ow < OW; ++ow) {
				                float& out = output[(f * OH + oh) * OW + ow];
				                out = 0.0f;
				                for (int c = 0; c < 3; ++c) {
				                    const float& w = weight[f * 3 + c];
				                    out += input[(c * OH + oh) * OW + ow] * w;
				                }
				            }
				}
				""");
		assertEquals(Map.of("substituted", "2", "kept", "0"), result.knobs());
		assertFalse(result.output().contains("&"), result.output());
		assertTrue(result.output().contains("output[(f * OH + oh) * OW + ow] = 0.0f;"), result.output());
		assertTrue(result.output().contains(
				"output[(f * OH + oh) * OW + ow] += input[(c * OH + oh) * OW + ow] * weight[f * 3 + c];"), result.output());
	}

	@Test
	public void referencesToVariablesDereferencesAndPointersBecomeThem() {
		Substituted result = substitute("""
				extern "C" void mixed_kernel(const float* x, float* y) {
				    float total = 0.0f;
				    float& t = total;
				    for (int i = 0; i < 16; ++i) t += x[i];
				    float* p = y;
				    float*& q = p;
				    q += 2;
				    float& head = *p;
				    head = total;
				    y[0] = 0.0f;
				    y[1] = 0.0f;
				    for (int i = 3; i < 16; ++i) y[i] = x[i];
				}
				""");
		assertEquals(Map.of("substituted", "3", "kept", "0"), result.knobs());
		assertTrue(result.output().contains("total += x[i];"), result.output());
		assertTrue(result.output().contains("p += 2;"), result.output());
		assertTrue(result.output().contains("(*p) = total;"), result.output());
	}

	@Test
	public void aReferenceWhoseSubscriptChangesLaterIsKept() {
		String source = """
				extern "C" void shift_kernel(const float* x, float* y) {
				    for (int i = 0; i < 8; ++i) y[i] = x[i];
				    int k = 2;
				    float& r = y[k];
				    k = 5;
				    r = y[k];
				}
				""";
		assertEquals("line 4: the address 'r' is bound to depends on 'k', which line 5 assigns", refusal(source));
	}

	@Test
	public void referencesThatMayNameAnotherObjectAreKept() {
		assertTrue(refusal("""
				extern "C" void gather_kernel(const float* x, float* y) {
				    for (int i = 0; i < 8; ++i) {
				        float& r = y[(int)x[i] & 7];
				        r = x[i];
				    }
				}
				""").startsWith("line 3: 'r' is not bound to a variable, element or field whose address is found without "
				+ "reading memory"));
		assertEquals("line 5: the address 'r' is bound to depends on 'k', which line 3 lets other code write", refusal("""
				extern "C" void alias_kernel(const float* x, float* y) {
				    int k = 0;
				    int* pk = &k;
				    for (int i = 0; i < 8; ++i) y[i] = x[i];
				    float& r = y[k];
				    *pk = 3;
				    r = 1.0f;
				}
				"""));
		assertEquals("line 3: the const reference 'd' may be bound to a converted copy: its type is not the one of 'x' "
				+ "as subscripted", refusal("""
				extern "C" void widen_kernel(const float* x, float* y) {
				    for (int i = 0; i < 8; ++i) {
				        const double& d = x[i];
				        y[i] = (float)(d * 0.5);
				    }
				}
				"""));
		assertEquals("line 3: 'i' is declared again (line 5) in the scope of 'r'", refusal("""
				extern "C" void shadow_kernel(const float* x, float* y) {
				    int i = 0;
				    float& r = y[i];
				    r = 0.0f;
				    for (int i = 1; i < 8; ++i) { y[i] = x[i]; r += x[i]; }
				}
				"""));
	}

	@Test
	public void aKeptReferenceDoesNotStopTheOthers() {
		Substituted result = substitute("""
				extern "C" void partial_kernel(const float* x, float* y) {
				    for (int i = 0; i < 8; ++i) {
				        float& out = y[i];
				        const double& d = x[i];
				        out = (float)(d * 2.0);
				    }
				}
				""");
		assertEquals(Map.of("substituted", "1", "kept", "1"), result.knobs());
		assertTrue(result.output().contains("y[i] = (float)(d * 2.0);"), result.output());
	}

	@Test
	public void itRefusesOtherDialectsAndCodeWithoutReferences() {
		TranslationUnit plain = PassTesting.parse("""
				extern "C" void copy_kernel(const float* x, float* y) {
				    for (int i = 0; i < 8; ++i) y[i] = x[i];
				}
				""", Dialect.VNNI);
		assertEquals(Optional.of("no reference local"), pass.refusal(plain, Dialect.VNNI, Dialect.VNNI));
		assertEquals(Optional.of("substitutes reference locals of sequential C++ only"),
				pass.refusal(plain, Dialect.CUDA, Dialect.VNNI));
	}
}
