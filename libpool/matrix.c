/*  libpool/matrix.c - block matrices (pool_matrix.h) on the cluster.

    A matrix here is its shape and the hashes of its blocks.  Every
    operation builds one job per result block (gpu/matrix_job.h: the op and
    the hashes of the input blocks it needs), runs them with pool_map on a
    pool of the built-in class (gpu/matrix_worker.c), and reads each result
    as the hash of the block the worker stored.  Jobs are safe to repeat
    (the same inputs give the same block, stored under the same hash), so
    a job rerun after a worker or node died changes nothing.
*/
#include "blocks.h"
#include "gpu/matrix_job.h"
#include "pool_matrix.h"
#include "pool_private.h"

#include <dlfcn.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pool_matrix {
    size_t rows, cols;
    size_t bs;           /* block size */
    size_t brows, bcols; /* blocks down, across */
    pool_dtype_t dtype;
    uint8_t (*hash)[POOL_HASH_SIZE]; /* brows * bcols, row by row; all 0:
                                        not (yet) a block of it */
    pool_t *pool;                    /* whose client holds its blocks, or NULL
                                        once that pool closed */
    pool_owned_t link;               /* in the pool's list of them */
};

static size_t
s_es (pool_dtype_t dtype)
{
    return dtype == POOL_FLOAT32 ? 4 : dtype == POOL_FLOAT64 ? 8 : 0;
}

/* Rows of block row i (columns of block column j: same with cols). */
static size_t
s_extent (size_t total, size_t bs, size_t i)
{
    size_t left = total - i * bs;
    return left < bs ? left : bs;
}

static pool_matrix_t *
s_new (pool_t *pool, size_t rows, size_t cols, size_t bs, pool_dtype_t dtype)
{
    pool_matrix_t *m = calloc (1, sizeof *m);
    if (!m)
        return NULL;
    m->pool = pool;
    m->rows = rows;
    m->cols = cols;
    m->bs = bs;
    m->brows = (rows + bs - 1) / bs;
    m->bcols = (cols + bs - 1) / bs;
    m->dtype = dtype;
    size_t nblocks = m->brows * m->bcols;
    m->hash = calloc (nblocks ? nblocks : 1, sizeof *m->hash);
    if (!m->hash) {
        free (m);
        return NULL;
    }
    m->link.owner = &m->pool;
    m->link.next = pool->owned;
    if (m->link.next)
        m->link.next->prev = &m->link;
    pool->owned = &m->link;
    return m;
}

static bool
s_is_block (const uint8_t *hash)
{
    for (size_t i = 0; i < POOL_HASH_SIZE; i++)
        if (hash[i])
            return true;
    return false;
}

void
pool_matrix_delete (pool_matrix_t **matrix)
{
    if (!matrix || !*matrix)
        return;
    pool_matrix_t *m = *matrix;
    pool_t *pool = m->pool;
    if (pool) {
        /* Its blocks are released (those other references hold stay);
           the caller's last error stays what it was. */
        size_t n = 0;
        for (size_t i = 0; i < m->brows * m->bcols; i++)
            if (s_is_block (m->hash[i]))
                memmove (m->hash[n++], m->hash[i], POOL_HASH_SIZE);
        char error[POOL_ERROR_MAX];
        memcpy (error, pool->error, sizeof error);
        pool_blocks_release (pool, (const uint8_t (*)[POOL_HASH_SIZE])m->hash, n);
        memcpy (pool->error, error, sizeof error);
        if (m->link.prev)
            m->link.prev->next = m->link.next;
        else
            pool->owned = m->link.next;
        if (m->link.next)
            m->link.next->prev = m->link.prev;
    }
    free (m->hash);
    free (m);
    *matrix = NULL;
}

size_t
pool_matrix_rows (const pool_matrix_t *m)
{
    return m ? m->rows : 0;
}

size_t
pool_matrix_cols (const pool_matrix_t *m)
{
    return m ? m->cols : 0;
}

size_t
pool_matrix_block_size (const pool_matrix_t *m)
{
    return m ? m->bs : 0;
}

pool_dtype_t
pool_matrix_dtype (const pool_matrix_t *m)
{
    return m ? m->dtype : 0;
}

const uint8_t *
pool_matrix_block (const pool_matrix_t *m, size_t i, size_t j)
{
    if (!m || i >= m->brows || j >= m->bcols)
        return NULL;
    return m->hash[i * m->bcols + j];
}

/* ------------------------------------------------------------------------
    Where the built-in worker class is */

static bool
s_exists (const char *path)
{
    struct stat st;
    return path && stat (path, &st) == 0 && S_ISREG (st.st_mode);
}

const char *
pool_matrix_worker_library (void)
{
    const char *env = getenv ("DCPOOL_MATRIX_WORKER");
    if (env && *env)
        return env;
#ifdef DCPOOL_MATRIX_WORKER_BUILD
    /* A libpool running from the build tree uses the class built beside
       it, not an older installed one. */
    Dl_info info;
    if (dladdr ((void *)pool_matrix_worker_library, &info) && info.dli_fname
        && strncmp (info.dli_fname, DCPOOL_BUILD_ROOT "/", strlen (DCPOOL_BUILD_ROOT) + 1)
               == 0
        && s_exists (DCPOOL_MATRIX_WORKER_BUILD))
        return DCPOOL_MATRIX_WORKER_BUILD;
#endif
#ifdef DCPOOL_MATRIX_WORKER_INSTALL
    if (s_exists (DCPOOL_MATRIX_WORKER_INSTALL))
        return DCPOOL_MATRIX_WORKER_INSTALL;
#endif
#ifdef DCPOOL_MATRIX_WORKER_BUILD
    if (s_exists (DCPOOL_MATRIX_WORKER_BUILD))
        return DCPOOL_MATRIX_WORKER_BUILD;
#endif
#ifdef DCPOOL_MATRIX_WORKER_INSTALL
    return DCPOOL_MATRIX_WORKER_INSTALL;
#else
    return "dcpool-matrix.so";
#endif
}

int
pool_matrix_open (pool_t **pool, const pool_options_t *options)
{
    if (!pool || !options)
        return pool_open (pool, options);
    pool_options_t copy = *options;
    if (!copy.worker_library)
        copy.worker_library = pool_matrix_worker_library ();
    return pool_open (pool, &copy);
}

/* ------------------------------------------------------------------------
    Moving matrices between the host and the store */

int
pool_matrix_create (pool_t *pool, pool_matrix_t **matrix, const void *data, size_t rows,
                    size_t cols, pool_dtype_t dtype, size_t block_size)
{
    if (!pool || !matrix)
        return POOL_EINVAL;
    *matrix = NULL;
    size_t es = s_es (dtype);
    size_t bs = block_size ? block_size : POOL_MATRIX_BLOCK_SIZE;
    if (!es || !data || rows == 0 || cols == 0 || rows > UINT32_MAX || cols > UINT32_MAX
        || bs > (1u << 16))
        return pool_fail (pool, POOL_EINVAL,
                          "pool_matrix_create: bad shape, dtype, data or block size");
    pool_matrix_t *m = s_new (pool, rows, cols, bs, dtype);
    if (!m)
        return pool_fail (pool, POOL_ENOMEM, "out of memory");
    size_t nbufs = m->bcols;
    int rc = 0;
    /* One block row at a time: its blocks cut out, stored, freed. */
    pool_bytes_t *blocks = calloc (m->bcols, sizeof *blocks);
    void **bufs = calloc (m->bcols, sizeof *bufs);
    if (!blocks || !bufs) {
        rc = pool_fail (pool, POOL_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t bi = 0; bi < m->brows; bi++) {
        size_t r = s_extent (rows, bs, bi);
        for (size_t bj = 0; bj < m->bcols; bj++) {
            size_t c = s_extent (cols, bs, bj);
            if (!bufs[bj] && !(bufs[bj] = malloc (bs * bs * es))) {
                rc = pool_fail (pool, POOL_ENOMEM, "out of memory");
                goto cleanup;
            }
            const char *src = (const char *)data + ((bi * bs) * cols + bj * bs) * es;
            for (size_t i = 0; i < r; i++)
                memcpy ((char *)bufs[bj] + i * c * es, src + i * cols * es, c * es);
            blocks[bj] = (pool_bytes_t){ bufs[bj], r * c * es };
        }
        rc = pool_blocks_put (pool, blocks, m->bcols, &m->hash[bi * m->bcols]);
        if (rc)
            goto cleanup;
    }
    *matrix = m;
    m = NULL;
cleanup:
    if (bufs)
        for (size_t j = 0; j < nbufs; j++)
            free (bufs[j]);
    free (bufs);
    free (blocks);
    pool_matrix_delete (&m);
    return rc;
}

typedef struct {
    const pool_matrix_t *m;
    void *data;
    int rc;
} s_get_t;

static int
s_take_block (void *arg, size_t index, const void *bytes, size_t size)
{
    s_get_t *get = arg;
    const pool_matrix_t *m = get->m;
    size_t es = s_es (m->dtype);
    size_t bi = index / m->bcols, bj = index % m->bcols;
    size_t r = s_extent (m->rows, m->bs, bi), c = s_extent (m->cols, m->bs, bj);
    if (size != r * c * es)
        return POOL_EPROTO;
    char *dst = (char *)get->data + ((bi * m->bs) * m->cols + bj * m->bs) * es;
    for (size_t i = 0; i < r; i++)
        memcpy (dst + i * m->cols * es, (const char *)bytes + i * c * es, c * es);
    return 0;
}

int
pool_matrix_get (pool_t *pool, const pool_matrix_t *m, void *data)
{
    if (!pool || !m || !data)
        return POOL_EINVAL;
    s_get_t get = { m, data, 0 };
    int rc = pool_blocks_get (pool, (const uint8_t (*)[POOL_HASH_SIZE])m->hash,
                              m->brows * m->bcols, s_take_block, &get);
    if (rc == POOL_EPROTO)
        pool_fail (pool, rc, "a block of the matrix has the wrong size");
    return rc;
}

/* ------------------------------------------------------------------------
    Jobs */

typedef struct {
    uint8_t *bytes; /* matrix_job_t, then ninputs matrix_job_block_t */
    size_t size;
} s_job_t;

static int
s_job_new (s_job_t *job, uint32_t op, const pool_matrix_t *like, uint32_t flags,
           size_t out_rows, size_t out_cols, uint32_t ninputs, double scalar)
{
    job->size = sizeof (matrix_job_t) + (size_t)ninputs * sizeof (matrix_job_block_t);
    job->bytes = calloc (1, job->size);
    if (!job->bytes)
        return -1;
    matrix_job_t head = { .magic = MATRIX_JOB_MAGIC,
                          .op = op,
                          .dtype = (uint32_t)like->dtype,
                          .flags = flags,
                          .out_rows = (uint32_t)out_rows,
                          .out_cols = (uint32_t)out_cols,
                          .ninputs = ninputs,
                          .scalar = scalar };
    memcpy (job->bytes, &head, sizeof head);
    return 0;
}

/* Sets input k of job to block (bi, bj) of m. */
static void
s_job_input (s_job_t *job, uint32_t k, const pool_matrix_t *m, size_t bi, size_t bj)
{
    matrix_job_block_t ref;
    memcpy (ref.hash, m->hash[bi * m->bcols + bj], POOL_HASH_SIZE);
    ref.rows = (uint32_t)s_extent (m->rows, m->bs, bi);
    ref.cols = (uint32_t)s_extent (m->cols, m->bs, bj);
    memcpy (job->bytes + sizeof (matrix_job_t) + k * sizeof ref, &ref, sizeof ref);
}

/*  Submits job (its input blocks named, so that it runs where they are:
    pool_submit_with) as *future.  0 or <0. */
static int
s_submit (pool_t *pool, const s_job_t *job, pool_future_t **future)
{
    matrix_job_t head;
    memcpy (&head, job->bytes, sizeof head);
    uint8_t (*names)[POOL_HASH_SIZE]
        = malloc ((head.ninputs ? head.ninputs : 1) * sizeof *names);
    if (!names)
        return pool_fail (pool, POOL_ENOMEM, "out of memory building jobs");
    for (uint32_t k = 0; k < head.ninputs; k++)
        memcpy (names[k],
                job->bytes + sizeof head + k * sizeof (matrix_job_block_t)
                    + offsetof (matrix_job_block_t, hash),
                POOL_HASH_SIZE);
    int rc = pool_submit_with (pool, (pool_bytes_t){ job->bytes, job->size },
                               (const uint8_t (*)[POOL_HASH_SIZE])names, head.ninputs,
                               future);
    free (names);
    return rc;
}

/*  Runs count jobs.  With out (block-producing ops), result i is the hash
    of block i of out; with values, result i is one double.  Frees the
    jobs.  0 or <0. */
static int
s_run_jobs (pool_t *pool, s_job_t *jobs, size_t count, pool_matrix_t *out, double *values)
{
    int rc = 0;
    pool_future_t **futures = calloc (count ? count : 1, sizeof *futures);
    pool_result_t *results = calloc (count ? count : 1, sizeof *results);
    if (!futures || !results) {
        rc = pool_fail (pool, POOL_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = jobs[i].bytes ? s_submit (pool, &jobs[i], &futures[i])
                           : pool_fail (pool, POOL_ENOMEM, "out of memory building jobs");
    if (rc == 0 && count)
        rc = pool_wait_all (futures, count, INFINITY);
    /* Each result stays valid until its future is destroyed, below. */
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = pool_future_result (futures[i], &results[i]);
    /* Every block a job stored is the result's (a reference), even after
       another job failed: deleting the result releases them all. */
    for (size_t i = 0; rc == 0 && out && i < count; i++)
        if (results[i].status == 0 && results[i].value.size == POOL_HASH_SIZE) {
            memcpy (out->hash[i], results[i].value.data, POOL_HASH_SIZE);
            if (pool_blocks_ref (pool, (const uint8_t (*)[POOL_HASH_SIZE])out->hash + i,
                                 1))
                memset (out->hash[i], 0, POOL_HASH_SIZE);
        }
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const pool_result_t *r = &results[i];
        if (r->status != 0)
            rc = pool_fail (pool, r->status, "matrix job %zu of %zu failed: %s", i, count,
                            r->error ? r->error : pool_strerror (r->status));
        else if (values && r->value.size == sizeof (double))
            memcpy (&values[i], r->value.data, sizeof (double));
        else if (!out || r->value.size != POOL_HASH_SIZE)
            rc = pool_fail (pool, POOL_EPROTO,
                            "matrix job %zu answered %zu bytes: is the pool's worker "
                            "library the matrix class (pool_matrix_open)?",
                            i, r->value.size);
    }
cleanup:
    for (size_t i = 0; futures && i < count; i++)
        pool_future_destroy (&futures[i]);
    for (size_t i = 0; i < count; i++)
        free (jobs[i].bytes);
    free (jobs);
    free (futures);
    free (results);
    return rc;
}

int
pool_matrix_multiply (pool_t *pool, const pool_matrix_t *a, bool ta,
                      const pool_matrix_t *b, bool tb, pool_matrix_t **c)
{
    if (!pool || !a || !b || !c)
        return POOL_EINVAL;
    *c = NULL;
    size_t m = ta ? a->cols : a->rows, ka = ta ? a->rows : a->cols;
    size_t kb = tb ? b->cols : b->rows, n = tb ? b->rows : b->cols;
    if (ka != kb || a->dtype != b->dtype || a->bs != b->bs)
        return pool_fail (pool, POOL_EINVAL,
                          "multiply: %zu x %zu by %zu x %zu (after transposes), "
                          "block sizes %zu and %zu, dtypes %d and %d",
                          m, ka, kb, n, a->bs, b->bs, a->dtype, b->dtype);
    pool_matrix_t *out = s_new (pool, m, n, a->bs, a->dtype);
    if (!out)
        return pool_fail (pool, POOL_ENOMEM, "out of memory");
    size_t nk = (ka + a->bs - 1) / a->bs;
    size_t count = out->brows * out->bcols;
    s_job_t *jobs = calloc (count, sizeof *jobs);
    if (!jobs) {
        pool_matrix_delete (&out);
        return pool_fail (pool, POOL_ENOMEM, "out of memory");
    }
    uint32_t flags = (ta ? MATRIX_JOB_TA : 0) | (tb ? MATRIX_JOB_TB : 0);
    for (size_t i = 0; i < out->brows; i++)
        for (size_t j = 0; j < out->bcols; j++) {
            s_job_t *job = &jobs[i * out->bcols + j];
            if (s_job_new (job, MATRIX_OP_GEMM, a, flags, s_extent (m, a->bs, i),
                           s_extent (n, a->bs, j), (uint32_t)(2 * nk), 0))
                continue; /* s_run_jobs reports it */
            for (size_t k = 0; k < nk; k++) {
                s_job_input (job, (uint32_t)(2 * k), a, ta ? k : i, ta ? i : k);
                s_job_input (job, (uint32_t)(2 * k + 1), b, tb ? j : k, tb ? k : j);
            }
        }
    int rc = s_run_jobs (pool, jobs, count, out, NULL);
    if (rc)
        pool_matrix_delete (&out);
    *c = out;
    return rc;
}

/* One job per block of a (and b), same shape out. */
static int
s_cellwise (pool_t *pool, uint32_t op, const pool_matrix_t *a, const pool_matrix_t *b,
            double scalar, pool_matrix_t **c)
{
    if (!pool || !a || !c)
        return POOL_EINVAL;
    *c = NULL;
    if (b
        && (a->rows != b->rows || a->cols != b->cols || a->bs != b->bs
            || a->dtype != b->dtype))
        return pool_fail (pool, POOL_EINVAL,
                          "cellwise: %zu x %zu and %zu x %zu, block sizes %zu and %zu, "
                          "dtypes %d and %d",
                          a->rows, a->cols, b->rows, b->cols, a->bs, b->bs, a->dtype,
                          b->dtype);
    pool_matrix_t *out = s_new (pool, a->rows, a->cols, a->bs, a->dtype);
    size_t count = a->brows * a->bcols;
    s_job_t *jobs = out ? calloc (count, sizeof *jobs) : NULL;
    if (!jobs) {
        pool_matrix_delete (&out);
        return pool_fail (pool, POOL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < a->brows; i++)
        for (size_t j = 0; j < a->bcols; j++) {
            s_job_t *job = &jobs[i * a->bcols + j];
            if (s_job_new (job, op, a, 0, s_extent (a->rows, a->bs, i),
                           s_extent (a->cols, a->bs, j), b ? 2 : 1, scalar))
                continue;
            s_job_input (job, 0, a, i, j);
            if (b)
                s_job_input (job, 1, b, i, j);
        }
    int rc = s_run_jobs (pool, jobs, count, out, NULL);
    if (rc)
        pool_matrix_delete (&out);
    *c = out;
    return rc;
}

int
pool_matrix_add (pool_t *pool, const pool_matrix_t *a, const pool_matrix_t *b,
                 pool_matrix_t **c)
{
    return b ? s_cellwise (pool, MATRIX_OP_ADD, a, b, 0, c) : POOL_EINVAL;
}

int
pool_matrix_subtract (pool_t *pool, const pool_matrix_t *a, const pool_matrix_t *b,
                      pool_matrix_t **c)
{
    return b ? s_cellwise (pool, MATRIX_OP_SUB, a, b, 0, c) : POOL_EINVAL;
}

int
pool_matrix_multiply_cells (pool_t *pool, const pool_matrix_t *a, const pool_matrix_t *b,
                            pool_matrix_t **c)
{
    return b ? s_cellwise (pool, MATRIX_OP_MUL, a, b, 0, c) : POOL_EINVAL;
}

int
pool_matrix_divide (pool_t *pool, const pool_matrix_t *a, const pool_matrix_t *b,
                    pool_matrix_t **c)
{
    return b ? s_cellwise (pool, MATRIX_OP_DIV, a, b, 0, c) : POOL_EINVAL;
}

int
pool_matrix_scalar_add (pool_t *pool, const pool_matrix_t *a, double s, pool_matrix_t **c)
{
    return s_cellwise (pool, MATRIX_OP_SADD, a, NULL, s, c);
}

int
pool_matrix_scalar_multiply (pool_t *pool, const pool_matrix_t *a, double s,
                             pool_matrix_t **c)
{
    return s_cellwise (pool, MATRIX_OP_SMUL, a, NULL, s, c);
}

int
pool_matrix_scalar_divide (pool_t *pool, const pool_matrix_t *a, double s,
                           pool_matrix_t **c)
{
    return s_cellwise (pool, MATRIX_OP_SDIV, a, NULL, s, c);
}

int
pool_matrix_transpose (pool_t *pool, const pool_matrix_t *a, pool_matrix_t **c)
{
    if (!pool || !a || !c)
        return POOL_EINVAL;
    *c = NULL;
    pool_matrix_t *out = s_new (pool, a->cols, a->rows, a->bs, a->dtype);
    size_t count = out ? out->brows * out->bcols : 0;
    s_job_t *jobs = out ? calloc (count, sizeof *jobs) : NULL;
    if (!jobs) {
        pool_matrix_delete (&out);
        return pool_fail (pool, POOL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < out->brows; i++)
        for (size_t j = 0; j < out->bcols; j++) {
            s_job_t *job = &jobs[i * out->bcols + j];
            if (s_job_new (job, MATRIX_OP_TRANSPOSE, a, 0, s_extent (out->rows, a->bs, i),
                           s_extent (out->cols, a->bs, j), 1, 0))
                continue;
            s_job_input (job, 0, a, j, i);
        }
    int rc = s_run_jobs (pool, jobs, count, out, NULL);
    if (rc)
        pool_matrix_delete (&out);
    *c = out;
    return rc;
}

/* Row sums (rows true) or column sums: one job per block row or column. */
static int
s_sums (pool_t *pool, const pool_matrix_t *a, bool rows, pool_matrix_t **c)
{
    if (!pool || !a || !c)
        return POOL_EINVAL;
    *c = NULL;
    pool_matrix_t *out = rows ? s_new (pool, a->rows, 1, a->bs, a->dtype)
                              : s_new (pool, 1, a->cols, a->bs, a->dtype);
    size_t count = rows ? a->brows : a->bcols;
    s_job_t *jobs = out ? calloc (count, sizeof *jobs) : NULL;
    if (!jobs) {
        pool_matrix_delete (&out);
        return pool_fail (pool, POOL_ENOMEM, "out of memory");
    }
    for (size_t x = 0; x < count; x++) {
        size_t across = rows ? a->bcols : a->brows;
        if (s_job_new (&jobs[x], rows ? MATRIX_OP_ROWSUM : MATRIX_OP_COLSUM, a, 0,
                       rows ? s_extent (a->rows, a->bs, x) : 1,
                       rows ? 1 : s_extent (a->cols, a->bs, x), (uint32_t)across, 0))
            continue;
        for (size_t y = 0; y < across; y++)
            s_job_input (&jobs[x], (uint32_t)y, a, rows ? x : y, rows ? y : x);
    }
    int rc = s_run_jobs (pool, jobs, count, out, NULL);
    if (rc)
        pool_matrix_delete (&out);
    *c = out;
    return rc;
}

int
pool_matrix_row_sums (pool_t *pool, const pool_matrix_t *a, pool_matrix_t **c)
{
    return s_sums (pool, a, true, c);
}

int
pool_matrix_col_sums (pool_t *pool, const pool_matrix_t *a, pool_matrix_t **c)
{
    return s_sums (pool, a, false, c);
}

/* One job per block, each answering a double; combined here. */
static int
s_reduce (pool_t *pool, uint32_t op, const pool_matrix_t *a, double *out)
{
    if (!pool || !a || !out)
        return POOL_EINVAL;
    size_t count = a->brows * a->bcols;
    s_job_t *jobs = calloc (count, sizeof *jobs);
    double *values = calloc (count, sizeof *values);
    if (!jobs || !values) {
        free (jobs);
        free (values);
        return pool_fail (pool, POOL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < a->brows; i++)
        for (size_t j = 0; j < a->bcols; j++) {
            s_job_t *job = &jobs[i * a->bcols + j];
            if (s_job_new (job, op, a, 0, 1, 1, 1, 0))
                continue;
            s_job_input (job, 0, a, i, j);
        }
    int rc = s_run_jobs (pool, jobs, count, NULL, values);
    if (rc == 0) {
        double v = values[0];
        for (size_t i = 1; i < count; i++)
            v = op == MATRIX_OP_SUM   ? v + values[i]
                : op == MATRIX_OP_MIN ? (values[i] < v ? values[i] : v)
                                      : (values[i] > v ? values[i] : v);
        *out = v;
    }
    free (values);
    return rc;
}

int
pool_matrix_sum (pool_t *pool, const pool_matrix_t *a, double *out)
{
    return s_reduce (pool, MATRIX_OP_SUM, a, out);
}

int
pool_matrix_min (pool_t *pool, const pool_matrix_t *a, double *out)
{
    return s_reduce (pool, MATRIX_OP_MIN, a, out);
}

int
pool_matrix_max (pool_t *pool, const pool_matrix_t *a, double *out)
{
    return s_reduce (pool, MATRIX_OP_MAX, a, out);
}
