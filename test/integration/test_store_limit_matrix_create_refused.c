/*  A matrix too big for the store (8 MiB of float64 under an 8 MiB cap):
    pool_matrix_create fails with POOL_ENOSPACE and the figures, and the
    blocks of it that went in are released (gone after the 1 s grace).
    The pool goes on: a smaller matrix is created, multiplied by itself
    on the workers (the product's blocks put by them), and read back
    right. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_matrix.h"
#include "store_util.h"

#define BIG 1024
#define SMALL 128
#define BS 64

static void
s_body (void)
{
    const char *extra[] = { "--store-max-memory", "8M", "--block-grace", "1", NULL };
    h_proc_t *head = h_start_head_with (2, false, extra);
    pool_options_t options;
    h_options (&options, head, NULL);
    pool_t *pool = NULL;
    int rc = pool_matrix_open (&pool, &options);
    H_CHECK (rc == 0, "pool_matrix_open: %s: %s", pool_strerror (rc), pool_open_error ());
    long long own = su_count_keys (head, "dcpool:block:*");

    double *big = calloc (BIG * BIG, sizeof *big);
    H_CHECK (big, "calloc");
    for (int i = 0; i < BIG * BIG; i++)
        big[i] = i; /* every block different */
    pool_matrix_t *m = NULL;
    rc = pool_matrix_create (pool, &m, big, BIG, BIG, POOL_FLOAT64, BS * 4);
    h_log ("create of 8 MiB: %d %s", rc, pool_last_error (pool));
    H_CHECK (rc == POOL_ENOSPACE && !m, "create of 8 MiB under an 8 MiB cap: %d", rc);
    H_CHECK (strstr (pool_last_error (pool), "block store full: ")
                 && strstr (pool_last_error (pool), "used of 8.0 MiB"),
             "the refusal: %s", pool_last_error (pool));
    free (big);
    long long left = su_wait_keys (head, "dcpool:block:*", own, h_timeout (30));
    H_CHECK (left == own,
             "%lld block keys after the refused create and the grace, want %lld", left,
             own);

    double *a = malloc (SMALL * SMALL * sizeof *a);
    double *c = malloc (SMALL * SMALL * sizeof *c);
    H_CHECK (a && c, "malloc");
    for (int i = 0; i < SMALL * SMALL; i++)
        a[i] = (i % 7) - 3;
    pool_matrix_t *ma = NULL, *mc = NULL;
    H_CHECK (pool_matrix_create (pool, &ma, a, SMALL, SMALL, POOL_FLOAT64, BS) == 0,
             "create: %s", pool_last_error (pool));
    H_CHECK (pool_matrix_multiply (pool, ma, false, ma, false, &mc) == 0, "multiply: %s",
             pool_last_error (pool));
    H_CHECK (pool_matrix_get (pool, mc, c) == 0, "get: %s", pool_last_error (pool));
    for (int i = 0; i < SMALL; i += 9)
        for (int j = 0; j < SMALL; j += 7) {
            double want = 0;
            for (int k = 0; k < SMALL; k++)
                want += a[i * SMALL + k] * a[k * SMALL + j];
            H_CHECK (c[i * SMALL + j] == want, "c[%d][%d] = %g, want %g", i, j,
                     c[i * SMALL + j], want);
        }
    pool_matrix_delete (&ma);
    pool_matrix_delete (&mc);
    free (a);
    free (c);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_store_limit_matrix_create_refused", s_body);
}
