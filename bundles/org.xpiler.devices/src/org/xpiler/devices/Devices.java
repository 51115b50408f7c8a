package org.xpiler.devices;

import java.util.List;
import java.util.Optional;

/**
 * The devices users can name with {@code --device}, in the order listings show them. One instance of each:
 * devices hold no per-run state.
 */
public final class Devices {
	/** The virtual device goes first: it is the default and the reference for correctness. */
	private static final List<Device> ALL = List.of(new VirtualDevice(), new NativeCpuDevice(), new NativeGpuDevice(),
			CompileOnlyDevice.nvcc(), CompileOnlyDevice.hipcc(), CompileOnlyDevice.bangCheck());

	private Devices() {
	}

	/** Every device, installed on this machine or not (ask {@link Device#unavailableReason()}). */
	public static List<Device> all() {
		return ALL;
	}

	/**
	 * The device with the id users type ({@code vm}, {@code native}, {@code gpu}, {@code nvcc}, {@code hipcc},
	 * {@code bang-check}).
	 */
	public static Optional<Device> byId(String id) {
		return ALL.stream().filter(device -> device.id().equals(id)).findFirst();
	}
}
