// Native checker for the kernel corpus (tests/corpus/OPERATORS.md).
//
//   check [--seed N] <op> <d1> <d2> ... <path/to/kernel.so>
//   check --params <op>        prints the op's shape parameter names, comma-separated (as in shapes.json)
//   check --list               prints every op this checker knows
//
// Fills the inputs with seeded random values (float uniform in [-1, 1], uint8 in [0, 255], int8 in
// [-128, 127]; deformable_attention: sampling locations in [-0.1, 1.1], attention weights in [0, 1]),
// computes the operator in double precision with straightforward loops, dlopen()s the kernel library,
// calls <op>_kernel(pointers...) with host pointers (inputs first, then outputs, as in OPERATORS.md)
// and compares every output element: |got - want| <= 1e-5 + 1e-4 * |want| for float, exact for int32.
//
// It also checks the contract around the call: every buffer ends right before a PROT_NONE guard page
// (reading or writing past the end of a buffer crashes and is reported), outputs are pre-filled with
// a sentinel (NaN / 0x5A5A5A5A) so an element the kernel never stores is a mismatch, and the inputs
// must be unchanged afterwards.
//
// Prints "PASS <op> <shape>" or "FAIL <op> <shape>: ..." and exits 0 on PASS, 1 on FAIL, 2 on usage errors.
//
// Build: g++ -O2 -o check reference.cpp -ldl

#include <dlfcn.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

enum class Type { F32, U8, S8, I32 };
enum class Fill { Float, Location, Weight, Byte };  // Float: [-1,1]; Location: [-0.1,1.1]; Weight: [0,1]; Byte: full range of U8/S8

struct Buffer {
    std::string name;
    Type type;
    size_t count;
    bool output;
    Fill fill;
    void* data = nullptr;            // what the kernel sees (ends at a guard page)
    std::vector<double> value;       // inputs: the exact values as double; outputs: the reference result
    std::vector<unsigned char> copy; // inputs: a byte copy, to detect modification
};

size_t element_size(Type t) {
    switch (t) {
        case Type::F32: return 4;
        case Type::I32: return 4;
        default: return 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Random numbers: splitmix64, so the inputs are the same on every machine and compiler.

uint64_t rng_state = 0x2545F4914F6CDD1DULL;

uint64_t next_u64() {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double uniform01() { return (double)(next_u64() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)

float uniform(float lo, float hi) { return (float)(lo + (hi - lo) * uniform01()); }

// ---------------------------------------------------------------------------------------------
// Guarded allocation: the buffer's last byte is followed by an inaccessible page.

void* guarded_alloc(size_t bytes) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t rounded = (bytes + page - 1) / page * page;
    void* base = mmap(nullptr, rounded + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    if (mprotect((char*)base + rounded, page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
    return (char*)base + (rounded - bytes);
}

std::string g_label;  // "op shape", for the crash handler

void on_crash(int sig) {
    const char* what = sig == SIGSEGV ? "segmentation fault (out-of-bounds access?)"
                     : sig == SIGBUS  ? "bus error"
                     : sig == SIGFPE  ? "arithmetic exception"
                     : sig == SIGILL  ? "illegal instruction (CPU lacks an instruction the kernel uses?)"
                                      : "fatal signal";
    char line[512];
    int n = snprintf(line, sizeof line, "FAIL %s: %s\n", g_label.c_str(), what);
    if (n > 0) {
        ssize_t ignored = write(1, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)ignored;
    }
    _exit(1);
}

// ---------------------------------------------------------------------------------------------
// Operators: parameter names (shapes.json order), buffers (OPERATORS.md order) and reference.

struct Op {
    const char* name;
    const char* params;  // comma-separated, as in shapes.json
};

const Op OPS[] = {
    {"gemm", "M,K,N"},
    {"gemm_u8s8", "M,K,N"},
    {"gemv", "M,K"},
    {"gemv_u8s8", "M,K"},
    {"batch_gemm", "B,M,K,N"},
    {"batch_gemm_u8s8", "B,M,K,N"},
    {"conv1d", "CI,L,CO,K"},
    {"conv2d_nhwc", "N,H,W,C,F,K,S"},
    {"conv2d_nchw", "N,C,H,W,F,K,S"},
    {"depthwise_conv", "N,H,W,C,K,S"},
    {"relu", "R,C"},
    {"softmax", "R,C"},
    {"gelu", "R,C"},
    {"sigmoid", "R,C"},
    {"add", "R,C"},
    {"sign", "R,C"},
    {"maxpool", "N,H,W,C,K,S"},
    {"avgpool", "N,H,W,C,K,S"},
    {"minpool", "N,H,W,C,K,S"},
    {"sumpool", "N,H,W,C,K,S"},
    {"layernorm", "R,C"},
    {"rmsnorm", "R,C"},
    {"self_attention", "H,S,D"},
    {"deformable_attention", "Q,H,W,M,D,P"},
};

const Op* find_op(const std::string& name) {
    for (const Op& op : OPS) {
        if (name == op.name) return &op;
    }
    return nullptr;
}

int param_count(const Op& op) {
    int n = 1;
    for (const char* p = op.params; *p; p++) n += (*p == ',');
    return n;
}

Buffer make_buffer(const char* name, Type type, size_t count, bool output, Fill fill) {
    Buffer b;
    b.name = name;
    b.type = type;
    b.count = count;
    b.output = output;
    b.fill = type == Type::F32 ? fill : Fill::Byte;
    return b;
}

Buffer in(const char* name, Type type, size_t count, Fill fill = Fill::Float) {
    return make_buffer(name, type, count, false, fill);
}

Buffer out(const char* name, Type type, size_t count) {
    return make_buffer(name, type, count, true, Fill::Float);
}

bool is_pool(const std::string& op) {
    return op == "maxpool" || op == "avgpool" || op == "minpool" || op == "sumpool";
}

// The buffers of an op for shape d, in parameter order. Returns an error message or "".
std::string describe(const std::string& op, const std::vector<long>& d, std::vector<Buffer>& b) {
    const Type F = Type::F32;
    if (op == "gemm" || op == "gemm_u8s8") {
        const long M = d[0], K = d[1], N = d[2];
        const bool q = op == "gemm_u8s8";
        b = {in("A", q ? Type::U8 : F, M * K), in("B", q ? Type::S8 : F, K * N), out("C", q ? Type::I32 : F, M * N)};
    } else if (op == "gemv" || op == "gemv_u8s8") {
        const long M = d[0], K = d[1];
        const bool q = op == "gemv_u8s8";
        b = {in("A", q ? Type::S8 : F, M * K), in("x", q ? Type::U8 : F, K), out("y", q ? Type::I32 : F, M)};
    } else if (op == "batch_gemm" || op == "batch_gemm_u8s8") {
        const long B = d[0], M = d[1], K = d[2], N = d[3];
        const bool q = op == "batch_gemm_u8s8";
        b = {in("A", q ? Type::U8 : F, B * M * K), in("B", q ? Type::S8 : F, B * K * N), out("C", q ? Type::I32 : F, B * M * N)};
    } else if (op == "conv1d") {
        const long CI = d[0], L = d[1], CO = d[2], K = d[3];
        if (L < K) return "L < K";
        b = {in("input", F, CI * L), in("weight", F, CO * CI * K), out("output", F, CO * (L - K + 1))};
    } else if (op == "conv2d_nhwc" || op == "conv2d_nchw") {
        const long N = d[0], H = op == "conv2d_nhwc" ? d[1] : d[2], W = op == "conv2d_nhwc" ? d[2] : d[3];
        const long C = op == "conv2d_nhwc" ? d[3] : d[1], F_ = d[4], K = d[5], S = d[6];
        if (H < K || W < K || S < 1) return "bad window";
        const long OH = (H - K) / S + 1, OW = (W - K) / S + 1;
        b = {in("input", F, N * H * W * C), in("weight", F, F_ * K * K * C), out("output", F, N * OH * OW * F_)};
    } else if (op == "depthwise_conv") {
        const long N = d[0], H = d[1], W = d[2], C = d[3], K = d[4], S = d[5];
        if (H < K || W < K || S < 1) return "bad window";
        const long OH = (H - K) / S + 1, OW = (W - K) / S + 1;
        b = {in("input", F, N * H * W * C), in("weight", F, K * K * C), out("output", F, N * OH * OW * C)};
    } else if (is_pool(op)) {
        const long N = d[0], H = d[1], W = d[2], C = d[3], K = d[4], S = d[5];
        if (H < K || W < K || S < 1) return "bad window";
        const long OH = (H - K) / S + 1, OW = (W - K) / S + 1;
        b = {in("input", F, N * H * W * C), out("output", F, N * OH * OW * C)};
    } else if (op == "relu" || op == "softmax" || op == "gelu" || op == "sigmoid" || op == "sign") {
        b = {in("input", F, d[0] * d[1]), out("output", F, d[0] * d[1])};
    } else if (op == "add") {
        b = {in("A", F, d[0] * d[1]), in("B", F, d[0] * d[1]), out("C", F, d[0] * d[1])};
    } else if (op == "layernorm") {
        b = {in("input", F, d[0] * d[1]), in("gamma", F, d[1]), in("beta", F, d[1]), out("output", F, d[0] * d[1])};
    } else if (op == "rmsnorm") {
        b = {in("input", F, d[0] * d[1]), in("gamma", F, d[1]), out("output", F, d[0] * d[1])};
    } else if (op == "self_attention") {
        const long n = d[0] * d[1] * d[2];
        b = {in("Q", F, n), in("K", F, n), in("V", F, n), out("output", F, n)};
    } else if (op == "deformable_attention") {
        const long Q = d[0], H = d[1], W = d[2], M = d[3], D = d[4], P = d[5];
        b = {in("value", F, H * W * M * D), in("sampling_locations", F, Q * M * P * 2, Fill::Location),
             in("attention_weights", F, Q * M * P, Fill::Weight), out("output", F, Q * M * D)};
    } else {
        return "unknown operator";
    }
    return "";
}

// Double-precision reference. x[i] are the input values, y the output(s) to fill.
void reference(const std::string& op, const std::vector<long>& d, std::vector<Buffer>& b) {
    if (op == "gemm" || op == "gemm_u8s8" || op == "batch_gemm" || op == "batch_gemm_u8s8") {
        const bool batched = op.rfind("batch_", 0) == 0;
        const long B = batched ? d[0] : 1, M = d[batched], K = d[batched + 1], N = d[batched + 2];
        const double *A = b[0].value.data(), *Bm = b[1].value.data();
        double* C = b[2].value.data();
        for (long bb = 0; bb < B; bb++)
            for (long m = 0; m < M; m++)
                for (long n = 0; n < N; n++) {
                    double s = 0;
                    for (long k = 0; k < K; k++) s += A[(bb * M + m) * K + k] * Bm[(bb * K + k) * N + n];
                    C[(bb * M + m) * N + n] = s;
                }
    } else if (op == "gemv" || op == "gemv_u8s8") {
        const long M = d[0], K = d[1];
        const double *A = b[0].value.data(), *x = b[1].value.data();
        double* y = b[2].value.data();
        for (long m = 0; m < M; m++) {
            double s = 0;
            for (long k = 0; k < K; k++) s += A[m * K + k] * x[k];
            y[m] = s;
        }
    } else if (op == "conv1d") {
        const long CI = d[0], L = d[1], CO = d[2], K = d[3], OL = L - K + 1;
        const double *in_ = b[0].value.data(), *w = b[1].value.data();
        double* o = b[2].value.data();
        for (long co = 0; co < CO; co++)
            for (long l = 0; l < OL; l++) {
                double s = 0;
                for (long ci = 0; ci < CI; ci++)
                    for (long k = 0; k < K; k++) s += in_[ci * L + l + k] * w[(co * CI + ci) * K + k];
                o[co * OL + l] = s;
            }
    } else if (op == "conv2d_nhwc") {
        const long N = d[0], H = d[1], W = d[2], C = d[3], F = d[4], K = d[5], S = d[6];
        const long OH = (H - K) / S + 1, OW = (W - K) / S + 1;
        const double *in_ = b[0].value.data(), *w = b[1].value.data();
        double* o = b[2].value.data();
        for (long n = 0; n < N; n++)
            for (long oh = 0; oh < OH; oh++)
                for (long ow = 0; ow < OW; ow++)
                    for (long f = 0; f < F; f++) {
                        double s = 0;
                        for (long kh = 0; kh < K; kh++)
                            for (long kw = 0; kw < K; kw++)
                                for (long c = 0; c < C; c++)
                                    s += in_[((n * H + oh * S + kh) * W + ow * S + kw) * C + c] * w[((f * K + kh) * K + kw) * C + c];
                        o[((n * OH + oh) * OW + ow) * F + f] = s;
                    }
    } else if (op == "conv2d_nchw") {
        const long N = d[0], C = d[1], H = d[2], W = d[3], F = d[4], K = d[5], S = d[6];
        const long OH = (H - K) / S + 1, OW = (W - K) / S + 1;
        const double *in_ = b[0].value.data(), *w = b[1].value.data();
        double* o = b[2].value.data();
        for (long n = 0; n < N; n++)
            for (long f = 0; f < F; f++)
                for (long oh = 0; oh < OH; oh++)
                    for (long ow = 0; ow < OW; ow++) {
                        double s = 0;
                        for (long c = 0; c < C; c++)
                            for (long kh = 0; kh < K; kh++)
                                for (long kw = 0; kw < K; kw++)
                                    s += in_[((n * C + c) * H + oh * S + kh) * W + ow * S + kw] * w[((f * C + c) * K + kh) * K + kw];
                        o[((n * F + f) * OH + oh) * OW + ow] = s;
                    }
    } else if (op == "depthwise_conv" || is_pool(op)) {
        const long N = d[0], H = d[1], W = d[2], C = d[3], K = d[4], S = d[5];
        const long OH = (H - K) / S + 1, OW = (W - K) / S + 1;
        const double* in_ = b[0].value.data();
        const double* w = op == "depthwise_conv" ? b[1].value.data() : nullptr;
        double* o = b.back().value.data();
        for (long n = 0; n < N; n++)
            for (long oh = 0; oh < OH; oh++)
                for (long ow = 0; ow < OW; ow++)
                    for (long c = 0; c < C; c++) {
                        double s = 0, mx = -INFINITY, mn = INFINITY;
                        for (long kh = 0; kh < K; kh++)
                            for (long kw = 0; kw < K; kw++) {
                                const double v = in_[((n * H + oh * S + kh) * W + ow * S + kw) * C + c];
                                s += w ? v * w[(kh * K + kw) * C + c] : v;
                                mx = std::fmax(mx, v);
                                mn = std::fmin(mn, v);
                            }
                        double r = s;
                        if (op == "maxpool") r = mx;
                        if (op == "minpool") r = mn;
                        if (op == "avgpool") r = s / (double)(K * K);
                        o[((n * OH + oh) * OW + ow) * C + c] = r;
                    }
    } else if (op == "relu" || op == "gelu" || op == "sigmoid" || op == "sign") {
        const size_t n = b[0].count;
        const double* x = b[0].value.data();
        double* y = b[1].value.data();
        for (size_t i = 0; i < n; i++) {
            const double v = x[i];
            if (op == "relu") y[i] = v > 0 ? v : 0;
            if (op == "gelu") y[i] = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
            if (op == "sigmoid") y[i] = 1.0 / (1.0 + std::exp(-v));
            if (op == "sign") y[i] = v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0);
        }
    } else if (op == "add") {
        for (size_t i = 0; i < b[0].count; i++) b[2].value[i] = b[0].value[i] + b[1].value[i];
    } else if (op == "softmax" || op == "layernorm" || op == "rmsnorm") {
        const long R = d[0], C = d[1];
        const double* x = b[0].value.data();
        double* y = b.back().value.data();
        for (long r = 0; r < R; r++) {
            const double* xr = x + r * C;
            double* yr = y + r * C;
            if (op == "softmax") {
                double mx = xr[0], s = 0;
                for (long c = 1; c < C; c++) mx = std::fmax(mx, xr[c]);
                for (long c = 0; c < C; c++) s += std::exp(xr[c] - mx);
                for (long c = 0; c < C; c++) yr[c] = std::exp(xr[c] - mx) / s;
            } else if (op == "layernorm") {
                const double *g = b[1].value.data(), *be = b[2].value.data();
                double mean = 0, var = 0;
                for (long c = 0; c < C; c++) mean += xr[c];
                mean /= (double)C;
                for (long c = 0; c < C; c++) var += (xr[c] - mean) * (xr[c] - mean);
                var /= (double)C;
                for (long c = 0; c < C; c++) yr[c] = (xr[c] - mean) / std::sqrt(var + 1e-5) * g[c] + be[c];
            } else {
                const double* g = b[1].value.data();
                double ms = 0;
                for (long c = 0; c < C; c++) ms += xr[c] * xr[c];
                ms /= (double)C;
                for (long c = 0; c < C; c++) yr[c] = xr[c] / std::sqrt(ms + 1e-6) * g[c];
            }
        }
    } else if (op == "self_attention") {
        const long H = d[0], S = d[1], D = d[2];
        const double *Q = b[0].value.data(), *K = b[1].value.data(), *V = b[2].value.data();
        double* o = b[3].value.data();
        std::vector<double> p(S);
        for (long h = 0; h < H; h++)
            for (long i = 0; i < S; i++) {
                double mx = -INFINITY, s = 0;
                for (long j = 0; j < S; j++) {
                    double dot = 0;
                    for (long e = 0; e < D; e++) dot += Q[(h * S + i) * D + e] * K[(h * S + j) * D + e];
                    p[j] = dot / std::sqrt((double)D);
                    mx = std::fmax(mx, p[j]);
                }
                for (long j = 0; j < S; j++) {
                    p[j] = std::exp(p[j] - mx);
                    s += p[j];
                }
                for (long e = 0; e < D; e++) {
                    double acc = 0;
                    for (long j = 0; j < S; j++) acc += p[j] / s * V[(h * S + j) * D + e];
                    o[(h * S + i) * D + e] = acc;
                }
            }
    } else if (op == "deformable_attention") {
        const long Q = d[0], H = d[1], W = d[2], M = d[3], D = d[4], P = d[5];
        const double *value = b[0].value.data(), *loc = b[1].value.data(), *aw = b[2].value.data();
        double* o = b[3].value.data();
        for (long q = 0; q < Q; q++)
            for (long m = 0; m < M; m++) {
                std::vector<double> acc(D, 0.0);
                for (long p = 0; p < P; p++) {
                    const long qmp = (q * M + m) * P + p;
                    const double a = aw[qmp];
                    const double x = loc[qmp * 2] * (double)W - 0.5, y = loc[qmp * 2 + 1] * (double)H - 0.5;
                    const double x0 = std::floor(x), y0 = std::floor(y), fx = x - x0, fy = y - y0;
                    const double cw[4] = {(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx};
                    const long cy[4] = {(long)y0, (long)y0, (long)y0 + 1, (long)y0 + 1};
                    const long cx[4] = {(long)x0, (long)x0 + 1, (long)x0, (long)x0 + 1};
                    for (int c = 0; c < 4; c++) {
                        if (cy[c] < 0 || cy[c] >= H || cx[c] < 0 || cx[c] >= W) continue;
                        for (long e = 0; e < D; e++) acc[e] += a * cw[c] * value[((cy[c] * W + cx[c]) * M + m) * D + e];
                    }
                }
                for (long e = 0; e < D; e++) o[(q * M + m) * D + e] = acc[e];
            }
    }
}

// ---------------------------------------------------------------------------------------------

void fill_input(const std::string& op, Buffer& buf) {
    buf.data = guarded_alloc(buf.count * element_size(buf.type));
    buf.value.resize(buf.count);
    for (size_t i = 0; i < buf.count; i++) {
        switch (buf.type) {
            case Type::U8: {
                const uint8_t v = (uint8_t)(next_u64() & 0xFF);
                ((uint8_t*)buf.data)[i] = v;
                buf.value[i] = v;
                break;
            }
            case Type::S8: {
                const int8_t v = (int8_t)(int)((next_u64() & 0xFF) - 128);
                ((int8_t*)buf.data)[i] = v;
                buf.value[i] = v;
                break;
            }
            case Type::I32: {
                const int32_t v = (int32_t)(next_u64() & 0xFFFF) - 32768;
                ((int32_t*)buf.data)[i] = v;
                buf.value[i] = v;
                break;
            }
            case Type::F32: {
                float v;
                if (buf.fill == Fill::Location) v = uniform(-0.1f, 1.1f);
                else if (buf.fill == Fill::Weight) v = uniform(0.0f, 1.0f);
                else v = uniform(-1.0f, 1.0f);
                ((float*)buf.data)[i] = v;
                buf.value[i] = v;
                break;
            }
        }
    }
    // sign and relu: also exercise exact zeros (+0 and -0), which uniform floats never produce
    if ((op == "sign" || op == "relu") && buf.type == Type::F32) {
        for (size_t i = 0; i < buf.count; i += 97) {
            const float z = (i / 97) % 2 ? -0.0f : 0.0f;
            ((float*)buf.data)[i] = z;
            buf.value[i] = 0.0;
        }
    }
    const unsigned char* bytes = (const unsigned char*)buf.data;
    buf.copy.assign(bytes, bytes + buf.count * element_size(buf.type));
}

void prepare_output(Buffer& buf) {
    buf.data = guarded_alloc(buf.count * element_size(buf.type));
    buf.value.assign(buf.count, 0.0);
    for (size_t i = 0; i < buf.count; i++) {
        if (buf.type == Type::F32) ((float*)buf.data)[i] = NAN;
        else ((int32_t*)buf.data)[i] = 0x5A5A5A5A;
    }
}

typedef void (*Kernel2)(void*, void*);
typedef void (*Kernel3)(void*, void*, void*);
typedef void (*Kernel4)(void*, void*, void*, void*);

int usage() {
    fprintf(stderr, "usage: check [--seed N] <op> <dims...> <kernel.so>\n       check --params <op>\n       check --list\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 1 && args[0] == "--list") {
        for (const Op& op : OPS) printf("%s %s\n", op.name, op.params);
        return 0;
    }
    if (args.size() == 2 && args[0] == "--params") {
        const Op* op = find_op(args[1]);
        if (!op) {
            fprintf(stderr, "check: unknown operator '%s'\n", args[1].c_str());
            return 2;
        }
        printf("%s\n", op->params);
        return 0;
    }
    if (args.size() >= 2 && args[0] == "--seed") {
        rng_state = strtoull(args[1].c_str(), nullptr, 0);
        args.erase(args.begin(), args.begin() + 2);
    }
    if (args.size() < 3) return usage();

    const std::string op_name = args[0];
    const std::string library = args.back();
    const Op* op = find_op(op_name);
    if (!op) {
        fprintf(stderr, "check: unknown operator '%s'\n", op_name.c_str());
        return 2;
    }
    std::vector<long> dims;
    std::string shape;
    for (size_t i = 1; i + 1 < args.size(); i++) {
        char* end = nullptr;
        const long v = strtol(args[i].c_str(), &end, 10);
        if (!*args[i].c_str() || *end || v <= 0) {
            fprintf(stderr, "check: bad dimension '%s'\n", args[i].c_str());
            return 2;
        }
        dims.push_back(v);
        shape += (shape.empty() ? "" : "x") + args[i];
    }
    g_label = op_name + " " + shape;
    if ((int)dims.size() != param_count(*op)) {
        fprintf(stderr, "check: %s takes %d dimensions (%s), got %zu\n", op_name.c_str(), param_count(*op), op->params, dims.size());
        return 2;
    }

    std::vector<Buffer> bufs;
    const std::string problem = describe(op_name, dims, bufs);
    if (!problem.empty()) {
        fprintf(stderr, "check: %s %s: %s\n", op_name.c_str(), shape.c_str(), problem.c_str());
        return 2;
    }
    for (Buffer& b : bufs) {
        if (b.output) prepare_output(b);
        else fill_input(op_name, b);
    }
    reference(op_name, dims, bufs);

    void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        printf("FAIL %s: cannot load %s: %s\n", g_label.c_str(), library.c_str(), dlerror());
        return 1;
    }
    const std::string symbol = op_name + "_kernel";
    void* fn = dlsym(handle, symbol.c_str());
    if (!fn) {
        printf("FAIL %s: %s has no symbol %s\n", g_label.c_str(), library.c_str(), symbol.c_str());
        return 1;
    }

    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGILL, on_crash);
    switch (bufs.size()) {
        case 2: ((Kernel2)fn)(bufs[0].data, bufs[1].data); break;
        case 3: ((Kernel3)fn)(bufs[0].data, bufs[1].data, bufs[2].data); break;
        case 4: ((Kernel4)fn)(bufs[0].data, bufs[1].data, bufs[2].data, bufs[3].data); break;
        default: fprintf(stderr, "check: internal error: %zu buffers\n", bufs.size()); return 2;
    }
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    signal(SIGFPE, SIG_DFL);
    signal(SIGILL, SIG_DFL);

    // inputs must be unchanged
    for (const Buffer& b : bufs) {
        if (b.output) continue;
        if (memcmp(b.copy.data(), b.data, b.copy.size()) != 0) {
            printf("FAIL %s: the kernel modified input %s\n", g_label.c_str(), b.name.c_str());
            return 1;
        }
    }

    // outputs
    size_t mismatches = 0, checked = 0, outputs = 0;
    for (const Buffer& b : bufs) outputs += b.output;
    std::string first;
    double worst = 0;  // largest |got - want| / (1e-5 + 1e-4 |want|)
    for (const Buffer& b : bufs) {
        if (!b.output) continue;
        for (size_t i = 0; i < b.count; i++) {
            const double want = b.value[i];
            double got;
            bool ok;
            if (b.type == Type::F32) {
                got = ((const float*)b.data)[i];
                const double tol = 1e-5 + 1e-4 * std::fabs(want);
                const double err = std::fabs(got - want);
                ok = err <= tol;  // false for NaN
                if (ok && err / tol > worst) worst = err / tol;
            } else {
                got = ((const int32_t*)b.data)[i];
                ok = got == want;
            }
            checked++;
            if (!ok) {
                if (mismatches == 0) {
                    char line[256];
                    snprintf(line, sizeof line, "index %zu got %.9g want %.9g", i, got, want);
                    first = outputs > 1 ? b.name + " " + line : std::string(line);
                }
                mismatches++;
            }
        }
    }
    if (mismatches) {
        printf("FAIL %s: %s (%zu mismatches of %zu)\n", g_label.c_str(), first.c_str(), mismatches, checked);
        return 1;
    }
    printf("PASS %s\n", g_label.c_str());
    if (getenv("CHECK_VERBOSE")) printf("  %zu elements, worst error %.3f of the tolerance\n", checked, worst);
    return 0;
}
