/*  bench_locality.c - the block bytes the head serves during one block
    multiply: what locality (head/locality.h) saves.

    bench_locality -s HOST:PORT [-n N] [-b BLOCK] [-w WORKERS]
                   [--start-node PATH]

    Against a running cluster (DCPOOL_PASSWORD in the environment): opens
    the built-in matrix pool, waits for WORKERS workers, puts two N x N
    float64 matrices (default 4096, block 512), and reads the head's
    "block bytes served" (start_node --status) before and after
    pool_matrix_multiply: the bytes the workers fetched from the store for
    it; then the same around pool_matrix_multiply_cells of the product by
    itself, whose blocks the workers that made them hold (results left on
    the cluster).  The product is checked on a sample.  Prints "key value"
    lines.
    test/bench/locality.sh runs it with and without --locality-wait.
*/
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool.h"
#include "pool_matrix.h"

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*  The head's block bytes served, from start_node --status: 0, or -1. */
static int
s_served (const char *start_node, const char *server, long long *served)
{
    char host[128];
    snprintf (host, sizeof host, "%s", server);
    char *colon = strrchr (host, ':');
    if (!colon)
        return -1;
    *colon = 0;
    char command[1024];
    snprintf (command, sizeof command, "'%s' --status -a '%s' -p '%s' 2>/dev/null",
              start_node, host, colon + 1);
    FILE *out = popen (command, "r");
    if (!out)
        return -1;
    char line[1024];
    int rc = -1;
    while (fgets (line, sizeof line, out)) {
        const char *at = strstr (line, "block bytes served ");
        if (at && sscanf (at, "block bytes served %lld", served) == 1)
            rc = 0;
    }
    pclose (out);
    return rc;
}

static int
s_fail (pool_t *pool, const char *what, int rc)
{
    fprintf (stderr, "bench_locality: %s: %s: %s\n", what, pool_strerror (rc),
             pool ? pool_last_error (pool) : pool_open_error ());
    return 1;
}

int
main (int argc, char **argv)
{
    const char *server = getenv ("DCPOOL_SERVER");
    const char *start_node = "start_node";
    size_t n = 4096, bs = 512;
    int want = 2;
    static const struct option longs[]
        = { { "start-node", required_argument, NULL, 'S' }, { NULL, 0, NULL, 0 } };
    int opt;
    while ((opt = getopt_long (argc, argv, "s:n:b:w:", longs, NULL)) != -1)
        switch (opt) {
        case 's':
            server = optarg;
            break;
        case 'n':
            n = strtoul (optarg, NULL, 10);
            break;
        case 'b':
            bs = strtoul (optarg, NULL, 10);
            break;
        case 'w':
            want = atoi (optarg);
            break;
        case 'S':
            start_node = optarg;
            break;
        default:
            fprintf (stderr, "usage: bench_locality -s HOST:PORT [-n N] [-b BLOCK] "
                             "[-w WORKERS] [--start-node PATH]\n");
            return 2;
        }
    if (!server || !getenv ("DCPOOL_PASSWORD") || n == 0 || bs == 0) {
        fprintf (stderr, "bench_locality: needs -s HOST:PORT and DCPOOL_PASSWORD\n");
        return 2;
    }
    pool_options_t options;
    pool_options_default (&options);
    options.server = server;
    options.password = getenv ("DCPOOL_PASSWORD");
    options.connect_timeout = 30;
    pool_t *pool = NULL;
    int rc = pool_matrix_open (&pool, &options);
    if (rc)
        return s_fail (NULL, "pool_matrix_open", rc);
    rc = pool_wait_for_workers (pool, want, 120);
    if (rc)
        return s_fail (pool, "pool_wait_for_workers", rc);
    double *a = malloc (n * n * sizeof *a), *b = malloc (n * n * sizeof *b);
    double *c = malloc (n * n * sizeof *c);
    if (!a || !b || !c) {
        fprintf (stderr, "bench_locality: out of memory\n");
        return 1;
    }
    /* splitmix64: no block repeats another (blocks are named by their
       bytes: equal ones would be one block, fetched once). */
    uint64_t seed = 12345;
    for (size_t i = 0; i < 2 * n * n; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        (i < n * n ? a : b)[i % (n * n)] = (double)(z >> 11) / 9007199254740992.0 - 0.5;
    }
    pool_matrix_t *ma = NULL, *mb = NULL, *mc = NULL;
    if ((rc = pool_matrix_create (pool, &ma, a, n, n, POOL_FLOAT64, bs))
        || (rc = pool_matrix_create (pool, &mb, b, n, n, POOL_FLOAT64, bs)))
        return s_fail (pool, "pool_matrix_create", rc);
    long long before = 0, after = 0;
    if (s_served (start_node, server, &before)) {
        fprintf (stderr, "bench_locality: no 'block bytes served' in %s --status\n",
                 start_node);
        return 1;
    }
    double t0 = s_now ();
    rc = pool_matrix_multiply (pool, ma, false, mb, false, &mc);
    double t1 = s_now ();
    if (rc)
        return s_fail (pool, "pool_matrix_multiply", rc);
    if (s_served (start_node, server, &after))
        return 1;
    /* Then a job per block of the product, which the workers that made
       it hold: the kitchensink case (results left on the cluster). */
    pool_matrix_t *md = NULL;
    long long cells_before = after, cells_after = 0;
    double t2 = s_now ();
    rc = pool_matrix_multiply_cells (pool, mc, mc, &md);
    double t3 = s_now ();
    if (rc)
        return s_fail (pool, "pool_matrix_multiply_cells", rc);
    if (s_served (start_node, server, &cells_after))
        return 1;
    pool_matrix_delete (&md);
    if ((rc = pool_matrix_get (pool, mc, c)))
        return s_fail (pool, "pool_matrix_get", rc);
    double worst = 0;
    for (size_t i = 0; i < n; i += n / 7 + 1)
        for (size_t j = 0; j < n; j += n / 5 + 1) {
            double want_ij = 0;
            for (size_t k = 0; k < n; k++)
                want_ij += a[i * n + k] * b[k * n + j];
            double err = fabs (c[i * n + j] - want_ij);
            if (err > worst)
                worst = err;
        }
    long long matrix = (long long)(n * n * sizeof (double));
    printf ("workers %d\nn %zu\nblock %zu\nmultiply_s %.2f\nmatrix_mib %.0f\n"
            "fetched_bytes %lld\nfetched_mib %.0f\nmax_error %.3g\n"
            "cells_s %.2f\ncells_fetched_mib %.0f\n",
            pool_workers_count (pool), n, bs, t1 - t0, matrix / 1048576.0, after - before,
            (after - before) / 1048576.0, worst, t3 - t2,
            (cells_after - cells_before) / 1048576.0);
    pool_matrix_delete (&ma);
    pool_matrix_delete (&mb);
    pool_matrix_delete (&mc);
    pool_close (&pool);
    free (a);
    free (b);
    free (c);
    if (worst > 1e-6) {
        fprintf (stderr, "bench_locality: the product is wrong (error %g)\n", worst);
        return 1;
    }
    return 0;
}
