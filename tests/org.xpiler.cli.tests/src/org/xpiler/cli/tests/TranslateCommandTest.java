package org.xpiler.cli.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xpiler.cli.tests.HeadlessApplicationTest.Outcome;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** {@code xpiler translate}: a verified output and a record, or exit 1 with the reason and no output. */
public class TranslateCommandTest {
	private static final Path CORPUS = Path.of(System.getProperty("xpiler.corpus", "../corpus"));

	@TempDir
	Path work;

	@Test
	public void aVerifiedTranslationWritesTheOutputAndTheRecord() throws Exception {
		Path output = work.resolve("softmax.hip");
		Path record = work.resolve("run.json");
		Outcome outcome = HeadlessApplicationTest.runXpiler("translate", "--to", "hip",
				CORPUS.resolve("cuda/softmax_64x128.cu").toString(), "-o", output.toString(), "--record", record.toString());
		assertEquals(0, outcome.exitCode(), outcome.err());
		assertTrue(outcome.out().contains("verified (simt-runtime-mapping)"), outcome.out());
		assertTrue(Files.readString(output).contains("hipMemcpy("), Files.readString(output));
		JsonNode run = new ObjectMapper().readTree(record.toFile());
		assertTrue(run.get("verified").asBoolean());
		JsonNode step = run.get("steps").get(0);
		assertEquals("accepted", step.get("verdict").asText());
		assertTrue(step.get("before").asText().contains("cudaMemcpy("));
		assertEquals(Files.readString(output), step.get("after").asText());
	}

	private static final String SAXPY = """
			__global__ void saxpy(const float* x, float* y, float a, int n)
			{
			    int i = blockIdx.x * blockDim.x + threadIdx.x;
			    if (i < n) y[i] = a * x[i] + y[i];
			}

			extern "C" void saxpy_kernel(const float* x, float* y, float a, int n)
			{
			    float *dx, *dy;
			    cudaMalloc((void**)&dx, n * sizeof(float));
			    cudaMalloc((void**)&dy, n * sizeof(float));
			    cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice);
			    cudaMemcpy(dy, y, n * sizeof(float), cudaMemcpyHostToDevice);
			    saxpy<<<(n + 255) / 256, 256>>>(dx, dy, a, n);
			    cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost);
			    cudaFree(dx);
			    cudaFree(dy);
			}
			""";

	@Test
	public void scalarParametersTakeTheirValuesFromArgsOrAssumedOnesAndTheOutputKeepsThem() throws Exception {
		Path source = work.resolve("saxpy.cu");
		Files.writeString(source, SAXPY);
		Path output = work.resolve("saxpy.hip");
		Outcome given = HeadlessApplicationTest.runXpiler("translate", "--to", "hip", "--args", "a=0.5,n=1000",
				source.toString(), "-o", output.toString());
		assertEquals(0, given.exitCode(), given.err());
		assertFalse(given.out().contains("assumed"), given.out());
		assertTrue(Files.readString(output).contains("saxpy_kernel(const float *x, float *y, float a, int n)"),
				Files.readString(output));
		// without --args the checks assume values, and say which
		Path bang = work.resolve("saxpy.mlu");
		Outcome assumed = HeadlessApplicationTest.runXpiler("translate", "--to", "bang", "--args", "a=2", source.toString(),
				"-o", bang.toString());
		assertEquals(0, assumed.exitCode(), assumed.err());
		assertTrue(assumed.out().contains("checked with the assumed n=1000; --args gives others"), assumed.out());
		String lifted = Files.readString(bang);
		assertTrue(lifted.contains("void saxpy_kernel(const float *x, float *y, float a, int n)"), lifted);
		// the (n + 255) / 256 blocks the wrapper launches become the n elements, split across the tasks
		assertTrue(lifted.contains("int total = (n) - start;"), lifted);
		assertFalse(lifted.contains("gridDim"), lifted);
	}

	@Test
	public void aBareKernelTakesItsGridFromGridWhenItsCodeDoesNotBoundIt() throws Exception {
		Path source = work.resolve("fill.cu");
		Files.writeString(source, """
				__global__ void __launch_bounds__(128) fill(float* y)
				{
				    y[blockIdx.x * 128 + threadIdx.x] = 1.0f;
				}
				""");
		Path output = work.resolve("fill.mlu");
		Outcome unknown = HeadlessApplicationTest.runXpiler("translate", "--to", "bang", source.toString(), "-o",
				output.toString());
		assertEquals(1, unknown.exitCode());
		assertTrue(unknown.err().contains("give its launch shape (--grid)"), unknown.err());
		assertFalse(Files.exists(output));
		Outcome outcome = HeadlessApplicationTest.runXpiler("translate", "--to", "bang", "--grid", "6", source.toString(),
				"-o", output.toString());
		assertEquals(0, outcome.exitCode(), outcome.err());
		assertTrue(Files.readString(output).contains("__mlu_global__ void fill(float *y)"), Files.readString(output));
	}

	@Test
	public void aFailedTranslationExitsOneWithTheReasonAndLeavesNoOutput() throws Exception {
		// a warp vote has no sequential counterpart yet: loop recovery refuses it with its line
		Path source = work.resolve("vote.cu");
		Files.writeString(source, """
				__global__ void any_positive(const float* x, int* out)
				{
				    unsigned int mask = __ballot_sync(0xffffffff, x[threadIdx.x] > 0.0f);
				    out[threadIdx.x] = mask != 0;
				}

				extern "C" void any_positive_kernel(const float* x, int* out)
				{
				    float* d_x;
				    int* d_out;
				    cudaMalloc((void**)&d_x, 32 * sizeof(float));
				    cudaMalloc((void**)&d_out, 32 * sizeof(int));
				    cudaMemcpy(d_x, x, 32 * sizeof(float), cudaMemcpyHostToDevice);
				    any_positive<<<1, 32>>>(d_x, d_out);
				    cudaMemcpy(out, d_out, 32 * sizeof(int), cudaMemcpyDeviceToHost);
				    cudaFree(d_x);
				    cudaFree(d_out);
				}
				""");
		Path output = work.resolve("vote.mlu");
		Path record = work.resolve("run.json");
		Outcome outcome = HeadlessApplicationTest.runXpiler("translate", "--to", "bang", source.toString(), "-o",
				output.toString(), "--record", record.toString());
		assertEquals(1, outcome.exitCode(), outcome.out());
		assertTrue(outcome.err().contains("not translated to Cambricon BANG C: loop-recovery refused: line 3: "
				+ "__ballot_sync is not lifted to sequential code yet"), outcome.err());
		assertFalse(Files.exists(output));
		assertFalse(new ObjectMapper().readTree(record.toFile()).get("verified").asBoolean());
	}
}
