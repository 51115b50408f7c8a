package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xpiler.devices.CompileOnlyDevice;
import org.xpiler.devices.CompileResult;
import org.xpiler.devices.KernelRuns;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.Oracle;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.engine.passes.LoopBind;
import org.xpiler.engine.passes.LoopRecovery;
import org.xpiler.engine.passes.PassRefusal;
import org.xpiler.engine.pipeline.StepRecord;
import org.xpiler.engine.pipeline.Translator;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.TranslationUnit;

/**
 * BANG with a CNRT host wrapper: loop bind writes one ({@code extern "C"} entry with the source's name and
 * parameters around {@code __mlu_global__} kernels) when the buffer sizes are known, and loop recovery lifts
 * one back to sequential C++, each launch a loop over its tasks.
 */
public class BangHostWrapperTest {
	private static final String GEMM = """
			extern "C" void gemm_kernel(const float* A, const float* B, float* C)
			{
			    for (int i = 0; i < 32; i++) {
			        for (int j = 0; j < 64; j++) {
			            float acc = 0.0f;
			            for (int k = 0; k < 48; k++) {
			                acc += A[i * 48 + k] * B[k * 64 + j];
			            }
			            C[i * 64 + j] = acc;
			        }
			    }
			}
			""";

	/** What the source's run shows of each pointer parameter, as the translator hands it to loop bind. */
	private static List<LoopBind.Buffer> buffers(String source, Dialect dialect) {
		KernelRuns.Report run = new KernelRuns().run(new VirtualDevice(),
				new KernelSource(Path.of("source." + dialect.fileExtensions().get(0)), dialect, source), Map.of(), 3,
				RunRequest.of(List.of()));
		List<LoopBind.Buffer> buffers = new ArrayList<>();
		run.buffers().forEach(b -> buffers.add(new LoopBind.Buffer(b.buffer().contents().length,
				b.role() == KernelRuns.Role.INPUT || b.role() == KernelRuns.Role.IN_OUT,
				b.role() == KernelRuns.Role.OUTPUT || b.role() == KernelRuns.Role.IN_OUT)));
		return buffers;
	}

	private static void assertCompiles(String mlu) {
		CompileResult compiled = CompileOnlyDevice.bangCheck().compile(new KernelSource(Path.of("b.mlu"), Dialect.BANG, mlu));
		assertTrue(compiled.success(), () -> compiled.diagnostics() + "\n" + compiled.output() + "\n" + mlu);
	}

	@Test
	public void aCppEntryBecomesAKernelAndACnrtWrapperWithTheEntrysNameAndParameters() {
		TranslationUnit unit = PassTesting.parse(GEMM, Dialect.VNNI);
		LoopBind bind = LoopBind.options(Dialect.BANG, buffers(GEMM, Dialect.VNNI)).get(0);
		assertTrue(bind.refusal(unit, Dialect.VNNI, Dialect.BANG).isEmpty());
		Map<String, String> knobs = bind.apply(unit, Dialect.VNNI, Dialect.BANG);
		assertEquals(Map.of("bind", "task-stride", "wrapper", "cnrt", "kernels", "1"), knobs);
		String mlu = Dialect.BANG.printer().print(unit);
		assertTrue(mlu.contains("__mlu_global__ void gemm(const float *A, const float *B, float *C)"), mlu);
		assertTrue(mlu.contains("for (int i = taskId; i < 32; i += taskDim) {"), mlu);
		assertTrue(mlu.contains("extern \"C\" void gemm_kernel(const float *A, const float *B, float *C)"), mlu);
		assertTrue(mlu.contains("cnrtMalloc((void **)&d_A, 6144);"), mlu);
		assertTrue(mlu.contains("cnrtMemcpy(d_A, (void *)A, 6144, cnrtMemcpyHostToDev);"), mlu);
		assertFalse(mlu.contains("cnrtMemcpy(d_C, (void *)C"), mlu); // C is only written: nothing to copy in
		assertTrue(mlu.contains("cnrtDim3_t dim = {16, 1, 1};"), mlu);
		assertTrue(mlu.contains("gemm<<<dim, CNRT_FUNC_TYPE_UNION1, queue>>>(d_A, d_B, d_C);\n    cnrtQueueSync(queue);\n"
				+ "    cnrtMemcpy(C, d_C, 8192, cnrtMemcpyDevToHost);"), mlu);
		assertTrue(mlu.contains("cnrtFree(d_C);\n    cnrtQueueDestroy(queue);\n}"), mlu);
		PassTesting.assertVerifies(GEMM, Dialect.VNNI, mlu, Dialect.BANG);
		assertCompiles(mlu);
	}

	@Test
	public void optionsTryTheCnrtWrapperFirstAndTheKernelAsEntryAfter() {
		List<LoopBind.Buffer> buffers = buffers(GEMM, Dialect.VNNI);
		List<String> bang = LoopBind.options(Dialect.BANG, buffers).stream().map(bind -> {
			Map<String, String> knobs = bind.apply(PassTesting.parse(GEMM, Dialect.VNNI), Dialect.VNNI, Dialect.BANG);
			return knobs.get("bind") + "/" + knobs.get("wrapper");
		}).toList();
		assertEquals(List.of("task-stride/cnrt", "single/cnrt", "task-stride/none", "single/none"), bang);
		List<String> cuda = LoopBind.options(Dialect.CUDA, buffers).stream().map(bind -> {
			Map<String, String> knobs = bind.apply(PassTesting.parse(GEMM, Dialect.VNNI), Dialect.VNNI, Dialect.CUDA);
			return knobs.get("bind") + "/" + knobs.get("wrapper") + (knobs.containsKey("collapse") ? "/" + knobs.get("collapse") : "");
		}).toList();
		assertEquals(List.of("grid-stride/cuda/nested", "grid-stride/cuda/outermost", "single/cuda"), cuda);
		assertEquals("only a BANG kernel can be the entry itself; CUDA and HIP kernels need the host wrapper",
				new LoopBind(LoopBind.Binding.STRIDE, 256, LoopBind.Wrapper.NONE, buffers)
						.refusal(PassTesting.parse(GEMM, Dialect.VNNI), Dialect.VNNI, Dialect.HIP).orElseThrow());
	}

	@Test
	public void aSingleTaskBindingLaunchesOneBlockTask() {
		TranslationUnit unit = PassTesting.parse(GEMM, Dialect.VNNI);
		LoopBind single = LoopBind.options(Dialect.BANG, buffers(GEMM, Dialect.VNNI)).get(1);
		assertEquals("single", single.apply(unit, Dialect.VNNI, Dialect.BANG).get("bind"));
		String mlu = Dialect.BANG.printer().print(unit);
		assertTrue(mlu.contains("cnrtDim3_t one_task = {1, 1, 1};\n"
				+ "    gemm<<<one_task, CNRT_FUNC_TYPE_BLOCK, queue>>>"), mlu);
		assertFalse(mlu.contains("taskId"), mlu);
		PassTesting.assertVerifies(GEMM, Dialect.VNNI, mlu, Dialect.BANG);
		assertCompiles(mlu);
	}

	@Test
	public void aScalarParameterRefusesTheWrapperAndTheKernelBecomesTheEntry() {
		String saxpy = """
				extern "C" void saxpy_kernel(const float* x, float* y, float a, int n)
				{
				    for (int i = 0; i < n; ++i) {
				        y[i] = a * x[i] + y[i];
				    }
				}
				""";
		Map<String, String> scalars = Map.of("a", "0.5", "n", "1000");
		KernelSource source = new KernelSource(Path.of("saxpy.cpp"), Dialect.VNNI, saxpy);
		List<LoopBind> options = LoopBind.options(Dialect.BANG, List.of());
		TranslationUnit unit = PassTesting.parse(saxpy, Dialect.VNNI);
		assertEquals("line 1: the entry takes the scalar a; a host wrapper sized by one run would hold for that value only",
				options.get(0).refusal(unit, Dialect.VNNI, Dialect.BANG).orElseThrow());
		LoopBind none = options.get(2);
		assertTrue(none.refusal(unit, Dialect.VNNI, Dialect.BANG).isEmpty());
		assertEquals("none", none.apply(unit, Dialect.VNNI, Dialect.BANG).get("wrapper"));
		String mlu = Dialect.BANG.printer().print(unit);
		assertTrue(mlu.contains("extern \"C\" __mlu_global__ void saxpy_kernel(const float *x, float *y, float a, int n)"),
				mlu);
		assertFalse(mlu.contains("cnrt"), mlu);
		Oracle.Verdict verdict = new Oracle().verify(source, new KernelSource(Path.of("saxpy.mlu"), Dialect.BANG, mlu),
				new VirtualDevice(), scalars, 3, RunRequest.of(List.of()));
		assertTrue(verdict.matches(), () -> verdict.summary() + "\n" + mlu);
		assertCompiles(mlu);
	}

	/** Row norms, then every element divided by its row's norm: two kernels, two launch shapes, one scratch buffer. */
	private static final String NORMALIZE_ROWS = """
			#include <bang.h>
			#include <cnrt.h>

			#define ROWS 64
			#define COLS 256

			__nram__ float row[COLS];

			__mlu_func__ float square(float v) { return v * v; }

			__mlu_global__ void row_norms(const float *x, float *norms)
			{
			    for (int r = taskId; r < ROWS; r += taskDim) {
			        for (int c = 0; c < COLS; ++c) {
			            row[c] = x[r * COLS + c];
			        }
			        float sum = 0.0f;
			        for (int c = 0; c < COLS; ++c) {
			            sum += square(row[c]);
			        }
			        norms[r] = sqrtf(sum);
			    }
			}

			__mlu_global__ void divide(const float *x, const float *norms, float *y)
			{
			    int per_task = ROWS * COLS / taskDim;
			    for (int i = taskId * per_task; i < (taskId + 1) * per_task; ++i) {
			        y[i] = x[i] / (norms[i / COLS] + 1.0f);
			    }
			}

			extern "C" void normalize_rows_kernel(const float *x, float *y)
			{
			    cnrtQueue_t queue;
			    cnrtQueueCreate(&queue);
			    size_t bytes = ROWS * COLS * sizeof(float);
			    float *d_x, *d_norms, *d_y;
			    cnrtMalloc((void **)&d_x, bytes);
			    cnrtMalloc((void **)&d_norms, ROWS * sizeof(float));
			    cnrtMalloc((void **)&d_y, bytes);
			    cnrtMemcpy(d_x, (void *)x, bytes, cnrtMemcpyHostToDev);
			    cnrtDim3_t dim;
			    dim.x = 8;
			    dim.y = 1;
			    dim.z = 1;
			    cnrtFunctionType_t type = CNRT_FUNC_TYPE_UNION1;
			    row_norms<<<dim, type, queue>>>(d_x, d_norms);
			    cnrtDim3_t all = {16, 1, 1};
			    divide<<<all, cnrtFuncTypeUnion1, queue>>>(d_x, d_norms, d_y);
			    cnrtQueueSync(queue);
			    cnrtMemcpy(y, d_y, bytes, cnrtMemcpyDevToHost);
			    cnrtFree(d_x);
			    cnrtFree(d_norms);
			    cnrtFree(d_y);
			    cnrtQueueDestroy(queue);
			}
			""";

	@Test
	public void aCnrtWrapperLiftsToItsEntryWithATaskLoopPerLaunch() {
		TranslationUnit unit = PassTesting.parse(NORMALIZE_ROWS, Dialect.BANG);
		new LoopRecovery().apply(unit, Dialect.BANG, Dialect.VNNI);
		String cpp = Dialect.VNNI.printer().print(unit);
		assertTrue(cpp.contains("extern \"C\" void normalize_rows_kernel(const float *x, float *y)"), cpp);
		assertTrue(cpp.contains("float d_norms_storage[64];\n    float *d_norms = d_norms_storage;"), cpp); // scratch
		assertTrue(cpp.contains("// row_norms<<<dim, type, queue>>>(x, d_norms)\n        float *norms = d_norms;\n"
				+ "        for (int taskId = 0; taskId < 8; ++taskId) {\n            float row[COLS];"), cpp);
		assertTrue(cpp.contains("for (int r = taskId; r < ROWS; r += 8) {"), cpp);
		assertTrue(cpp.contains("for (int taskId = 0; taskId < 16; ++taskId) {\n"
				+ "            int per_task = ROWS * COLS / 16;"), cpp);
		String code = cpp.replaceAll("//.*", "");
		assertFalse(code.contains("cnrt") || code.contains("dim") || code.contains("queue"), cpp);
		PassTesting.assertVerifies(NORMALIZE_ROWS, Dialect.BANG, cpp, Dialect.VNNI);
	}

	/** One kernel launched twice on the same buffer, its helper reading the launch's task count. */
	private static final String TWICE = """
			__mlu_func__ int share(int n)
			{
			    int per_task = (n + taskDim - 1) / taskDim;
			    return per_task;
			}

			__mlu_global__ void add_one(float *x)
			{
			    int per_task = share(1024);
			    for (int i = taskId * per_task; i < (taskId + 1) * per_task && i < 1024; ++i) {
			        x[i] = x[i] + 1.0f;
			    }
			}

			extern "C" void add_two_kernel(float *x)
			{
			    cnrtQueue_t queue;
			    cnrtQueueCreate(&queue);
			    float *d_x;
			    cnrtMalloc((void **)&d_x, 1024 * sizeof(float));
			    cnrtMemcpy(d_x, x, 1024 * sizeof(float), cnrtMemcpyHostToDev);
			    cnrtDim3_t dim = {4, 1, 1};
			    add_one<<<dim, CNRT_FUNC_TYPE_UNION1, queue>>>(d_x);
			    add_one<<<dim, CNRT_FUNC_TYPE_UNION1, queue>>>(d_x);
			    cnrtQueueSync(queue);
			    cnrtMemcpy(x, d_x, 1024 * sizeof(float), cnrtMemcpyDevToHost);
			    cnrtFree(d_x);
			    cnrtQueueDestroy(queue);
			}
			""";

	@Test
	public void aKernelLaunchedTwiceBecomesTwoTaskLoopsAndAHelperMustSeeOneTaskCount() {
		TranslationUnit unit = PassTesting.parse(TWICE, Dialect.BANG);
		new LoopRecovery().apply(unit, Dialect.BANG, Dialect.VNNI);
		String cpp = Dialect.VNNI.printer().print(unit);
		assertEquals(2, cpp.split("for \\(int taskId = 0; taskId < 4; \\+\\+taskId\\)", -1).length - 1, cpp);
		assertTrue(cpp.contains("int share(int n, int taskId) {\n    int per_task = (n + 4 - 1) / 4;"), cpp);
		PassTesting.assertVerifies(TWICE, Dialect.BANG, cpp, Dialect.VNNI);
		String differently = TWICE.replaceFirst("add_one<<<dim,", "add_one<<<1, CNRT_FUNC_TYPE_BLOCK, queue>>>(d_x);\n"
				+ "    add_one<<<dim,");
		TranslationUnit refused = PassTesting.parse(differently, Dialect.BANG);
		PassRefusal refusal = assertThrows(PassRefusal.class,
				() -> new LoopRecovery().apply(refused, Dialect.BANG, Dialect.VNNI));
		assertEquals("line 3: the function share reads taskDim, which differs between the launches of add_two_kernel",
				refusal.getMessage());
	}

	@Test
	public void aLaunchDimensionThatIsNotConstantIsRefusedWithItsLine() {
		String bang = """
				__mlu_global__ void scale(const float *x, float *y, int n)
				{
				    for (int i = taskId; i < n; i += taskDim) {
				        y[i] = 2.0f * x[i];
				    }
				}

				extern "C" void scale_kernel(const float *x, float *y, int n)
				{
				    cnrtQueue_t queue;
				    cnrtQueueCreate(&queue);
				    float *d_x, *d_y;
				    cnrtMalloc((void **)&d_x, n * sizeof(float));
				    cnrtMalloc((void **)&d_y, n * sizeof(float));
				    cnrtMemcpy(d_x, (void *)x, n * sizeof(float), cnrtMemcpyHostToDev);
				    cnrtDim3_t dim = {n / 256 * 4, 1, 1};
				    scale<<<dim, CNRT_FUNC_TYPE_UNION1, queue>>>(d_x, d_y, n);
				    cnrtQueueSync(queue);
				    cnrtMemcpy(y, d_y, n * sizeof(float), cnrtMemcpyDevToHost);
				    cnrtFree(d_x);
				    cnrtFree(d_y);
				    cnrtQueueDestroy(queue);
				}
				""";
		TranslationUnit unit = PassTesting.parse(bang, Dialect.BANG);
		PassRefusal refusal = assertThrows(PassRefusal.class,
				() -> new LoopRecovery().apply(unit, Dialect.BANG, Dialect.VNNI));
		assertEquals("line 17: the launch dimension dim is not a compile-time constant; lifting runs the launch's tasks "
				+ "in a loop", refusal.getMessage());
	}

	@Test
	public void aCudaCorpusKernelGoesToBangWithACnrtWrapperAndBackToCuda() throws IOException {
		Path corpus = Path.of(System.getProperty("xpiler.corpus", "../../tests/corpus"));
		KernelSource cuda = KernelSource.read(corpus.resolve("cuda/relu_64x768.cu"), Dialect.CUDA);
		Translator.Result bang = new Translator().translate(cuda, Dialect.BANG, 3);
		assertTrue(bang.record().verified(), bang.record().reason());
		String mlu = bang.output().orElseThrow();
		assertTrue(mlu.contains("__mlu_global__ void relu(const float *input, float *output)"), mlu);
		assertTrue(mlu.contains("extern \"C\" void relu_kernel(const float *input, float *output)"), mlu);
		assertTrue(mlu.contains("relu<<<dim, CNRT_FUNC_TYPE_UNION1, queue>>>(d_input, d_output);"), mlu);
		StepRecord bind = bang.record().steps().stream().filter(s -> s.pass().equals("loop-bind") && s.accepted())
				.findFirst().orElseThrow();
		assertEquals("cnrt", bind.knobs().get("wrapper"));
		assertCompiles(mlu);
		Translator.Result back = new Translator().translate(new KernelSource(Path.of("relu_64x768.mlu"), Dialect.BANG, mlu),
				Dialect.CUDA, 3);
		assertTrue(back.record().verified(), back.record().reason());
		String cu = back.output().orElseThrow();
		assertTrue(cu.contains("extern \"C\" void relu_kernel(const float *input, float *output)"), cu);
		assertFalse(cu.contains("cnrt"), cu);
	}

	/** Task 0 zeroes the sum, a barrier publishes it, then every task adds its partial sum atomically. */
	private static final String PHASED_SUM = """
			__nram__ float part[32];
			__mlu_global__ void sum_kernel(const float* x, float* sum) {
			    if (taskId == 0) {
			        sum[0] = 0.0f;
			    }
			    __sync_all();
			    float acc = 0.0f;
			    for (int i = taskId; i < 1000; i += taskDim) {
			        acc += x[i];
			    }
			    part[0] = acc;
			    __bang_atomic_reduce_add(sum, part, 1);
			}
			""";

	@Test
	public void barriersBetweenPhasesSplitTheTaskLoopAndAtomicsBecomePlainUpdates() {
		Translator.Result result = new Translator().translate(new KernelSource(Path.of("sum.mlu"), Dialect.BANG,
				PHASED_SUM), Dialect.VNNI, 3);
		assertTrue(result.record().verified(), result.record().reason());
		String lifted = result.record().steps().stream().filter(s -> s.pass().equals("loop-recovery") && s.accepted())
				.findFirst().orElseThrow().after();
		// every task's phase before the barrier runs before any task's phase after it
		int first = lifted.indexOf("for (int taskId = 0; taskId < 16; ++taskId)");
		int second = lifted.indexOf("for (int taskId = 0; taskId < 16; ++taskId)", first + 1);
		assertTrue(first >= 0 && second > lifted.indexOf("sum[0] = 0.0f;"), lifted);
		assertTrue(lifted.contains("for (int i_2 = 0; i_2 < (1); ++i_2)\n                (sum)[i_2] = (sum)[i_2] + (part)[i_2];"),
				lifted); // the kernel's own i taken, the reference's loop variable is another
		assertFalse(lifted.contains("__sync_all") || lifted.contains("__bang_atomic"), lifted);
		// a local of the first phase read after the barrier keeps the kernel on one task
		Translator.Result crossing = new Translator().translate(new KernelSource(Path.of("sum.mlu"), Dialect.BANG,
				PHASED_SUM.replace("    if (taskId == 0) {", "    float zero = 0.0f;\n    if (taskId == 0) {")
						.replace("float acc = 0.0f;", "float acc = zero;")), Dialect.VNNI, 3);
		assertFalse(crossing.record().steps().stream().anyMatch(s -> s.accepted() && s.pass().equals("loop-recovery")
				&& s.after().contains("taskId < 16")), crossing.record().reason());
	}
}
