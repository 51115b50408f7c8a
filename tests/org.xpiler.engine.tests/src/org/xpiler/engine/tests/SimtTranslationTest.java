package org.xpiler.engine.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xpiler.devices.KernelSource;
import org.xpiler.engine.passes.SimtRuntimeMapping;
import org.xpiler.engine.pipeline.RunRecord;
import org.xpiler.engine.pipeline.StepRecord;
import org.xpiler.engine.pipeline.Translator;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.parsing.KernelParser;

/**
 * CUDA and HIP translate into each other through the SIMT runtime mapping, every result checked by the
 * oracle: all CUDA corpus kernels become verified HIP kernels; a HIP kernel that relies on 64-lane
 * wavefronts is rejected with the oracle's difference rather than translated wrongly.
 */
public class SimtTranslationTest {
	private static final Path CORPUS = Path.of(System.getProperty("xpiler.corpus", "../corpus"));

	static Stream<Path> cudaKernels() throws IOException {
		try (Stream<Path> files = Files.list(CORPUS.resolve("cuda"))) {
			return files.sorted().toList().stream();
		}
	}

	private static Translator.Result translate(Path file, Dialect to) throws IOException {
		return new Translator().translate(KernelSource.read(file, Dialect.fromFile(file).orElseThrow()), to, 3);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("cudaKernels")
	public void everyCudaCorpusKernelBecomesAVerifiedHipKernel(Path file) throws IOException {
		Translator.Result result = translate(file, Dialect.HIP);
		RunRecord record = result.record();
		assertTrue(record.verified(), () -> record.reason());
		StepRecord step = record.steps().get(0);
		assertEquals("simt-runtime-mapping", step.pass());
		assertEquals(step.after(), result.output().orElseThrow());
		assertFalse(result.output().get().contains("cudaMalloc"), result.output().get());
	}

	@Test
	public void warpShufflesKeepTheirThirtyTwoLaneMeaningOnHip() {
		String cuda = """
				__global__ void warp_sum(const float* in, float* out)
				{
				    float v = in[threadIdx.x];
				    for (int offset = 16; offset > 0; offset /= 2) {
				        v += __shfl_down_sync(0xffffffff, v, offset);
				    }
				    if (threadIdx.x % warpSize == 0) {
				        out[threadIdx.x / warpSize] = v;
				    }
				}

				extern "C" void warp_sum_kernel(const float* in, float* out)
				{
				    float* d_in;
				    float* d_out;
				    cudaMalloc((void**)&d_in, 128 * sizeof(float));
				    cudaMalloc((void**)&d_out, 4 * sizeof(float));
				    cudaMemcpy(d_in, in, 128 * sizeof(float), cudaMemcpyHostToDevice);
				    warp_sum<<<1, 128>>>(d_in, d_out);
				    cudaMemcpy(out, d_out, 4 * sizeof(float), cudaMemcpyDeviceToHost);
				}
				""";
		Translator.Result result = new Translator().translate(new KernelSource(Path.of("warp.cu"), Dialect.CUDA, cuda),
				Dialect.HIP, 5);
		assertTrue(result.record().verified(), result.record().reason());
		String hip = result.output().orElseThrow();
		assertTrue(hip.contains("__shfl_down(v, offset, 32)"), hip);
		assertTrue(hip.contains("threadIdx.x % 32 == 0"), hip);
		assertTrue(hip.contains("hipMemcpy(d_in, in, 128 * sizeof(float), hipMemcpyHostToDevice)"), hip);
	}

	@Test
	public void aHipKernelThatReliesOnSixtyFourLanesIsRestructuredThroughSequentialLoops() throws IOException {
		Translator.Result result = translate(CORPUS.resolve("hip/gemv_1024x256.hip"), Dialect.CUDA);
		assertTrue(result.record().verified(), result.record().reason());
		StepRecord mapping = result.record().steps().get(0);
		assertEquals("simt-runtime-mapping", mapping.pass());
		assertEquals("rejected", mapping.verdict());
		assertTrue(mapping.reason().startsWith("'y' differs"), mapping.reason());
		List<String> accepted = result.record().steps().stream().filter(StepRecord::accepted).map(StepRecord::pass)
				.toList();
		assertEquals(List.of("loop-recovery", "annotate", "loop-bind"), accepted);
		assertFalse(result.output().get().contains("__shfl"), result.output().get());
	}

	@Test
	public void hipLaunchKernelGglBecomesATripleChevronLaunch() throws IOException {
		Translator.Result result = translate(CORPUS.resolve("hip/relu_64x768.hip"), Dialect.CUDA);
		assertTrue(result.record().verified(), result.record().reason());
		assertFalse(result.output().get().contains("hip"), result.output().get());
	}

	@Test
	public void warpVotesAreRefusedWithTheirLine() {
		String cuda = """
				__global__ void any_positive(const float* in, int* out)
				{
				    unsigned int mask = __ballot_sync(0xffffffff, in[threadIdx.x] > 0.0f);
				    out[threadIdx.x] = mask != 0;
				}
				""";
		var unit = new KernelParser().parse("vote.cu", cuda, Dialect.CUDA).unit();
		String refusal = new SimtRuntimeMapping().refusal(unit, Dialect.CUDA, Dialect.HIP).orElseThrow();
		assertTrue(refusal.startsWith("line 3: __ballot_sync depends on the warp width"), refusal);
	}

	@Test
	public void aSourceThatDoesNotRunIsReportedAsSuchNotAsATranslationFailure() {
		String cuda = """
				extern "C" void broken_kernel(const float* x, float* y)
				{
				    int rows = 0;
				    for (int i = 0; i < 64; i++) {
				        y[i] = x[i] / (64 / rows);
				    }
				}
				""";
		Translator.Result result = new Translator().translate(
				new KernelSource(Path.of("broken.cu"), Dialect.CUDA, cuda), Dialect.BANG, 3);
		assertFalse(result.record().verified());
		assertTrue(result.record().reason().startsWith("the source does not run on the virtual device"),
				result.record().reason());
		assertTrue(result.record().steps().isEmpty());
	}
}
