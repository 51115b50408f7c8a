// What the HIP harness prepends to a kernel file that has no #include lines of its own.
#include <hip/hip_runtime.h>
#include <hip/hip_fp16.h>
