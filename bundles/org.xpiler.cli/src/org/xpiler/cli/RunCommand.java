package org.xpiler.cli;

import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.xpiler.core.vm.Argument;
import org.xpiler.core.vm.ElementType;
import org.xpiler.core.vm.Half;
import org.xpiler.devices.DeviceException;
import org.xpiler.devices.KernelRuns;
import org.xpiler.devices.KernelSource;
import org.xpiler.devices.ScalarDefaults;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code xpiler run}: runs a kernel on random inputs and shows what it wrote. */
@Command(name = "run", mixinStandardHelpOptions = true,
		description = { "Run a kernel's entry on seeded random inputs and print its buffers.",
				"Faults of the kernel (out-of-bounds, data races, broken intrinsic rules, endless loops) are "
						+ "reported with their location; exit 1." })
class RunCommand implements Callable<Integer> {
	private static final int SHOWN_VALUES = 8;

	@Spec
	CommandSpec spec;

	@Mixin
	JsonOption json;

	@Mixin
	KernelRunOptions options;

	@Parameters(paramLabel = "FILE", description = "The kernel file (.cu, .hip, .mlu, .cpp).")
	Path file;

	@Override
	public Integer call() {
		KernelRuns.Report report;
		Map<String, String> assumed;
		try {
			KernelSource source = KernelRunOptions.source(file);
			KernelRuns runs = new KernelRuns();
			assumed = runs.assumedScalars(source, options.scalars(), options.request());
			report = runs.run(options.device(), source, ScalarDefaults.with(options.scalars(), assumed), options.seed,
					options.request());
		} catch (DeviceException e) {
			throw KernelRunOptions.failure(e);
		}
		PrintWriter out = spec.commandLine().getOut();
		if (json.enabled()) {
			Map<String, Object> result = json(report);
			result.put("assumedScalars", assumed);
			JsonOption.print(out, result);
			return ExitCode.OK;
		}
		out.printf(Locale.ROOT, "%s ran %s on %s in %.1f ms%n", file, report.entry(), report.device(),
				report.elapsed().toNanos() / 1e6);
		KernelRunOptions.printAssumed(out, assumed);
		for (KernelRuns.BufferReport b : report.buffers()) {
			Argument.Buffer buffer = b.buffer();
			String role = b.role().name().toLowerCase(Locale.ROOT).replace('_', '-');
			out.printf(Locale.ROOT, "  %-12s %s[%d] %s", buffer.name(), buffer.type().cName(), buffer.elements(), role);
			if (b.role() == KernelRuns.Role.OUTPUT || b.role() == KernelRuns.Role.IN_OUT) {
				List<String> values = values(buffer, SHOWN_VALUES);
				out.print(": " + String.join(" ", values) + (buffer.elements() > SHOWN_VALUES ? " ..." : ""));
			}
			out.println();
		}
		return ExitCode.OK;
	}

	private static Map<String, Object> json(KernelRuns.Report report) {
		Map<String, Object> result = new LinkedHashMap<>();
		result.put("device", report.device());
		result.put("entry", report.entry());
		result.put("elapsedMillis", report.elapsed().toNanos() / 1e6);
		List<Map<String, Object>> buffers = new ArrayList<>();
		for (KernelRuns.BufferReport b : report.buffers()) {
			Map<String, Object> entry = new LinkedHashMap<>();
			entry.put("name", b.buffer().name());
			entry.put("type", b.buffer().type().cName());
			entry.put("elements", b.buffer().elements());
			entry.put("role", b.role().name().toLowerCase(Locale.ROOT));
			if (b.role() == KernelRuns.Role.OUTPUT || b.role() == KernelRuns.Role.IN_OUT) {
				entry.put("values", numbers(b.buffer()));
			}
			buffers.add(entry);
		}
		result.put("buffers", buffers);
		return result;
	}

	private static List<String> values(Argument.Buffer buffer, int limit) {
		List<Number> numbers = numbers(buffer);
		return numbers.subList(0, Math.min(limit, numbers.size())).stream().map(n -> n == null ? "?"
				: n instanceof Double d ? String.format(Locale.ROOT, "%.6g", d) : n.toString()).toList();
	}

	/** The buffer's elements as numbers; bytes never written are null. */
	static List<Number> numbers(Argument.Buffer buffer) {
		ElementType type = buffer.type();
		ByteBuffer bytes = ByteBuffer.wrap(buffer.contents()).order(ByteOrder.LITTLE_ENDIAN);
		boolean[] initialized = buffer.initialized();
		List<Number> result = new ArrayList<>();
		for (int offset = 0; offset + type.bytes() <= buffer.contents().length; offset += type.bytes()) {
			if (initialized != null && !initialized[offset]) {
				result.add(null);
				continue;
			}
			result.add(switch (type) {
			case F32 -> (double) bytes.getFloat(offset);
			case F64 -> bytes.getDouble(offset);
			case F16 -> Half.halfBitsToDouble(bytes.getShort(offset));
			case BF16 -> Half.bfloat16BitsToDouble(bytes.getShort(offset));
			case I8 -> (long) bytes.get(offset);
			case U8, BOOL -> (long) (bytes.get(offset) & 0xFF);
			case I16 -> (long) bytes.getShort(offset);
			case U16 -> (long) (bytes.getShort(offset) & 0xFFFF);
			case I32 -> (long) bytes.getInt(offset);
			case U32 -> bytes.getInt(offset) & 0xFFFFFFFFL;
			case I64, U64 -> bytes.getLong(offset);
			});
		}
		return result;
	}
}
