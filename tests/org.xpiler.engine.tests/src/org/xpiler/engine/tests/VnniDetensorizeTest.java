package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.xpiler.devices.Device;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.NativeCpuDevice;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.engine.passes.VnniDetensorize;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * Detensorize turns VNNI kernels into plain scalar C++: no vector type and no intrinsic is left, the output
 * reads back without errors, and the oracle finds it computing what the source computes, on the virtual
 * device for every corpus kernel and natively (g++) for the integer dot-product kernels and the constructs
 * the corpus does not use. What it cannot expand is refused with the line.
 */
public class VnniDetensorizeTest {
	private static final Path CORPUS = Path.of(System.getProperty("xpiler.corpus", "../corpus"));
	/** An intrinsic call, a vector or mask type, or the x86 header. */
	private static final Pattern LEFTOVER = Pattern.compile("\\b_mm\\w*\\s*\\(|__m\\d|__mmask|immintrin");
	/** Comments may still talk about intrinsics. */
	private static final Pattern COMMENT = Pattern.compile("//[^\\n]*|/\\*(?s:.*?)\\*/");

	private static final String ADD = """
			#include <immintrin.h>

			// C = A + B, 16 lanes at a time and a scalar tail
			extern "C" void add_kernel(const float* A, const float* B, float* C)
			{
			    const int total = 1000;
			    int i = 0;
			    for (; i + 16 <= total; i += 16) {
			        __m512 a = _mm512_loadu_ps(A + i);
			        _mm512_storeu_ps(C + i, _mm512_add_ps(a, _mm512_loadu_ps(B + i)));
			    }
			    for (; i < total; i++) {
			        C[i] = A[i] + B[i];
			    }
			}
			""";

	/** What the corpus does not show: vector results and references in own functions, arrays, masks, sizeof. */
	private static final String EXTRAS = """
			static inline __m512 scaled(__m512 v, float s)
			{
			    v = _mm512_mul_ps(v, _mm512_set1_ps(s));
			    return v;
			}

			static inline void accumulate(__m512& acc, const float* p)
			{
			    acc = _mm512_add_ps(acc, _mm512_loadu_ps(p));
			}

			extern "C" void extras_kernel(const float* x, float* y, float* sums)
			{
			    __m512 acc[2];
			    acc[0] = _mm512_setzero_ps();
			    acc[1] = acc[0];
			    for (int i = 0; i < 256; i += 32) {
			        accumulate(acc[0], x + i);
			        accumulate(acc[1], x + i + 16);
			        __mmask16 positive = _mm512_cmp_ps_mask(acc[0], _mm512_setzero_ps(), _CMP_GT_OQ);
			        _mm512_storeu_ps(y + i, _mm512_mask_blend_ps(positive, acc[1], scaled(acc[0], 0.5f)));
			        if (_mm512_reduce_max_ps(_mm512_loadu_ps(x + i)) > 0.0f)
			            _mm512_storeu_ps(y + i + 16, scaled(_mm512_loadu_ps(x + i + 16), 2.0f));
			        else
			            _mm512_storeu_ps(y + i + 16, acc[1]);
			    }
			    const __m128 lo = _mm512_extractf32x4_ps(acc[0], 1);
			    sums[0] = _mm_cvtss_f32(_mm_add_ps(lo, _mm_movehl_ps(lo, lo)));
			    sums[1] = _mm512_reduce_add_ps(acc[1]) + (float)sizeof(__m512);
			    _mm256_storeu_si256((__m256i*)(sums + 2), _mm256_loadu_si256((const __m256i*)x));
			}
			""";

	static Stream<Path> vnniKernels() throws IOException {
		try (Stream<Path> files = Files.list(CORPUS.resolve("vnni"))) {
			return files.filter(f -> f.toString().endsWith(".cpp")).sorted().toList().stream();
		}
	}

	/** The printed output and the knobs of one application. */
	private record Detensorized(String output, Map<String, String> knobs) {
	}

	/** Parses, detensorizes and prints; checks that the output reads back clean and holds no vector code. */
	private static Detensorized detensorize(String name, String source) {
		ParsedKernel parsed = new KernelParser().parse(name, source, Dialect.VNNI);
		assertFalse(parsed.hasErrors(), () -> parsed.errors().toString());
		VnniDetensorize pass = new VnniDetensorize();
		TranslationUnit unit = parsed.unit();
		assertEquals("", pass.refusal(unit, Dialect.VNNI, Dialect.VNNI).orElse(""));
		Map<String, String> knobs = pass.apply(unit, Dialect.VNNI, Dialect.VNNI);
		String output = Dialect.VNNI.printer().print(unit);
		ParsedKernel reread = new KernelParser().parse(name, output, Dialect.VNNI);
		assertFalse(reread.hasErrors(), () -> reread.errors() + "\n" + output);
		assertFalse(LEFTOVER.matcher(COMMENT.matcher(output).replaceAll("")).find(), output);
		return new Detensorized(output, knobs);
	}

	private static void assertVerifies(Path file, String source, String output, Device device) {
		Oracle.Verdict verdict = new Oracle().verify(new KernelSource(file, Dialect.VNNI, source),
				new KernelSource(file, Dialect.VNNI, output), device, Map.of(), 3, RunRequest.of(List.of()));
		assertTrue(verdict.matches(), () -> verdict.summary() + "\n" + output);
	}

	private static NativeCpuDevice nativeDevice() {
		NativeCpuDevice device = new NativeCpuDevice();
		assumeTrue(device.unavailableReason().isEmpty(), () -> device.unavailableReason().orElse(""));
		return device;
	}

	@Test
	public void laneWiseVectorLoopsBecomeTheScalarLoopsTheyVectorizeFollowedByTheirTail() {
		String relu = """
				extern "C" void relu_kernel(const float* x, float* y)
				{
				    const int total = 1000;
				    __m512 zero = _mm512_setzero_ps();
				    int i = 0;
				    for (; i + 16 <= total; i += 16) {
				        _mm512_storeu_ps(y + i, _mm512_max_ps(_mm512_loadu_ps(x + i), zero));
				    }
				    for (; i < total; i++) {
				        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
				    }
				}
				""";
		Detensorized result = detensorize("relu.cpp", relu);
		assertEquals(Map.of("lane-loops", "1", "vector-loops", "1"), result.knobs());
		String output = result.output();
		// one iteration per lane, each intrinsic its lane's expression; zero, read nowhere else, is gone
		assertTrue(output.contains("for (int i = 0; i < 992; ++i) {\n        y[i] = x[i] > 0.0f ? x[i] : 0.0f;\n    }"),
				output);
		assertTrue(output.contains("for (int i = 992; i < total; ++i) {"), output);
		assertFalse(output.contains("\n    int i = 0;"), output); // the counter went with the loops
		assertFalse(output.contains("zero"), output);
		assertVerifies(Path.of("relu.cpp"), relu, output, new VirtualDevice());
		assertVerifies(Path.of("relu.cpp"), relu, output, nativeDevice());
		// a counter read after the loops keeps them as they are
		String counted = relu.replace("        y[i] = x[i] > 0.0f ? x[i] : 0.0f;\n    }\n",
				"        y[i] = x[i] > 0.0f ? x[i] : 0.0f;\n    }\n    y[0] = (float)i;\n");
		assertFalse(detensorize("counted.cpp", counted).knobs().containsKey("vector-loops"));
		// a whole number of vectors leaves no tail loop, which loop bind would launch as an empty kernel
		String whole = detensorize("whole.cpp", relu.replace("total = 1000", "total = 1024")).output();
		assertTrue(whole.contains("for (int i = 0; i < 1024; ++i) {"), whole);
		assertFalse(whole.contains("for (int i = 1024;"), whole);
		assertVerifies(Path.of("whole.cpp"), relu.replace("total = 1000", "total = 1024"), whole, new VirtualDevice());
		// lanes that read a neighbour the same loop stores would see its new value one lane at a time: vectors stay
		String smooth = """
				extern "C" void smooth_kernel(float* x)
				{
				    for (int i = 1; i + 16 <= 65; i += 16) {
				        _mm512_storeu_ps(x + i, _mm512_add_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(x + (i - 1))));
				    }
				}
				""";
		Detensorized neighbours = detensorize("smooth.cpp", smooth);
		assertFalse(neighbours.knobs().containsKey("lane-loops"), neighbours.output());
		assertVerifies(Path.of("smooth.cpp"), smooth, neighbours.output(), new VirtualDevice());
	}

	@Test
	public void aMaskedTailRunsOnceAtWhatTheVectorsLeftAndSteppedLoopsCountTheirSteps() {
		String masked = """
				extern "C" void relu_kernel(const float* input, float* output)
				{
				    const int n = 77 * 13;
				    const __m512 zero = _mm512_setzero_ps();
				    int i = 0;
				    for (; i + 16 <= n; i += 16) {
				        _mm512_storeu_ps(output + i, _mm512_max_ps(_mm512_loadu_ps(input + i), zero));
				    }
				    if (i < n) {
				        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
				        _mm512_mask_storeu_ps(output + i, m, _mm512_max_ps(_mm512_maskz_loadu_ps(m, input + i), zero));
				    }
				}
				""";
		String output = detensorize("masked.cpp", masked).output();
		assertTrue(output.contains("for (int i = 0; i < 992; ++i) {"), output);
		assertTrue(output.contains("{\n        const int i = 992;"), output);
		assertVerifies(Path.of("masked.cpp"), masked, output, new VirtualDevice());
		String stepped = """
				extern "C" void scale_kernel(const float* x, float* y)
				{
				    for (int n0 = 8; n0 < 190; n0 += 64) {
				        for (int j = 0; j + 16 <= 64; j += 16) {
				            _mm512_storeu_ps(y + n0 + j - 8, _mm512_mul_ps(_mm512_loadu_ps(x + n0 + j - 8), _mm512_set1_ps(2.0f)));
				        }
				    }
				}
				""";
		Detensorized result = detensorize("stepped.cpp", stepped);
		assertEquals("2", result.knobs().get("vector-loops"));
		assertTrue(result.output().contains("for (int n0_step = 0; n0_step < 3; ++n0_step) {\n        const int n0 = 8 + n0_step * 64;"),
				result.output());
		assertTrue(result.output().contains("for (int j_step = 0; j_step < 4; ++j_step) {"), result.output());
		assertVerifies(Path.of("stepped.cpp"), stepped, result.output(), new VirtualDevice());
	}

	@Test
	public void aVectorCarriedAcrossIterationsBecomesByteArraysAndHelpers() {
		// a declared before the loop and assigned in it: the loop is not lane by lane, its vectors stay vectors
		String carried = ADD.replace("    int i = 0;\n", "    __m512 a = _mm512_setzero_ps();\n    int i = 0;\n")
				.replace("__m512 a = _mm512_loadu_ps(A + i);", "a = _mm512_loadu_ps(A + i);");
		Detensorized result = detensorize("add.cpp", carried);
		assertEquals(Map.of("expanded", "_mm512_setzero_ps, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_add_ps",
				"vector-loops", "1"), result.knobs());
		String output = result.output();
		assertTrue(output.contains("for (int i_vector = 0; i_vector < 62; ++i_vector) {\n        const int i = i_vector * 16;"),
				output);
		assertTrue(output.contains("alignas(64) unsigned char a[64];\n    mm512_setzero_ps(a);"), output);
		assertTrue(output.contains("mm512_loadu_ps(a, A + i);"), output);
		assertTrue(output.contains("static inline void mm512_add_ps(unsigned char *dst, const unsigned char *a, "
				+ "const unsigned char *b)"), output);
		assertTrue(output.contains("result[i] = ((const float *)a)[i] + ((const float *)b)[i];"), output);
		assertTrue(output.contains("mm512_add_ps(t1, a, t0);\n        mm512_storeu_ps(C + i, t1);"), output);
		assertTrue(output.contains("// C = A + B"), output);
		assertVerifies(Path.of("add.cpp"), carried, output, new VirtualDevice());
		assertVerifies(Path.of("add.cpp"), carried, output, nativeDevice());
	}

	@Test
	public void ownFunctionsArraysMasksAndBranchesAreExpandedToo() {
		String output = detensorize("extras.cpp", EXTRAS).output();
		assertTrue(output.contains("static inline void scaled(unsigned char *dst, const unsigned char *v_in, float s)"),
				output);
		assertTrue(output.contains("static inline void accumulate(unsigned char *acc, const float *p)"), output);
		assertTrue(output.contains("alignas(64) unsigned char acc[2][64];"), output);
		assertTrue(output.contains("uint16_t positive = mm512_cmp_ps_mask(acc[0], t"), output);
		assertTrue(output.contains("(float)64;"), output);
		assertTrue(output.contains("mm256_storeu_si256((unsigned char *)(sums + 2), t"), output);
		assertVerifies(Path.of("extras.cpp"), EXTRAS, output, new VirtualDevice());
		assertVerifies(Path.of("extras.cpp"), EXTRAS, output, nativeDevice());
	}

	@Test
	public void whatCannotBeExpandedIsRefusedWithItsLine() {
		String source = """
				extern "C" void odd_kernel(const float* x, float* y)
				{
				    __m512 v = _mm512_loadu_ps(x);
				    y[0] = v[3];
				    _mm512_storeu_ps(y, _mm512_rsqrt14_ps(v));
				    y[1] = y[0] > 0.0f ? _mm512_reduce_add_ps(_mm512_loadu_ps(x + 16)) : 0.0f;
				}
				""";
		TranslationUnit unit = new KernelParser().parse("odd.cpp", source, Dialect.VNNI).unit();
		String before = Dialect.VNNI.printer().print(unit);
		String refusal = new VnniDetensorize().refusal(unit, Dialect.VNNI, Dialect.CUDA).orElseThrow();
		assertTrue(refusal.contains("line 4: the vector v is used in 'v[3]'"), refusal);
		assertTrue(refusal.contains("line 5: _mm512_rsqrt14_ps is not in the VNNI catalog"), refusal);
		assertTrue(refusal.contains("line 6: '_mm512_loadu_ps(x + 16)' is computed under ?:"), refusal);
		assertEquals(before, Dialect.VNNI.printer().print(unit), "the refusal leaves the model alone");
	}

	@Test
	public void onlyVnniIsDetensorized() throws IOException {
		Path file = CORPUS.resolve("cuda/relu_64x768.cu");
		TranslationUnit unit = new KernelParser().parse(file, Optional.empty()).unit();
		assertEquals("detensorizes C++ with AVX-512 VNNI intrinsics only, not CUDA C",
				new VnniDetensorize().refusal(unit, Dialect.CUDA, Dialect.VNNI).orElseThrow());
	}

	@Test
	public void scalarCodeIsLeftAsItIs() {
		String source = """
				extern "C" void scale_kernel(const float* x, float* y)
				{
				    for (int i = 0; i < 64; i++) {
				        y[i] = expf(x[i]) * 2.0f;
				    }
				}
				""";
		TranslationUnit unit = new KernelParser().parse("scale.cpp", source, Dialect.VNNI).unit();
		String before = Dialect.VNNI.printer().print(unit);
		assertEquals(Map.of(), new VnniDetensorize().apply(unit, Dialect.VNNI, Dialect.VNNI));
		assertEquals(before, Dialect.VNNI.printer().print(unit));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("vnniKernels")
	public void everyCorpusKernelIsDetensorizedAndVerified(Path file) throws IOException {
		String source = Files.readString(file);
		assertVerifies(file, source, detensorize(file.toString(), source).output(), new VirtualDevice());
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "gemm_u8s8_32x256x64.cpp", "gemv_u8s8_256x512.cpp", "batch_gemm_u8s8_4x32x64x32.cpp",
			"softmax_64x128.cpp" })
	public void theIntegerDotProductsAndSoftmaxAlsoMatchWhenCompiledByGpp(String name) throws IOException {
		Path file = CORPUS.resolve("vnni").resolve(name);
		String source = Files.readString(file);
		assertVerifies(file, source, detensorize(name, source).output(), nativeDevice());
	}
}
