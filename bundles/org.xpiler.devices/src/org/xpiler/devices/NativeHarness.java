package org.xpiler.devices;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.xtext.nodemodel.ILeafNode;
import org.eclipse.xtext.nodemodel.INode;
import org.eclipse.xtext.nodemodel.util.NodeModelUtils;
import org.xpiler.core.vm.Argument;
import org.xpiler.core.vm.EntryPoint;
import org.xpiler.core.vm.EntryPoint.EntryParameter;
import org.xpiler.lang.kernel.DeclSpecifier;
import org.xpiler.lang.kernel.KernelPackage;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Specifier;

/**
 * The C++ {@code main} that runs one host entry natively (a C++ function, or a CUDA program's host wrapper),
 * generated from the entry's declared parameter list so that every argument reaches the entry with the
 * parameter's exact type ({@code std::decay_t} of the type as written, so arrays and references need no special
 * case). Pointer arguments are read from
 * {@code argN.bin} (N: the parameter's position) into 64-byte aligned buffers and written back to
 * {@code argN.out}; scalar arguments are number literals converted to the parameter's type; only the call is
 * timed, in nanoseconds, into {@code elapsed.txt}. Buffer sizes come from the files, so one compiled harness
 * serves any input size.
 */
final class NativeHarness {
	/** The name the harness's own lines carry in compiler messages. */
	static final String FILE_NAME = "xpiler-native-harness.cpp";

	static final String ELAPSED_FILE = "elapsed.txt";

	/** The standard headers the harness uses; they go before the prelude, out of reach of kernel macros. */
	static final String INCLUDES = """
			#include <chrono>
			#include <cstddef>
			#include <cstdio>
			#include <cstdlib>
			#include <cstring>
			#include <type_traits>
			""";

	private static final Pattern INTEGER_LITERAL = Pattern
			.compile("[+-]?(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)([uU](ll|LL|l|L)?|(ll|LL|l|L)[uU]?)?");

	private static final Pattern FLOATING_LITERAL = Pattern
			.compile("[+-]?(([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)[fFlL]?");

	/** The declaration specifiers that belong to a parameter's type (storage classes do not). */
	private static final Set<String> TYPE_QUALIFIERS = Set.of("const", "volatile");

	/**
	 * Reads a file into a zero-padded buffer of a multiple of 64 bytes, aligned to 64, and writes one back.
	 * Failures end the process with a message on stderr.
	 */
	private static final String BUFFER_FUNCTIONS = """
			namespace xpiler_native_harness {
			struct Buffer {
				void* data;
				std::size_t bytes;
			};

			static Buffer read_buffer(const char* path) {
				std::FILE* file = std::fopen(path, "rb");
				if (file == nullptr || std::fseek(file, 0, SEEK_END) != 0) {
					std::fprintf(stderr, "the harness cannot read %s\\n", path);
					std::exit(2);
				}
				const long size = std::ftell(file);
				std::rewind(file);
				const std::size_t bytes = static_cast<std::size_t>(size);
				const std::size_t allocated = bytes == 0 ? 64 : (bytes + 63) / 64 * 64;
				void* data = std::aligned_alloc(64, allocated);
				if (data == nullptr) {
					std::fprintf(stderr, "the harness cannot allocate %zu bytes for %s (memory limit)\\n", allocated, path);
					std::exit(3);
				}
				std::memset(data, 0, allocated);
				if (std::fread(data, 1, bytes, file) != bytes) {
					std::fprintf(stderr, "the harness cannot read %s\\n", path);
					std::exit(2);
				}
				std::fclose(file);
				return Buffer{data, bytes};
			}

			static void write_file(const char* path, const void* data, std::size_t bytes) {
				std::FILE* file = std::fopen(path, "wb");
				if (file == nullptr || std::fwrite(data, 1, bytes, file) != bytes || std::fclose(file) != 0) {
					std::fprintf(stderr, "the harness cannot write %s\\n", path);
					std::exit(2);
				}
			}
			} // namespace xpiler_native_harness

			""";

	private final String text;

	private NativeHarness(String text) {
		this.text = text;
	}

	/**
	 * The harness calling {@code entry} with {@code arguments} (in parameter order).
	 *
	 * @throws DeviceException when the arguments do not fit the parameters, or a scalar is not a number literal
	 */
	static NativeHarness generate(EntryPoint entry, List<Argument> arguments) {
		List<EntryParameter> parameters = entry.parameters();
		checkArity(entry, arguments);
		List<String> types = declaredTypes(entry);
		StringBuilder main = new StringBuilder();
		main.append(KernelCompiler.lineDirective(FILE_NAME)).append(BUFFER_FUNCTIONS).append("int main() {\n");
		List<String> callArguments = new ArrayList<>();
		List<Integer> buffers = new ArrayList<>();
		for (int i = 0; i < parameters.size(); i++) {
			EntryParameter parameter = parameters.get(i);
			String type = "xpiler_arg" + i + "_type";
			main.append("\tusing ").append(type).append(" = std::decay_t<").append(types.get(i)).append(">;\n");
			if (argumentFor(entry, parameter, arguments.get(i)) instanceof Argument.Scalar scalar) {
				main.append("\t").append(type).append(" xpiler_value").append(i).append(" = static_cast<").append(type)
						.append(">(").append(numberLiteral(entry, parameter, scalar)).append(");\n");
				callArguments.add("xpiler_value" + i);
			} else {
				main.append("\tconst xpiler_native_harness::Buffer xpiler_buffer").append(i)
						.append(" = xpiler_native_harness::read_buffer(\"").append(inputFile(i)).append("\");\n");
				callArguments.add("static_cast<" + type + ">(xpiler_buffer" + i + ".data)");
				buffers.add(i);
			}
		}
		main.append("\tconst auto xpiler_start = std::chrono::steady_clock::now();\n");
		main.append("\t").append(entry.name()).append("(").append(String.join(", ", callArguments)).append(");\n");
		main.append("\tconst auto xpiler_stop = std::chrono::steady_clock::now();\n");
		main.append("\tconst long long xpiler_nanoseconds = static_cast<long long>(std::chrono::duration_cast<"
				+ "std::chrono::nanoseconds>(xpiler_stop - xpiler_start).count());\n");
		main.append("\tchar xpiler_elapsed[32];\n");
		main.append("\tconst int xpiler_length = std::snprintf(xpiler_elapsed, sizeof xpiler_elapsed, \"%lld\","
				+ " xpiler_nanoseconds);\n");
		main.append("\txpiler_native_harness::write_file(\"").append(ELAPSED_FILE)
				.append("\", xpiler_elapsed, static_cast<std::size_t>(xpiler_length));\n");
		for (int i : buffers) {
			main.append("\txpiler_native_harness::write_file(\"").append(outputFile(i)).append("\", xpiler_buffer")
					.append(i).append(".data, xpiler_buffer").append(i).append(".bytes);\n");
		}
		main.append("\treturn 0;\n}\n");
		return new NativeHarness(main.toString());
	}

	/** The C++ text, to be compiled after the kernel. */
	String text() {
		return text;
	}

	/** The file the harness reads parameter {@code index}'s buffer from. */
	static String inputFile(int index) {
		return "arg" + index + ".bin";
	}

	/** The file the harness writes parameter {@code index}'s buffer to after the call. */
	static String outputFile(int index) {
		return "arg" + index + ".out";
	}

	private static void checkArity(EntryPoint entry, List<Argument> arguments) {
		List<EntryParameter> parameters = entry.parameters();
		if (arguments.size() != parameters.size()) {
			throw new DeviceException("the entry " + entry.name() + " takes " + parameters.size() + " argument"
					+ (parameters.size() == 1 ? "" : "s") + " ("
					+ parameters.stream().map(EntryParameter::name).collect(Collectors.joining(", ")) + "), but the run gives "
					+ arguments.size());
		}
	}

	private static Argument argumentFor(EntryPoint entry, EntryParameter parameter, Argument argument) {
		if (parameter.pointer() && argument instanceof Argument.Scalar scalar) {
			throw new DeviceException("parameter '" + parameter.name() + "' of " + entry.name()
					+ " is a pointer: give it a buffer, not the value " + scalar.value());
		}
		if (!parameter.pointer() && argument instanceof Argument.Buffer) {
			throw new DeviceException("parameter '" + parameter.name() + "' of " + entry.name()
					+ " is a scalar: give it a number, not a buffer");
		}
		return argument;
	}

	private static String numberLiteral(EntryPoint entry, EntryParameter parameter, Argument.Scalar scalar) {
		String value = scalar.value().strip();
		if (INTEGER_LITERAL.matcher(value).matches() || FLOATING_LITERAL.matcher(value).matches()) {
			return value;
		}
		throw new DeviceException("the value '" + scalar.value() + "' for parameter '" + parameter.name() + "' of "
				+ entry.name() + " is not a number literal; write it like 1024, -3, 0x40 or 0.5f");
	}

	/**
	 * Each parameter's type as the kernel declares it, as a C++ type-id: the parameter's tokens without its
	 * name and storage classes ({@code const float * __restrict__}, {@code float [ 4 ] [ 4 ]}).
	 */
	private static List<String> declaredTypes(EntryPoint entry) {
		List<String> types = new ArrayList<>();
		if (entry.parameters().isEmpty()) {
			return types; // f() or f(void): the model's lone void parameter is no argument
		}
		for (Parameter parameter : entry.function().getParams()) {
			List<String> tokens = new ArrayList<>();
			for (DeclSpecifier specifier : parameter.getSpecifiers()) {
				if (specifier instanceof Specifier qualifier && TYPE_QUALIFIERS.contains(qualifier.getName())) {
					tokens.add(qualifier.getName());
				}
			}
			tokens.addAll(tokensOf(parameter.getType(), List.of()));
			tokens.addAll(tokensOf(parameter.getDeclarator(), NodeModelUtils.findNodesForFeature(
					parameter.getDeclarator(), KernelPackage.Literals.DECLARATOR__NAME)));
			types.add(String.join(" ", tokens));
		}
		return types;
	}

	/** The source tokens of a model node, leaving out comments, white space and the nodes in {@code skipped}. */
	private static List<String> tokensOf(EObject element, List<INode> skipped) {
		List<String> tokens = new ArrayList<>();
		INode node = NodeModelUtils.findActualNodeFor(element);
		if (node == null) {
			return tokens;
		}
		for (ILeafNode leaf : node.getLeafNodes()) {
			if (!leaf.isHidden() && !skipped.contains(leaf)) {
				tokens.add(leaf.getText());
			}
		}
		return tokens;
	}
}
