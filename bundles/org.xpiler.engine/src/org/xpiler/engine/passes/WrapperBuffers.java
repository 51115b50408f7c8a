package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;

import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Cast;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.DeclarationStatement;
import org.xpiler.lang.kernel.Declarator;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.ExpressionStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.Parenthesized;
import org.xpiler.lang.kernel.Statement;
import org.xpiler.lang.kernel.Unary;
import org.xpiler.lang.printing.KernelPrinter;

/**
 * Lifting a host wrapper to sequential code, the part that concerns its buffers and is alike for every
 * {@link HostRuntime}: a device buffer becomes the host buffer that it is copied from or to (its name, in the
 * launches too), a copy between a buffer and itself goes, other copies and fills become byte loops, and a
 * scratch buffer, which no parameter fills or receives, becomes storage of the wrapper. Allocations, frees
 * and the runtime's ordering calls (queue and stream synchronization) go. The launches are left for the
 * caller, which turns them into loops.
 *
 * <pre>
 * before: float *d_x; cnrtMalloc((void **)&amp;d_x, 4096); cnrtMemcpy(d_x, (void *)x, 4096, cnrtMemcpyHostToDev);
 *         scale&lt;&lt;&lt;dim, CNRT_FUNC_TYPE_UNION1, queue&gt;&gt;&gt;(d_x, d_y); cnrtQueueSync(queue);
 *         cnrtMemcpy(y, d_y, 4096, cnrtMemcpyDevToHost); cnrtFree(d_x); ...
 * after:  scale&lt;&lt;&lt;dim, CNRT_FUNC_TYPE_UNION1, queue&gt;&gt;&gt;(x, y);
 * </pre>
 */
final class WrapperBuffers {
	private final HostRuntime runtime;
	private final Dialect dialect;
	private final KernelPrinter printer;

	WrapperBuffers(HostRuntime runtime, Dialect dialect) {
		this.runtime = runtime;
		this.dialect = dialect;
		this.printer = dialect.printer();
	}

	/** Rewrites the body of {@code wrapper}; {@code constants} size its scratch buffers. */
	void lower(FunctionDefinition wrapper, LaunchConstants constants) {
		CompoundStatement body = wrapper.getBody();
		Set<String> parameters = new HashSet<>();
		wrapper.getParams().forEach(p -> parameters.add(p.getDeclarator().getName()));
		List<Call> runtimeCalls = new ArrayList<>();
		body.eAllContents().forEachRemaining(o -> {
			String operation = o instanceof Call call ? runtime.operation(Snippets.callee(call)) : null;
			if (operation != null && !operation.equals(runtime.launch)) {
				runtimeCalls.add((Call) o);
			}
		});
		Set<String> device = new HashSet<>();
		for (Call call : runtimeCalls) {
			if (runtime.operation(Snippets.callee(call)).equals("Malloc") && !call.getArgs().isEmpty()) {
				device.add(addressed(call.getArgs().get(0), call));
			}
		}
		Map<String, String> alias = aliases(runtimeCalls.stream().filter(this::isCopy).toList(), device, parameters);
		Set<String> scratch = new HashSet<>(device);
		scratch.removeAll(alias.keySet());
		Map<Statement, String> scratchAllocations = new LinkedHashMap<>();
		for (Call call : runtimeCalls) {
			String operation = runtime.operation(Snippets.callee(call));
			Statement statement = Snippets.enclosingStatement(call);
			if (!(statement instanceof ExpressionStatement es) || es.getExpression() != call) {
				throw PassRefusal.at(call, Snippets.callee(call) + " is used as a value; lift only plain calls");
			}
			if (operation.equals("Malloc")) {
				String buffer = addressed(call.getArgs().get(0), call);
				if (scratch.contains(buffer)) {
					scratchAllocations.put(statement, scratchStorage(call, buffer, body, scratchBytes(call, buffer, constants::value), printer));
				} else {
					EcoreUtil.remove(statement);
				}
			} else if (isCopy(call)) {
				String dst = alias.getOrDefault(nameOf(call.getArgs().get(0)), nameOf(call.getArgs().get(0)));
				String src = alias.getOrDefault(nameOf(call.getArgs().get(1)), nameOf(call.getArgs().get(1)));
				if (dst != null && dst.equals(src)) {
					EcoreUtil.remove(statement);
				} else {
					replaceByByteLoop(statement, call, "((const unsigned char *)(" + printer.expression(call.getArgs().get(1))
							+ "))[byte]", printer, dialect);
				}
			} else if (operation.equals("Memset") && call.getArgs().size() == 3) {
				replaceByByteLoop(statement, call, "(unsigned char)(" + printer.expression(call.getArgs().get(1)) + ")", printer, dialect);
			} else if (operation.equals("Free") || runtime.ordering.contains(operation)) {
				EcoreUtil.remove(statement);
			} else {
				throw PassRefusal.at(call, Snippets.callee(call) + " has no sequential counterpart");
			}
		}
		removeDeclarations(body, device);
		scratchAllocations.forEach((allocation, storage) -> {
			CompoundStatement block = (CompoundStatement) allocation.eContainer();
			int at = block.getStatements().indexOf(allocation);
			block.getStatements().remove(at);
			block.getStatements().addAll(at, Snippets.statements(storage, dialect));
		});
		body.eAllContents().forEachRemaining(o -> {
			if (o instanceof Name n && alias.containsKey(n.getName())) {
				n.setName(alias.get(n.getName()));
			}
		});
	}

	/** {@code Memcpy(dst, src, bytes, direction)}, or its asynchronous form with a queue or stream. */
	private boolean isCopy(Call call) {
		String operation = runtime.operation(Snippets.callee(call));
		return operation != null && (operation.equals("Memcpy") || operation.equals("MemcpyAsync"))
				&& call.getArgs().size() >= 4;
	}

	/**
	 * A scratch device buffer (neither filled from nor copied back to a parameter) becomes storage of the
	 * wrapper: {@code cnrtMalloc((void **)&d_tmp, 4096);} reads {@code float d_tmp_storage[1024];
	 * float *d_tmp = d_tmp_storage;} (its declaration moves there), so the lifted loops write and read it like
	 * the kernels did.
	 */
	static String scratchStorage(Call call, String buffer, CompoundStatement body, long bytes, KernelPrinter printer) {
		Declarator declarator = null;
		for (var it = body.eAllContents(); it.hasNext();) {
			if (it.next() instanceof Declarator x && buffer.equals(x.getName())) {
				declarator = x;
			}
		}
		if (declarator == null || declarator.getPointers().size() != 1
				|| Snippets.enclosingStatement(declarator).eContainer() != Snippets.enclosingStatement(call).eContainer()) {
			throw PassRefusal.at(call, "the scratch device buffer " + buffer + " must be a pointer declared in "
					+ "the block that allocates it");
		}
		DeclarationStatement alone = (DeclarationStatement) EcoreUtil.copy(Snippets.enclosingStatement(declarator));
		alone.getDeclaration().getDeclarators().removeIf(x -> !buffer.equals(x.getName()));
		alone.getDeclaration().getDeclarators().get(0).setInitializer(null);
		String declared = printer.statement(alone, 0).strip(); // float *d_tmp;
		String elementType = declared.substring(0, declared.lastIndexOf(buffer)).strip();
		elementType = elementType.substring(0, elementType.length() - 1).strip(); // without the '*'
		long elementBytes;
		try {
			elementBytes = ConstantFolder.size(alone.getDeclaration().getType());
		} catch (RuntimeException notAScalarType) {
			throw PassRefusal.at(call, "the scratch device buffer " + buffer + " has elements of unknown size");
		}
		String storage = buffer + "_storage";
		while (Snippets.mentions(body, storage)) {
			storage += "_";
		}
		return elementType + " " + storage + "[" + (bytes + elementBytes - 1) / elementBytes + "];\n"
				+ declared.substring(0, declared.length() - 1) + " = " + storage + ";\n";
	}

	/** The constant byte count of the allocation {@code call} of a scratch buffer. */
	static long scratchBytes(Call call, String buffer, Function<Expression, OptionalLong> value) {
		return value.apply(call.getArgs().get(1)).orElseThrow(() -> PassRefusal.at(call,
				"the size of the scratch device buffer " + buffer + " is not a compile-time constant"));
	}

	/** A copy or fill of device memory as a byte loop: plain C++ that every target runs, with no library call. */
	static void replaceByByteLoop(Statement statement, Call call, String value, KernelPrinter printer, Dialect dialect) {
		String text = "for (size_t byte = 0; byte < (" + printer.expression(call.getArgs().get(2)) + "); ++byte)\n"
				+ "    ((unsigned char *)(" + printer.expression(call.getArgs().get(0)) + "))[byte] = " + value + ";";
		EcoreUtil.replace(statement, Snippets.statements(text, dialect).get(0));
	}

	/**
	 * The host parameter that each device buffer among {@code device} becomes, from the {@code copies}
	 * ({@code Memcpy(dst, src, bytes, direction)} calls) between them and the {@code parameters}: the one it is
	 * copied back to, else the one it is filled from. An in-place kernel wrapped out of place (filled from
	 * {@code in}, copied back to {@code out}) works on {@code out}, which the fill then copies {@code in} into.
	 * A buffer copied back to two parameters, or filled from two without being copied back, is refused.
	 */
	static Map<String, String> aliases(List<Call> copies, Set<String> device, Set<String> parameters) {
		Map<String, String> alias = new HashMap<>();
		for (Call call : copies) {
			String dst = nameOf(call.getArgs().get(0));
			String src = nameOf(call.getArgs().get(1));
			if (device.contains(src) && parameters.contains(dst)) {
				bindAlias(alias, src, dst, call);
			}
		}
		Set<String> copiedBack = new HashSet<>(alias.keySet());
		for (Call call : copies) {
			String dst = nameOf(call.getArgs().get(0));
			String src = nameOf(call.getArgs().get(1));
			if (device.contains(dst) && parameters.contains(src) && !copiedBack.contains(dst)) {
				bindAlias(alias, dst, src, call);
			}
		}
		return alias;
	}

	private static void bindAlias(Map<String, String> alias, String deviceBuffer, String host, Call at) {
		String previous = alias.putIfAbsent(deviceBuffer, host);
		if (previous != null && !previous.equals(host)) {
			throw PassRefusal.at(at, "the device buffer " + deviceBuffer + " is copied from/to both " + previous + " and "
					+ host);
		}
	}

	/** {@code d_x} of {@code (void **)&d_x}. */
	private String addressed(Expression e, Call at) {
		if (withoutCasts(e) instanceof Unary u && u.getOp().equals("&") && u.getOperand() instanceof Name n) {
			return n.getName();
		}
		throw PassRefusal.at(at, "the allocated device buffer must be named: " + runtime.call("Malloc")
				+ "((void **)&d_x, bytes)");
	}

	/** The buffer a copy names, through casts such as {@code (void *)x}; null for anything else. */
	private static String nameOf(Expression e) {
		return withoutCasts(e) instanceof Name n ? n.getName() : null;
	}

	static Expression withoutCasts(Expression e) {
		Expression inner = e;
		while (inner instanceof Cast || inner instanceof Parenthesized) {
			inner = inner instanceof Cast c ? c.getOperand() : ((Parenthesized) inner).getExpression();
		}
		return inner;
	}

	/** The declarations of the device buffers, which nothing names any more. */
	static void removeDeclarations(CompoundStatement body, Set<String> device) {
		List<DeclarationStatement> declarations = new ArrayList<>();
		body.eAllContents().forEachRemaining(o -> {
			if (o instanceof DeclarationStatement d) {
				declarations.add(d);
			}
		});
		for (DeclarationStatement d : declarations) {
			d.getDeclaration().getDeclarators().removeIf(x -> device.contains(x.getName()));
			if (d.getDeclaration().getDeclarators().isEmpty()) {
				EcoreUtil.remove(d);
			}
		}
	}

	/** The wrapper's byte counts, handles and launch sizes that nothing reads once the launches are loops. */
	static void removeUnusedDeclarations(CompoundStatement body) {
		boolean removed = true;
		while (removed) {
			removed = false;
			for (Statement s : new ArrayList<>(body.getStatements())) {
				if (s instanceof DeclarationStatement d && d.getDeclaration().getDeclarators().stream()
						.allMatch(x -> !Snippets.containsCall(x) && !Snippets.mentions(body, x.getName()))) {
					EcoreUtil.remove(s);
					removed = true;
				}
			}
		}
	}
}
