// What the CUDA harness prepends to a kernel file that has no #include lines of its own.
#include <stdio.h>
#include <math.h>
#include <float.h>
#include <cuda_runtime.h>
#include <mma.h>
#include <cuda_fp16.h>
#include <stdint.h>
using namespace nvcuda;
