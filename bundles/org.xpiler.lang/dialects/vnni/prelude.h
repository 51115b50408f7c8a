// What the VNNI harness prepends to a kernel file that has no #include lines of its own.
#include <immintrin.h>
#include <stdint.h>
#include <math.h>
typedef unsigned short half;
