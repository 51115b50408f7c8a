package org.xpiler.lang.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.eclipse.emf.ecore.util.EcoreUtil;
import org.eclipse.xtext.EcoreUtil2;
import org.junit.jupiter.api.Test;
import org.xpiler.lang.dialect.Dialect;
import org.xpiler.lang.diagnostics.Diagnostic;
import org.xpiler.lang.kernel.Binary;
import org.xpiler.lang.kernel.BuiltinType;
import org.xpiler.lang.kernel.Call;
import org.xpiler.lang.kernel.CompoundStatement;
import org.xpiler.lang.kernel.CxxCast;
import org.xpiler.lang.kernel.Declaration;
import org.xpiler.lang.kernel.Directive;
import org.xpiler.lang.kernel.DirectiveStatement;
import org.xpiler.lang.kernel.ForStatement;
import org.xpiler.lang.kernel.FunctionDefinition;
import org.xpiler.lang.kernel.KernelLaunch;
import org.xpiler.lang.kernel.NamedType;
import org.xpiler.lang.kernel.NamespaceBlock;
import org.xpiler.lang.kernel.StructDefinition;
import org.xpiler.lang.kernel.TemplateArgument;
import org.xpiler.lang.kernel.TemplateCall;
import org.xpiler.lang.kernel.TemplateId;
import org.xpiler.lang.parsing.KernelParser;
import org.xpiler.lang.parsing.ParsedKernel;
import org.xpiler.lang.parsing.StructDefinitions;

/** The constructs real kernels use beyond our corpus read as their compilers read them. */
public class ConstructsTest {
	private static final KernelParser PARSER = new KernelParser();

	private static ParsedKernel clean(String file, String text, Dialect dialect) {
		ParsedKernel parsed = PARSER.parse(file, text, dialect);
		assertEquals(List.of(), parsed.diagnostics());
		String printed = dialect.printer().print(parsed.unit());
		assertTrue(EcoreUtil.equals(parsed.unit(), PARSER.parse(file, printed, dialect).unit()), printed);
		return parsed;
	}

	@Test
	public void hipVectorTypedefsMfmaAndVariadicKernelLaunches() {
		clean("mfma.hip", """
				typedef float floatx4 __attribute__((ext_vector_type(4)));

				__global__ void step(const float* a, const float* b, float* d)
				{
				    floatx4 acc = {0.0f, 0.0f, 0.0f, 0.0f};
				    acc = __builtin_amdgcn_mfma_f32_16x16x4f32(a[threadIdx.x], b[threadIdx.x], acc, 0, 0, 0);
				    d[threadIdx.x] = acc[0];
				}

				extern "C" void step_kernel(const float* a, const float* b, float* d)
				{
				    hipLaunchKernelGGL(step, dim3(1), dim3(64), 0, 0, a, b, d);
				}
				""", Dialect.HIP);
	}

	@Test
	public void cudaWmmaTemplatesLaunchBoundsAndCasts() {
		ParsedKernel parsed = clean("wmma.cu", """
				#pragma once
				#define TILE 16
				typedef unsigned int uint;
				template <typename T, int N = 4>
				__device__ __forceinline__ T clamp(T x) { return x < 0 ? (T)0 : (x > N ? (T)N : x); }

				__global__ void __launch_bounds__(128, 2) wmma_gemm(const half *a, const half *b, float *c) {
				    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> a_frag;
				    wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> b_frag;
				    wmma::fragment<wmma::accumulator, 16, 16, 16, float> c_frag;
				    wmma::fill_fragment(c_frag, 0.0f);
				    wmma::load_matrix_sync(a_frag, a, TILE);
				    wmma::load_matrix_sync(b_frag, b, TILE);
				    wmma::mma_sync(c_frag, a_frag, b_frag, c_frag);
				    wmma::store_matrix_sync(c, c_frag, TILE, wmma::mem_row_major);
				    const float4 *v = reinterpret_cast<const float4 *>(c);
				    unsigned int mask = 0xFFFFFFFFu, lane = threadIdx.x & 31u;
				    int s = clamp<int, 8>(static_cast<int>(lane)), i = 0;
				    do { i++, s >>= 1; } while (s > 0);
				    switch (lane) { case 0: c[0] += v->x * 1.5e-3f; break; default: break; }
				    c[1] = __shfl_down_sync(mask, c[1], 16) + sizeof(float4) + sizeof c[0];
				}

				extern "C" void wmma_kernel(const half *a, const half *b, float *c) {
				    dim3 grid(1, 1), block(128);
				    wmma_gemm<<<grid, block, 0, 0>>>(a, b, c);
				    cudaDeviceSynchronize();
				}
				""", Dialect.CUDA);
		assertEquals(2, EcoreUtil2.getAllContentsOfType(parsed.unit(), Directive.class).size());
		NamedType fragment = EcoreUtil2.getAllContentsOfType(parsed.unit(), NamedType.class).stream()
				.filter(t -> t.getName().equals("wmma::fragment")).findFirst().orElseThrow();
		assertEquals(6, fragment.getTemplateArgs().size());
		assertEquals("reinterpret_cast", EcoreUtil2.getAllContentsOfType(parsed.unit(), CxxCast.class).get(0).getKind());
		assertEquals(List.of("int", "8"), EcoreUtil2.getAllContentsOfType(parsed.unit(), TemplateCall.class).get(0)
				.getTemplateArgs().stream().map(a -> a.getType() != null ? a.getType().getType().getName()
						: ((org.xpiler.lang.kernel.IntLiteral) a.getValue()).getValue())
				.toList());
		KernelLaunch launch = EcoreUtil2.getAllContentsOfType(parsed.unit(), KernelLaunch.class).get(0);
		assertEquals(4, launch.getConfig().size());
		assertEquals(3, launch.getArgs().size());
	}

	@Test
	public void templateKernelLaunchesAndAutoDeclarations() {
		ParsedKernel parsed = clean("norm.cu", """
				template <int BLOCK, typename T>
				__global__ void norm(const T* x, T* y, bool flag) {
				    auto i = blockIdx.x * BLOCK + threadIdx.x;
				    const auto& v = x[i];
				    y[i] = v;
				}

				extern "C" void norm_kernel(const float* x, float* y) {
				    const int a = 1, b = 2, c = 3;
				    norm<128, float><<<8, 128>>>(x, y, a < b > c);
				}
				""", Dialect.CUDA);
		KernelLaunch launch = EcoreUtil2.getAllContentsOfType(parsed.unit(), KernelLaunch.class).get(0);
		TemplateId kernel = assertInstanceOf(TemplateId.class, launch.getKernel());
		assertEquals("norm", kernel.getName());
		assertEquals(2, kernel.getTemplateArgs().size());
		// without a launch after it, `a < b > c` stays two comparisons
		assertInstanceOf(Binary.class, launch.getArgs().get(2));
		assertEquals(List.of("auto", "auto"), EcoreUtil2.getAllContentsOfType(parsed.unit(), Declaration.class).stream()
				.filter(d -> d.getType() instanceof BuiltinType t && t.getName().equals("auto"))
				.map(d -> ((BuiltinType) d.getType()).getName()).toList());
	}

	@Test
	public void templateArgumentsAreExpressionsOrTypesAndALoneNameIsATypeName() {
		ParsedKernel parsed = clean("blocks.cu", """
				#define BLOCK 128
				template <int N, typename T>
				__global__ void k(T* y) { y[threadIdx.x] = N; }
				extern "C" void k_kernel(float* y) {
				    std::array<float, BLOCK * 2> w;
				    k<BLOCK * 2, float><<<1, 256>>>(y);
				    k<BLOCK, float *><<<1, BLOCK>>>(&y);
				}
				""", Dialect.CUDA);
		List<TemplateArgument> arguments = EcoreUtil2.getAllContentsOfType(parsed.unit(), TemplateArgument.class);
		// the array's float and BLOCK * 2, then each launch's two arguments
		assertEquals(List.of("type", "value", "value", "type", "type", "type"),
				arguments.stream().map(a -> a.getType() != null ? "type" : "value").toList());
		assertEquals("BLOCK", ((NamedType) arguments.get(4).getType().getType()).getName());
	}

	@Test
	public void numericLimitsMembersAreCalledOnTheirInstance() {
		clean("limits.cu", """
				__global__ void k(float* y, int* n) {
				    y[threadIdx.x] = -std::numeric_limits<float>::infinity();
				    n[threadIdx.x] = ::std::numeric_limits<unsigned int>::max() / 2;
				}
				""", Dialect.CUDA);
	}

	@Test
	public void structsOfPlainMembersAreTypesOfTheFile() {
		ParsedKernel parsed = clean("welford.cu", """
				struct Welford {
				    float mean;
				    float m2, count;
				};
				typedef struct {
				    int index;
				    float value;
				} ArgMax;

				__device__ Welford merge(const Welford& a, const Welford& b) {
				    Welford out = {a.mean, a.m2 + b.m2, a.count + b.count};
				    return out;
				}

				__global__ void k(float* y) {
				    __shared__ ArgMax best[32];
				    Welford w = merge(Welford(), Welford());
				    best[threadIdx.x].value = w.mean;
				    y[threadIdx.x] = best[threadIdx.x].value + sizeof(ArgMax);
				}
				""", Dialect.CUDA);
		assertEquals(List.of("Welford", "ArgMax"), EcoreUtil2.getAllContentsOfType(parsed.unit(), StructDefinition.class)
				.stream().flatMap(s -> StructDefinitions.typeNames(s).stream()).toList());
		assertEquals(List.of("declare the variable 'pair' in a declaration of its own, after the struct"),
				PARSER.parse("pair.cu", "struct Pair { float a; } pair;\n", Dialect.CUDA).diagnostics().stream()
						.map(d -> d.message()).toList());
	}

	@Test
	public void hipDynamicSharedDeclaresTheLaunchsExternSharedArray() {
		ParsedKernel parsed = PARSER.parse("rows.hip", """
				__global__ void rows(const float* x, float* y) {
				    HIP_DYNAMIC_SHARED(float, partial)
				    HIP_DYNAMIC_SHARED(unsigned int, counts);
				    partial[threadIdx.x] = x[threadIdx.x];
				    counts[threadIdx.x] = 1u;
				    __syncthreads();
				    y[threadIdx.x] = partial[63 - threadIdx.x] + counts[threadIdx.x];
				}
				""", Dialect.HIP);
		assertEquals(List.of(), parsed.diagnostics());
		String printed = Dialect.HIP.printer().print(parsed.unit());
		assertTrue(printed.contains("    extern __shared__ float partial[];\n    extern __shared__ unsigned int counts[];\n"),
				printed);
		clean("rows.hip", printed, Dialect.HIP);
	}

	@Test
	public void hipKernelNameHoldsATemplateKernelWithItsCommasAndPrintsBack() {
		ParsedKernel parsed = clean("reduce.hip", """
				template <typename T, int BLOCK>
				__global__ void reduce(const T* x, T* y) { y[threadIdx.x] = x[threadIdx.x] * BLOCK; }
				__global__ void copy(const float* x, float* y) { y[threadIdx.x] = x[threadIdx.x]; }
				extern "C" void reduce_kernel(const float* x, float* y) {
				    hipLaunchKernelGGL(HIP_KERNEL_NAME(reduce<float, 256>), dim3(1), dim3(256), 0, 0, x, y);
				    hipLaunchKernelGGL(HIP_KERNEL_NAME(copy), dim3(1), dim3(256), 0, 0, x, y);
				}
				""", Dialect.HIP);
		String printed = Dialect.HIP.printer().print(parsed.unit());
		assertTrue(printed.contains("hipLaunchKernelGGL(HIP_KERNEL_NAME(reduce<float, 256>), dim3(1), dim3(256), 0, 0, x, y);"),
				printed);
		assertTrue(printed.contains("hipLaunchKernelGGL(HIP_KERNEL_NAME(copy), dim3(1)"), printed);
		clean("reduce.hip", printed, Dialect.HIP);
	}

	@Test
	public void structTemplatesAndExplicitSpecializationsParseAndPrintBack() {
		ParsedKernel parsed = clean("axpy.cu", """
				template <typename T, int LANES = 1>
				struct Params {
				    const T* x;
				    T* y;
				    T a[LANES];
				};
				template <typename T>
				__device__ float to_float(T v);
				template <>
				__device__ float to_float<__half>(__half v) { return __half2float(v); }
				template <typename T>
				__global__ void axpy(Params<T, 2> p) { p.y[threadIdx.x] = p.a[0] * to_float(p.x[threadIdx.x]); }
				""", Dialect.CUDA);
		String printed = Dialect.CUDA.printer().print(parsed.unit());
		assertTrue(printed.contains("template <typename T, int LANES = 1>\nstruct Params {\n    const T *x;"), printed);
		assertTrue(printed.contains("template <>\n__device__ float to_float<__half>(__half v) {"), printed);
		assertTrue(printed.contains("void axpy(Params<T, 2> p)"), printed);
		clean("axpy.cu", printed, Dialect.CUDA);
	}

	@Test
	public void structsDeclareTheirAlignmentInEachSpelling() {
		ParsedKernel parsed = clean("pair.cu", """
				struct __align__(8) Pair { float val; int idx; };
				struct alignas(16) Quad { float v[3]; };
				struct __attribute__((aligned(32))) Wide { float v; };
				__global__ void k(Pair* p) { __align__(16) float buf[4]; buf[0] = p[0].val; p[0].val = buf[0]; }
				""", Dialect.CUDA);
		String printed = Dialect.CUDA.printer().print(parsed.unit());
		assertTrue(printed.contains("struct alignas(8) Pair {"), printed);
		assertTrue(printed.contains("struct alignas(16) Quad {"), printed);
		assertTrue(printed.contains("struct __attribute__((aligned(32))) Wide {"), printed);
		assertTrue(printed.contains("alignas(16) float buf[4];"), printed);
	}

	@Test
	public void loopHeaderMacrosExpandWhereUsedAndLaterLinesKeepTheirNumbers() {
		String text = """
				#define CUDA_KERNEL_LOOP(i, n) \\
				    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)
				__global__ void scale(float* y, int n) {
				    // CUDA_KERNEL_LOOP(k, n) in a comment stays
				    CUDA_KERNEL_LOOP(index,
				                     n) {
				        y[index] *= 2.0f;
				    }
				    int unknown = missing;
				}
				""";
		ParsedKernel parsed = PARSER.parse("scale.cu", text, Dialect.CUDA);
		// the error after the use names the line the file has it on
		assertEquals(List.of("scale.cu:9:19: error: unknown identifier 'missing'"),
				parsed.diagnostics().stream().map(Diagnostic::format).toList());
		String printed = Dialect.CUDA.printer().print(parsed.unit());
		assertTrue(printed.contains("for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < (n); "
				+ "index += blockDim.x * gridDim.x) {"), printed);
		assertTrue(printed.contains("// CUDA_KERNEL_LOOP(k, n) in a comment stays"), printed);
		assertTrue(printed.contains("#define CUDA_KERNEL_LOOP(i, n)"), printed);
	}

	@Test
	public void aStructTemplatesParameterIsUnknownOutsideIt() {
		ParsedKernel parsed = PARSER.parse("pair.cu", """
				template <typename T>
				struct Pair { T a; T b; };
				struct Single { T a; };
				""", Dialect.CUDA);
		assertEquals(List.of("pair.cu:3:17: error: unknown type 'T'"),
				parsed.diagnostics().stream().map(Diagnostic::format).toList());
	}

	@Test
	public void namespacesHoldHelpersAndTheirQualifiedNamesAreKnown() {
		ParsedKernel parsed = clean("rows.cu", """
				namespace {
				constexpr int kRows = 64;
				__device__ float square(float v) { return v * v; }
				}

				namespace ops {
				namespace detail {
				inline int blocks(int n, int t) { return (n + t - 1) / t; }
				constexpr int kSplit = 2;
				}
				}

				__global__ void rows(float* y) { y[threadIdx.x] = square(kRows) + ops::detail::kSplit; }

				extern "C" void rows_kernel(float* y) {
				    rows<<<ops::detail::blocks(kRows, 32), 32>>>(y);
				    rows<<<detail::blocks(kRows, 32), 32>>>(y);
				}
				""", Dialect.CUDA);
		List<NamespaceBlock> blocks = EcoreUtil2.getAllContentsOfType(parsed.unit(), NamespaceBlock.class);
		assertEquals(Arrays.asList(null, "ops", "detail"), blocks.stream().map(NamespaceBlock::getName).toList());
		// a namespace the file does not declare is not known
		assertEquals(List.of("unknown function 'other::one'"), PARSER.parse("unknown.cu",
				"namespace ops { inline int one() { return 1; } }\nextern \"C\" void f(int* y) { y[0] = other::one(); }\n",
				Dialect.CUDA).diagnostics().stream().map(d -> d.message()).toList());
	}

	@Test
	public void bangTemplateHelpersCallIntrinsicsOnTheirElementType() {
		clean("scaled.mlu", """
				__nram__ float buf[256];
				template <typename T>
				__mlu_func__ void scaleRows(T* dst, const T* src, const T* row, int n, int width) {
				    __bang_cycle_mul(dst, src, row, n, width);
				}
				extern "C" __mlu_global__ void scaled_kernel(const float* x, float* y) {
				    __memcpy(buf, x, 256 * sizeof(float), GDRAM2NRAM);
				    scaleRows<float>(buf, buf, buf, 256, 64);
				    __memcpy(y, buf, 256 * sizeof(float), NRAM2GDRAM);
				}
				""", Dialect.BANG);
	}

	@Test
	public void pragmasBeforeUnbracedLoopBodiesAndLaunchBoundsBeforeTheReturnType() {
		ParsedKernel parsed = clean("tile.cu", """
				__global__ __launch_bounds__(256) void tile(const float* x, float* y) {
				    float acc = 0.0f;
				#pragma unroll
				    for (int i = 0; i < 4; ++i)
				#pragma unroll
				        for (int j = 0; j < 4; ++j)
				            acc += x[i * 4 + j];
				    y[threadIdx.x] = acc;
				}
				""", Dialect.CUDA);
		FunctionDefinition tile = (FunctionDefinition) parsed.unit().getItems().get(0);
		assertEquals(1, tile.getAttributes().size());
		// the inner pragma and loop are the outer loop's body, read as a block
		ForStatement outer = EcoreUtil2.getAllContentsOfType(tile, ForStatement.class).get(0);
		CompoundStatement body = assertInstanceOf(CompoundStatement.class, outer.getBody());
		assertInstanceOf(DirectiveStatement.class, body.getStatements().get(0));
		assertInstanceOf(ForStatement.class, body.getStatements().get(1));
	}

	@Test
	public void readOnlyCacheLoadsOfVectorTypes() {
		clean("ldg4.cu", """
				__global__ void copy4(const float* __restrict__ x, float* y) {
				    const float4* x4 = reinterpret_cast<const float4*>(x);
				    const float4 v = __ldg(&x4[threadIdx.x]);
				    y[threadIdx.x] = v.x + v.y + v.z + v.w;
				}
				""", Dialect.CUDA);
	}

	@Test
	public void bangQualifiersMemcpyAndTaskBuiltins() {
		ParsedKernel parsed = clean("copy.mlu", """
				__nram__ float tile[256];
				__mlu_func__ int share(int items) { return (items + taskDim - 1) / taskDim; }
				extern "C" __mlu_global__ void copy_kernel(const float *src, float *dst) {
				    int begin = taskId * share(1024);
				    __memcpy(tile, src + begin, 256 * sizeof(float), GDRAM2NRAM, 64, 128, 0);
				    __bang_active_relu(tile, tile, 256);
				    __memcpy(dst + begin, tile, 256 * sizeof(float), NRAM2GDRAM);
				    __sync_all();
				}
				""", Dialect.BANG);
		FunctionDefinition kernel = (FunctionDefinition) parsed.unit().getItems().get(2);
		assertEquals("copy_kernel", kernel.getName());
		Call strided = EcoreUtil2.getAllContentsOfType(kernel, Call.class).stream()
				.filter(c -> c.getArgs().size() == 7).findFirst().orElseThrow();
		assertInstanceOf(Binary.class, strided.getArgs().get(1));
	}

	@Test
	public void vnniVectorTypesAndIntrinsics() {
		ParsedKernel parsed = clean("dot.cpp", """
				static inline int hsum(__m512i v) { return _mm512_reduce_add_epi32(v); }
				extern "C" void dot_kernel(const uint8_t *a, const int8_t *b, int32_t *out) {
				    __m512i acc = _mm512_setzero_si512();
				    for (int k = 0; k < 256; k += 64) {
				        __m512i va = _mm512_loadu_si512((const void *)(a + k));
				        __m512i vb = _mm512_loadu_si512((const void *)(b + k));
				        acc = _mm512_dpbusd_epi32(acc, va, vb);
				    }
				    out[0] = hsum(acc);
				}
				""", Dialect.VNNI);
		assertEquals(2, EcoreUtil2.getAllContentsOfType(parsed.unit(), FunctionDefinition.class).size());
		assertEquals(1, EcoreUtil2.getAllContentsOfType(parsed.unit(), Declaration.class).stream()
				.filter(d -> d.getType().getName().equals("__m512i") && d.eContainer() != null).limit(1).count());
	}
}
