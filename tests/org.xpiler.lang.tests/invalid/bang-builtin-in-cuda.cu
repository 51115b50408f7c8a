__global__ void fill(float *a) {
    a[taskId] = 1.0f;
    __memcpy(a, a, 4, GDRAM2GDRAM);
}
// expect 2:7 error: 'taskId' is a Cambricon BANG C builtin variable, not available in CUDA C
// expect 3:5 error: '__memcpy' is a Cambricon BANG C intrinsic, not available in CUDA C
// expect 3:23 error: 'GDRAM2GDRAM' is a Cambricon BANG C constant, not available in CUDA C
