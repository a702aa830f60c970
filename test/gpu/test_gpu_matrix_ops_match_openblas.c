/*  Every block-matrix operation (pool_matrix.h), run on a local cluster of
    two workers, matches the same computation done here with OpenBLAS and
    plain loops, on random non-zero inputs whose shapes are not multiples
    of the block size (64), in float64 and float32.
*/
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pool_matrix.h"

#define BS 64

static unsigned s_seed = 12345;

static double
s_rand (void)
{
    s_seed = s_seed * 1103515245u + 12345u;
    double x = ((s_seed >> 8) & 0xffff) / 65536.0;
    return 0.5 + x; /* [0.5, 1.5): non-zero, safe to divide by */
}

typedef struct {
    pool_dtype_t dt;
    size_t rows, cols;
    double *d; /* the values, in double, as the cluster sees them */
    pool_matrix_t *m;
} s_mat_t;

static void *
s_host (pool_dtype_t dt, const double *d, size_t n)
{
    void *p = malloc (n * (dt == POOL_FLOAT32 ? 4 : 8));
    for (size_t i = 0; i < n; i++)
        if (dt == POOL_FLOAT32)
            ((float *)p)[i] = (float)d[i];
        else
            ((double *)p)[i] = d[i];
    return p;
}

static s_mat_t
s_make (pool_t *pool, pool_dtype_t dt, size_t rows, size_t cols)
{
    s_mat_t x = { dt, rows, cols, malloc (rows * cols * sizeof (double)), NULL };
    for (size_t i = 0; i < rows * cols; i++)
        x.d[i] = dt == POOL_FLOAT32 ? (double)(float)s_rand () : s_rand ();
    void *host = s_host (dt, x.d, rows * cols);
    int rc = pool_matrix_create (pool, &x.m, host, rows, cols, dt, BS);
    H_CHECK (rc == 0, "create %zux%zu: %s: %s", rows, cols, pool_strerror (rc),
             pool_last_error (pool));
    free (host);
    return x;
}

/* Copies m back and compares with want (rows x cols, double). */
static void
s_expect (pool_t *pool, const char *what, pool_matrix_t *m, pool_dtype_t dt,
          const double *want, size_t rows, size_t cols)
{
    H_CHECK (m, "%s: no matrix", what);
    H_CHECK (pool_matrix_rows (m) == rows && pool_matrix_cols (m) == cols,
             "%s: shape %zux%zu, want %zux%zu", what, pool_matrix_rows (m),
             pool_matrix_cols (m), rows, cols);
    size_t n = rows * cols, es = dt == POOL_FLOAT32 ? 4 : 8;
    void *got = malloc (n * es);
    int rc = pool_matrix_get (pool, m, got);
    H_CHECK (rc == 0, "%s: get: %s: %s", what, pool_strerror (rc),
             pool_last_error (pool));
    double scale = 0, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax (scale, fabs (want[i]));
    for (size_t i = 0; i < n; i++) {
        double g = dt == POOL_FLOAT32 ? ((float *)got)[i] : ((double *)got)[i];
        double e = fabs (g - want[i]);
        if (!(e <= worst)) {
            worst = e;
            at = i;
        }
    }
    double rel = worst / (scale > 0 ? scale : 1);
    double bound = dt == POOL_FLOAT32 ? 2e-5 : 1e-12;
    h_log ("%-28s %-7s %4zux%-4zu rel err %.2e", what,
           dt == POOL_FLOAT32 ? "float32" : "float64", rows, cols, rel);
    H_CHECK (rel <= bound, "%s: element %zu is %s, relative error %.3e > %.1e", what, at,
             "off", rel, bound);
    free (got);
}

static void
s_expect_scalar (const char *what, double got, double want, pool_dtype_t dt)
{
    double rel = fabs (got - want) / fmax (fabs (want), 1);
    h_log ("%-28s %.10g (local %.10g)", what, got, want);
    H_CHECK (rel <= (dt == POOL_FLOAT32 ? 1e-5 : 1e-12), "%s: %.12g, want %.12g", what,
             got, want);
}

/* want = op(a) op(b) with OpenBLAS in double. */
static double *
s_gemm (const s_mat_t *a, bool ta, const s_mat_t *b, bool tb, size_t *m, size_t *n)
{
    *m = ta ? a->cols : a->rows;
    *n = tb ? b->rows : b->cols;
    size_t k = ta ? a->rows : a->cols;
    double *c = malloc (*m * *n * sizeof *c);
    cblas_dgemm (CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                 tb ? CblasTrans : CblasNoTrans, (int)*m, (int)*n, (int)k, 1.0, a->d,
                 (int)a->cols, b->d, (int)b->cols, 0.0, c, (int)*n);
    return c;
}

static void
s_all_ops (pool_t *pool, pool_dtype_t dt)
{
    s_mat_t a = s_make (pool, dt, 150, 130);
    s_mat_t b = s_make (pool, dt, 130, 150);
    s_mat_t c = s_make (pool, dt, 150, 130);
    size_t n = a.rows * a.cols;
    pool_matrix_t *r = NULL;
    int rc;
    char what[64];

    /* copy back what was stored */
    s_expect (pool, "create + get", a.m, dt, a.d, a.rows, a.cols);

    /* multiply, every transpose combination */
    struct {
        const s_mat_t *x;
        bool tx;
        const s_mat_t *y;
        bool ty;
    } cases[] = { { &a, false, &b, false },
                  { &a, true, &b, true },
                  { &a, true, &a, false },
                  { &a, false, &a, true } };
    for (size_t i = 0; i < 4; i++) {
        size_t m, nn;
        double *want = s_gemm (cases[i].x, cases[i].tx, cases[i].y, cases[i].ty, &m, &nn);
        rc = pool_matrix_multiply (pool, cases[i].x->m, cases[i].tx, cases[i].y->m,
                                   cases[i].ty, &r);
        H_CHECK (rc == 0, "multiply: %s: %s", pool_strerror (rc), pool_last_error (pool));
        snprintf (what, sizeof what, "multiply %c%c", cases[i].tx ? 'T' : 'N',
                  cases[i].ty ? 'T' : 'N');
        s_expect (pool, what, r, dt, want, m, nn);
        pool_matrix_delete (&r);
        free (want);
    }
    /* mismatched shapes are refused */
    rc = pool_matrix_multiply (pool, a.m, false, c.m, false, &r);
    H_CHECK (rc == POOL_EINVAL && !r, "150x130 by 150x130 gave %s", pool_strerror (rc));

    /* cellwise with b = c */
    double *want = malloc (n * sizeof *want);
    int (*binary[]) (pool_t *, const pool_matrix_t *, const pool_matrix_t *,
                     pool_matrix_t **)
        = { pool_matrix_add, pool_matrix_subtract, pool_matrix_multiply_cells,
            pool_matrix_divide };
    const char *bnames[] = { "add", "subtract", "multiply cells", "divide" };
    for (int op = 0; op < 4; op++) {
        for (size_t i = 0; i < n; i++)
            want[i] = op == 0   ? a.d[i] + c.d[i]
                      : op == 1 ? a.d[i] - c.d[i]
                      : op == 2 ? a.d[i] * c.d[i]
                                : a.d[i] / c.d[i];
        rc = binary[op](pool, a.m, c.m, &r);
        H_CHECK (rc == 0, "%s: %s: %s", bnames[op], pool_strerror (rc),
                 pool_last_error (pool));
        s_expect (pool, bnames[op], r, dt, want, a.rows, a.cols);
        pool_matrix_delete (&r);
    }
    /* with a scalar */
    int (*scalar[]) (pool_t *, const pool_matrix_t *, double, pool_matrix_t **)
        = { pool_matrix_scalar_add, pool_matrix_scalar_multiply,
            pool_matrix_scalar_divide };
    const char *snames[] = { "scalar add", "scalar multiply", "scalar divide" };
    for (int op = 0; op < 3; op++) {
        for (size_t i = 0; i < n; i++)
            want[i] = op == 0 ? a.d[i] + 2.5 : op == 1 ? a.d[i] * 2.5 : a.d[i] / 2.5;
        rc = scalar[op](pool, a.m, 2.5, &r);
        H_CHECK (rc == 0, "%s: %s", snames[op], pool_last_error (pool));
        s_expect (pool, snames[op], r, dt, want, a.rows, a.cols);
        pool_matrix_delete (&r);
    }
    /* transpose */
    for (size_t i = 0; i < a.rows; i++)
        for (size_t j = 0; j < a.cols; j++)
            want[j * a.rows + i] = a.d[i * a.cols + j];
    rc = pool_matrix_transpose (pool, a.m, &r);
    H_CHECK (rc == 0, "transpose: %s", pool_last_error (pool));
    s_expect (pool, "transpose", r, dt, want, a.cols, a.rows);
    pool_matrix_delete (&r);
    /* row and column sums */
    double *rs = calloc (a.rows, sizeof *rs), *cs = calloc (a.cols, sizeof *cs);
    double total = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < a.rows; i++)
        for (size_t j = 0; j < a.cols; j++) {
            double v = a.d[i * a.cols + j];
            rs[i] += v, cs[j] += v, total += v;
            lo = fmin (lo, v), hi = fmax (hi, v);
        }
    rc = pool_matrix_row_sums (pool, a.m, &r);
    H_CHECK (rc == 0, "row sums: %s", pool_last_error (pool));
    s_expect (pool, "row sums", r, dt, rs, a.rows, 1);
    pool_matrix_delete (&r);
    rc = pool_matrix_col_sums (pool, a.m, &r);
    H_CHECK (rc == 0, "col sums: %s", pool_last_error (pool));
    s_expect (pool, "col sums", r, dt, cs, 1, a.cols);
    pool_matrix_delete (&r);
    /* scalars */
    double got;
    rc = pool_matrix_sum (pool, a.m, &got);
    H_CHECK (rc == 0, "sum: %s", pool_last_error (pool));
    s_expect_scalar ("sum", got, total, dt);
    rc = pool_matrix_min (pool, a.m, &got);
    H_CHECK (rc == 0, "min: %s", pool_last_error (pool));
    s_expect_scalar ("min", got, lo, dt);
    rc = pool_matrix_max (pool, a.m, &got);
    H_CHECK (rc == 0, "max: %s", pool_last_error (pool));
    s_expect_scalar ("max", got, hi, dt);

    free (rs), free (cs), free (want);
    s_mat_t *all[] = { &a, &b, &c };
    for (int i = 0; i < 3; i++) {
        pool_matrix_delete (&all[i]->m);
        H_CHECK (!all[i]->m, "delete did not null the handle");
        free (all[i]->d);
    }
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    pool_options_t options;
    h_options (&options, head, NULL);
    pool_t *pool = NULL;
    int rc = pool_matrix_open (&pool, &options);
    H_CHECK (rc == 0, "pool_matrix_open (%s): %s: %s", pool_matrix_worker_library (),
             pool_strerror (rc), pool_open_error ());
    H_CHECK (pool_wait_for_workers (pool, 2, h_timeout (60)) == 0, "2 workers");
    /* pool_put / pool_get round trip */
    uint8_t hash[POOL_HASH_SIZE];
    H_CHECK (pool_put (pool, (pool_bytes_t){ "hello block", 11 }, hash) == 0,
             "pool_put: %s", pool_last_error (pool));
    void *data = NULL;
    size_t size = 0;
    H_CHECK (pool_get (pool, hash, &data, &size) == 0 && size == 11
                 && memcmp (data, "hello block", 11) == 0,
             "pool_get: %s", pool_last_error (pool));
    free (data);
    uint8_t missing[POOL_HASH_SIZE] = { 1, 2, 3 };
    rc = pool_get (pool, missing, &data, &size);
    H_CHECK (rc < 0 && !data, "pool_get of a missing block gave %d", rc);
    h_log ("missing block: %s: %s", pool_strerror (rc), pool_last_error (pool));

    s_all_ops (pool, POOL_FLOAT64);
    s_all_ops (pool, POOL_FLOAT32);
    pool_close (&pool);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_gpu_matrix_ops_match_openblas", s_body);
}
