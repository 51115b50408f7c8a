package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Writes the {@code extern "C"} host wrapper that keeps an entry's name and parameters while its work runs on
 * the device: a device copy of every pointer parameter (sizes and directions from the source's run), the
 * launches, the copies back and the frees; on CNRT also the queue that the launches go to. One writer for every
 * {@link HostRuntime}:
 *
 * <pre>
 * extern "C" void relu_kernel(const float *x, float *y)
 * {
 *     cnrtQueue_t queue;                                     (CNRT only)
 *     cnrtQueueCreate(&amp;queue);
 *     float *d_x;
 *     cnrtMalloc((void **)&amp;d_x, 196608);
 *     cnrtMemcpy(d_x, (void *)x, 196608, cnrtMemcpyHostToDev); (inputs only)
 *     ...
 *     cnrtDim3_t dim = {16, 1, 1};                           (the caller's setup)
 *     relu&lt;&lt;&lt;dim, CNRT_FUNC_TYPE_UNION1, queue&gt;&gt;&gt;(d_x, d_y);   (the caller's launches)
 *     cnrtQueueSync(queue);
 *     cnrtMemcpy(y, d_y, 196608, cnrtMemcpyDevToHost);       (outputs only)
 *     cnrtFree(d_x);
 *     ...
 *     cnrtQueueDestroy(queue);
 * }
 * </pre>
 */
final class HostWrapper {
	private static final Set<String> CV_QUALIFIERS = Set.of("const", "volatile", "__restrict__", "__restrict",
			"restrict");

	private final String name;
	private final List<Parameter> parameters;
	private final List<LoopBind.Buffer> buffers;
	private final HostRuntime runtime;
	private final Dialect dialect;
	private final KernelPrinter printer;
	/** Names the wrapper's locals must differ from: the file's, its parameters and the locals handed out so far. */
	private final Set<String> taken = new HashSet<>();
	/** The device copy of each pointer parameter. */
	private final Map<String, String> deviceCopies = new LinkedHashMap<>();
	private final String queue;

	/**
	 * @param buffers   every pointer parameter of the entry, in order, from the source's run; a pointer beyond
	 *                  them is refused (its size is unknown)
	 * @param fileNames the file's names that the wrapper's locals must not hide (the kernels it launches)
	 */
	HostWrapper(String name, List<Parameter> parameters, List<LoopBind.Buffer> buffers, HostRuntime runtime,
			Dialect dialect, Set<String> fileNames) {
		this.name = name;
		this.parameters = List.copyOf(parameters);
		this.buffers = List.copyOf(buffers);
		this.runtime = runtime;
		this.dialect = dialect;
		this.printer = Dialect.VNNI.printer();
		taken.addAll(fileNames);
		parameters.forEach(p -> taken.add(p.getDeclarator().getName()));
		int pointer = 0;
		for (Parameter p : parameters) {
			if (isPointer(p)) {
				if (pointer++ >= buffers.size()) {
					throw PassRefusal.at(p, "the size of the buffer " + p.getDeclarator().getName() + " is unknown");
				}
				deviceCopies.put(p.getDeclarator().getName(), local("d_" + p.getDeclarator().getName()));
			}
		}
		this.queue = runtime.queueType != null ? local("queue") : null;
	}

	static boolean isPointer(Parameter p) {
		return !p.getDeclarator().getPointers().isEmpty();
	}

	/** A fresh local of the wrapper, {@code base} unless a parameter or an earlier local has that name. */
	String local(String base) {
		return Snippets.freshName(taken, base, dialect);
	}

	/** The queue the launches go to (CNRT), else null. */
	String queue() {
		return queue;
	}

	/** The entry's arguments as a launch passes them: device copies for the pointers. */
	String deviceArguments() {
		List<String> arguments = new ArrayList<>();
		for (Parameter p : parameters) {
			String parameter = p.getDeclarator().getName();
			arguments.add(deviceCopies.getOrDefault(parameter, parameter));
		}
		return String.join(", ", arguments);
	}

	/**
	 * The wrapper's text.
	 *
	 * @param setup    statements the launches need (launch dimensions), after the copies in
	 * @param launches the launch statements, in order
	 */
	String write(String setup, List<String> launches) {
		StringBuilder in = new StringBuilder();
		StringBuilder back = new StringBuilder();
		StringBuilder free = new StringBuilder();
		if (queue != null) {
			in.append("    ").append(runtime.queueType).append(" ").append(queue).append(";\n");
			in.append("    ").append(runtime.call("QueueCreate")).append("(&").append(queue).append(");\n");
		}
		int pointer = 0;
		for (Parameter p : parameters) {
			if (!isPointer(p)) {
				continue;
			}
			LoopBind.Buffer buffer = buffers.get(pointer++);
			String host = p.getDeclarator().getName();
			String device = deviceCopies.get(host);
			long bytes = buffer.bytes();
			in.append("    ").append(deviceDeclaration(p, device)).append(";\n");
			in.append("    ").append(runtime.call("Malloc")).append("((void **)&").append(device).append(", ").append(bytes)
					.append(");\n");
			if (buffer.input()) {
				in.append("    ").append(runtime.call("Memcpy")).append("(").append(device).append(", ")
						.append(runtime.hostSourceCast).append(host).append(", ").append(bytes).append(", ")
						.append(runtime.hostToDevice).append(");\n");
			}
			if (buffer.output()) {
				back.append("    ").append(runtime.call("Memcpy")).append("(").append(host).append(", ").append(device)
						.append(", ").append(bytes).append(", ").append(runtime.deviceToHost).append(");\n");
			}
			free.append("    ").append(runtime.call("Free")).append("(").append(device).append(");\n");
		}
		StringBuilder out = new StringBuilder("extern \"C\" void ").append(name).append("(")
				.append(String.join(", ", parameters.stream().map(printer::parameter).toList())).append(")\n{\n");
		out.append(in).append(setup);
		launches.forEach(launch -> out.append("    ").append(launch).append('\n'));
		if (queue != null) {
			out.append("    ").append(runtime.call("QueueSync")).append("(").append(queue).append(");\n");
		}
		out.append(back).append(free);
		if (queue != null) {
			out.append("    ").append(runtime.call("QueueDestroy")).append("(").append(queue).append(");\n");
		}
		return out.append("}\n").toString();
	}

	/** {@code float *d_x}: the parameter's type without its qualifiers, under the device copy's name. */
	private String deviceDeclaration(Parameter p, String device) {
		Parameter copy = EcoreUtil.copy(p);
		copy.getSpecifiers().removeIf(s -> s instanceof Specifier q && CV_QUALIFIERS.contains(q.getName()));
		copy.getDeclarator().getPointers().forEach(o -> o.getQualifiers().clear());
		copy.getDeclarator().setName(device);
		return printer.parameter(copy);
	}
}
