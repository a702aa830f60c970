/*  bench_matrix.c - block-matrix multiply on a dcpool cluster beside one
    process's BLAS, in the same run.

    bench_matrix [-s HOST:PORT] [-r PASSWORD] [--insecure] [-n N] [-b BLOCK]
                 [--gpu-n N] [--reps R]

    CPU: an N x N float64 block multiply (default 4096, block 1024) on the
    cluster's workers, GFLOP/s (2 N^3 / seconds of pool_matrix_multiply,
    the blocks already on the cluster; upload and copy back timed apart),
    beside cblas_dgemm of the same matrices in this process with as many
    OpenBLAS threads as the pool has workers.  The result is checked.
    GPU (only when this machine has a CUDA device): --gpu-n (16384) float32
    on the cluster beside gpu_gemm (cuBLAS) here, and pool_map overhead:
    R single-block multiplies (one job, one cuBLAS GEMM each) against the
    same GEMMs run here.  Prints "key value" lines, then a table.
*/
#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gemm.h"
#include "pool.h"
#include "pool_matrix.h"

extern void openblas_set_num_threads (int) __attribute__ ((weak));

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
s_fill (void *p, size_t n, bool f32, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        double x = ((seed >> 8) & 0xffff) / 65536.0 - 0.5;
        if (f32)
            ((float *)p)[i] = (float)x;
        else
            ((double *)p)[i] = x;
    }
}

static int
s_fail (pool_t *pool, const char *what, int rc)
{
    fprintf (stderr, "bench_matrix: %s: %s: %s\n", what, pool_strerror (rc),
             pool ? pool_last_error (pool) : pool_open_error ());
    return 1;
}

/* One cluster multiply of n x n: seconds of the multiply; c filled. */
static int
s_cluster (pool_t *pool, const void *a, const void *b, void *c, size_t n, size_t bs,
           pool_dtype_t dt, double *up_s, double *mul_s, double *get_s)
{
    pool_matrix_t *ma = NULL, *mb = NULL, *mc = NULL;
    double t0 = s_now ();
    int rc = pool_matrix_create (pool, &ma, a, n, n, dt, bs);
    if (rc == 0)
        rc = pool_matrix_create (pool, &mb, b, n, n, dt, bs);
    double t1 = s_now ();
    if (rc == 0)
        rc = pool_matrix_multiply (pool, ma, false, mb, false, &mc);
    double t2 = s_now ();
    if (rc == 0)
        rc = pool_matrix_get (pool, mc, c);
    double t3 = s_now ();
    *up_s = t1 - t0, *mul_s = t2 - t1, *get_s = t3 - t2;
    pool_matrix_delete (&ma);
    pool_matrix_delete (&mb);
    pool_matrix_delete (&mc);
    return rc;
}

int
main (int argc, char **argv)
{
    const char *server = getenv ("DCPOOL_SERVER");
    const char *password = getenv ("DCPOOL_PASSWORD");
    int insecure = 0, reps = 64;
    size_t n = 4096, bs = 1024, gpu_n = 16384;
    static const struct option longs[] = { { "insecure", no_argument, NULL, 'i' },
                                           { "gpu-n", required_argument, NULL, 'g' },
                                           { "reps", required_argument, NULL, 'R' },
                                           { NULL, 0, NULL, 0 } };
    int opt;
    while ((opt = getopt_long (argc, argv, "s:r:n:b:", longs, NULL)) != -1)
        switch (opt) {
        case 's':
            server = optarg;
            break;
        case 'r':
            password = optarg;
            break;
        case 'n':
            n = strtoul (optarg, NULL, 10);
            break;
        case 'b':
            bs = strtoul (optarg, NULL, 10);
            break;
        case 'i':
            insecure = 1;
            break;
        case 'g':
            gpu_n = strtoul (optarg, NULL, 10);
            break;
        case 'R':
            reps = atoi (optarg);
            break;
        default:
            fprintf (stderr,
                     "usage: bench_matrix [-s HOST:PORT] [-r PASSWORD] [--insecure] "
                     "[-n N] [-b BLOCK] [--gpu-n N] [--reps R]\n");
            return 2;
        }
    pool_options_t options;
    pool_options_default (&options);
    if (server)
        options.server = server;
    options.password = password;
    options.insecure = insecure;
    options.connect_timeout = 30;
    pool_t *pool = NULL;
    int rc = pool_matrix_open (&pool, &options);
    if (rc)
        return s_fail (NULL, "pool_matrix_open", rc);
    /* Every worker of the cluster: wait a moment for the rest to load. */
    pool_wait_for_workers (pool, 1 << 20, 3.0);
    int workers = pool_workers_count (pool);
    printf ("workers %d\nn %zu\nblock %zu\n", workers, n, bs);

    /* ---- CPU: float64 N x N ---- */
    double *a = malloc (n * n * sizeof *a), *b = malloc (n * n * sizeof *b);
    double *c = malloc (n * n * sizeof *c), *ref = malloc (n * n * sizeof *ref);
    if (!a || !b || !c || !ref) {
        fprintf (stderr, "bench_matrix: out of memory\n");
        return 1;
    }
    s_fill (a, n * n, false, 1);
    s_fill (b, n * n, false, 2);
    double up, mul, get;
    rc = s_cluster (pool, a, b, c, n, bs, POOL_FLOAT64, &up, &mul, &get);
    if (rc)
        return s_fail (pool, "cluster multiply", rc);
    if (openblas_set_num_threads)
        openblas_set_num_threads (workers > 0 ? workers : 1);
    double t0 = s_now ();
    cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0,
                 a, (int)n, b, (int)n, 0.0, ref, (int)n);
    double blas = s_now () - t0;
    double worst = 0;
    for (size_t i = 0; i < n * n; i++)
        worst = fmax (worst, fabs (c[i] - ref[i]));
    double flop = 2.0 * n * n * n;
    printf ("cluster_dgemm_s %.3f\ncluster_upload_s %.3f\ncluster_copy_back_s %.3f\n",
            mul, up, get);
    printf ("cluster_dgemm_gflops %.2f\n", flop / mul / 1e9);
    printf ("cblas_dgemm_threads %d\ncblas_dgemm_s %.3f\ncblas_dgemm_gflops %.2f\n",
            workers, blas, flop / blas / 1e9);
    printf ("max_abs_diff %.3e\n", worst);
    printf ("\n%-44s %10s %10s\n", "float64 multiply", "seconds", "GFLOP/s");
    printf ("%-44s %10.3f %10.2f\n", "cluster (pool_matrix_multiply)", mul,
            flop / mul / 1e9);
    printf ("%-44s %10.3f %10.2f\n", "cblas_dgemm, one process, same threads", blas,
            flop / blas / 1e9);
    printf ("ratio cluster / cblas: %.2f\n", blas / mul);
    free (a), free (b), free (c), free (ref);
    if (worst > 1e-9 * n) {
        fprintf (stderr, "bench_matrix: the cluster's result is wrong (%.3e)\n", worst);
        return 1;
    }

    /* ---- GPU: only with a device here ---- */
    char reason[512];
    gpu_gemm_t *g = gpu_gemm_new (true, reason, sizeof reason);
    if (!g || strcmp (gpu_gemm_backend (g), "cublas") != 0) {
        printf ("\ngpu: skipped (%s)\n", reason);
        gpu_gemm_destroy (&g);
        pool_close (&pool);
        return 0;
    }
    size_t gn = gpu_n;
    float *fa = malloc (gn * gn * 4), *fb = malloc (gn * gn * 4),
          *fc = malloc (gn * gn * 4);
    s_fill (fa, gn * gn, true, 3);
    s_fill (fb, gn * gn, true, 4);
    rc = s_cluster (pool, fa, fb, fc, gn, 4096, POOL_FLOAT32, &up, &mul, &get);
    if (rc)
        return s_fail (pool, "cluster sgemm", rc);
    t0 = s_now ();
    gpu_gemm (g, 'N', 'N', (int)gn, (int)gn, (int)gn, 1.0, fa, (int)gn, fb, (int)gn, 0.0,
              fc, (int)gn, GPU_FLOAT32);
    double direct = s_now () - t0;
    double gflop = 2.0 * gn * gn * gn;
    printf ("\n%-44s %10s %10s\n", "float32 multiply, GPU", "seconds", "GFLOP/s");
    printf ("%-44s %10.3f %10.2f\n", "cluster (block 4096)", mul, gflop / mul / 1e9);
    printf ("%-44s %10.3f %10.2f\n", "cublasSgemm here (incl. transfers)", direct,
            gflop / direct / 1e9);
    free (fa), free (fb), free (fc);

    /* pool_map overhead: one job = one GEMM of 1024 x 1024 */
    size_t on = 1024;
    float *oa = malloc (on * on * 4), *ob = malloc (on * on * 4),
          *oc = malloc (on * on * 4);
    s_fill (oa, on * on, true, 5);
    s_fill (ob, on * on, true, 6);
    pool_matrix_t *ma = NULL, *mb = NULL, *mc = NULL;
    pool_matrix_create (pool, &ma, oa, on, on, POOL_FLOAT32, on);
    pool_matrix_create (pool, &mb, ob, on, on, POOL_FLOAT32, on);
    t0 = s_now ();
    for (int r = 0; r < reps; r++) {
        pool_matrix_multiply (pool, ma, false, mb, false, &mc);
        pool_matrix_delete (&mc);
    }
    double jobs = (s_now () - t0) / reps;
    t0 = s_now ();
    for (int r = 0; r < reps; r++)
        gpu_gemm (g, 'N', 'N', (int)on, (int)on, (int)on, 1.0, oa, (int)on, ob, (int)on,
                  0.0, oc, (int)on, GPU_FLOAT32);
    double here = (s_now () - t0) / reps;
    printf ("\none-GEMM job (1024^2 float32): %.3f ms per job on the cluster, %.3f ms "
            "here; overhead %.3f ms\n",
            jobs * 1e3, here * 1e3, (jobs - here) * 1e3);
    pool_matrix_delete (&ma);
    pool_matrix_delete (&mb);
    free (oa), free (ob), free (oc);
    gpu_gemm_destroy (&g);
    pool_close (&pool);
    return 0;
}
