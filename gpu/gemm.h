/*  gpu/gemm.h - dense matrix multiply on the worker's GPU, or on the CPU.

    One entry point for float32 and float64 GEMM on row-major matrices.  A
    context built with cuBLAS (meson -Dcuda, the default when the CUDA
    headers are found) loads libcudart and libcublas at run time (dlopen),
    so a binary built with the cuBLAS path starts and computes on a machine
    without a GPU or without any NVIDIA library: there it runs on OpenBLAS
    (cblas), with the same results within floating-point tolerance.
*/
#ifndef DCPOOL_GPU_GEMM_H
#define DCPOOL_GPU_GEMM_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { GPU_FLOAT32 = 1, GPU_FLOAT64 = 2 } gpu_dtype_t;

typedef struct gpu_gemm gpu_gemm_t;

/*  Bytes of one element: 4, 8, or 0 for an unknown dtype. */
size_t gpu_dtype_size (gpu_dtype_t dtype);

/*  A context on cuBLAS when this build has the cuBLAS path, use_gpu is
    true and a CUDA device is visible; else on OpenBLAS.  Why it is not on
    the GPU (no device, no libcublas, ...) goes to reason when given.
    NULL only when out of memory.  One thread at a time per context. */
gpu_gemm_t *gpu_gemm_new (bool use_gpu, char *reason, size_t reason_size);
void gpu_gemm_destroy (gpu_gemm_t **self);
/*  "cublas" or "openblas". */
const char *gpu_gemm_backend (const gpu_gemm_t *self);
/*  Whether this build has the cuBLAS path at all. */
bool gpu_gemm_built_with_cuda (void);

/*  C = alpha * op(A) * op(B) + beta * C, all row-major: op(A) is m x k,
    op(B) k x n, C m x n; transa/transb 'N' or 'T'; lda, ldb, ldc are row
    strides in elements.  0, or -1 with the reason in gpu_gemm_error (bad
    argument, device allocation or cuBLAS failure). */
int gpu_gemm (gpu_gemm_t *self, char transa, char transb, int m, int n, int k,
              double alpha, const void *a, int lda, const void *b, int ldb, double beta,
              void *c, int ldc, gpu_dtype_t dtype);

/*  C = alpha * sum over i < count of op(A_i) * op(B_i), with op(A_i)
    m x k[i], op(B_i) k[i] x n (a block row times a block column): on the
    GPU, C stays on the device until the sum is done.  0 or -1. */
int gpu_gemm_sum (gpu_gemm_t *self, char transa, char transb, int m, int n, int count,
                  const int *k, const void *const *a, const int *lda,
                  const void *const *b, const int *ldb, double alpha, void *c, int ldc,
                  gpu_dtype_t dtype);

/*  The reason of the last failure, "" when none. */
const char *gpu_gemm_error (const gpu_gemm_t *self);

#endif
