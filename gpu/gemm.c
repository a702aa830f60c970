/*  gpu/gemm.c - GEMM on cuBLAS (loaded at run time) or OpenBLAS.

    Row-major throughout.  cuBLAS is column-major: a row-major m x n C is a
    column-major n x m C^T, and C^T = op(B)^T op(A)^T, so the row-major
    product is one cuBLAS call with the operands swapped and no copy.

    The cuBLAS path (DCPOOL_HAVE_CUBLAS) needs the CUDA headers at build
    time only: libcudart and libcublas are dlopen'd by gpu_gemm_new, from
    the loader's path, the build's CUDA directory, or /usr/local/cuda, and
    any failure there (no library, no driver, no device) leaves the
    context on OpenBLAS with the reason said once.
*/
#include "gemm.h"

#include <cblas.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DCPOOL_HAVE_CUBLAS
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#endif

#ifndef DCPOOL_CUDA_LIBDIR
#define DCPOOL_CUDA_LIBDIR "/usr/local/cuda/lib64"
#endif

#define ERROR_MAX 512

#ifdef DCPOOL_HAVE_CUBLAS
/* The few entry points we use, resolved by name. */
typedef struct {
    void *cudart, *cublaslt, *cublas;
    cudaError_t (*GetDeviceCount) (int *);
    cudaError_t (*Malloc) (void **, size_t);
    cudaError_t (*Free) (void *);
    cudaError_t (*Memcpy) (void *, const void *, size_t, enum cudaMemcpyKind);
    const char *(*GetErrorString) (cudaError_t);
    cublasStatus_t (*Create) (cublasHandle_t *);
    cublasStatus_t (*Destroy) (cublasHandle_t);
    cublasStatus_t (*Sgemm) (cublasHandle_t, cublasOperation_t, cublasOperation_t, int,
                             int, int, const float *, const float *, int, const float *,
                             int, const float *, float *, int);
    cublasStatus_t (*Dgemm) (cublasHandle_t, cublasOperation_t, cublasOperation_t, int,
                             int, int, const double *, const double *, int,
                             const double *, int, const double *, double *, int);
} cuda_api_t;

/* Device buffers kept between calls, grown as needed. */
typedef struct {
    void *ptr;
    size_t size;
} dbuf_t;
#endif

struct gpu_gemm {
    bool on_gpu;
    char error[ERROR_MAX];
#ifdef DCPOOL_HAVE_CUBLAS
    cuda_api_t api;
    cublasHandle_t handle;
    dbuf_t da, db, dc;
#endif
};

size_t
gpu_dtype_size (gpu_dtype_t dtype)
{
    return dtype == GPU_FLOAT32 ? 4 : dtype == GPU_FLOAT64 ? 8 : 0;
}

bool
gpu_gemm_built_with_cuda (void)
{
#ifdef DCPOOL_HAVE_CUBLAS
    return true;
#else
    return false;
#endif
}

static int
s_fail (gpu_gemm_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (self->error, sizeof self->error, format, args);
    va_end (args);
    return -1;
}

#ifdef DCPOOL_HAVE_CUBLAS
/*  dlopen of the first of names found in the loader's path, then in our
    CUDA directories. */
static void *
s_open (const char *const *names)
{
    static const char *const dirs[]
        = { "", DCPOOL_CUDA_LIBDIR "/", "/usr/local/cuda/lib64/" };
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++)
        for (size_t i = 0; names[i]; i++) {
            char path[1024];
            snprintf (path, sizeof path, "%s%s", dirs[d], names[i]);
            void *handle = dlopen (path, RTLD_NOW | RTLD_GLOBAL);
            if (handle)
                return handle;
        }
    return NULL;
}

#define S_SYM(lib, field, name)                                                          \
    do {                                                                                 \
        *(void **)(&api->field) = dlsym (api->lib, name);                                \
        if (!api->field) {                                                               \
            snprintf (reason, reason_size, "%s not found in the CUDA libraries", name);  \
            return -1;                                                                   \
        }                                                                                \
    } while (0)

static int
s_load_cuda (cuda_api_t *api, char *reason, size_t reason_size)
{
    static const char *const cudart[]
        = { "libcudart.so.13", "libcudart.so.12", "libcudart.so", NULL };
    static const char *const cublaslt[]
        = { "libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so", NULL };
    static const char *const cublas[]
        = { "libcublas.so.13", "libcublas.so.12", "libcublas.so", NULL };
    api->cudart = s_open (cudart);
    if (!api->cudart) {
        snprintf (reason, reason_size, "no CUDA runtime (libcudart) found");
        return -1;
    }
    /* Loaded first, so libcublas finds its dependency by soname. */
    api->cublaslt = s_open (cublaslt);
    api->cublas = s_open (cublas);
    if (!api->cublas) {
        snprintf (reason, reason_size, "no cuBLAS library (libcublas) found: %s",
                  dlerror ());
        return -1;
    }
    S_SYM (cudart, GetDeviceCount, "cudaGetDeviceCount");
    S_SYM (cudart, Malloc, "cudaMalloc");
    S_SYM (cudart, Free, "cudaFree");
    S_SYM (cudart, Memcpy, "cudaMemcpy");
    S_SYM (cudart, GetErrorString, "cudaGetErrorString");
    S_SYM (cublas, Create, "cublasCreate_v2");
    S_SYM (cublas, Destroy, "cublasDestroy_v2");
    S_SYM (cublas, Sgemm, "cublasSgemm_v2");
    S_SYM (cublas, Dgemm, "cublasDgemm_v2");
    return 0;
}

/*  Forgets the CUDA libraries without dlclose: NVIDIA's runtime keeps
    threads and state that do not survive being unloaded, and a library
    that stays mapped lets LeakSanitizer name what it holds (its own
    allocations are suppressed in test/lsan.supp). */
static void
s_unload_cuda (cuda_api_t *api)
{
    memset (api, 0, sizeof *api);
}

/* Brings the context onto the GPU: 0, or -1 with reason. */
static int
s_start_gpu (gpu_gemm_t *self, char *reason, size_t reason_size)
{
    cuda_api_t *api = &self->api;
    if (s_load_cuda (api, reason, reason_size))
        return -1;
    int count = 0;
    cudaError_t err = api->GetDeviceCount (&count);
    if (err != cudaSuccess || count < 1) {
        snprintf (reason, reason_size, "no CUDA device (%s)",
                  err != cudaSuccess ? api->GetErrorString (err) : "none visible");
        return -1;
    }
    cublasStatus_t status = api->Create (&self->handle);
    if (status != CUBLAS_STATUS_SUCCESS) {
        snprintf (reason, reason_size, "cublasCreate failed (status %d)", (int)status);
        return -1;
    }
    return 0;
}

static int
s_dbuf (gpu_gemm_t *self, dbuf_t *buf, size_t size)
{
    if (buf->size >= size && buf->ptr)
        return 0;
    if (buf->ptr)
        self->api.Free (buf->ptr);
    buf->ptr = NULL;
    buf->size = 0;
    cudaError_t err = self->api.Malloc (&buf->ptr, size ? size : 1);
    if (err != cudaSuccess)
        return s_fail (self, "cudaMalloc of %zu bytes: %s", size,
                       self->api.GetErrorString (err));
    buf->size = size;
    return 0;
}

static int
s_copy (gpu_gemm_t *self, void *to, const void *from, size_t size,
        enum cudaMemcpyKind kind)
{
    cudaError_t err = self->api.Memcpy (to, from, size, kind);
    if (err != cudaSuccess)
        return s_fail (self, "cudaMemcpy of %zu bytes: %s", size,
                       self->api.GetErrorString (err));
    return 0;
}

/* One product on the device, operands already there. */
static int
s_device_gemm (gpu_gemm_t *self, char transa, char transb, int m, int n, int k,
               double alpha, const void *a, int lda, const void *b, int ldb, double beta,
               void *c, int ldc, gpu_dtype_t dtype)
{
    cublasOperation_t opa = transa == 'T' ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t opb = transb == 'T' ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasStatus_t status;
    if (dtype == GPU_FLOAT32) {
        float fa = (float)alpha, fb = (float)beta;
        status = self->api.Sgemm (self->handle, opb, opa, n, m, k, &fa, b, ldb, a, lda,
                                  &fb, c, ldc);
    } else
        status = self->api.Dgemm (self->handle, opb, opa, n, m, k, &alpha, b, ldb, a, lda,
                                  &beta, c, ldc);
    if (status != CUBLAS_STATUS_SUCCESS)
        return s_fail (self, "cublas%cgemm failed (status %d)",
                       dtype == GPU_FLOAT32 ? 'S' : 'D', (int)status);
    return 0;
}
#endif

gpu_gemm_t *
gpu_gemm_new (bool use_gpu, char *reason, size_t reason_size)
{
    char scratch[ERROR_MAX];
    if (!reason || !reason_size) {
        reason = scratch;
        reason_size = sizeof scratch;
    }
    reason[0] = 0;
    gpu_gemm_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
#ifdef DCPOOL_HAVE_CUBLAS
    if (!use_gpu)
        snprintf (reason, reason_size, "GPU not wanted");
    else if (s_start_gpu (self, reason, reason_size) == 0)
        self->on_gpu = true;
    else
        s_unload_cuda (&self->api);
#else
    (void)use_gpu;
    snprintf (reason, reason_size, "built without CUDA (-Dcuda)");
#endif
    return self;
}

void
gpu_gemm_destroy (gpu_gemm_t **self_p)
{
    gpu_gemm_t *self = *self_p;
    if (!self)
        return;
#ifdef DCPOOL_HAVE_CUBLAS
    if (self->on_gpu) {
        dbuf_t *bufs[] = { &self->da, &self->db, &self->dc };
        for (int i = 0; i < 3; i++)
            if (bufs[i]->ptr)
                self->api.Free (bufs[i]->ptr);
        self->api.Destroy (self->handle);
        /* The CUDA libraries stay loaded: unloading a live runtime is
           unsafe and the process ends with its pool anyway. */
    }
#endif
    free (self);
    *self_p = NULL;
}

const char *
gpu_gemm_backend (const gpu_gemm_t *self)
{
    return self && self->on_gpu ? "cublas" : "openblas";
}

const char *
gpu_gemm_error (const gpu_gemm_t *self)
{
    return self ? self->error : "";
}

/* Checks the shape of one product; 0 or -1. */
static int
s_check (gpu_gemm_t *self, char transa, char transb, int m, int n, int k, int lda,
         int ldb, int ldc, gpu_dtype_t dtype)
{
    if (!gpu_dtype_size (dtype))
        return s_fail (self, "unknown dtype %d", (int)dtype);
    if ((transa != 'N' && transa != 'T') || (transb != 'N' && transb != 'T'))
        return s_fail (self, "transpose flags are 'N' or 'T'");
    if (m < 0 || n < 0 || k < 0)
        return s_fail (self, "negative dimension");
    int acols = transa == 'N' ? k : m;
    int bcols = transb == 'N' ? n : k;
    if (lda < (acols > 1 ? acols : 1) || ldb < (bcols > 1 ? bcols : 1)
        || ldc < (n > 1 ? n : 1))
        return s_fail (self, "leading dimension too small");
    return 0;
}

static void
s_cpu_gemm (char transa, char transb, int m, int n, int k, double alpha, const void *a,
            int lda, const void *b, int ldb, double beta, void *c, int ldc,
            gpu_dtype_t dtype)
{
    enum CBLAS_TRANSPOSE ta = transa == 'T' ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = transb == 'T' ? CblasTrans : CblasNoTrans;
    if (dtype == GPU_FLOAT32)
        cblas_sgemm (CblasRowMajor, ta, tb, m, n, k, (float)alpha, a, lda, b, ldb,
                     (float)beta, c, ldc);
    else
        cblas_dgemm (CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int
gpu_gemm (gpu_gemm_t *self, char transa, char transb, int m, int n, int k, double alpha,
          const void *a, int lda, const void *b, int ldb, double beta, void *c, int ldc,
          gpu_dtype_t dtype)
{
    self->error[0] = 0;
    if (s_check (self, transa, transb, m, n, k, lda, ldb, ldc, dtype))
        return -1;
    if (m == 0 || n == 0)
        return 0;
#ifdef DCPOOL_HAVE_CUBLAS
    if (self->on_gpu) {
        const void *as[] = { a }, *bs[] = { b };
        int ks[] = { k }, ldas[] = { lda }, ldbs[] = { ldb };
        if (beta == 0.0 && ldc == n)
            return gpu_gemm_sum (self, transa, transb, m, n, 1, ks, as, ldas, bs, ldbs,
                                 alpha, c, ldc, dtype);
        size_t es = gpu_dtype_size (dtype);
        size_t arows = transa == 'N' ? (size_t)m : (size_t)k;
        size_t brows = transb == 'N' ? (size_t)k : (size_t)n;
        if (s_dbuf (self, &self->da, arows * lda * es)
            || s_dbuf (self, &self->db, brows * ldb * es)
            || s_dbuf (self, &self->dc, (size_t)m * ldc * es)
            || s_copy (self, self->da.ptr, a, arows * lda * es, cudaMemcpyHostToDevice)
            || s_copy (self, self->db.ptr, b, brows * ldb * es, cudaMemcpyHostToDevice)
            || s_copy (self, self->dc.ptr, c, (size_t)m * ldc * es,
                       cudaMemcpyHostToDevice)
            || s_device_gemm (self, transa, transb, m, n, k, alpha, self->da.ptr, lda,
                              self->db.ptr, ldb, beta, self->dc.ptr, ldc, dtype)
            || s_copy (self, c, self->dc.ptr, (size_t)m * ldc * es,
                       cudaMemcpyDeviceToHost))
            return -1;
        return 0;
    }
#endif
    s_cpu_gemm (transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, dtype);
    return 0;
}

int
gpu_gemm_sum (gpu_gemm_t *self, char transa, char transb, int m, int n, int count,
              const int *k, const void *const *a, const int *lda, const void *const *b,
              const int *ldb, double alpha, void *c, int ldc, gpu_dtype_t dtype)
{
    self->error[0] = 0;
    if (count < 1)
        return s_fail (self, "a sum of no products");
    for (int i = 0; i < count; i++)
        if (s_check (self, transa, transb, m, n, k[i], lda[i], ldb[i], ldc, dtype))
            return -1;
    if (m == 0 || n == 0)
        return 0;
#ifdef DCPOOL_HAVE_CUBLAS
    if (self->on_gpu) {
        size_t es = gpu_dtype_size (dtype);
        if (s_dbuf (self, &self->dc, (size_t)m * ldc * es))
            return -1;
        /* Columns past n in each row of C are the caller's: keep them. */
        if (ldc != n
            && s_copy (self, self->dc.ptr, c, (size_t)m * ldc * es,
                       cudaMemcpyHostToDevice))
            return -1;
        for (int i = 0; i < count; i++) {
            size_t arows = transa == 'N' ? (size_t)m : (size_t)k[i];
            size_t brows = transb == 'N' ? (size_t)k[i] : (size_t)n;
            if (s_dbuf (self, &self->da, arows * lda[i] * es)
                || s_dbuf (self, &self->db, brows * ldb[i] * es)
                || s_copy (self, self->da.ptr, a[i], arows * lda[i] * es,
                           cudaMemcpyHostToDevice)
                || s_copy (self, self->db.ptr, b[i], brows * ldb[i] * es,
                           cudaMemcpyHostToDevice)
                || s_device_gemm (self, transa, transb, m, n, k[i], alpha, self->da.ptr,
                                  lda[i], self->db.ptr, ldb[i], i ? 1.0 : 0.0,
                                  self->dc.ptr, ldc, dtype))
                return -1;
        }
        return s_copy (self, c, self->dc.ptr, (size_t)m * ldc * es,
                       cudaMemcpyDeviceToHost);
    }
#endif
    for (int i = 0; i < count; i++)
        s_cpu_gemm (transa, transb, m, n, k[i], alpha, a[i], lda[i], b[i], ldb[i],
                    i ? 1.0 : 0.0, c, ldc, dtype);
    return 0;
}
