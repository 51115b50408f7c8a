package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.engine.passes.BangDetensorize;
import org.xpiler.lang.catalog.CatalogFunction;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

/**
 * Detensorize replaces BANG C tensor intrinsics by scalar helpers made of the catalog's reference bodies: every
 * BANG corpus kernel keeps computing the same outputs, and forms without reference semantics are refused with
 * their line.
 */
public class BangDetensorizeTest {
	private static final Path CORPUS = Path.of(System.getProperty("xpiler.corpus", "../corpus"));
	private final BangDetensorize pass = new BangDetensorize();

	static Stream<Path> bangKernels() throws IOException {
		try (Stream<Path> files = Files.list(CORPUS.resolve("bang"))) {
			return files.filter(f -> f.toString().endsWith(".mlu")).sorted().toList().stream();
		}
	}

	private static TranslationUnit parse(String file, String text) {
		ParsedKernel parsed = new KernelParser().parse(file, text, Dialect.BANG);
		assertFalse(parsed.hasErrors(), () -> parsed.errors() + "\n" + text);
		return parsed.unit();
	}

	/** Applies the pass and returns the printed result, checked to re-parse without errors. */
	private String detensorize(String file, String text) {
		TranslationUnit unit = parse(file, text);
		assertTrue(pass.refusal(unit, Dialect.BANG, Dialect.VNNI).isEmpty(),
				() -> pass.refusal(unit, Dialect.BANG, Dialect.VNNI).get());
		pass.apply(unit, Dialect.BANG, Dialect.VNNI);
		String printed = Dialect.BANG.printer().print(unit);
		parse(file, printed);
		return printed;
	}

	private static Oracle.Verdict verify(Path file, String original, String detensorized) {
		return new Oracle().verify(new KernelSource(file, Dialect.BANG, original),
				new KernelSource(file, Dialect.BANG, detensorized), new VirtualDevice(), Map.of(), 3,
				RunRequest.of(List.of()));
	}

	/** Calls of catalog functions left in the text that work on memory: only barriers and scalar builtins may stay. */
	private static List<String> tensorCallsLeft(String text) {
		List<String> left = new ArrayList<>();
		parse("left.mlu", text).eAllContents().forEachRemaining(o -> {
			if (o instanceof Call call && call.getCallee() instanceof Name callee) {
				Dialect.BANG.catalog().function(callee.getName())
						.filter(f -> !f.category().equals("sync") && takesPointer(f))
						.ifPresent(f -> left.add(f.name()));
			}
		});
		return left;
	}

	private static boolean takesPointer(CatalogFunction function) {
		return function.signatures().stream().flatMap(s -> s.params().stream()).anyMatch(p -> p.type().contains("*"));
	}

	@Test
	public void vectorCallsBecomeHelpersMadeOfTheReferences() {
		String bang = """
				__nram__ float a_nram[256];
				__nram__ float b_nram[256];

				__mlu_global__ void add_sum(const float* a, const float* b, float* out, float* total)
				{
				    if (taskId != 0) {
				        return;
				    }
				    __memcpy(a_nram, a, 256 * sizeof(float), GDRAM2NRAM);
				    __memcpy(b_nram, b, 256 * sizeof(float), GDRAM2NRAM);
				    __bang_add(a_nram, a_nram, b_nram, 256);
				    float s = __bang_sum(a_nram, 256);
				    __memcpy(out, a_nram, 256 * sizeof(float), NRAM2GDRAM);
				    total[0] = s;
				}
				""";
		String after = detensorize("add_sum.mlu", bang);
		assertFalse(after.contains("__bang_"), after);
		assertFalse(after.contains("__memcpy"), after);
		assertTrue(after.contains("template <typename T>\nvoid bang_add(T *dst, const T *src0, const T *src1, int n)"),
				after);
		assertTrue(after.contains("bang_add(a_nram, a_nram, b_nram, 256);"), after);
		assertTrue(after.contains("float s = bang_sum(a_nram, 256);"), after);
		// the copy direction carries no data semantics, and libc's memcpy is not shadowed
		assertTrue(after.contains("memcpy_ref(a_nram, a, 256 * sizeof(float));"), after);
		assertTrue(after.contains("__nram__ float a_nram[256];"), after);
		Oracle.Verdict v = verify(Path.of("add_sum.mlu"), bang, after);
		assertTrue(v.matches(), v.summary());
	}

	@Test
	public void aHelperParameterNamedLikeAMacroOfTheFileIsRenamed() {
		// a compiler would expand M, K and N inside the helper too: int M would read int 32
		String bang = """
				#define M 32
				#define N 64
				#define K 64
				__nram__ float a_nram[M * K];
				__nram__ float c_nram[M * N];
				__wram__ float b_wram[N * K];

				__mlu_global__ void mm(const float* a, const float* bt, float* c)
				{
				    if (taskId != 0) {
				        return;
				    }
				    __memcpy(a_nram, a, M * K * sizeof(float), GDRAM2NRAM);
				    __memcpy(b_wram, bt, N * K * sizeof(float), GDRAM2WRAM);
				    __bang_matmul(c_nram, a_nram, b_wram, M, K, N);
				    __memcpy(c, c_nram, M * N * sizeof(float), NRAM2GDRAM);
				}
				""";
		String after = detensorize("mm.mlu", bang);
		assertTrue(after.contains("void bang_matmul(T *dst, const T *lhs, const T *rhs, int M_, int K_, int N_)"), after);
		assertTrue(after.contains("for (int i = 0; i < M_; ++i)"), after);
		assertTrue(after.contains("bang_matmul(c_nram, a_nram, b_wram, M, K, N);"), after);
		Oracle.Verdict v = verify(Path.of("mm.mlu"), bang, after);
		assertTrue(v.matches(), v.summary());
	}

	@Test
	public void aHelpersTypeParameterNamedLikeAMacroOfTheFileIsRenamed() {
		// with #define T 64 a compiler would read the helper's template <typename T> as template <typename 64>
		String bang = """
				#define T 64
				__nram__ float a[T];
				__nram__ float b[T];
				__mlu_global__ void add(const float* x, const float* y, float* z)
				{
				    if (taskId != 0) {
				        return;
				    }
				    __memcpy(a, x, T * sizeof(float), GDRAM2NRAM);
				    __memcpy(b, y, T * sizeof(float), GDRAM2NRAM);
				    __bang_add(a, a, b, T);
				    __memcpy(z, a, T * sizeof(float), NRAM2GDRAM);
				}
				""";
		String after = detensorize("add.mlu", bang);
		assertTrue(after.contains("template <typename T_>\nvoid bang_add(T_ *dst, const T_ *src0, const T_ *src1, int n)"),
				after);
		assertTrue(after.contains("bang_add(a, a, b, T);"), after);
		Oracle.Verdict v = verify(Path.of("add.mlu"), bang, after);
		assertTrue(v.matches(), v.summary());
	}

	@Test
	public void aCrossClusterCopyHasNoReferenceAndIsRefusedWithItsLine() {
		String bang = """
				__nram__ float x_nram[64];

				__mlu_global__ void send(float* out)
				{
				    __bang_write_zero(x_nram, 64);
				    __memcpy(x_nram, x_nram, 64 * sizeof(float), NRAM2NRAM, 1);
				    __memcpy(out, x_nram, 64 * sizeof(float), NRAM2GDRAM);
				}
				""";
		TranslationUnit unit = new KernelParser().parse("send.mlu", bang, Dialect.BANG).unit();
		String refusal = pass.refusal(unit, Dialect.BANG, Dialect.VNNI).orElseThrow();
		assertTrue(refusal.startsWith("line 6: __memcpy has no reference semantics"), refusal);
		assertTrue(refusal.contains("dst_cluster"), refusal);
	}

	@Test
	public void onlyBangIsDetensorized() {
		TranslationUnit unit = new KernelParser().parse("k.cu", "__global__ void k(float* x) { x[0] = 1.0f; }",
				Dialect.CUDA).unit();
		assertEquals("detensorizes BANG C only, not CUDA C", pass.refusal(unit, Dialect.CUDA, Dialect.VNNI).orElseThrow());
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("bangKernels")
	public void everyBangCorpusKernelComputesTheSameWithoutIntrinsics(Path file) throws IOException {
		String original = KernelSource.read(file, Dialect.BANG).text();
		String after = detensorize(file.getFileName().toString(), original);
		assertEquals(List.of(), tensorCallsLeft(after), after);
		Oracle.Verdict v = verify(file, original, after);
		assertTrue(v.matches(), v.summary());
	}
}
