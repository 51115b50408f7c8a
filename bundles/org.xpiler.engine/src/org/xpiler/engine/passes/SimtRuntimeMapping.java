package org.xpiler.engine.passes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import org.eclipse.emf.ecore.EObject;
import org.eclipse.emf.ecore.util.EcoreUtil;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.IntLiteral;
import org.xpiler.lang.kernel.KernelFactory;
import org.xpiler.lang.kernel.KernelLaunch;
import org.xpiler.lang.kernel.Name;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.TranslationUnit;
import org.xpiler.lang.parsing.MacroDefinition;

/**
 * Maps a kernel between the two SIMT dialects, CUDA and HIP, which share the execution model: runtime calls,
 * types and constants are renamed ({@code cudaMalloc} / {@code hipMalloc}, {@code cudaMallocHost} /
 * {@code hipHostMalloc}), headers follow, {@code hipLaunchKernelGGL} becomes a {@code <<<...>>>} launch, and
 * warp intrinsics keep the source's semantics: CUDA's 32-lane shuffles become HIP shuffles of width 32 and
 * {@code warpSize} becomes the source's 32 (or 64 the other way). Votes and {@code __syncwarp}, whose meaning
 * depends on the warp width, are refused. The oracle decides whether the source relied on its warp width
 * anywhere else.
 *
 * <pre>
 * before (CUDA): v += __shfl_down_sync(0xffffffff, v, offset);   cudaMemcpy(d, h, n, cudaMemcpyHostToDevice);
 * after  (HIP):  v += __shfl_down(v, offset, 32);                hipMemcpy(d, h, n, hipMemcpyHostToDevice);
 * </pre>
 */
public final class SimtRuntimeMapping implements Pass {
	private static final Map<String, String> CUDA_TO_HIP_SPECIAL = Map.of("cudaMallocHost", "hipHostMalloc",
			"cudaFreeHost", "hipHostFree", "__nv_bfloat16", "__hip_bfloat16", "nv_bfloat16", "hip_bfloat16");
	private static final Pattern DEFINE = Pattern.compile("#\\s*define\\b");
	private static final Map<String, String> HEADERS_CUDA_TO_HIP = Map.of("cuda_runtime.h", "hip/hip_runtime.h",
			"cuda.h", "hip/hip_runtime.h", "cuda_fp16.h", "hip/hip_fp16.h", "cuda_bf16.h", "hip/hip_bf16.h");

	@Override
	public String name() {
		return "simt-runtime-mapping";
	}

	@Override
	public String summary() {
		return "rename the CUDA/HIP runtime, types, headers and warp intrinsics, keeping the source's warp width";
	}

	@Override
	public Optional<String> refusal(TranslationUnit unit, Dialect from, Dialect to) {
		if (!isSimt(from) || !isSimt(to) || from == to) {
			return Optional.of("maps CUDA to HIP or HIP to CUDA only");
		}
		List<String> problems = new ArrayList<>();
		unit.eAllContents().forEachRemaining(o -> {
			if (o instanceof Call call && call.getCallee() instanceof Name callee) {
				String name = callee.getName();
				if (name.startsWith("__ballot") || name.startsWith("__any") || name.startsWith("__all")
						|| name.equals("__syncwarp") || name.equals("__activemask")) {
					problems.add(Snippets.location(call) + ": " + name + " depends on the warp width (32 lanes on CUDA, 64 on "
							+ "AMD) and is not mapped");
				}
				if (name.startsWith("wmma::") || name.startsWith("__builtin_amdgcn_mfma")) {
					problems.add(Snippets.location(call) + ": " + name + " (matrix cores) has no counterpart in " + to.displayName());
				}
			}
		});
		return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
	}

	private static boolean isSimt(Dialect dialect) {
		return dialect == Dialect.CUDA || dialect == Dialect.HIP;
	}

	@Override
	public Map<String, String> apply(TranslationUnit unit, Dialect from, Dialect to) {
		boolean toHip = to == Dialect.HIP;
		int sourceWarp = toHip ? 32 : 64;
		if (from == Dialect.HIP) {
			HipLegacyNames.normalize(unit);
		}
		List<EObject> nodes = new ArrayList<>();
		unit.eAllContents().forEachRemaining(nodes::add);
		for (EObject node : nodes) {
			switch (node) {
			case Directive directive -> directive.setText(macroBody(header(directive.getText(), toHip), from, to));
			case NamedType type -> type.setName(rename(type.getName(), from, to));
			case Call call when call.getCallee() instanceof Name callee -> mapCall(call, callee, toHip, sourceWarp);
			case Name name when name.getName().equals("warpSize") -> EcoreUtil.replace(name, literal(sourceWarp));
			case Name name -> name.setName(rename(name.getName(), from, to));
			default -> {
			}
			}
		}
		PortableMath.rewrite(unit, to, to);
		if (toHip) {
			Snippets.include(unit, "hip/hip_runtime.h"); // nvcc includes its runtime in every file, hipcc does not
		}
		Map<String, String> knobs = new LinkedHashMap<>();
		knobs.put("warpWidth", Integer.toString(sourceWarp));
		return knobs;
	}

	private void mapCall(Call call, Name callee, boolean toHip, int sourceWarp) {
		String name = callee.getName();
		if (toHip && name.startsWith("__shfl") && name.endsWith("_sync")) {
			callee.setName(name.substring(0, name.length() - "_sync".length()));
			call.getArgs().remove(0); // the mask: every live lane of the wavefront takes part
			if (call.getArgs().size() == 2) {
				call.getArgs().add(literal(sourceWarp));
			}
		} else if (!toHip && name.startsWith("__shfl") && !name.endsWith("_sync")) {
			callee.setName(name + "_sync");
			call.getArgs().add(0, hexLiteral("0xffffffffu"));
		} else if (!toHip && name.equals("hipLaunchKernelGGL") && call.getArgs().size() >= 5) {
			KernelLaunch launch = KernelFactory.eINSTANCE.createKernelLaunch();
			List<Expression> args = new ArrayList<>(call.getArgs());
			launch.setKernel(args.get(0));
			launch.getConfig().addAll(args.subList(1, 5));
			launch.getArgs().addAll(args.subList(5, args.size()));
			EcoreUtil.replace(call, launch);
		}
	}

	/**
	 * The target's name for a name of the source's runtime: one the catalog describes, or one that the source's
	 * headers declare and whose counterpart the target's headers declare ({@code hipMemcpyToSymbol} and
	 * {@code cudaMemcpyToSymbol}). The file's own names stay.
	 */
	private static String rename(String name, Dialect from, Dialect to) {
		boolean toHip = to == Dialect.HIP;
		if (!from.catalog().knows(name) && !from.preludeNames().contains(name)) {
			return name;
		}
		String renamed = toHip ? CUDA_TO_HIP_SPECIAL.get(name) : null;
		for (Map.Entry<String, String> e : CUDA_TO_HIP_SPECIAL.entrySet()) {
			if (!toHip && e.getValue().equals(name)) {
				renamed = e.getKey();
			}
		}
		if (renamed == null) {
			String prefix = toHip ? "cuda" : "hip";
			renamed = name.startsWith(prefix) ? (toHip ? "hip" : "cuda") + name.substring(prefix.length()) : name;
		}
		return from.catalog().knows(name) || to.catalog().knows(renamed) || to.preludeNames().contains(renamed) ? renamed
				: name;
	}

	private static String header(String directive, boolean toHip) {
		for (Map.Entry<String, String> e : HEADERS_CUDA_TO_HIP.entrySet()) {
			String fromHeader = toHip ? e.getKey() : e.getValue();
			String toHeader = toHip ? e.getValue() : e.getKey();
			if (directive.contains("<" + fromHeader + ">") || directive.contains("\"" + fromHeader + "\"")) {
				return directive.replace(fromHeader, toHeader);
			}
		}
		return directive;
	}

	/**
	 * A {@code #define} with the runtime's names in its body renamed ({@code cudaError_t}, {@code cudaSuccess},
	 * {@code cudaGetErrorString} in an error-check macro); string literals are left as they are.
	 */
	private static String macroBody(String directive, Dialect from, Dialect to) {
		if (!DEFINE.matcher(directive).lookingAt()) {
			return directive;
		}
		return MacroDefinition.replaceIdentifiers(directive, name -> rename(name, from, to));
	}

	private static IntLiteral literal(int value) {
		return hexLiteral(Integer.toString(value));
	}

	private static IntLiteral hexLiteral(String text) {
		IntLiteral literal = KernelFactory.eINSTANCE.createIntLiteral();
		literal.setValue(text);
		return literal;
	}
}
