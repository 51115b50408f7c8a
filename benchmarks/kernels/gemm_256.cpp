// Scalar single-precision GEMM, C[M][N] = A[M][K] * B[K][N] with M = N = K = 256: the workload of the
// virtual-device-versus-native benchmark (benchmarks/vm-vs-native). Plain C++, no intrinsics, so g++ -O2 and
// the virtual device run the same loops.
extern "C" void gemm_kernel(const float* A, const float* B, float* C)
{
    const int M = 256;
    const int N = 256;
    const int K = 256;
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++) {
                acc += A[m * K + k] * B[k * N + n];
            }
            C[m * N + n] = acc;
        }
    }
}
