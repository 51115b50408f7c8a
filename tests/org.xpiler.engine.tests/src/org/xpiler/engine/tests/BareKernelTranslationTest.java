package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.xpiler.core.vm.VirtualMachine;
import org.xpiler.devices.KernelSource;
import org.xpiler.engine.pipeline.RunRecord;
import org.xpiler.engine.pipeline.StepRecord;
import org.xpiler.engine.pipeline.Translator;
import org.xpiler.lang.dialect.Dialect;

/**
 * A bare {@code __global__} kernel, without a host wrapper, translates like one with: its launch shape is
 * inferred (or given), loop recovery lifts it for that shape, and the output keeps the kernel's name and
 * parameters: a C++ function, a bare {@code __mlu_global__} entry, or the same bare kernel in HIP.
 */
public class BareKernelTranslationTest {
	/** As TVM writes an element-wise kernel: launch bounds, every index cast to int and written out at each use. */
	private static final String TVM_ADD = """
			extern "C" __global__ void __launch_bounds__(1024) add(float* __restrict__ A, float* __restrict__ B, float* __restrict__ T_add) {
			  if (((((int)blockIdx.x) * 1024) + ((int)threadIdx.x)) < 2310) {
			    T_add[((((int)blockIdx.x) * 1024) + ((int)threadIdx.x))] = (A[((((int)blockIdx.x) * 1024) + ((int)threadIdx.x))] + B[((((int)blockIdx.x) * 1024) + ((int)threadIdx.x))]);
			  }
			}
			""";

	private static RunRecord verified(Translator.Result result) {
		RunRecord record = result.record();
		assertTrue(record.verified(), record::reason);
		return record;
	}

	private static List<String> acceptedPasses(RunRecord record) {
		return record.steps().stream().filter(StepRecord::accepted).map(StepRecord::pass).toList();
	}

	private static Translator.Result translate(String cuda, Dialect to, VirtualMachine.LaunchShape launch) {
		return new Translator().translate(new KernelSource(Path.of("add.cu"), Dialect.CUDA, cuda), to, Map.of(), launch,
				3);
	}

	@Test
	public void aGeneratedElementwiseKernelBecomesAVectorLoopInCpp() {
		Translator.Result result = translate(TVM_ADD, Dialect.VNNI, new VirtualMachine.LaunchShape(null, null));
		RunRecord record = verified(result);
		assertEquals(List.of("loop-recovery", "loop-fuse", "annotate", "tensorize"), acceptedPasses(record));
		assertEquals(Map.of("grid", "3x1x1", "block", "1024x1x1"), record.steps().get(0).knobs());
		String out = result.output().orElseThrow();
		assertTrue(out.contains("extern \"C\" void add(float *__restrict__ A, float *__restrict__ B, float *__restrict__ T_add)"),
				out);
		assertTrue(out.contains("_mm512_add_ps(_mm512_loadu_ps(A + index), _mm512_loadu_ps(B + index))"), out);
		assertFalse(out.contains("(int)"), out);
	}

	@Test
	public void onBangItBecomesABareEntryOfTheSameNameWithVectorIntrinsics() {
		Translator.Result result = translate(TVM_ADD, Dialect.BANG, new VirtualMachine.LaunchShape(null, null));
		verified(result);
		String out = result.output().orElseThrow();
		assertTrue(out.contains("extern \"C\" __mlu_global__ void add(float *__restrict__ A"), out);
		assertTrue(out.contains("__bang_add("), out);
		assertFalse(out.contains("cnrt"), out); // no host wrapper: the source had none
	}

	@Test
	public void onHipItStaysABareKernelCheckedWithTheSameShape() {
		Translator.Result result = translate(TVM_ADD, Dialect.HIP, new VirtualMachine.LaunchShape(null, null));
		assertEquals(List.of("simt-runtime-mapping"), acceptedPasses(verified(result)));
		assertTrue(result.output().orElseThrow().contains("__launch_bounds__(1024) add("), result.output().get());
	}

	@Test
	public void aRefusalNamesTheSourcesLine() {
		String vote = """
				// a warp vote, which loop recovery does not lift

				extern "C" __global__ void __launch_bounds__(64) vote(const float* __restrict__ x, int* __restrict__ out) {
				  unsigned int m = __ballot_sync(0xffffffffu, x[((int)blockIdx.x) * 64 + ((int)threadIdx.x)] > 0.0f);
				  if (((int)blockIdx.x) * 64 + ((int)threadIdx.x) < 128) {
				    out[((int)blockIdx.x) * 64 + ((int)threadIdx.x)] = m != 0u;
				  }
				}
				""";
		Translator.Result refused = translate(vote, Dialect.VNNI, new VirtualMachine.LaunchShape(null, null));
		assertFalse(refused.record().verified());
		assertTrue(refused.record().reason().contains("line 4: __ballot_sync is not lifted"), refused.record().reason());
	}

	@Test
	public void aKernelWhoseGridTheCodeDoesNotBoundTranslatesWithTheGivenGrid() {
		String unguarded = """
				__global__ void __launch_bounds__(64) twice(const float* x, float* y)
				{
				    y[blockIdx.y * 64 + threadIdx.x] = 2.0f * x[blockIdx.y * 64 + threadIdx.x];
				}
				""";
		Translator.Result refused = translate(unguarded, Dialect.VNNI, new VirtualMachine.LaunchShape(null, null));
		assertFalse(refused.record().verified());
		assertTrue(refused.record().reason().contains("--grid"), refused.record().reason());

		Translator.Result given = translate(unguarded, Dialect.VNNI,
				new VirtualMachine.LaunchShape(new int[] { 1, 5, 1 }, null));
		RunRecord record = verified(given);
		assertEquals("1x5x1", record.steps().get(0).knobs().get("grid"));
		assertTrue(given.output().orElseThrow().contains("index < 320"), given.output().get());
	}
}
