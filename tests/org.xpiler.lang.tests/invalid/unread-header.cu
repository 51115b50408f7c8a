#include <cuda_runtime.h>
#include "tile_config.h"
__global__ void scale(float *a) {
    a[threadIdx.x] *= SCALE_FACTOR;
}
// expect 4:23 warning: unknown identifier 'SCALE_FACTOR' (unless "tile_config.h" declares it: Xpiler does not read that header)
