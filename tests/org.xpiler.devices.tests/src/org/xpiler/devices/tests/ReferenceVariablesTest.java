package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xpiler.devices.tests.FloatBuffers.floats;
import static org.xpiler.devices.tests.FloatBuffers.floatsOf;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.xpiler.core.vm.Argument;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelRuns;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.RunResult;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.dialect.Dialect;

/**
 * C++ reference local variables ({@code float& out = y[i];}) on the virtual device, in every dialect: bound once,
 * when the declaration runs, to the place their initializer names, and read and written through it; a
 * {@code const} reference to a value holds a copy of it; what C++ rejects is an error at the declarator.
 */
public class ReferenceVariablesTest {
	private final VirtualDevice device = new VirtualDevice();

	private static KernelSource source(String name, String text) {
		return new KernelSource(Path.of(name), Dialect.fromFile(Path.of(name)).orElseThrow(), text);
	}

	private KernelRuns.Report run(String name, String text) {
		return new KernelRuns().run(device, source(name, text), Map.of(), 3, RunRequest.of(List.of()));
	}

	private Diagnostic error(String name, String text) {
		DeviceException e = assertThrows(DeviceException.class, () -> new KernelRuns().run(device, source(name, text),
				Map.of(), 1, new RunRequest(Optional.empty(), List.of(), null, null, 0, Duration.ofSeconds(5))));
		assertEquals(1, e.diagnostics().size(), e.getMessage());
		return e.diagnostics().get(0);
	}

	private static float[] buffer(KernelRuns.Report report, int index) {
		return floatsOf(report.buffers().get(index).buffer());
	}

	@Test
	public void aReferenceInALoopBodyIsReboundEveryIterationAndWritesThrough() {
		KernelRuns.Report report = run("rows.cpp", """
				extern "C" void rows_kernel(const float* x, float* y) {
				    for (int r = 0; r < 8; ++r) {
				        float& sum = y[r];
				        sum = 0.0f;
				        for (int c = 0; c < 4; ++c)
				            sum += x[r * 4 + c];
				    }
				}
				""");
		float[] x = buffer(report, 0);
		float[] y = buffer(report, 1);
		for (int r = 0; r < 8; r++) {
			assertEquals(x[r * 4] + x[r * 4 + 1] + x[r * 4 + 2] + x[r * 4 + 3], y[r], 1e-5f, "row " + r);
		}
	}

	@Test
	public void aConstReferenceToAnElementSeesLaterWritesToIt() {
		KernelRuns.Report report = run("alias.cpp", """
				extern "C" void alias_kernel(const float* x, float* y) {
				    const float& first = y[0];
				    y[0] = x[0] * 2.0f;
				    y[1] = first;
				}
				""");
		assertEquals(buffer(report, 0)[0] * 2, buffer(report, 1)[1]);
	}

	@Test
	public void referencesToLocalsAndToPointersWriteTheVariables() {
		KernelRuns.Report report = run("locals.cpp", """
				extern "C" void locals_kernel(const float* x, float* y) {
				    float total = 0.0f;
				    float& t = total;
				    for (int i = 0; i < 4; ++i) t += x[i];
				    float* p = y;
				    float*& q = p;
				    q += 2;
				    *p = total;
				    y[0] = 0.0f;
				    y[1] = 0.0f;
				    y[3] = 0.0f;
				}
				""");
		float[] x = buffer(report, 0);
		assertEquals(x[0] + x[1] + x[2] + x[3], buffer(report, 1)[2], 1e-5f);
	}

	@Test
	public void aConstReferenceToAValueHoldsACopy() {
		KernelRuns.Report report = run("copy.cpp", """
				extern "C" void copy_kernel(const float* x, float* y) {
				    const float& s = x[0] + x[1];
				    const double& d = x[2];
				    y[0] = s;
				    y[1] = (float)d;
				}
				""");
		float[] x = buffer(report, 0);
		float[] y = buffer(report, 1);
		assertEquals(x[0] + x[1], y[0]);
		assertEquals(x[2], y[1]);
	}

	@Test
	public void cudaAndHipThreadsWriteTheirElementsThroughAReference() {
		for (String file : List.of("scale.cu", "scale.hip")) {
			RunResult result = device.run(source(file, """
					__global__ void scale(const float* x, float* y) {
					    float& out = y[threadIdx.x];
					    const float& in = x[threadIdx.x];
					    out = in * 3.0f;
					}
					"""), new RunRequest(Optional.empty(), List.of(floats("x", 1, 2, 3, 4), floats("y", new float[4])),
					new int[] { 1, 1, 1 }, new int[] { 4, 1, 1 }, 0, Duration.ofSeconds(10)));
			float[] y = floatsOf(result.buffers().get(1));
			for (int i = 0; i < 4; i++) {
				assertEquals(3.0f * (i + 1), y[i], file);
			}
		}
	}

	@Test
	public void bangReferencesIntoNramAndGdramRun() {
		KernelRuns.Report report = run("twice.mlu", """
				extern "C" __mlu_global__ void twice_kernel(const float* x, float* y) {
				    if (taskId != 0) return;
				    __nram__ float buffer[16];
				    __memcpy(buffer, x, 16 * sizeof(float), GDRAM2NRAM);
				    for (int i = 0; i < 16; ++i) {
				        float& b = buffer[i];
				        b = b * 2.0f;
				        float& out = y[i];
				        out = b;
				    }
				}
				""");
		float[] x = buffer(report, 0);
		float[] y = buffer(report, 1);
		for (int i = 0; i < 16; i++) {
			assertEquals(x[i] * 2, y[i]);
		}
	}

	@Test
	public void theRaceDetectorSeesWritesThroughAReference() {
		DeviceException e = assertThrows(DeviceException.class, () -> device.run(source("sum.cu", """
				__global__ void sum(const float* x, float* y) {
				    float& total = y[0];
				    total += x[threadIdx.x];
				}
				"""), new RunRequest(Optional.empty(), List.of(floats("x", 1, 2, 3, 4), floats("y", new float[1])),
				new int[] { 1, 1, 1 }, new int[] { 4, 1, 1 }, 0, Duration.ofSeconds(10))));
		assertTrue(e.getMessage().contains("data race") && e.getMessage().contains("sum.cu:3:"), e.getMessage());
	}

	@Test
	public void aReferenceToAValueMustBeConst() {
		Diagnostic d = error("value.cpp", """
				extern "C" void value_kernel(const float* x, float* y) {
				    float& r = x[0] + 1.0f;
				    y[0] = r;
				}
				""");
		assertEquals(2, d.line(), d.format());
		assertEquals(10, d.column(), d.format());
		assertTrue(d.message().contains("the reference 'r' must bind to a variable, an element or a field of type float,"
				+ " not 'x[0] + 1.0f'"), d.format());
	}

	@Test
	public void aReferenceMustHaveTheTypeOfItsPlace() {
		Diagnostic d = error("types.cpp", """
				extern "C" void types_kernel(const int* x, float* y) {
				    float& r = y[0];
				    int& i = r;
				    y[0] = (float)(x[0] + i);
				}
				""");
		assertEquals(3, d.line(), d.format());
		assertTrue(d.message().contains("the reference 'i' must bind to a variable, an element or a field of type int"),
				d.format());
	}

	@Test
	public void aReferenceToALaneOfARegisterVectorIsRefused() {
		Diagnostic d = error("lane.cpp", """
				#include <immintrin.h>
				extern "C" void lane_kernel(const float* x, float* y) {
				    __m512 v = _mm512_loadu_ps(x);
				    float& lane = v[3];
				    lane = 1.0f;
				    _mm512_storeu_ps(y, v);
				}
				""");
		assertEquals(4, d.line(), d.format());
		assertTrue(d.message().contains("cannot bind the reference 'lane' to 'v[3]'"), d.format());
	}

	@Test
	public void aFileScopeReferenceIsRefusedAtItsDeclarator() {
		Diagnostic d = error("global.cpp", """
				float store[4];
				float& second = store[1];
				extern "C" void global_kernel(const float* x, float* y) {
				    second = x[0];
				    y[0] = store[1];
				}
				""");
		assertEquals(2, d.line(), d.format());
		assertTrue(d.message().contains("the file-scope reference 'second' is not supported"), d.format());
	}

	@Test
	public void aReferenceWithoutInitializerAndArraysOfReferencesAreErrors() {
		Diagnostic unbound = error("unbound.cpp", """
				extern "C" void unbound_kernel(const float* x, float* y) {
				    float& r;
				    y[0] = x[0];
				}
				""");
		assertEquals(2, unbound.line(), unbound.format());
		assertTrue(unbound.message().contains("the reference 'r' must be initialized"), unbound.format());
		Diagnostic array = error("array.cpp", """
				extern "C" void array_kernel(const float* x, float* y) {
				    float& pair[2] = {y[0], y[1]};
				    y[0] = x[0];
				}
				""");
		assertEquals(2, array.line(), array.format());
		assertTrue(array.message().contains("'pair' is declared as a pointer to, array of or reference to a reference"),
				array.format());
	}
}
