package org.xpiler.core.vm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleToLongFunction;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongToDoubleFunction;
import java.util.function.ToLongFunction;

import org.xpiler.core.vm.VmType.Scalar;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.Expression;
import org.xpiler.lang.kernel.MemberAccess;
import org.xpiler.lang.kernel.Name;

/**
 * What the virtual device implements natively rather than from a catalog reference body: builtin variables
 * (threadIdx, taskId, ...), the math library, the CUDA/HIP/CNRT host runtime (allocation, copies, launches),
 * barriers, atomics and warp collectives.
 */
final class Builtins {
	private static final Map<String, DoubleUnaryOperator> UNARY_MATH = Map.ofEntries(Map.entry("exp", Math::exp),
			Map.entry("log", Math::log), Map.entry("log2", x -> Math.log(x) / Math.log(2)), Map.entry("exp2", x -> Math.pow(2, x)),
			Map.entry("sqrt", Math::sqrt), Map.entry("rsqrt", x -> 1 / Math.sqrt(x)), Map.entry("tanh", Math::tanh),
			Map.entry("erf", Erf::erf), Map.entry("fabs", Math::abs), Map.entry("sin", Math::sin),
			Map.entry("cos", Math::cos), Map.entry("floor", Math::floor), Map.entry("ceil", Math::ceil),
			Map.entry("round", x -> x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5)), Map.entry("trunc", x -> (double) (long) x),
			Map.entry("log10", Math::log10), Map.entry("tan", Math::tan), Map.entry("atan", Math::atan),
			Map.entry("log1p", Math::log1p), Map.entry("expm1", Math::expm1), Map.entry("sinh", Math::sinh),
			Map.entry("cosh", Math::cosh), Map.entry("asin", Math::asin), Map.entry("acos", Math::acos),
			Map.entry("cbrt", Math::cbrt), Map.entry("rint", Math::rint), Map.entry("nearbyint", Math::rint));
	private static final Map<String, DoubleBinaryOperator> BINARY_MATH = Map.of("pow", Math::pow, "fmax",
			(x, y) -> Double.isNaN(x) ? y : Double.isNaN(y) ? x : Math.max(x, y), "fmin",
			(x, y) -> Double.isNaN(x) ? y : Double.isNaN(y) ? x : Math.min(x, y), "fmod", (x, y) -> x % y, "atan2",
			Math::atan2, "hypot", Math::hypot, "copysign", Math::copySign);
	/**
	 * CUDA's (and HIP's) single-precision intrinsics that are not C functions with an {@code f} suffix: the
	 * IEEE operations rounded to nearest (computed in double, one rounding to float is exact for these), and
	 * the documented results of the fast ones.
	 */
	private static final Map<String, DoubleUnaryOperator> FLOAT_UNARY_INTRINSICS = Map.of("__saturatef",
			x -> Double.isNaN(x) || x <= 0 ? 0.0 : Math.min(x, 1.0), "__frcp_rn", x -> 1 / x, "__fsqrt_rn", Math::sqrt,
			"__frsqrt_rn", x -> 1 / Math.sqrt(x), "__exp10f", x -> Math.pow(10, x));
	private static final Map<String, DoubleBinaryOperator> FLOAT_BINARY_INTRINSICS = Map.of("__fdividef",
			Builtins::fastDivide, "__fadd_rn", (x, y) -> x + y, "__fsub_rn", (x, y) -> x - y, "__fmul_rn",
			(x, y) -> x * y, "__fdiv_rn", (x, y) -> x / y, "fdividef", Builtins::fastDivide);

	/** An integer function of integer operands: the operands' parameter types, its result type and its value. */
	private record IntegerIntrinsic(List<VmType> params, VmType result, ToLongFunction<long[]> value) {
	}

	private static final List<VmType> INT = List.of(VmType.I32);
	private static final List<VmType> UINT = List.of(VmType.U32);
	private static final List<VmType> LONG_LONG = List.of(VmType.I64);
	private static final List<VmType> ULONG_LONG = List.of(VmType.U64);
	private static final List<VmType> TWO_INTS = List.of(VmType.I32, VmType.I32);
	private static final List<VmType> TWO_UINTS = List.of(VmType.U32, VmType.U32);

	/** CUDA's and HIP's integer intrinsics, as their headers declare them. */
	private static final Map<String, IntegerIntrinsic> GPU_INTEGER_INTRINSICS = Map.ofEntries(
			Map.entry("__popc", new IntegerIntrinsic(UINT, VmType.I32, x -> Long.bitCount(x[0]))),
			Map.entry("__popcll", new IntegerIntrinsic(ULONG_LONG, VmType.I32, x -> Long.bitCount(x[0]))),
			Map.entry("__clz", new IntegerIntrinsic(INT, VmType.I32, x -> Integer.numberOfLeadingZeros((int) x[0]))),
			Map.entry("__clzll", new IntegerIntrinsic(LONG_LONG, VmType.I32, x -> Long.numberOfLeadingZeros(x[0]))),
			Map.entry("__ffs", new IntegerIntrinsic(INT, VmType.I32, x -> firstSetBit(x[0]))),
			Map.entry("__ffsll", new IntegerIntrinsic(LONG_LONG, VmType.I32, x -> firstSetBit(x[0]))),
			Map.entry("__brev", new IntegerIntrinsic(UINT, VmType.U32, x -> Integer.reverse((int) x[0]))),
			Map.entry("__brevll", new IntegerIntrinsic(ULONG_LONG, VmType.U64, x -> Long.reverse(x[0]))),
			// the high 32 bits of the 64-bit product
			Map.entry("__umulhi", new IntegerIntrinsic(TWO_UINTS, VmType.U32, x -> (x[0] * x[1]) >>> 32)),
			Map.entry("__mulhi", new IntegerIntrinsic(TWO_INTS, VmType.I32, x -> (x[0] * x[1]) >> 32)),
			// the low 32 bits of the product of the operands' low 24 bits (sign-extended for __mul24)
			Map.entry("__mul24", new IntegerIntrinsic(TWO_INTS, VmType.I32, x -> low24(x[0], true) * low24(x[1], true))),
			Map.entry("__umul24", new IntegerIntrinsic(TWO_UINTS, VmType.U32, x -> low24(x[0], false) * low24(x[1], false))),
			// |x - y| + z, the difference taken exactly (operands are 32-bit values in a long)
			Map.entry("__sad", new IntegerIntrinsic(List.of(VmType.I32, VmType.I32, VmType.U32), VmType.U32,
					x -> Math.abs(x[0] - x[1]) + x[2])),
			Map.entry("__usad", new IntegerIntrinsic(List.of(VmType.U32, VmType.U32, VmType.U32), VmType.U32,
					x -> Math.abs(x[0] - x[1]) + x[2])),
			// unsigned values are held zero-extended, so the signed comparison of longs orders them
			Map.entry("umin", new IntegerIntrinsic(TWO_UINTS, VmType.U32, x -> Math.min(x[0], x[1]))),
			Map.entry("umax", new IntegerIntrinsic(TWO_UINTS, VmType.U32, x -> Math.max(x[0], x[1]))));

	/** C's integer functions that java.lang.Math has. */
	private static final Map<String, IntegerIntrinsic> C_INTEGER_FUNCTIONS = Map.of("llabs",
			new IntegerIntrinsic(LONG_LONG, VmType.I64, x -> Math.abs(x[0])));

	/**
	 * The bit builtins of GCC and clang, which HIP code and C++ translations call. {@code __builtin_clz} and
	 * {@code __builtin_ctz} of 0 are undefined; the model answers the width, as lzcnt/tzcnt and the GPUs do.
	 */
	private static final Map<String, IntegerIntrinsic> COMPILER_BUILTINS = Map.ofEntries(
			Map.entry("__builtin_popcount", new IntegerIntrinsic(UINT, VmType.I32, x -> Long.bitCount(x[0]))),
			Map.entry("__builtin_popcountll", new IntegerIntrinsic(ULONG_LONG, VmType.I32, x -> Long.bitCount(x[0]))),
			Map.entry("__builtin_clz", new IntegerIntrinsic(UINT, VmType.I32, x -> Integer.numberOfLeadingZeros((int) x[0]))),
			Map.entry("__builtin_clzll", new IntegerIntrinsic(ULONG_LONG, VmType.I32, x -> Long.numberOfLeadingZeros(x[0]))),
			Map.entry("__builtin_ctz", new IntegerIntrinsic(UINT, VmType.I32, x -> Integer.numberOfTrailingZeros((int) x[0]))),
			Map.entry("__builtin_ctzll", new IntegerIntrinsic(ULONG_LONG, VmType.I32, x -> Long.numberOfTrailingZeros(x[0]))),
			Map.entry("__builtin_ffs", new IntegerIntrinsic(INT, VmType.I32, x -> firstSetBit(x[0]))),
			Map.entry("__builtin_ffsll", new IntegerIntrinsic(LONG_LONG, VmType.I32, x -> firstSetBit(x[0]))));

	/** A function from a float to an integer type: the result type and its value (before wrapping to the type). */
	private record FloatToInteger(VmType result, DoubleToLongFunction value) {
	}

	/**
	 * CUDA's float-to-integer conversions in a rounding mode, which saturate out of range and give 0 for NaN, and
	 * the bit casts of a float to its IEEE bits.
	 */
	private static final Map<String, FloatToInteger> GPU_FLOAT_TO_INTEGER = Map.ofEntries(
			Map.entry("__float2int_rn", toInt(Math::rint)), Map.entry("__float2int_rz", toInt(Builtins::truncate)),
			Map.entry("__float2int_rd", toInt(Math::floor)), Map.entry("__float2int_ru", toInt(Math::ceil)),
			Map.entry("__float2uint_rn", toUnsigned(Math::rint)), Map.entry("__float2uint_rz", toUnsigned(Builtins::truncate)),
			Map.entry("__float2uint_rd", toUnsigned(Math::floor)), Map.entry("__float2uint_ru", toUnsigned(Math::ceil)),
			Map.entry("__float_as_int", new FloatToInteger(VmType.I32, x -> Float.floatToRawIntBits((float) x))),
			Map.entry("__float_as_uint", new FloatToInteger(VmType.U32, x -> Float.floatToRawIntBits((float) x))));

	/**
	 * C's rounding of a float to {@code long} (64 bits here, as on Linux and the GPUs). Out of range the result
	 * is undefined in C; Java's conversion to long saturates and gives 0 for NaN.
	 */
	private static final Map<String, FloatToInteger> C_FLOAT_TO_INTEGER = Map.of("lrintf",
			new FloatToInteger(VmType.I64, x -> (long) Math.rint(x)), "llrintf",
			new FloatToInteger(VmType.I64, x -> (long) Math.rint(x)), "lroundf",
			new FloatToInteger(VmType.I64, x -> (long) UNARY_MATH.get("round").applyAsDouble(x)));

	/** The bit casts of an integer's 32 bits to the float they encode. */
	private static final Map<String, LongToDoubleFunction> BITS_TO_FLOAT = Map.of("__int_as_float",
			x -> Float.intBitsToFloat((int) x), "__uint_as_float", x -> Float.intBitsToFloat((int) x));

	private final FunctionCompiler fc;
	private final ExpressionCompiler ec;
	private final Program program;

	Builtins(FunctionCompiler fc, ExpressionCompiler ec, Calls calls) {
		this.fc = fc;
		this.ec = ec;
		this.program = fc.program;
	}

	static boolean isSynchronizing(Program program, String name) {
		if (program.catalog.function(name).map(f -> f.barrier()).orElse(false)) {
			return true;
		}
		return name.startsWith("__shfl") || name.startsWith("__ballot") || name.equals("__syncwarp") || name.equals(WarpCollectives.MFMA) || name.startsWith("__any")
				|| name.startsWith("__all") || name.equals("__sync_cluster") || name.startsWith("__sync_all");
	}

	// ---------------------------------------------------------------- builtin variables

	private interface LaneValue {
		long of(Lane lane);
	}

	private static Ex laneValue(VmType type, LaneValue value) {
		return new Ex(type) {
			@Override
			long l(Frame f) {
				return value.of(f.lane);
			}
		};
	}

	Ex variable(String id) {
		return switch (id) {
		case "warpSize" -> laneValue(VmType.I32, lane -> lane.warpSize);
		case "NULL" -> Ex.constant(VmType.VOID_POINTER, 0L); // <stddef.h>'s null pointer, as nullptr
		case "taskId", "taskIdX" -> laneValue(VmType.U32, lane -> lane.taskId);
		case "taskIdY", "taskIdZ", "clusterIdY", "clusterIdZ" -> Ex.constant(VmType.U32, 0L);
		case "taskDim", "taskDimX" -> laneValue(VmType.U32, lane -> lane.taskDim);
		case "taskDimY", "taskDimZ" -> Ex.constant(VmType.U32, 1L);
		case "clusterId" -> laneValue(VmType.U32, lane -> lane.clusterId);
		case "clusterDim" -> laneValue(VmType.U32, lane -> lane.clusterDim);
		case "coreId" -> laneValue(VmType.U32, lane -> lane.coreId);
		case "coreDim" -> laneValue(VmType.U32, lane -> lane.coreDim);
		case "threadIdx", "blockIdx", "blockDim", "gridDim" -> dim3(id);
		default -> hipCoordinate(id);
		};
	}

	private Ex hipCoordinate(String id) {
		if (!id.startsWith("hip") || !id.contains("_") || program.dialect != org.xpiler.lang.dialect.Dialect.HIP) {
			return null;
		}
		String base = id.substring(3, id.indexOf('_'));
		int axis = "xyz".indexOf(id.charAt(id.length() - 1));
		String variable = switch (base) {
		case "ThreadIdx" -> "threadIdx";
		case "BlockIdx" -> "blockIdx";
		case "BlockDim" -> "blockDim";
		case "GridDim" -> "gridDim";
		default -> null;
		};
		return variable == null || axis < 0 ? null : coordinate(variable, axis);
	}

	private Ex dim3(String variable) {
		Ex x = coordinate(variable, 0);
		Ex y = coordinate(variable, 1);
		Ex z = coordinate(variable, 2);
		VmType type = program.types.named("dim3", Map.of());
		return fc.expressions.calls.construct(type, List.of(x, y, z), 0);
	}

	Ex member(MemberAccess access) {
		if (!(access.getTarget() instanceof Name name) || access.isArrow() || fc.lookup(name.getName()) != null) {
			return null;
		}
		int axis = "xyz".indexOf(access.getMember());
		if (axis < 0 || access.getMember().length() != 1) {
			return null;
		}
		return switch (name.getName()) {
		case "threadIdx", "blockIdx", "blockDim", "gridDim" -> coordinate(name.getName(), axis);
		default -> null;
		};
	}

	private static Ex coordinate(String variable, int axis) {
		return switch (variable) {
		case "threadIdx" -> laneValue(VmType.U32, lane -> lane.thread[axis]);
		case "blockIdx" -> laneValue(VmType.U32, lane -> lane.block[axis]);
		case "blockDim" -> laneValue(VmType.U32, lane -> lane.blockDim[axis]);
		default -> laneValue(VmType.U32, lane -> lane.gridDim[axis]);
		};
	}

	// ---------------------------------------------------------------- calls that need their argument models

	Ex callWithModels(String name, List<Expression> models, int site) {
		Ex wmma = WmmaFragments.call(name, models, ec, program, site);
		if (wmma != null) {
			return wmma;
		}
		switch (name) {
		case "printf", "fprintf", "puts", "fputs":
			// output is not part of a kernel's result; the arguments (stderr, cudaGetErrorString(e)) are not computed
			return Ex.constant(VmType.I32, 0L);
		case "exit", "abort", "std::exit", "std::abort":
			return terminate(name, site);
		case "hipLaunchKernelGGL": {
			if (!models.isEmpty() && models.get(0) instanceof Call wrapped && wrapped.getCallee() instanceof Name macro
					&& macro.getName().equals("HIP_KERNEL_NAME") && wrapped.getArgs().size() == 1) {
				models = new ArrayList<>(models);
				models.set(0, wrapped.getArgs().get(0)); // the HIP headers' macro for a kernel name with commas
			}
			String kernel = models.isEmpty() ? null : Calls.kernelName(models.get(0));
			if (models.size() < 5 || kernel == null) {
				throw ec.error(models.isEmpty() ? null : models.get(0),
						"hipLaunchKernelGGL(kernel, grid, block, sharedBytes, stream, args...) names its kernel first");
			}
			var definitions = program.functions.getOrDefault(kernel, List.of());
			if (definitions.isEmpty()) {
				throw ec.error(models.get(0), "the kernel '" + kernel + "' is not defined in this file");
			}
			List<Ex> config = models.subList(1, 5).stream().map(ec::compile).toList();
			List<Ex> args = models.subList(5, models.size()).stream().map(ec::compile).toList();
			CompiledFunction compiled = fc.expressions.calls.launchedInstance(definitions.get(0), models.get(0), args,
					models.get(0));
			return Launches.launch(program, ec, definitions.get(0), compiled, config, args, models.get(0), site);
		}
		default:
			return null;
		}
	}

	/** A call that ends the program (an error path's {@code exit(1)}): when it runs, the run fails there. */
	private Ex terminate(String name, int site) {
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				throw new VmError(program.site(site), f.lane.describe(),
						"the program called " + name + "(), ending the run");
			}
		};
	}

	// ---------------------------------------------------------------- native functions

	Ex call(String name, List<Ex> args, int site) {
		if (name.startsWith("std::") || name.startsWith("::std::")) {
			return standardLibrary(name.substring(name.indexOf("std::") + 5), args, site);
		}
		Ex math = math(name, args);
		if (math != null) {
			return math;
		}
		Ex integer = integerIntrinsic(name, args);
		if (integer != null) {
			return integer;
		}
		return switch (name) {
		case "__ldcs", "__ldcg", "__ldca", "__ldlu", "__ldcv" -> program.dialect == Dialect.CUDA
				|| program.dialect == Dialect.HIP ? cacheHintedLoad(args, site) : null;
		case "cudaMalloc", "hipMalloc" -> allocate(args, Space.GLOBAL, site);
		case "cnrtMalloc" -> allocate(args, Space.GDRAM, site);
		case "cudaMallocHost", "hipHostMalloc", "hipMallocHost" -> allocate(args, Space.HOST, site);
		case "cudaFree", "hipFree", "cudaFreeHost", "hipHostFree", "hipFreeHost", "cnrtFree" -> free(args.get(0), site);
		case "cudaMemcpy", "hipMemcpy", "cudaMemcpyAsync", "hipMemcpyAsync", "cnrtMemcpy" -> copy(args, site);
		case "cudaMemcpyToSymbol", "hipMemcpyToSymbol", "cudaMemcpyToSymbolAsync", "hipMemcpyToSymbolAsync" ->
			symbolCopy(args, true, site);
		case "cudaMemcpyFromSymbol", "hipMemcpyFromSymbol", "cudaMemcpyFromSymbolAsync", "hipMemcpyFromSymbolAsync" ->
			symbolCopy(args, false, site);
		case "HIP_SYMBOL" -> args.size() == 1 ? args.get(0) : null; // the HIP headers' macro for a symbol's address
		case "cudaMemset", "hipMemset" -> fill(args, site);
		case "cudaDeviceSynchronize", "hipDeviceSynchronize", "cudaGetLastError", "hipGetLastError", "cudaPeekAtLastError",
				"hipPeekAtLastError", "cudaStreamSynchronize", "hipStreamSynchronize", "cudaStreamDestroy",
				"hipStreamDestroy", "cudaEventRecord", "hipEventRecord", "cudaEventSynchronize", "hipEventSynchronize",
				"cudaEventDestroy", "hipEventDestroy", "cnrtQueueSync", "cnrtQueueDestroy", "cnrtSetDevice",
				"__threadfence" -> sideEffects(args, VmType.I32);
		case "__syncwarp" -> warpBarrier(args, site);
		case "__sync", "__sync_io", "__sync_compute", "__sync_move", "__sync_io_move_compute" -> completeCopies(args);
		case "cudaStreamCreate", "hipStreamCreate", "cudaEventCreate", "hipEventCreate", "cnrtQueueCreate",
				"cnrtGetDevice" -> storeHandle(args, site);
		case "cudaEventElapsedTime", "hipEventElapsedTime" -> storeZeroFloat(args, site);
		case "__syncthreads" -> barrier(false, site);
		case "__sync_cluster" -> barrier(false, site);
		case "__sync_all", "__sync_all_ipu" -> barrier(true, site);
		case "__is_nram" -> spaceTest(args, Space.NRAM);
		case "__is_wram" -> spaceTest(args, Space.WRAM);
		case "__is_sram" -> spaceTest(args, Space.SRAM);
		case "__is_dram" -> spaceTest(args, Space.GDRAM);
		case "max", "min" -> minMax(name, args);
		case "abs" -> abs(args);
		case "__lane_id" -> laneValue(VmType.I32, Lane::laneInWarp);
		case "__xpiler_space_is" -> spaceIs(args);
		case "aligned" -> aligned(args);
		case "__activemask" -> laneValue(VmType.U32, lane -> 0xFFFFFFFFL);
		default -> name.startsWith("atomic") ? Atomics.atomic(name, args, program, site)
				: name.startsWith("__bang_atomic_reduce_") ? Atomics.reduce(name, args, program, site)
						: WarpCollectives.of(name, args, ec, program, site);
		};
	}

	/**
	 * C++'s {@code std::} math, overloaded on its arguments: {@code std::exp} of a float is {@code expf}, of a
	 * double {@code exp}; {@code std::max} and {@code std::min} compare in the arguments' common type. Over
	 * arrays, the algorithms of {@link StandardAlgorithms}.
	 */
	private Ex standardLibrary(String name, List<Ex> args, int site) {
		if (args.stream().anyMatch(a -> !(a.type instanceof VmType.Scalar))) {
			return new StandardAlgorithms(ec, program).call(name, args, site); // std::copy, std::fill, ... over arrays
		}
		return switch (name) {
		case "max", "min" -> minMax(name, args);
		case "abs", "fabs" -> args.size() == 1 ? abs(args) : null;
		default -> math(name, args, args.isEmpty() ? VmType.F64 : args.stream().map(a -> a.type)
				.reduce(Arithmetic::common).orElseThrow());
		};
	}

	/** The math function {@code name} in single precision when the arguments' common type is float. */
	private Ex math(String name, List<Ex> args, VmType common) {
		return math(common.equals(VmType.F32) && (UNARY_MATH.containsKey(name) || BINARY_MATH.containsKey(name)
				|| name.equals("fma")) ? name + "f" : name, args);
	}

	private Ex math(String name, List<Ex> args) {
		if (name.equals("__fmaf_rn") && args.size() == 3) {
			return math("fmaf", args); // fmaf is fused and rounded to nearest
		}
		if (FLOAT_UNARY_INTRINSICS.containsKey(name) && args.size() == 1) {
			return applied(VmType.F32, FLOAT_UNARY_INTRINSICS.get(name), args.get(0));
		}
		if (FLOAT_BINARY_INTRINSICS.containsKey(name) && args.size() == 2) {
			return applied(VmType.F32, FLOAT_BINARY_INTRINSICS.get(name), args.get(0), args.get(1));
		}
		String base = name.startsWith("__") ? name.substring(2) : name;
		boolean single = base.endsWith("f") && (UNARY_MATH.containsKey(base.substring(0, base.length() - 1))
				|| BINARY_MATH.containsKey(base.substring(0, base.length() - 1)) || base.equals("fmaf"));
		String function = single ? base.substring(0, base.length() - 1) : base;
		VmType type = single ? VmType.F32 : VmType.F64;
		DoubleUnaryOperator unary = UNARY_MATH.get(function);
		if (unary != null && args.size() == 1 && (single || name.equals(base))) {
			return applied(type, unary, args.get(0));
		}
		DoubleBinaryOperator binary = BINARY_MATH.get(function);
		if (binary != null && args.size() == 2 && (single || name.equals(base))) {
			return applied(type, binary, args.get(0), args.get(1));
		}
		if (function.equals("fma") && args.size() == 3) {
			Ex x = ec.convert(args.get(0), type);
			Ex y = ec.convert(args.get(1), type);
			Ex z = ec.convert(args.get(2), type);
			return new Ex(type) {
				@Override
				double d(Frame f) {
					return single ? Math.fma((float) x.d(f), (float) y.d(f), (float) z.d(f)) : Math.fma(x.d(f), y.d(f), z.d(f));
				}
			};
		}
		return null;
	}

	/** {@code function(argument)} with the argument converted to {@code type} and the result rounded to it. */
	private Ex applied(VmType type, DoubleUnaryOperator function, Ex argument) {
		ElementType t = ((Scalar) type).element();
		Ex x = ec.convert(argument, type);
		return new Ex(type) {
			@Override
			double d(Frame f) {
				return Arithmetic.round(t, function.applyAsDouble(x.d(f)));
			}
		};
	}

	/** {@code function(left, right)} with the arguments converted to {@code type} and the result rounded to it. */
	private Ex applied(VmType type, DoubleBinaryOperator function, Ex left, Ex right) {
		ElementType t = ((Scalar) type).element();
		Ex x = ec.convert(left, type);
		Ex y = ec.convert(right, type);
		return new Ex(type) {
			@Override
			double d(Frame f) {
				return Arithmetic.round(t, function.applyAsDouble(x.d(f), y.d(f)));
			}
		};
	}

	/**
	 * {@code __fdividef(x, y)}: x / y, except that for 2^126 < |y| < 2^128 it is x times 0 (0, or NaN for an
	 * infinite or NaN x), as the CUDA math API documents: the hardware multiplies by an approximate reciprocal
	 * that flushes to zero there. Elsewhere the hardware is within 2 ulp; the model rounds correctly.
	 */
	private static double fastDivide(double x, double y) {
		double magnitude = Math.abs(y);
		return magnitude > 0x1p126 && magnitude < 0x1p128 ? x * Math.copySign(0.0, y) : x / y;
	}

	private static double truncate(double x) {
		return x < 0 ? Math.ceil(x) : Math.floor(x);
	}

	/** The 1-based position of the least significant set bit of {@code x}, 0 for 0 ({@code ffs}). */
	private static long firstSetBit(long x) {
		return x == 0 ? 0 : Long.numberOfTrailingZeros(x) + 1;
	}

	/** The low 24 bits of {@code x}, sign-extended when {@code signed}. */
	private static long low24(long x, boolean signed) {
		return signed ? ((long) (int) (x << 8)) >> 8 : x & 0xFFFFFF;
	}

	private static FloatToInteger toInt(DoubleUnaryOperator rounding) {
		return new FloatToInteger(VmType.I32, x -> saturated(rounding.applyAsDouble(x), Integer.MIN_VALUE, Integer.MAX_VALUE));
	}

	private static FloatToInteger toUnsigned(DoubleUnaryOperator rounding) {
		return new FloatToInteger(VmType.U32, x -> saturated(rounding.applyAsDouble(x), 0, 0xFFFFFFFFL));
	}

	/** An integral {@code x} clamped to [min, max], as CUDA's conversions do; NaN is 0. */
	private static long saturated(double x, long min, long max) {
		return Double.isNaN(x) ? 0 : x <= min ? min : x >= max ? max : (long) x;
	}

	/**
	 * The integer functions of the maps above that the program's dialect declares: the GPU ones only in CUDA and
	 * HIP, the compilers' builtins in HIP (clang) and C++, so that a translation left calling a function its
	 * dialect lacks fails to run.
	 */
	private Ex integerIntrinsic(String name, List<Ex> args) {
		boolean gpu = program.dialect == Dialect.CUDA || program.dialect == Dialect.HIP;
		boolean builtins = program.dialect == Dialect.HIP || program.dialect == Dialect.VNNI;
		IntegerIntrinsic integer = gpu && GPU_INTEGER_INTRINSICS.containsKey(name) ? GPU_INTEGER_INTRINSICS.get(name)
				: builtins && COMPILER_BUILTINS.containsKey(name) ? COMPILER_BUILTINS.get(name)
						: C_INTEGER_FUNCTIONS.get(name);
		if (integer != null && args.size() == integer.params().size()) {
			List<Ex> operands = new ArrayList<>();
			for (int i = 0; i < args.size(); i++) {
				operands.add(ec.convert(args.get(i), integer.params().get(i)));
			}
			ElementType t = ((Scalar) integer.result()).element();
			return new Ex(integer.result()) {
				@Override
				long l(Frame f) {
					long[] values = new long[operands.size()];
					for (int i = 0; i < values.length; i++) {
						values[i] = operands.get(i).l(f);
					}
					return Arithmetic.wrap(t, integer.value().applyAsLong(values));
				}
			};
		}
		FloatToInteger conversion = gpu && GPU_FLOAT_TO_INTEGER.containsKey(name) ? GPU_FLOAT_TO_INTEGER.get(name)
				: C_FLOAT_TO_INTEGER.get(name);
		if (conversion != null && args.size() == 1) {
			Ex x = ec.convert(args.get(0), VmType.F32);
			ElementType t = ((Scalar) conversion.result()).element();
			return new Ex(conversion.result()) {
				@Override
				long l(Frame f) {
					return Arithmetic.wrap(t, conversion.value().applyAsLong(x.d(f)));
				}
			};
		}
		LongToDoubleFunction bits = gpu ? BITS_TO_FLOAT.get(name) : null;
		if (bits != null && args.size() == 1) {
			Ex x = ec.convert(args.get(0), VmType.U32);
			return new Ex(VmType.F32) {
				@Override
				double d(Frame f) {
					return bits.applyAsDouble(x.l(f));
				}
			};
		}
		return null;
	}

	/** {@code __ldcs(p)} and the other loads with a cache hint: the value is that of {@code *p}. */
	private static Ex cacheHintedLoad(List<Ex> args, int site) {
		if (args.size() != 1 || !VmType.isPointerLike(args.get(0).type)) {
			return null;
		}
		Ex pointer = args.get(0);
		return MemoryPlace.at(pointer, VmType.pointee(pointer.type), site).read();
	}

	private Ex minMax(String name, List<Ex> args) {
		if (args.size() != 2) {
			return null;
		}
		VmType type = Arithmetic.common(args.get(0).type, args.get(1).type);
		Ex x = ec.convert(args.get(0), type);
		Ex y = ec.convert(args.get(1), type);
		boolean max = name.equals("max");
		if (type.kind() == VmType.Kind.DOUBLE) {
			return new Ex(type) {
				@Override
				double d(Frame f) {
					double a = x.d(f);
					double b = y.d(f);
					return max ? (a > b ? a : b) : (a < b ? a : b);
				}
			};
		}
		boolean unsigned = type.equals(VmType.U64);
		return new Ex(type) {
			@Override
			long l(Frame f) {
				long a = x.l(f);
				long b = y.l(f);
				int c = unsigned ? Long.compareUnsigned(a, b) : Long.compare(a, b);
				return max ? (c > 0 ? a : b) : (c < 0 ? a : b);
			}
		};
	}

	private Ex abs(List<Ex> args) {
		Ex x = ec.convert(args.get(0), Arithmetic.promote(args.get(0).type));
		if (x.type.kind() == VmType.Kind.DOUBLE) {
			return new Ex(x.type) {
				@Override
				double d(Frame f) {
					return Math.abs(x.d(f));
				}
			};
		}
		ElementType t = ((Scalar) x.type).element();
		return new Ex(x.type) {
			@Override
			long l(Frame f) {
				return Arithmetic.wrap(t, Math.abs(x.l(f)));
			}
		};
	}

	private Ex allocate(List<Ex> args, Space space, int site) {
		Ex target = args.get(0);
		Ex bytes = ec.convert(args.get(1), VmType.I64);
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				long size = bytes.l(f);
				if (size < 0 || size > Integer.MAX_VALUE) {
					throw new VmError(program.site(site), f.lane.describe(), "cannot allocate " + size + " bytes");
				}
				long address = f.memory.allocate(space.catalogName() + " allocation at line " + program.site(site).line(),
						space, (int) size, 256, false);
				f.memory.store(ElementType.U64, target.l(f), address, site);
				return 0;
			}
		};
	}

	private Ex free(Ex pointer, int site) {
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				long address = pointer.l(f);
				if (address != 0) {
					f.memory.free(address, site);
				}
				return 0;
			}
		};
	}

	private Ex copy(List<Ex> args, int site) {
		Ex destination = args.get(0);
		Ex source = args.get(1);
		Ex bytes = ec.convert(args.get(2), VmType.I64);
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				f.memory.copy(destination.l(f), source.l(f), bytes.l(f), site);
				return 0;
			}
		};
	}

	/**
	 * {@code cudaMemcpyToSymbol(symbol, src, bytes[, offset[, kind]])} and its {@code FromSymbol} mirror: a copy
	 * to or from the device variable {@code symbol}, starting {@code offset} bytes into it.
	 */
	private Ex symbolCopy(List<Ex> args, boolean toSymbol, int site) {
		if (args.size() < 3) {
			return null;
		}
		Ex symbol = args.get(toSymbol ? 0 : 1);
		Ex other = args.get(toSymbol ? 1 : 0);
		Ex bytes = ec.convert(args.get(2), VmType.I64);
		Ex offset = args.size() > 3 ? ec.convert(args.get(3), VmType.I64) : Ex.constant(VmType.I64, 0L);
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				long at = symbol.l(f) + offset.l(f);
				f.memory.copy(toSymbol ? at : other.l(f), toSymbol ? other.l(f) : at, bytes.l(f), site);
				return 0;
			}
		};
	}

	private Ex fill(List<Ex> args, int site) {
		Ex destination = args.get(0);
		Ex value = ec.convert(args.get(1), VmType.I32);
		Ex bytes = ec.convert(args.get(2), VmType.I64);
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				long d = destination.l(f);
				long v = value.l(f);
				long n = bytes.l(f);
				for (long i = 0; i < n; i++) {
					f.memory.store(ElementType.U8, d + i, v, site);
				}
				return 0;
			}
		};
	}

	private static Ex sideEffects(List<Ex> args, VmType type) {
		return new Ex(type) {
			@Override
			long l(Frame f) {
				args.forEach(a -> a.run(f));
				return 0;
			}
		};
	}

	/**
	 * {@code __syncwarp()}: the lanes of the warp wait for one another, and what each wrote before is ordered
	 * before what the others access after (the race detector compares the lanes' warp phases). The mask is
	 * read as the whole warp, which every lane of the warp must then reach.
	 */
	private static Ex warpBarrier(List<Ex> args, int site) {
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				args.forEach(a -> a.run(f));
				Lane lane = f.lane;
				if (lane.gang != null) {
					lane.gang.collective(lane, 0, 0, (index, values, active, parameter) -> 0, lane.warpSize, site);
				}
				lane.warpPhase++;
				return 0;
			}
		};
	}

	/** A BANG task's wait for its pipelines: its pending {@code __memcpy_async} copies land. */
	private static Ex completeCopies(List<Ex> args) {
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				args.forEach(a -> a.run(f));
				AsyncCopies.complete(f.lane);
				return 0;
			}
		};
	}

	private Ex storeHandle(List<Ex> args, int site) {
		Ex target = args.get(0);
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				f.memory.store(ElementType.U64, target.l(f), 1, site);
				return 0;
			}
		};
	}

	private Ex storeZeroFloat(List<Ex> args, int site) {
		Ex target = args.get(0);
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				f.memory.storeF32(target.l(f), 0f, site);
				return 0;
			}
		};
	}

	/** A barrier; a BANG task's pending {@code __memcpy_async} copies land before it waits (see AsyncCopies). */
	private Ex barrier(boolean wholeLaunch, int site) {
		return new Ex(VmType.VOID) {
			@Override
			long l(Frame f) {
				AsyncCopies.complete(f.lane);
				Gang gang = f.lane.gang;
				if (gang != null) {
					gang.barrier(f.lane, wholeLaunch, site);
				}
				return 0;
			}
		};
	}

	/** Catalog rules: {@code space(p) == "nram"} is rewritten to {@code __xpiler_space_is(p, ordinal)}. */
	private static Ex spaceIs(List<Ex> args) {
		Ex pointer = args.get(0);
		long ordinal = args.get(1).constant();
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				Space space = f.memory.spaceOf(pointer.l(f));
				return space != null && Space.values()[(int) ordinal].accepts(space) ? 1 : 0;
			}
		};
	}

	/** Catalog rules: {@code aligned(p, 64)}. */
	private Ex aligned(List<Ex> args) {
		if (args.size() != 2 || !VmType.isPointerLike(args.get(0).type)) {
			return null;
		}
		Ex pointer = args.get(0);
		Ex alignment = ec.convert(args.get(1), VmType.I64);
		return new Ex(VmType.I32) {
			@Override
			long l(Frame f) {
				return f.memory.aligned(pointer.l(f), alignment.l(f)) ? 1 : 0;
			}
		};
	}

	private static Ex spaceTest(List<Ex> args, Space space) {
		Ex pointer = args.get(0);
		return new Ex(VmType.BOOL) {
			@Override
			long l(Frame f) {
				return f.memory.spaceOf(pointer.l(f)) == space ? 1 : 0;
			}
		};
	}

}
