package org.xpiler.engine.passes;

import java.util.Set;

import org.xpiler.lang.dialect.Dialect;

/**
 * The host runtime that a kernel's {@code extern "C"} wrapper calls to allocate device buffers, copy them and
 * launch: CUDA, HIP or CNRT (BANG). Its calls share a prefix ({@code cudaMalloc}, {@code hipMalloc},
 * {@code cnrtMalloc}) and take the same arguments; what differs is named here, so that one writer
 * ({@link HostWrapper}) and one reader ({@link WrapperBuffers}) serve every runtime.
 */
enum HostRuntime {
	CUDA("cuda", "#include <cuda_runtime.h>", "cudaMemcpyHostToDevice", "cudaMemcpyDeviceToHost", "", null, null,
			simtOrdering()),
	HIP("hip", "#include <hip/hip_runtime.h>", "hipMemcpyHostToDevice", "hipMemcpyDeviceToHost", "", null,
			"LaunchKernelGGL", simtOrdering()),
	/** cnrtMemcpy takes {@code void *} for its source too, so a {@code const} host buffer is cast. */
	CNRT("cnrt", "#include <cnrt.h>", "cnrtMemcpyHostToDev", "cnrtMemcpyDevToHost", "(void *)", "cnrtQueue_t", null,
			Set.of("QueueCreate", "QueueSync", "QueueDestroy", "SetDevice"));

	private final String prefix;
	final String header;
	final String hostToDevice;
	final String deviceToHost;
	/** What the source argument of a host-to-device copy is written with. */
	final String hostSourceCast;
	/** The type of the queue that launches go to, which the wrapper creates, waits for and destroys; null without. */
	final String queueType;
	/** The operation that launches a kernel as a call ({@code hipLaunchKernelGGL}), when there is one. */
	final String launch;
	/** Operations that only order or select the device's work: they leave no trace in sequential code. */
	final Set<String> ordering;

	HostRuntime(String prefix, String header, String hostToDevice, String deviceToHost, String hostSourceCast,
			String queueType, String launch, Set<String> ordering) {
		this.prefix = prefix;
		this.header = header;
		this.hostToDevice = hostToDevice;
		this.deviceToHost = deviceToHost;
		this.hostSourceCast = hostSourceCast;
		this.queueType = queueType;
		this.launch = launch;
		this.ordering = ordering;
	}

	private static Set<String> simtOrdering() {
		return Set.of("DeviceSynchronize", "GetLastError", "PeekAtLastError", "StreamSynchronize", "ThreadSynchronize",
				"DeviceReset");
	}

	static HostRuntime of(Dialect dialect) {
		return switch (dialect) {
		case CUDA -> CUDA;
		case HIP -> HIP;
		case BANG -> CNRT;
		case VNNI -> throw new IllegalArgumentException("C++ has no device runtime");
		};
	}

	/** {@code cnrtMalloc} for {@code Malloc}. */
	String call(String operation) {
		return prefix + operation;
	}

	/** The operation a call of this runtime performs ({@code Malloc} for {@code cnrtMalloc}), else null. */
	String operation(String callee) {
		return callee != null && callee.startsWith(prefix) && callee.length() > prefix.length()
				? callee.substring(prefix.length())
				: null;
	}

	/** The name the wrapper-writing knob reports: {@code cuda}, {@code hip}, {@code cnrt}. */
	String id() {
		return prefix;
	}
}
