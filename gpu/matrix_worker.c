/*  gpu/matrix_worker.c - the built-in block-matrix worker class.

    Installed with dcpool (LIBDIR/dcpool/dcpool-matrix.so) and opened by
    pool_matrix_open; libpool/matrix.c turns each block-matrix operation
    into jobs of this class (gpu/matrix_job.h).  A job fetches the blocks it
    names from the head (pool_worker_block_get, cached in this process),
    computes, stores its result block (pool_worker_block_put) and answers
    its hash.  Products run on the worker's GPU through cuBLAS when it has
    one, else on OpenBLAS; cellwise work runs on the CPU.

    A CPU worker runs OpenBLAS on one thread (the node runs one worker per
    core); DCPOOL_MATRIX_THREADS overrides.  DCPOOL_MATRIX_JOB_DELAY_MS
    (tests only) makes each job sleep first, so a test can kill a node in
    the middle of a multiply.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gemm.h"
#include "matrix_job.h"
#include "pool_worker.h"

/* OpenBLAS's own; absent in a reference BLAS, then not called. */
extern void openblas_set_num_threads (int) __attribute__ ((weak));

typedef struct {
    gpu_gemm_t *gemm;
    void *scratch; /* output block, reused */
    size_t scratch_size;
    long delay_ms;
} matrix_worker_t;

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    (void)init_data;
    matrix_worker_t *self = calloc (1, sizeof *self);
    if (!self) {
        pool_worker_error (ctx, "out of memory");
        return NULL;
    }
    bool has_gpu = pool_worker_gpu (ctx, NULL, NULL, NULL) == 0;
    const char *threads = getenv ("DCPOOL_MATRIX_THREADS");
    if (openblas_set_num_threads)
        openblas_set_num_threads (threads && atoi (threads) > 0 ? atoi (threads) : 1);
    char reason[512] = "";
    self->gemm = gpu_gemm_new (has_gpu, reason, sizeof reason);
    if (!self->gemm) {
        free (self);
        pool_worker_error (ctx, "out of memory");
        return NULL;
    }
    const char *delay = getenv ("DCPOOL_MATRIX_JOB_DELAY_MS");
    self->delay_ms = delay ? atol (delay) : 0;
    return self;
}

static void
s_destroy (void *arg)
{
    matrix_worker_t *self = arg;
    if (!self)
        return;
    gpu_gemm_destroy (&self->gemm);
    free (self->scratch);
    free (self);
}

static void *
s_scratch (matrix_worker_t *self, size_t size)
{
    if (size > self->scratch_size) {
        void *p = realloc (self->scratch, size);
        if (!p)
            return NULL;
        self->scratch = p;
        self->scratch_size = size;
    }
    return self->scratch;
}

/*  Fetches input i and checks its size: its bytes, or NULL after
    pool_worker_error. */
static const void *
s_input (pool_worker_ctx_t *ctx, const matrix_job_block_t *ref, size_t es)
{
    pool_bytes_t bytes;
    if (pool_worker_block_get (ctx, ref->hash, &bytes))
        return NULL; /* the reason is set */
    if (bytes.size != (size_t)ref->rows * ref->cols * es) {
        pool_worker_error (ctx, "block of %zu bytes, expected %u x %u x %zu", bytes.size,
                           ref->rows, ref->cols, es);
        return NULL;
    }
    return bytes.data;
}

/* Reads element i of a float32 or float64 array as a double. */
static inline double
s_at (const void *p, size_t i, bool f32)
{
    return f32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

static inline void
s_set (void *p, size_t i, double v, bool f32)
{
    if (f32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

/* The shape each op needs of its inputs; 0, or -1 after pool_worker_error. */
static int
s_check_shapes (pool_worker_ctx_t *ctx, const matrix_job_t *job,
                const matrix_job_block_t *in)
{
    uint32_t n = job->ninputs, r = job->out_rows, c = job->out_cols;
    bool ok = true;
    switch (job->op) {
    case MATRIX_OP_GEMM: {
        ok = n >= 2 && n % 2 == 0;
        bool ta = job->flags & MATRIX_JOB_TA, tb = job->flags & MATRIX_JOB_TB;
        for (uint32_t i = 0; ok && i < n; i += 2) {
            uint32_t am = ta ? in[i].cols : in[i].rows, ak = ta ? in[i].rows : in[i].cols;
            uint32_t bk = tb ? in[i + 1].cols : in[i + 1].rows;
            uint32_t bn = tb ? in[i + 1].rows : in[i + 1].cols;
            ok = am == r && bn == c && ak == bk;
        }
        break;
    }
    case MATRIX_OP_ADD:
    case MATRIX_OP_SUB:
    case MATRIX_OP_MUL:
    case MATRIX_OP_DIV:
        ok = n == 2 && in[0].rows == r && in[0].cols == c && in[1].rows == r
             && in[1].cols == c;
        break;
    case MATRIX_OP_SADD:
    case MATRIX_OP_SMUL:
    case MATRIX_OP_SDIV:
        ok = n == 1 && in[0].rows == r && in[0].cols == c;
        break;
    case MATRIX_OP_TRANSPOSE:
        ok = n == 1 && in[0].rows == c && in[0].cols == r;
        break;
    case MATRIX_OP_ROWSUM:
        ok = n >= 1 && c == 1;
        for (uint32_t i = 0; ok && i < n; i++)
            ok = in[i].rows == r;
        break;
    case MATRIX_OP_COLSUM:
        ok = n >= 1 && r == 1;
        for (uint32_t i = 0; ok && i < n; i++)
            ok = in[i].cols == c;
        break;
    case MATRIX_OP_SUM:
    case MATRIX_OP_MIN:
    case MATRIX_OP_MAX:
        ok = n == 1;
        break;
    default:
        ok = false;
    }
    if (!ok)
        pool_worker_error (ctx, "matrix job op %u: inputs of the wrong number or shape",
                           job->op);
    return ok ? 0 : -1;
}

static int
s_gemm (matrix_worker_t *self, pool_worker_ctx_t *ctx, const matrix_job_t *job,
        const matrix_job_block_t *in, size_t es, void *out)
{
    int count = (int)job->ninputs / 2;
    const void **a = calloc (count, sizeof *a), **b = calloc (count, sizeof *b);
    int *k = calloc (count, sizeof *k), *lda = calloc (count, sizeof *lda),
        *ldb = calloc (count, sizeof *ldb);
    int rc = -1;
    if (!a || !b || !k || !lda || !ldb) {
        pool_worker_error (ctx, "out of memory");
        goto cleanup;
    }
    bool ta = job->flags & MATRIX_JOB_TA, tb = job->flags & MATRIX_JOB_TB;
    for (int i = 0; i < count; i++) {
        const matrix_job_block_t *ra = &in[2 * i], *rb = &in[2 * i + 1];
        if (!(a[i] = s_input (ctx, ra, es)) || !(b[i] = s_input (ctx, rb, es)))
            goto cleanup;
        k[i] = (int)(ta ? ra->rows : ra->cols);
        lda[i] = ra->cols ? (int)ra->cols : 1;
        ldb[i] = rb->cols ? (int)rb->cols : 1;
    }
    int n = (int)job->out_cols;
    if (gpu_gemm_sum (self->gemm, ta ? 'T' : 'N', tb ? 'T' : 'N', (int)job->out_rows, n,
                      count, k, a, lda, b, ldb, 1.0, out, n ? n : 1, job->dtype)) {
        pool_worker_error (ctx, "gemm on %s: %s", gpu_gemm_backend (self->gemm),
                           gpu_gemm_error (self->gemm));
        goto cleanup;
    }
    rc = 0;
cleanup:
    free (a), free (b), free (k), free (lda), free (ldb);
    return rc;
}

/* Every op but GEMM and the scalar reductions: the output block. */
static int
s_cellwise (pool_worker_ctx_t *ctx, const matrix_job_t *job, const matrix_job_block_t *in,
            size_t es, void *out)
{
    bool f32 = job->dtype == GPU_FLOAT32;
    size_t r = job->out_rows, c = job->out_cols, cells = r * c;
    const void *a = s_input (ctx, &in[0], es);
    if (!a)
        return -1;
    const void *b = NULL;
    if (job->op >= MATRIX_OP_ADD && job->op <= MATRIX_OP_DIV
        && !(b = s_input (ctx, &in[1], es)))
        return -1;
    double s = job->scalar;
    switch (job->op) {
    case MATRIX_OP_ADD:
        for (size_t i = 0; i < cells; i++)
            s_set (out, i, s_at (a, i, f32) + s_at (b, i, f32), f32);
        break;
    case MATRIX_OP_SUB:
        for (size_t i = 0; i < cells; i++)
            s_set (out, i, s_at (a, i, f32) - s_at (b, i, f32), f32);
        break;
    case MATRIX_OP_MUL:
        for (size_t i = 0; i < cells; i++)
            s_set (out, i, s_at (a, i, f32) * s_at (b, i, f32), f32);
        break;
    case MATRIX_OP_DIV:
        for (size_t i = 0; i < cells; i++)
            s_set (out, i, s_at (a, i, f32) / s_at (b, i, f32), f32);
        break;
    case MATRIX_OP_SADD:
        for (size_t i = 0; i < cells; i++)
            s_set (out, i, s_at (a, i, f32) + s, f32);
        break;
    case MATRIX_OP_SMUL:
        for (size_t i = 0; i < cells; i++)
            s_set (out, i, s_at (a, i, f32) * s, f32);
        break;
    case MATRIX_OP_SDIV:
        for (size_t i = 0; i < cells; i++)
            s_set (out, i, s_at (a, i, f32) / s, f32);
        break;
    case MATRIX_OP_TRANSPOSE: /* a is c x r */
        for (size_t i = 0; i < r; i++)
            for (size_t j = 0; j < c; j++)
                s_set (out, i * c + j, s_at (a, j * r + i, f32), f32);
        break;
    case MATRIX_OP_ROWSUM:
    case MATRIX_OP_COLSUM: {
        /* Sums in double, whatever the dtype. */
        double *acc = calloc (cells ? cells : 1, sizeof *acc);
        if (!acc) {
            pool_worker_error (ctx, "out of memory");
            return -1;
        }
        for (uint32_t k = 0; k < job->ninputs; k++) {
            const void *blk = k == 0 ? a : s_input (ctx, &in[k], es);
            if (!blk) {
                free (acc);
                return -1;
            }
            size_t br = in[k].rows, bc = in[k].cols;
            for (size_t i = 0; i < br; i++)
                for (size_t j = 0; j < bc; j++)
                    acc[job->op == MATRIX_OP_ROWSUM ? i : j]
                        += s_at (blk, i * bc + j, f32);
        }
        for (size_t i = 0; i < cells; i++)
            s_set (out, i, acc[i], f32);
        free (acc);
        break;
    }
    default:
        pool_worker_error (ctx, "op %u is not cellwise", job->op);
        return -1;
    }
    return 0;
}

static int
s_reduce (pool_worker_ctx_t *ctx, const matrix_job_t *job, const matrix_job_block_t *in,
          size_t es, pool_output_t *output)
{
    bool f32 = job->dtype == GPU_FLOAT32;
    const void *a = s_input (ctx, &in[0], es);
    if (!a)
        return -1;
    size_t cells = (size_t)in[0].rows * in[0].cols;
    double v = job->op == MATRIX_OP_SUM   ? 0.0
               : job->op == MATRIX_OP_MIN ? INFINITY
                                          : -INFINITY;
    for (size_t i = 0; i < cells; i++) {
        double x = s_at (a, i, f32);
        if (job->op == MATRIX_OP_SUM)
            v += x;
        else if (job->op == MATRIX_OP_MIN ? x < v : x > v)
            v = x;
    }
    return pool_output_set (output, &v, sizeof v);
}

static int
s_run (void *arg, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    matrix_worker_t *self = arg;
    matrix_job_t job;
    if (input.size < sizeof job) {
        pool_worker_error (ctx, "not a matrix job (%zu bytes)", input.size);
        return -1;
    }
    memcpy (&job, input.data, sizeof job);
    size_t es = gpu_dtype_size (job.dtype);
    if (job.magic != MATRIX_JOB_MAGIC || job.op < 1 || job.op >= MATRIX_OP_COUNT || !es
        || job.ninputs == 0 || job.ninputs > (1u << 20)
        || input.size != sizeof job + (size_t)job.ninputs * sizeof (matrix_job_block_t)) {
        pool_worker_error (ctx, "not a matrix job of this dcpool version");
        return -1;
    }
    matrix_job_block_t *in = malloc (job.ninputs * sizeof *in);
    if (!in) {
        pool_worker_error (ctx, "out of memory");
        return -1;
    }
    memcpy (in, (const char *)input.data + sizeof job, job.ninputs * sizeof *in);
    int rc = -1;
    if (s_check_shapes (ctx, &job, in))
        goto cleanup;
    if (self->delay_ms > 0) {
        struct timespec nap
            = { self->delay_ms / 1000, (self->delay_ms % 1000) * 1000000 };
        nanosleep (&nap, NULL);
    }
    if (job.op >= MATRIX_OP_SUM) {
        rc = s_reduce (ctx, &job, in, es, output);
        goto cleanup;
    }
    size_t size = (size_t)job.out_rows * job.out_cols * es;
    void *out = s_scratch (self, size ? size : 1);
    if (!out) {
        pool_worker_error (ctx, "out of memory for a %u x %u block", job.out_rows,
                           job.out_cols);
        goto cleanup;
    }
    rc = job.op == MATRIX_OP_GEMM ? s_gemm (self, ctx, &job, in, es, out)
                                  : s_cellwise (ctx, &job, in, es, out);
    if (rc)
        goto cleanup;
    uint8_t hash[POOL_HASH_SIZE];
    rc = pool_worker_block_put (ctx, out, size, hash);
    if (rc == 0)
        rc = pool_output_set (output, hash, sizeof hash);
cleanup:
    free (in);
    return rc;
}

/* The one symbol a worker library exports (the build hides the rest). */
__attribute__ ((visibility ("default"))) const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "dcpool-matrix", s_init, s_run, NULL, s_destroy };
