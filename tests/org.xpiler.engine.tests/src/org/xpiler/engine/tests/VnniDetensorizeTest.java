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
		return detensorize(new VnniDetensorize(), name, source);
	}

	private static Detensorized detensorize(VnniDetensorize pass, String name, String source) {
		ParsedKernel parsed = new KernelParser().parse(name, source, Dialect.VNNI);
		assertFalse(parsed.hasErrors(), () -> parsed.errors().toString());
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
	public void aMaskedTailBecomesTheScalarLoopOverWhatTheVectorsLeftAndSteppedLoopsCountTheirSteps() {
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
		Detensorized lifted = detensorize("masked.cpp", masked);
		assertEquals(Map.of("lane-loops", "2", "vector-loops", "1"), lifted.knobs());
		assertTrue(lifted.output().contains("""
				    for (int i = 0; i < 992; ++i) {
				        output[i] = input[i] > 0.0f ? input[i] : 0.0f;
				    }
				    for (int i = 992; i < n; ++i) {
				        output[i] = input[i] > 0.0f ? input[i] : 0.0f;
				    }
				"""), lifted.output());
		assertVerifies(Path.of("masked.cpp"), masked, lifted.output(), new VirtualDevice());
		// a mask the lanes do not read as (1 << (n - i)) - 1: the last vector runs once at what the vectors left
		String counted = masked.replace("__mmask16 m = (__mmask16)((1u << (n - i)) - 1u);",
				"const int rest = n - i;\n        __mmask16 m = (__mmask16)((1u << rest) - 1u);");
		String output = detensorize("counted.cpp", counted).output();
		assertTrue(output.contains("for (int i = 0; i < 992; ++i) {"), output);
		assertTrue(output.contains("{\n        const int i = 992;"), output);
		assertTrue(output.contains("mm512_mask_storeu_ps(output + i, m, t"), output);
		assertVerifies(Path.of("counted.cpp"), counted, output, new VirtualDevice());
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
		assertEquals(Map.of("lane-loops", "1", "vector-loops", "1"), result.knobs());
		assertTrue(result.output().contains("""
				    for (int n0_step = 0; n0_step < 3; ++n0_step) {
				        const int n0 = 8 + n0_step * 64;
				        for (int j = 0; j < 64; ++j) {
				            y[n0 + j - 8] = x[n0 + j - 8] * 2.0f;
				        }
				"""), result.output());
		assertVerifies(Path.of("stepped.cpp"), stepped, result.output(), new VirtualDevice());
		// a blend by a constant mask is not one lane's expression: the vectors stay, counted in steps
		String blended = stepped.replace("_mm512_mul_ps(", "_mm512_mask_blend_ps(0x5555, ");
		Detensorized steps = detensorize("blended.cpp", blended);
		assertEquals("2", steps.knobs().get("vector-loops"));
		assertTrue(steps.output().contains("for (int n0_step = 0; n0_step < 3; ++n0_step) {\n        const int n0 = 8 + n0_step * 64;"),
				steps.output());
		assertTrue(steps.output().contains("for (int j_step = 0; j_step < 4; ++j_step) {"), steps.output());
		assertVerifies(Path.of("blended.cpp"), blended, steps.output(), new VirtualDevice());
	}

	@Test
	public void aChoiceBetweenVectorsIsTheSameChoiceInEveryLane() {
		String source = """
				extern "C" void choose_kernel(const float* x, float* y)
				{
				    const bool square = x[0] > 0.0f;
				    for (int i = 0; i < 256; i += 16) {
				        __m512 v = _mm512_loadu_ps(x + i);
				        _mm512_storeu_ps(y + i, square ? _mm512_mul_ps(v, v) : _mm512_sub_ps(_mm512_setzero_ps(), v));
				    }
				}
				""";
		Detensorized result = detensorize("choose.cpp", source);
		assertEquals(Map.of("lane-loops", "1"), result.knobs());
		assertTrue(result.output().contains("""
				    for (int i = 0; i < 256; ++i) {
				        float v = x[i];
				        y[i] = square ? v * v : 0.0f - v;
				    }
				"""), result.output());
		assertVerifies(Path.of("choose.cpp"), source, result.output(), new VirtualDevice());
	}

	@Test
	public void aChoiceBetweenExpandedVectorsBranchesOnItsCondition() {
		// acc is carried and stored lane by lane: byte arrays, each side of ?: computed only when chosen
		String source = """
				extern "C" void choose_kernel(const float* x, float* y)
				{
				    const bool square = x[0] > 0.0f;
				    __m512 acc = _mm512_setzero_ps();
				    for (int i = 0; i < 256; i += 16) {
				        __m512 v = _mm512_loadu_ps(x + i);
				        acc = square ? _mm512_fmadd_ps(v, v, acc) : _mm512_add_ps(acc, v);
				        _mm512_storeu_ps(y + i, acc);
				    }
				    _mm512_storeu_ps(y + 256, _mm512_mul_ps(square ? acc : _mm512_loadu_ps(x), _mm512_set1_ps(2.0f)));
				}
				""";
		Detensorized result = detensorize("choose.cpp", source);
		String output = result.output();
		assertFalse(result.knobs().containsKey("lane-loops"), output);
		assertTrue(output.contains("""
				        if (square)
				            mm512_fmadd_ps(acc, v, v, acc);
				        else
				            mm512_add_ps(acc, acc, v);
				"""), output);
		assertTrue(output.contains("""
				    alignas(64) unsigned char t0[64];
				    if (square)
				        vector_copy(t0, acc, 64);
				    else
				        mm512_loadu_ps(t0, x);
				"""), output);
		assertVerifies(Path.of("choose.cpp"), source, output, new VirtualDevice());
		assertVerifies(Path.of("choose.cpp"), source, output, nativeDevice());
	}

	/** The field's idiom: a helper over n elements (no constant in it), a ?: between updates, a scalar tail. */
	private static final String MOMENTS = """
			static inline float hsum(const float* x, int n, float shift, bool square)
			{
			    __m512 acc = _mm512_setzero_ps();
			    const __m512 vs = _mm512_set1_ps(shift);
			    int i = 0;
			    for (; i + 16 <= n; i += 16) {
			        __m512 v = _mm512_sub_ps(_mm512_loadu_ps(x + i), vs);
			        acc = square ? _mm512_fmadd_ps(v, v, acc) : _mm512_add_ps(acc, v);
			    }
			    float s = _mm512_reduce_add_ps(acc);
			    for (; i < n; ++i) {
			        float v = x[i] - shift;
			        s += square ? v * v : v;
			    }
			    return s;
			}

			extern "C" void moments_kernel(const float* input, float* output)
			{
			    for (int r = 0; r < 32; ++r) {
			        const float* x = input + r * 200;
			        float mean = hsum(x, 200, 0.0f, false) / 200;
			        output[2 * r] = mean;
			        output[2 * r + 1] = hsum(x, 200, mean, true) / 200;
			    }
			}
			""";

	@Test
	public void anAccumulatorReducedAtTheEndBecomesTheFloatItsReduceReturns() {
		Detensorized result = detensorize("moments.cpp", MOMENTS);
		assertEquals(Map.of("lane-loops", "1", "sums", "reassociated"), result.knobs());
		// the lanes end where the vectors did, and the tail goes on from there
		assertTrue(result.output().contains("""
				    float acc = 0.0f;
				    int i = 0;
				    for (; i < n / 16 * 16; ++i) {
				        float v = x[i] - shift;
				        acc = square ? fmaf(v, v, acc) : acc + v;
				    }
				    float s = acc;
				    for (; i < n; ++i) {
				"""), result.output());
		assertVerifies(Path.of("moments.cpp"), MOMENTS, result.output(), new VirtualDevice());
		assertVerifies(Path.of("moments.cpp"), MOMENTS, result.output(), nativeDevice());
		// a whole number of vectors and no tail; the counter set again for the next reduction; a minimum
		String stats = """
				extern "C" void stats_kernel(const float* x, float* out)
				{
				    const int n = 4096;
				    __m512 sum = _mm512_setzero_ps();
				    int i = 0;
				    for (; i + 16 <= n; i += 16) {
				        sum = _mm512_add_ps(_mm512_loadu_ps(x + i), sum);
				    }
				    __m512 low = _mm512_set1_ps(x[0]);
				    i = 0;
				    for (; i + 16 <= n; i += 16) {
				        low = _mm512_min_ps(low, _mm512_loadu_ps(x + i));
				    }
				    out[0] = _mm512_reduce_add_ps(sum);
				    out[1] = _mm512_reduce_min_ps(low);
				}
				""";
		Detensorized reduced = detensorize("stats.cpp", stats);
		assertEquals(Map.of("lane-loops", "2", "sums", "reassociated", "vector-loops", "2"), reduced.knobs());
		assertTrue(reduced.output().contains("""
				    float sum = 0.0f;
				    for (int i = 0; i < 4096; ++i) {
				        sum += x[i];
				    }
				    float low = x[0];
				    for (int i = 0; i < 4096; ++i) {
				        low = low < x[i] ? low : x[i];
				    }
				    out[0] = sum;
				    out[1] = low;
				"""), reduced.output());
		assertFalse(reduced.output().contains("\n    int i = 0;"), reduced.output());
		assertVerifies(Path.of("stats.cpp"), stats, reduced.output(), new VirtualDevice());
		// started anew for every row, where the float starts anew; a start of 1 in every lane would sum to 16
		String rows = """
				extern "C" void rowsum_kernel(const float* x, float* out)
				{
				    __m512 acc;
				    for (int r = 0; r < 8; ++r) {
				        acc = _mm512_setzero_ps();
				        for (int i = 0; i < 64; i += 16) {
				            acc = _mm512_add_ps(acc, _mm512_loadu_ps(x + r * 64 + i));
				        }
				        out[r] = _mm512_reduce_add_ps(acc);
				    }
				}
				""";
		Detensorized reset = detensorize("rowsum.cpp", rows);
		assertTrue(reset.output().contains("""
				    float acc;
				    for (int r = 0; r < 8; ++r) {
				        acc = 0.0f;
				        for (int i = 0; i < 64; ++i) {
				            acc += x[r * 64 + i];
				        }
				        out[r] = acc;
				    }
				"""), reset.output());
		assertVerifies(Path.of("rowsum.cpp"), rows, reset.output(), new VirtualDevice());
		String ones = rows.replace("_mm512_setzero_ps()", "_mm512_set1_ps(1.0f)");
		Detensorized kept = detensorize("ones.cpp", ones);
		assertFalse(kept.knobs().containsKey("lane-loops"), kept.output());
		assertVerifies(Path.of("ones.cpp"), ones, kept.output(), new VirtualDevice());
	}

	@Test
	public void aMaskedTailFoldsTheLanesItKeepsIntoTheAccumulator() {
		String source = """
				extern "C" void dot_kernel(const float* a, const float* b, float* out)
				{
				    const int n = 1000;
				    __m512 acc = _mm512_setzero_ps();
				    __m512 top = _mm512_set1_ps(a[0]);
				    int i = 0;
				    for (; i + 16 <= n; i += 16) {
				        const __m512 va = _mm512_loadu_ps(a + i);
				        acc = _mm512_fmadd_ps(va, _mm512_loadu_ps(b + i), acc);
				        top = _mm512_max_ps(top, va);
				    }
				    if (i < n) {
				        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
				        __m512 vb = _mm512_mask_loadu_ps(_mm512_setzero_ps(), m, b + i);
				        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), vb, acc);
				    }
				    out[0] = _mm512_reduce_add_ps(acc);
				    out[1] = _mm512_reduce_max_ps(top);
				}
				""";
		Detensorized result = detensorize("dot.cpp", source);
		assertEquals(Map.of("lane-loops", "2", "sums", "reassociated", "vector-loops", "1"), result.knobs());
		assertTrue(result.output().contains("""
				    float acc = 0.0f;
				    float top = a[0];
				    for (int i = 0; i < 992; ++i) {
				        float va = a[i];
				        acc = fmaf(va, b[i], acc);
				        top = top > va ? top : va;
				    }
				    for (int i = 992; i < n; ++i) {
				        float vb = b[i];
				        acc = fmaf(a[i], vb, acc);
				    }
				    out[0] = acc;
				    out[1] = top;
				"""), result.output());
		assertVerifies(Path.of("dot.cpp"), source, result.output(), new VirtualDevice());
	}

	@Test
	public void sumsAddedInAnotherOrderStillVerifyAtRealisticSizes() {
		// 16 dot products of 16384 floats: one running sum against 16 partial sums and their tree
		String source = """
				extern "C" void rowdot_kernel(const float* a, const float* b, float* out)
				{
				    const int n = 16384;
				    for (int r = 0; r < 16; ++r) {
				        __m512 acc = _mm512_setzero_ps();
				        for (int i = 0; i + 16 <= n; i += 16) {
				            acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + r * n + i), _mm512_loadu_ps(b + i), acc);
				        }
				        out[r] = _mm512_reduce_add_ps(acc);
				    }
				}
				""";
		Detensorized result = detensorize("rowdot.cpp", source);
		assertTrue(result.output().contains("acc = fmaf(a[r * n + i], b[i], acc);"), result.output());
		assertVerifies(Path.of("rowdot.cpp"), source, result.output(), new VirtualDevice());
	}

	@Test
	public void aSumTooLongToAddInAnotherOrderKeepsItsLanesUnderTheSecondOption() {
		String source = """
				extern "C" void squares_kernel(const float* x, float* out)
				{
				    __m512 sq = _mm512_setzero_ps();
				    for (int i = 0; i + 16 <= 524288; i += 16) {
				        const __m512 v = _mm512_loadu_ps(x + i);
				        sq = _mm512_fmadd_ps(v, v, sq);
				    }
				    out[0] = _mm512_reduce_add_ps(sq);
				}
				""";
		List<VnniDetensorize> options = VnniDetensorize.options();
		assertEquals(2, options.size());
		// half a million squares added to one float drift about 1e-4 from 16 partial sums and their tree
		Detensorized reassociated = detensorize(options.get(0), "squares.cpp", source);
		assertEquals(Map.of("lane-loops", "1", "sums", "reassociated"), reassociated.knobs());
		assertTrue(reassociated.output().contains("sq = fmaf(v, v, sq);"), reassociated.output());
		Oracle.Verdict drift = new Oracle().verify(new KernelSource(Path.of("squares.cpp"), Dialect.VNNI, source),
				new KernelSource(Path.of("squares.cpp"), Dialect.VNNI, reassociated.output()), new VirtualDevice(),
				Map.of(), 3, RunRequest.of(List.of()));
		assertFalse(drift.matches(), reassociated.output());
		Detensorized inLanes = detensorize(options.get(1), "squares.cpp", source);
		assertEquals("in lanes", inLanes.knobs().get("sums"));
		assertTrue(inLanes.output().contains("mm512_fmadd_ps(sq, v, v, sq);"), inLanes.output());
		assertVerifies(Path.of("squares.cpp"), source, inLanes.output(), new VirtualDevice());
	}

	@Test
	public void anAccumulatorReadOtherwiseOrStartedElsewhereStaysAVector() {
		String source = """
				static inline float top(const float* x, int n)
				{
				    __m512 best = _mm512_set1_ps(x[0]);
				    int i = 0;
				    for (; i + 16 <= n; i += 16) {
				        best = _mm512_max_ps(best, _mm512_loadu_ps(x + i));
				    }
				    if (i < n) {
				        best = _mm512_max_ps(best, _mm512_maskz_loadu_ps((__mmask16)((1u << (n - i)) - 1u), x + i));
				    }
				    return _mm512_reduce_max_ps(best);
				}

				static inline float total(const float* x, int n)
				{
				    __m512 acc = _mm512_set1_ps(1.0f);
				    int i = 0;
				    for (; i + 16 <= n; i += 16) {
				        acc = _mm512_add_ps(acc, _mm512_loadu_ps(x + i));
				    }
				    float s = _mm512_reduce_add_ps(acc) - 16.0f;
				    for (; i < n; ++i) {
				        s += x[i];
				    }
				    return s;
				}

				static inline float scan(const float* x, float* y)
				{
				    __m512 acc = _mm512_setzero_ps();
				    for (int i = 0; i < 64; i += 16) {
				        acc = _mm512_add_ps(acc, _mm512_loadu_ps(x + i));
				        _mm512_storeu_ps(y + i, acc);
				    }
				    return _mm512_reduce_add_ps(acc);
				}

				extern "C" void mix_kernel(const float* x, float* y)
				{
				    for (int r = 0; r < 8; ++r) {
				        y[r] = top(x + r * 100, 100);
				        y[8 + r] = total(x + r * 100, 100);
				        y[16 + r] = scan(x + r * 100, y + 24 + r * 64);
				    }
				}
				""";
		Detensorized result = detensorize("mix.cpp", source);
		// the maximum's tail folds 0 into the lanes past its mask, the sum starts at 16, the scan stores its lanes
		String output = result.output();
		assertFalse(result.knobs().containsKey("lane-loops"), output);
		assertTrue(output.contains("alignas(64) unsigned char best[64];\n    mm512_set1_ps(best, x[0]);"), output);
		assertTrue(output.contains("alignas(64) unsigned char acc[64];\n    mm512_set1_ps(acc, 1.0f);"), output);
		assertTrue(output.contains("mm512_storeu_ps(y + i, acc);"), output);
		assertVerifies(Path.of("mix.cpp"), source, output, new VirtualDevice());
		assertVerifies(Path.of("mix.cpp"), source, output, nativeDevice());
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
				    _mm512_storeu_ps(y, _mm512_exp_ps(v));
				    y[1] = y[0] > 0.0f ? _mm512_reduce_add_ps(_mm512_loadu_ps(x + 16)) : 0.0f;
				    _mm512_storeu_ps(y + 16, v ? v : _mm512_setzero_ps());
				}
				""";
		TranslationUnit unit = new KernelParser().parse("odd.cpp", source, Dialect.VNNI).unit();
		String before = Dialect.VNNI.printer().print(unit);
		String refusal = new VnniDetensorize().refusal(unit, Dialect.VNNI, Dialect.CUDA).orElseThrow();
		assertTrue(refusal.contains("line 4: the vector v is used in 'v[3]'"), refusal);
		assertTrue(refusal.contains("line 5: _mm512_exp_ps is not in the VNNI catalog"), refusal);
		assertTrue(refusal.contains("line 6: '_mm512_loadu_ps(x + 16)' is computed under ?:"), refusal);
		// a choice between vectors is refused when the condition is one: it would choose lane by lane
		assertTrue(refusal.contains("line 7: the vector v is used in"), refusal);
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
