package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Index;
import org.xpiler.lang.kernel.KernelLaunch;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Lifting a {@code __constant__} array that the host wrapper fills with {@code cudaMemcpyToSymbol} (or
 * {@code hipMemcpyToSymbol}): the array becomes a read-only pointer parameter of the kernels that read it, and
 * each launch passes the buffer it was filled from. Sequential code then reads that buffer directly, like any
 * other input; a multi-dimensional array is indexed flat. The copy and the file-scope declaration go.
 *
 * <pre>
 * before: __constant__ float c_w[9];  __global__ void k(float* y) { y[i] = c_w[i % 9]; }
 *         cudaMemcpyToSymbol(c_w, w, 9 * sizeof(float));  k&lt;&lt;&lt;4, 64&gt;&gt;&gt;(d_y);
 * after:  __global__ void k(float* y, const float *c_w) { y[i] = c_w[i % 9]; }
 *         k&lt;&lt;&lt;4, 64&gt;&gt;&gt;(d_y, w);
 * </pre>
 */
final class ConstantSymbols {
	private final TranslationUnit unit;
	private final Dialect dialect;
	private final KernelPrinter printer;

	ConstantSymbols(TranslationUnit unit, Dialect dialect) {
		this.unit = unit;
		this.dialect = dialect;
		this.printer = dialect.printer();
	}

	/** Whether {@code callee} copies to a device symbol ({@code cudaMemcpyToSymbol}, {@code hipMemcpyToSymbolAsync}). */
	static boolean isSymbolCopy(String callee) {
		return callee != null && callee.matches("(cuda|hip)MemcpyToSymbol(Async)?");
	}

	/**
	 * Turns the symbols that {@code wrapper} fills into kernel parameters, as described above, and removes
	 * their copies; {@code kernels} are the file's {@code __global__} functions by name. Returns the symbols,
	 * whose file-scope declarations the caller leaves out.
	 */
	List<String> lift(FunctionDefinition wrapper, Map<String, FunctionDefinition> kernels) {
		Map<String, Expression> sources = new LinkedHashMap<>();
		List<Call> copies = new ArrayList<>();
		wrapper.getBody().eAllContents().forEachRemaining(o -> {
			if (o instanceof Call call && isSymbolCopy(Snippets.callee(call))) {
				copies.add(call);
			}
		});
		LaunchConstants constants = new LaunchConstants(unit, wrapper, dialect);
		for (Call copy : copies) {
			String callee = Snippets.callee(copy);
			if (copy.getArgs().size() < 3 || !(WrapperBuffers.withoutCasts(copy.getArgs().get(0)) instanceof Name symbol)) {
				throw PassRefusal.at(copy, callee + " must name the __constant__ array it fills: " + callee
						+ "(c_weights, weights, bytes)");
			}
			if (copy.getArgs().size() > 3) {
				OptionalLong offset = constants.value(copy.getArgs().get(3));
				if (offset.isEmpty() || offset.getAsLong() != 0) {
					throw PassRefusal.at(copy, callee + " copies to an offset inside " + symbol.getName()
							+ "; only a copy to its start lifts");
				}
			}
			if (!(WrapperBuffers.withoutCasts(copy.getArgs().get(1)) instanceof Name source)) {
				throw PassRefusal.at(copy, callee + " must copy from a named buffer to lift; "
						+ printer.expression(copy.getArgs().get(1)) + " is not one");
			}
			if (sources.put(symbol.getName(), source) != null) {
				throw PassRefusal.at(copy, symbol.getName() + " is filled more than once; only one fill lifts");
			}
			constantDeclarator(symbol.getName(), copy);
		}
		if (sources.isEmpty()) {
			return List.of();
		}
		for (FunctionDefinition f : Snippets.definedFunctions(unit)) {
			if (f != wrapper && !kernels.containsValue(f)) {
				sources.keySet().stream().filter(s -> Snippets.mentions(f.getBody(), s)).findFirst().ifPresent(s -> {
					throw PassRefusal.at(f, "the device function " + f.getName() + " reads the __constant__ array " + s
							+ "; only kernels that read it directly lift");
				});
			}
		}
		for (Call copy : copies) {
			Statement statement = Snippets.enclosingStatement(copy);
			if (statement instanceof ExpressionStatement es && es.getExpression() == copy) {
				EcoreUtil.remove(statement);
			} else {
				EcoreUtil.replace(copy, Snippets.expression("0", dialect)); // a status read: the copy succeeded
			}
		}
		sources.keySet().stream().filter(s -> Snippets.mentions(wrapper.getBody(), s)).findFirst().ifPresent(s -> {
			throw PassRefusal.at(wrapper, "the wrapper uses the __constant__ array " + s + " other than to fill it");
		});
		List<EObject> launches = new ArrayList<>();
		wrapper.getBody().eAllContents().forEachRemaining(o -> {
			if (o instanceof KernelLaunch || o instanceof Call c && "hipLaunchKernelGGL".equals(Snippets.callee(c))) {
				launches.add(o);
			}
		});
		kernels.values().forEach(kernel -> sources.forEach((symbol, source) -> {
			if (Snippets.mentions(kernel.getBody(), symbol)) {
				kernel.getParams().add(parameter(symbol, kernel));
				for (EObject launch : launches) {
					if (launchArgs(launch, kernel.getName()) instanceof List<Expression> args) {
						args.add(EcoreUtil.copy(sources.get(symbol)));
					}
				}
			}
		}));
		return List.copyOf(sources.keySet());
	}

	/** The file-scope {@code __constant__} declarator of {@code symbol}. */
	private Declarator constantDeclarator(String symbol, Call copy) {
		for (TopLevel item : Snippets.topLevelItems(unit)) {
			if (item instanceof Declaration d && d.getSpecifiers().stream()
					.anyMatch(s -> s instanceof Specifier q && q.getName().equals("__constant__"))) {
				for (Declarator x : d.getDeclarators()) {
					if (x.getName().equals(symbol)) {
						if (x.getDimensions().isEmpty() || !x.getPointers().isEmpty()) {
							throw PassRefusal.at(copy, symbol + " is not an array; only __constant__ arrays lift");
						}
						return x;
					}
				}
			}
		}
		throw PassRefusal.at(copy, Snippets.callee(copy) + " fills " + symbol
				+ ", which is not a file-scope __constant__ array; only those lift");
	}

	/** {@code const float *c_w} for {@code __constant__ float c_w[3][3]}, whose reads in {@code kernel} go flat. */
	private Parameter parameter(String symbol, FunctionDefinition kernel) {
		Declarator array = constantDeclarator(symbol, null);
		Declaration declaration = (Declaration) EcoreUtil.copy(array.eContainer());
		declaration.getSpecifiers().removeIf(s -> s instanceof Specifier q && !q.getName().equals("const"));
		declaration.getDeclarators().removeIf(x -> !x.getName().equals(symbol));
		Declarator alone = declaration.getDeclarators().get(0);
		List<String> dimensions = alone.getDimensions().stream()
				.map(d -> d.getSize() == null ? "" : printer.expression(d.getSize())).toList();
		alone.getDimensions().clear();
		alone.setInitializer(null);
		String element = printer.topLevel(declaration).strip();
		element = element.substring(0, element.lastIndexOf(symbol)).strip();
		if (dimensions.size() > 1) {
			flatten(kernel, symbol, dimensions);
		}
		String constness = element.matches("(.*\\s)?const(\\s.*)?") ? "" : "const ";
		FunctionDefinition holder = (FunctionDefinition) Snippets
				.file("void holder__(" + constness + element + " *" + symbol + ") {}\n", dialect).getItems().get(0);
		return holder.getParams().get(0);
	}

	/** {@code c_w[r][s]} as {@code c_w[(r) * (3) + (s)]}: every read must index every dimension. */
	private void flatten(FunctionDefinition kernel, String symbol, List<String> dimensions) {
		List<Name> uses = new ArrayList<>();
		kernel.getBody().eAllContents().forEachRemaining(o -> {
			if (o instanceof Name n && n.getName().equals(symbol)) {
				uses.add(n);
			}
		});
		for (Name use : uses) {
			List<Index> chain = new ArrayList<>();
			EObject node = use;
			while (node.eContainer() instanceof Index index && index.getTarget() == node && chain.size() < dimensions.size()) {
				chain.add(index);
				node = index;
			}
			if (chain.size() != dimensions.size()) {
				throw PassRefusal.at(use, symbol + " has " + dimensions.size() + " dimensions; lifting needs every read to "
						+ "index all of them");
			}
			StringBuilder flat = new StringBuilder("(" + printer.expression(chain.get(0).getIndex()) + ")");
			for (int d = 1; d < chain.size(); d++) {
				flat.insert(0, "(").append(" * (").append(dimensions.get(d)).append(") + (")
						.append(printer.expression(chain.get(d).getIndex())).append("))");
			}
			EcoreUtil.replace(chain.get(chain.size() - 1), Snippets.expression(symbol + "[" + flat + "]", dialect));
		}
	}

	/** The arguments of {@code launch} when it launches {@code kernel}, else null. */
	private static List<Expression> launchArgs(EObject launch, String kernel) {
		if (launch instanceof KernelLaunch l) {
			return Snippets.isName(l.getKernel(), kernel) || l.getKernel() instanceof org.xpiler.lang.kernel.TemplateId id
					&& id.getName().equals(kernel) ? l.getArgs() : null;
		}
		List<Expression> args = ((Call) launch).getArgs();
		return !args.isEmpty() && Snippets.isName(args.get(0), kernel) ? args : null;
	}
}
