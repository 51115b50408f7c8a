package org.xpiler.devices;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.xpiler.core.vm.Argument;
import org.xpiler.core.vm.ElementType;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.core.vm.EntryPoint.EntryParameter;
import org.xpiler.core.vm.InputGenerator;
import org.xpiler.core.vm.VirtualMachine;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Runs one kernel on seeded random inputs, on any device, as {@code xpiler run} does. Buffer sizes come from
 * the optional sidecar {@code <file>.json} ({@code {"arguments": {"A": {"type": "float", "elements": 4096}}}}),
 * or else from a run on the virtual device with buffers that grow as far as the kernel reaches (a host
 * wrapper's allocations and copies included); devices that need sizes up front get those.
 */
public final class KernelRuns {
	private static final ObjectMapper JSON = new ObjectMapper();

	/** How a run used a buffer. */
	public enum Role {
		INPUT, OUTPUT, IN_OUT, UNUSED
	}

	public record BufferReport(Argument.Buffer buffer, Role role) {
	}

	public record Report(String device, String entry, List<BufferReport> buffers, Duration elapsed) {
	}

	private final VirtualDevice virtualDevice = new VirtualDevice();

	public Report run(Device device, KernelSource source, Map<String, String> scalars, long seed, RunRequest request) {
		InputGenerator inputs = new InputGenerator(seed);
		EntryPoint entry = entry(source, request);
		List<Argument.Buffer> sized = sidecar(source, entry, inputs);
		VirtualMachine.Result probe = virtualDevice.execute(source,
				request.withArguments(Oracle.arguments(entry, scalars, sized)), inputs, false);
		List<Role> roles = new ArrayList<>();
		for (int k = 0; k < probe.buffers().size(); k++) {
			boolean written = probe.written()[k];
			boolean read = probe.readBeforeWrite()[k] || sized != null && !written;
			roles.add(written ? (read ? Role.IN_OUT : Role.OUTPUT) : read ? Role.INPUT : Role.UNUSED);
		}
		if (device instanceof VirtualDevice) {
			return report(device, entry, probe.buffers(), roles, probe.elapsed());
		}
		List<Argument.Buffer> given = new ArrayList<>();
		List<EntryParameter> pointers = entry.pointerParameters();
		for (int k = 0; k < pointers.size(); k++) {
			Argument.Buffer b = probe.buffers().get(k);
			byte[] contents = roles.get(k) == Role.OUTPUT ? filled(b.contents().length)
					: inputs.buffer(b.type(), entry.parameters().indexOf(pointers.get(k)), b.elements());
			given.add(new Argument.Buffer(b.name(), b.type(), contents));
		}
		RunResult result = device.run(source, request.withArguments(Oracle.arguments(entry, scalars, given)));
		return report(device, entry, result.buffers(), roles, result.elapsed());
	}

	/**
	 * The values a run assumes for the entry's scalar parameters that {@code scalars} lacks
	 * ({@link ScalarDefaults}); empty when it has them all.
	 */
	public Map<String, String> assumedScalars(KernelSource source, Map<String, String> scalars, RunRequest request) {
		return ScalarDefaults.assumed(entry(source, request), scalars);
	}

	/**
	 * {@code request} with the whole launch shape when the source's entry is a bare {@code __global__} kernel:
	 * what it gives, the rest inferred on the virtual device from the arguments a run would get.
	 */
	public RunRequest withLaunchShape(KernelSource source, Map<String, String> scalars, long seed, RunRequest request) {
		InputGenerator inputs = new InputGenerator(seed);
		EntryPoint entry = entry(source, request);
		if (entry.kind() != EntryPoint.Kind.SIMT_KERNEL) {
			return request;
		}
		RunRequest completed = virtualDevice.withLaunchShape(source,
				request.withArguments(Oracle.arguments(entry, scalars, sidecar(source, entry, inputs))), inputs);
		return request.withLaunchShape(completed.grid(), completed.block());
	}

	private static byte[] filled(int length) {
		byte[] bytes = new byte[length];
		Arrays.fill(bytes, (byte) 0xFF);
		return bytes;
	}

	private static Report report(Device device, EntryPoint entry, List<Argument.Buffer> buffers, List<Role> roles,
			Duration elapsed) {
		List<BufferReport> reports = new ArrayList<>();
		for (int k = 0; k < buffers.size(); k++) {
			reports.add(new BufferReport(buffers.get(k), roles.get(k)));
		}
		return new Report(device.id(), entry.name(), reports, elapsed);
	}

	static EntryPoint entry(KernelSource source, RunRequest request) {
		ParsedKernel parsed = new KernelParser().parse(source.displayName(), source.text(), source.dialect());
		if (parsed.unit() == null || parsed.hasErrors()) {
			throw new DeviceException(source.displayName() + " has errors and cannot run", parsed.errors());
		}
		try {
			return EntryPoint.find(parsed.unit(), request.entry());
		} catch (IllegalArgumentException e) {
			throw new DeviceException(source.displayName() + ": " + e.getMessage());
		}
	}

	/** Buffers sized by {@code <file>.json}, filled with inputs; null when there is no sidecar. */
	static List<Argument.Buffer> sidecar(KernelSource source, EntryPoint entry, InputGenerator inputs) {
		Path file = source.file().resolveSibling(source.file().getFileName() + ".json");
		if (!Files.isRegularFile(file)) {
			return null;
		}
		JsonNode arguments;
		try {
			arguments = JSON.readTree(file.toFile()).path("arguments");
		} catch (IOException e) {
			throw new DeviceException(file + " is not valid JSON: " + e.getMessage());
		}
		List<Argument.Buffer> buffers = new ArrayList<>();
		for (EntryParameter p : entry.pointerParameters()) {
			JsonNode shape = arguments.path(p.name());
			if (!shape.has("elements")) {
				throw new DeviceException(file + " gives no \"elements\" for the pointer parameter '" + p.name() + "'");
			}
			ElementType type = shape.has("type") ? ElementType.parse(shape.get("type").asText())
					.orElseThrow(() -> new DeviceException(file + ": unknown element type " + shape.get("type")))
					: p.element();
			buffers.add(new Argument.Buffer(p.name(), type,
					inputs.buffer(type, entry.parameters().indexOf(p), shape.get("elements").asLong())));
		}
		return buffers;
	}
}
