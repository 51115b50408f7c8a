package org.xpiler.devices.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

import org.xpiler.core.vm.Argument;
import org.xpiler.core.vm.ElementType;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.NativeCpuDevice;
import org.xpiler.devices.RunRequest;
import org.xpiler.devices.RunResult;
import org.xpiler.devices.VirtualDevice;
import org.xpiler.lang.dialect.Dialect;

/**
 * What the catalog tests share: a C++ kernel run on the virtual device and, where g++ and an AVX-512 CPU are
 * available, natively, with both asserted to leave the same bytes; and buffers of 32-bit words in and out.
 */
final class NativeAgreement {
	private final VirtualDevice vm = new VirtualDevice();
	private final NativeCpuDevice cpu = new NativeCpuDevice();

	/** Runs the kernel on the virtual device and, where it can, natively; both must leave the same bytes. */
	List<Argument.Buffer> run(String name, String kernel, Argument.Buffer... buffers) {
		KernelSource source = new KernelSource(Path.of(name), Dialect.VNNI, kernel);
		RunResult onVm = vm.run(source, RunRequest.of(List.of(buffers)));
		if (cpu.unavailableReason().isEmpty()) {
			RunResult natively = cpu.run(source, RunRequest.of(List.of(buffers)));
			for (int b = 0; b < buffers.length; b++) {
				assertArrayEquals(natively.buffers().get(b).contents(), onVm.buffers().get(b).contents(),
						name + ": buffer " + buffers[b].name() + " differs between the virtual device and g++");
			}
		}
		return onVm.buffers();
	}

	static Argument.Buffer ints(String name, int... values) {
		ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
		for (int v : values) {
			bytes.putInt(v);
		}
		return new Argument.Buffer(name, ElementType.I32, bytes.array());
	}

	static Argument.Buffer floatBits(String name, int... bits) {
		return new Argument.Buffer(name, ElementType.F32, ints(name, bits).contents());
	}

	static int[] intsOf(Argument.Buffer buffer) {
		ByteBuffer bytes = ByteBuffer.wrap(buffer.contents()).order(ByteOrder.LITTLE_ENDIAN);
		int[] values = new int[buffer.contents().length / 4];
		for (int i = 0; i < values.length; i++) {
			values[i] = bytes.getInt(i * 4);
		}
		return values;
	}

	static void assertBits(int[] expected, int[] actual, String what) {
		assertEquals(expected.length, actual.length, what);
		for (int i = 0; i < expected.length; i++) {
			int e = expected[i];
			int a = actual[i];
			int index = i;
			assertEquals(e, a, () -> what + " [" + index + "]: expected 0x" + Integer.toHexString(e) + ", got 0x"
					+ Integer.toHexString(a));
		}
	}
}
