/*  Locality (issue 16) with the matrix jobs, which name their input
    blocks themselves: on 2 nodes a block multiply is correct, and a
    cellwise product of the result with itself (one job per block, each
    block held by the worker that computed it) makes the head serve no
    block bytes: every job ran where its block was. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pool_matrix.h"

#define N 256
#define BS 32

/*  The head's "block bytes served" (start_node --status), or -1. */
static long long
s_served (const h_proc_t *head)
{
    char port[16];
    snprintf (port, sizeof port, "%d", head->port);
    const char *args[]
        = { "--status", "-a", "127.0.0.1", "-p", port, "-r", h_password (), NULL };
    char *out = NULL;
    h_run_start_node (args, h_timeout (30), &out);
    const char *at = out ? strstr (out, "block bytes served ") : NULL;
    long long served = -1;
    if (at)
        sscanf (at, "block bytes served %lld", &served);
    free (out);
    return served;
}

static void
s_body (void)
{
    /* A wait no loaded machine outlasts: every job can wait for its
       holder, so none has to fetch. */
    const char *extra[] = { "--locality-wait", "10000", NULL };
    h_proc_t *head = h_start_head_with (1, false, extra);
    h_start_node (head, 1);
    pool_options_t options;
    h_options (&options, head, NULL);
    pool_t *pool = NULL;
    int rc = pool_matrix_open (&pool, &options);
    H_CHECK (rc == 0, "pool_matrix_open: %s: %s", pool_strerror (rc), pool_open_error ());
    H_CHECK (pool_wait_for_workers (pool, 2, h_timeout (60)) == 0, "2 workers: %s",
             pool_last_error (pool));
    double *a = malloc (N * N * sizeof *a), *b = malloc (N * N * sizeof *b);
    double *c = malloc (N * N * sizeof *c), *d = malloc (N * N * sizeof *d);
    H_CHECK (a && b && c && d, "malloc");
    for (uint64_t i = 0; i < N * N; i++) { /* small integers: exact sums */
        a[i] = (double)(((i + 1) * 0x9e3779b97f4a7c15ull >> 40) % 13) - 6;
        b[i] = (double)(((i + 7) * 0xbf58476d1ce4e5b9ull >> 40) % 11) - 5;
    }
    pool_matrix_t *ma = NULL, *mb = NULL, *mc = NULL, *md = NULL;
    H_CHECK (pool_matrix_create (pool, &ma, a, N, N, POOL_FLOAT64, BS) == 0
                 && pool_matrix_create (pool, &mb, b, N, N, POOL_FLOAT64, BS) == 0,
             "create: %s", pool_last_error (pool));
    long long before = s_served (head);
    H_CHECK (before >= 0, "no 'block bytes served' in --status");
    H_CHECK (pool_matrix_multiply (pool, ma, false, mb, false, &mc) == 0, "multiply: %s",
             pool_last_error (pool));
    long long multiplied = s_served (head);
    H_CHECK (pool_matrix_multiply_cells (pool, mc, mc, &md) == 0, "cells: %s",
             pool_last_error (pool));
    long long after = s_served (head);
    h_log ("block bytes served: %lld by the multiply, %lld by C .* C",
           multiplied - before, after - multiplied);
    H_CHECK (multiplied > before,
             "the multiply fetched nothing: were its blocks cached?");
    H_CHECK (after == multiplied,
             "C .* C made the head serve %lld block bytes: a job ran away from its block",
             after - multiplied);
    H_CHECK (pool_matrix_get (pool, mc, c) == 0 && pool_matrix_get (pool, md, d) == 0,
             "get: %s", pool_last_error (pool));
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double want = 0;
            for (int k = 0; k < N; k++)
                want += a[i * N + k] * b[k * N + j];
            H_CHECK (c[i * N + j] == want, "c[%d][%d] = %g, want %g", i, j, c[i * N + j],
                     want);
            H_CHECK (d[i * N + j] == want * want, "d[%d][%d] = %g, want %g", i, j,
                     d[i * N + j], want * want);
        }
    pool_matrix_delete (&ma);
    pool_matrix_delete (&mb);
    pool_matrix_delete (&mc);
    pool_matrix_delete (&md);
    pool_close (&pool);
    free (a);
    free (b);
    free (c);
    free (d);
}

int
main (void)
{
    return h_main ("test_locality_matrix_multiply_is_correct_and_fetches_less", s_body);
}
