package org.xpiler.core.vm;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import org.eclipse.emf.ecore.EObject;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.ItemBlock;
import org.xpiler.lang.kernel.KernelLaunch;
import org.xpiler.lang.kernel.LinkageBlock;
import org.xpiler.lang.kernel.LinkageSpecifier;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.Parameter;
import org.xpiler.lang.kernel.PointerOperator;
import org.xpiler.lang.kernel.Specifier;
import org.xpiler.lang.kernel.TemplateCall;
import org.xpiler.lang.kernel.TemplateId;
import org.xpiler.lang.kernel.TopLevel;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.kernel.TypeSpecifier;
import org.xpiler.lang.kernel.TypedefDeclaration;

/**
 * The function a run starts from, and how: the {@code extern "C"} function when the file has one (a host
 * wrapper, a BANG kernel or a VNNI function), otherwise the device entry ({@code __mlu_global__},
 * {@code __global__}) or the one function nobody calls.
 */
public record EntryPoint(FunctionDefinition function, Kind kind, List<EntryParameter> parameters) {

	public enum Kind {
		/** Runs on the host: a CUDA/HIP wrapper or a VNNI/C++ function; called once. */
		HOST,
		/** A CUDA/HIP {@code __global__} kernel: launched over a grid of blocks. */
		SIMT_KERNEL,
		/** A BANG {@code __mlu_global__} kernel: run by every task. */
		TASK_KERNEL
	}

	/** A parameter of the entry; {@code element} is the pointee for pointers ({@code U8} for void). */
	public record EntryParameter(String name, boolean pointer, ElementType element, boolean constant, String typeText) {
	}

	public String name() {
		return function.getName();
	}

	public List<EntryParameter> pointerParameters() {
		return parameters.stream().filter(EntryParameter::pointer).toList();
	}

	/** Finds the entry of a file, or the function named {@code wanted}; the message says what is missing. */
	public static EntryPoint find(TranslationUnit unit, Optional<String> wanted) {
		List<FunctionDefinition> functions = new ArrayList<>();
		List<FunctionDefinition> externC = new ArrayList<>();
		collect(unit.getItems(), false, functions, externC);
		FunctionDefinition chosen;
		if (wanted.isPresent()) {
			chosen = functions.stream().filter(f -> f.getName().equals(wanted.get())).findFirst()
					.orElseThrow(() -> new IllegalArgumentException("the file defines no function '" + wanted.get()
							+ "'; it defines " + functions.stream().map(FunctionDefinition::getName)
									.collect(Collectors.joining(", "))));
		} else if (!externC.isEmpty()) {
			chosen = externC.get(externC.size() - 1);
		} else {
			chosen = functions.stream().filter(f -> hasQualifier(f, "__mlu_global__") || hasQualifier(f, "__mlu_entry__"))
					.findFirst()
					.or(() -> functions.stream().filter(f -> hasQualifier(f, "__global__")).findFirst())
					.or(() -> uncalled(functions))
					.orElseThrow(() -> new IllegalArgumentException("the file defines no function to run"));
		}
		return new EntryPoint(chosen, kindOf(chosen), parameters(unit, chosen));
	}

	public static Kind kindOf(FunctionDefinition function) {
		if (hasQualifier(function, "__mlu_global__") || hasQualifier(function, "__mlu_entry__")) {
			return Kind.TASK_KERNEL;
		}
		return hasQualifier(function, "__global__") ? Kind.SIMT_KERNEL : Kind.HOST;
	}

	public static boolean hasQualifier(FunctionDefinition function, String qualifier) {
		return function.getSpecifiers().stream().anyMatch(s -> s instanceof Specifier q && qualifier.equals(q.getName()));
	}

	private static void collect(List<TopLevel> items, boolean inExternC, List<FunctionDefinition> functions,
			List<FunctionDefinition> externC) {
		for (TopLevel item : items) {
			if (item instanceof ItemBlock block) {
				collect(block.getItems(), inExternC || block instanceof LinkageBlock, functions, externC);
			} else if (item instanceof FunctionDefinition f && f.getBody() != null) {
				functions.add(f);
				boolean linkage = f.getSpecifiers().stream().anyMatch(s -> s instanceof LinkageSpecifier);
				if (inExternC || linkage) {
					externC.add(f);
				}
			}
		}
	}

	private static Optional<FunctionDefinition> uncalled(List<FunctionDefinition> functions) {
		Set<String> called = new HashSet<>();
		for (FunctionDefinition f : functions) {
			f.eAllContents().forEachRemaining(o -> {
				if (o instanceof Call call && call.getCallee() instanceof Name name) {
					called.add(name.getName());
				} else if (o instanceof TemplateCall call) {
					called.add(call.getFunction());
				} else if (o instanceof KernelLaunch launch && launch.getKernel() instanceof Name name) {
					called.add(name.getName());
				} else if (o instanceof KernelLaunch launch && launch.getKernel() instanceof TemplateId id) {
					called.add(id.getName());
				}
			});
		}
		List<FunctionDefinition> roots = functions.stream().filter(f -> !called.contains(f.getName())).toList();
		return roots.isEmpty() ? Optional.empty() : Optional.of(roots.get(roots.size() - 1));
	}

	private static List<EntryParameter> parameters(TranslationUnit unit, FunctionDefinition function) {
		List<EntryParameter> result = new ArrayList<>();
		int index = 0;
		for (Parameter p : function.getParams()) {
			String base = baseName(unit, p.getType());
			int pointers = (int) p.getDeclarator().getPointers().stream().map(PointerOperator::getKind)
					.filter("*"::equals).count() + p.getDeclarator().getDimensions().size() + typedefPointers(unit, p.getType());
			boolean isConst = p.getSpecifiers().stream().anyMatch(s -> s instanceof Specifier q && "const".equals(q.getName()));
			String name = p.getDeclarator().getName() != null ? p.getDeclarator().getName() : "arg" + index;
			if (base.equals("void") && pointers == 0) {
				continue; // f(void)
			}
			ElementType element = ElementType.ofCName(base).orElse(ElementType.U8);
			result.add(new EntryParameter(name, pointers > 0, element, isConst, base + " " + "*".repeat(pointers)));
			index++;
		}
		return result;
	}

	static String baseName(TranslationUnit unit, TypeSpecifier type) {
		String written = type instanceof BuiltinType b ? b.getName() : ((NamedType) type).getName();
		String name = written.replace("::", "").trim();
		for (TypedefDeclaration typedef : typedefs(unit)) {
			if (typedef.getDeclarators().stream().anyMatch(d -> name.equals(d.getName()))) {
				return baseName(unit, typedef.getType());
			}
		}
		return name;
	}

	private static int typedefPointers(TranslationUnit unit, TypeSpecifier type) {
		if (!(type instanceof NamedType named)) {
			return 0;
		}
		for (TypedefDeclaration typedef : typedefs(unit)) {
			for (var d : typedef.getDeclarators()) {
				if (named.getName().equals(d.getName())) {
					return d.getPointers().size() + typedefPointers(unit, typedef.getType());
				}
			}
		}
		return 0;
	}

	private static List<TypedefDeclaration> typedefs(EObject unit) {
		List<TypedefDeclaration> result = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof TypedefDeclaration t) {
				result.add(t);
			}
		});
		return result;
	}
}
