package org.xpiler.devices;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.xpiler.core.vm.Argument;
import org.xpiler.core.vm.ElementType;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.core.vm.EntryPoint.EntryParameter;
import org.xpiler.core.vm.Half;
import org.xpiler.core.vm.InputGenerator;
import org.xpiler.core.vm.VirtualMachine;

/**
 * Decides whether a candidate kernel computes what a reference kernel computes: runs the reference on the
 * virtual device with seeded random inputs (buffers grow to what the reference touches), gives the candidate
 * the same inputs (pointer parameters matched in order, across dialects), and compares every buffer the
 * reference wrote element by element with a tolerance by type; inputs the candidate changed count too.
 */
public final class Oracle {
	private final VirtualDevice virtualDevice = new VirtualDevice();
	/**
	 * The reference's last run, reused while the same reference is verified against several candidates (the
	 * translator checks every step against the source); the run is deterministic in its text, seed and request.
	 */
	private String referenceKey;
	private VirtualMachine.Result referenceRun;

	/** |got - want| <= absolute + relative * |want|; integers compare exactly. */
	public record Tolerance(double absolute, double relative) {
		public static Tolerance of(ElementType type) {
			return switch (type) {
			case F32 -> new Tolerance(1e-5, 1e-4);
			case F64 -> new Tolerance(1e-12, 1e-10);
			case F16 -> new Tolerance(1e-3, 1e-2);
			case BF16 -> new Tolerance(1e-2, 2e-2);
			default -> new Tolerance(0, 0);
			};
		}

		boolean accepts(double want, double got) {
			if (Double.isNaN(want) || Double.isNaN(got)) {
				return Double.isNaN(want) && Double.isNaN(got);
			}
			if (Double.isInfinite(want) || Double.isInfinite(got)) {
				return want == got;
			}
			return Math.abs(got - want) <= absolute + relative * Math.abs(want);
		}
	}

	/** The first element that differs: its index and both values as text. */
	public record Difference(long index, String expected, String actual) {
	}

	/** The comparison of one buffer; {@code output} when the reference wrote it. */
	public record BufferVerdict(String name, ElementType type, long elements, boolean output, long mismatches,
			Difference first) {
		public boolean matches() {
			return mismatches == 0;
		}
	}

	/** The answer: match or not, per buffer, and what the runs took. */
	public record Verdict(boolean matches, List<BufferVerdict> buffers, String reason, Duration referenceTime,
			Duration candidateTime) {

		/** One line: "all 1 output buffers match" or the first mismatch with both values and the count. */
		public String summary() {
			if (reason != null) {
				return reason;
			}
			long outputs = buffers.stream().filter(BufferVerdict::output).count();
			for (BufferVerdict b : buffers) {
				if (!b.matches()) {
					return "'" + b.name() + "' differs at " + b.mismatches() + " of " + b.elements() + " elements; first at index "
							+ b.first().index() + ": expected " + b.first().expected() + ", got " + b.first().actual();
				}
			}
			return "all " + outputs + " output buffer" + (outputs == 1 ? "" : "s") + " match";
		}
	}

	/**
	 * Runs both kernels on the same inputs and compares. {@code scalars} gives scalar parameters by name;
	 * {@code candidateDevice} runs the candidate (the virtual device or the native CPU).
	 *
	 * @throws DeviceException when the reference itself cannot run (that is not the candidate's fault)
	 */
	public Verdict verify(KernelSource reference, KernelSource candidate, Device candidateDevice,
			Map<String, String> scalars, long seed, RunRequest request) {
		InputGenerator inputs = new InputGenerator(seed);
		EntryPoint referenceEntry = KernelRuns.entry(reference, request);
		RunRequest referenceRequest = request.withArguments(
				arguments(referenceEntry, scalars, KernelRuns.sidecar(reference, referenceEntry, inputs)));
		String key = reference.dialect() + "\n" + seed + "\n" + scalars + "\n" + request.entry() + "\n"
				+ Arrays.toString(request.grid()) + Arrays.toString(request.block()) + request.taskDim() + "\n"
				+ reference.text();
		VirtualMachine.Result expected;
		synchronized (this) {
			if (!key.equals(referenceKey)) {
				referenceRun = virtualDevice.execute(reference, referenceRequest, inputs, false);
				referenceKey = key;
			}
			expected = referenceRun;
		}

		EntryPoint candidateEntry = KernelRuns.entry(candidate, request.withEntry(null));
		List<EntryParameter> referencePointers = referenceEntry.pointerParameters();
		if (candidateEntry.pointerParameters().size() != referencePointers.size()) {
			return failure("the reference's entry " + referenceEntry.name() + " has " + referencePointers.size()
					+ " pointer parameters and the candidate's " + candidateEntry.name() + " has "
					+ candidateEntry.pointerParameters().size() + ": they must match in order", expected);
		}
		boolean fillsUnwritten = !(candidateDevice instanceof VirtualDevice);
		List<Argument.Buffer> given = new ArrayList<>();
		for (int k = 0; k < referencePointers.size(); k++) {
			Argument.Buffer produced = expected.buffers().get(k);
			boolean output = expected.written()[k] && !expected.readBeforeWrite()[k];
			int parameterIndex = referenceEntry.parameters().indexOf(referencePointers.get(k));
			byte[] contents;
			boolean[] initialized = null;
			if (output) {
				contents = new byte[produced.contents().length];
				if (fillsUnwritten) {
					Arrays.fill(contents, (byte) 0xFF); // NaN for floats, -1 for integers: unwritten elements show
				} else {
					initialized = new boolean[contents.length];
				}
			} else {
				contents = inputs.buffer(produced.type(), parameterIndex, produced.elements());
			}
			String name = candidateEntry.pointerParameters().get(k).name();
			given.add(new Argument.Buffer(name, produced.type(), contents, initialized));
		}
		RunRequest candidateRequest = request.withEntry(null)
				.withArguments(arguments(candidateEntry, scalars, given));
		RunResult actual;
		try {
			actual = candidateDevice.run(candidate, candidateRequest);
		} catch (DeviceException e) {
			return failure("the candidate failed on " + candidateDevice.id() + ": " + e.getMessage(), expected);
		}
		List<BufferVerdict> verdicts = new ArrayList<>();
		for (int k = 0; k < referencePointers.size(); k++) {
			boolean output = expected.written()[k];
			Argument.Buffer want = output ? expected.buffers().get(k) : given.get(k);
			verdicts.add(compare(want, actual.buffers().get(k), output));
		}
		boolean matches = verdicts.stream().allMatch(BufferVerdict::matches);
		return new Verdict(matches, verdicts, null, expected.elapsed(), actual.elapsed());
	}

	private static Verdict failure(String reason, VirtualMachine.Result expected) {
		return new Verdict(false, List.of(), reason, expected.elapsed(), Duration.ZERO);
	}

	/**
	 * The arguments of an entry in parameter order: scalars by name from {@code scalars}, buffers from
	 * {@code buffers} in pointer order (or left to grow when null).
	 */
	static List<Argument> arguments(EntryPoint entry, Map<String, String> scalars, List<Argument.Buffer> buffers) {
		List<Argument> arguments = new ArrayList<>();
		int pointer = 0;
		for (EntryParameter p : entry.parameters()) {
			if (p.pointer()) {
				arguments.add(buffers == null ? new Argument.Buffer(p.name(), p.element(), null) : buffers.get(pointer));
				pointer++;
			} else {
				String value = scalars.get(p.name());
				if (value == null) {
					throw new DeviceException("the scalar parameter '" + p.name() + "' of " + entry.name()
							+ " needs a value: --args " + p.name() + "=...");
				}
				arguments.add(new Argument.Scalar(p.name(), value));
			}
		}
		return arguments;
	}

	static BufferVerdict compare(Argument.Buffer want, Argument.Buffer got, boolean output) {
		ElementType type = want.type();
		Tolerance tolerance = Tolerance.of(type);
		long elements = want.elements();
		ByteBuffer w = ByteBuffer.wrap(want.contents()).order(ByteOrder.LITTLE_ENDIAN);
		ByteBuffer g = ByteBuffer.wrap(got.contents()).order(ByteOrder.LITTLE_ENDIAN);
		boolean[] initialized = got.initialized();
		long mismatches = 0;
		Difference first = null;
		int size = type.bytes();
		for (long i = 0; i < elements; i++) {
			int offset = (int) (i * size);
			boolean present = offset + size <= got.contents().length
					&& (initialized == null || initialized[offset] && initialized[offset + size - 1]);
			boolean same;
			String expectedText = text(type, w, offset);
			String actualText;
			if (!present) {
				same = false;
				actualText = "nothing (never written)";
			} else if (type.isFloating()) {
				same = tolerance.accepts(value(type, w, offset), value(type, g, offset));
				actualText = text(type, g, offset);
			} else {
				same = bits(type, w, offset) == bits(type, g, offset);
				actualText = text(type, g, offset);
			}
			if (!same) {
				mismatches++;
				if (first == null) {
					first = new Difference(i, expectedText, actualText);
				}
			}
		}
		return new BufferVerdict(want.name(), type, elements, output, mismatches, first);
	}

	static double value(ElementType type, ByteBuffer b, int offset) {
		return switch (type) {
		case F32 -> b.getFloat(offset);
		case F64 -> b.getDouble(offset);
		case F16 -> Half.halfBitsToDouble(b.getShort(offset));
		case BF16 -> Half.bfloat16BitsToDouble(b.getShort(offset));
		default -> bits(type, b, offset);
		};
	}

	static long bits(ElementType type, ByteBuffer b, int offset) {
		return switch (type.bytes()) {
		case 1 -> type.isSigned() ? b.get(offset) : b.get(offset) & 0xFF;
		case 2 -> type.isSigned() ? b.getShort(offset) : b.getShort(offset) & 0xFFFF;
		case 4 -> type.isSigned() ? b.getInt(offset) : b.getInt(offset) & 0xFFFFFFFFL;
		default -> b.getLong(offset);
		};
	}

	static String text(ElementType type, ByteBuffer b, int offset) {
		if (offset + type.bytes() > b.capacity()) {
			return "nothing";
		}
		return type.isFloating() ? Double.toString(value(type, b, offset))
				: type == ElementType.U64 ? Long.toUnsignedString(bits(type, b, offset)) : Long.toString(bits(type, b, offset));
	}
}
