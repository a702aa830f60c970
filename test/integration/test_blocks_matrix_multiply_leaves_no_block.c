/*  A block-matrix multiply (the built-in matrix worker class, on CPU)
    leaves nothing in the store once its matrices are deleted and the
    grace passed: the blocks pool_matrix_create put and the result blocks
    the workers put are all released (a block two matrices share stays
    until both are gone; a product computed again right after its first
    copy was deleted stays readable), and the pool's library and init data go once
    the pool closes, as do the blocks of a matrix still alive then. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool_matrix.h"
#include "store_util.h"

#define N 96
#define BS 32

static void
s_body (void)
{
    const char *grace[] = { "--block-grace", "1", NULL };
    h_proc_t *head = h_start_head_with (2, false, grace);
    pool_options_t options;
    h_options (&options, head, NULL);
    pool_t *pool = NULL;
    int rc = pool_matrix_open (&pool, &options);
    H_CHECK (rc == 0, "pool_matrix_open (%s): %s: %s", pool_matrix_worker_library (),
             pool_strerror (rc), pool_open_error ());
    double *a_host = malloc (N * N * sizeof *a_host);
    double *b_host = malloc (N * N * sizeof *b_host);
    double *c_host = malloc (N * N * sizeof *c_host);
    H_CHECK (a_host && b_host && c_host, "malloc");
    for (int i = 0; i < N * N; i++) {
        a_host[i] = (i % 7) - 3;
        b_host[i] = (i % 5) - 2;
    }
    pool_matrix_t *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    H_CHECK (pool_matrix_create (pool, &a, a_host, N, N, POOL_FLOAT64, BS) == 0,
             "create a: %s", pool_last_error (pool));
    H_CHECK (pool_matrix_create (pool, &b, b_host, N, N, POOL_FLOAT64, BS) == 0,
             "create b: %s", pool_last_error (pool));
    /* d has a's blocks: deleting a must not take them from d. */
    H_CHECK (pool_matrix_create (pool, &d, a_host, N, N, POOL_FLOAT64, BS) == 0,
             "create d: %s", pool_last_error (pool));
    H_CHECK (pool_matrix_multiply (pool, a, false, b, false, &c) == 0, "multiply: %s",
             pool_last_error (pool));
    H_CHECK (pool_matrix_get (pool, c, c_host) == 0, "get: %s", pool_last_error (pool));
    for (int i = 0; i < N; i += 13)
        for (int j = 0; j < N; j += 11) {
            double want = 0;
            for (int k = 0; k < N; k++)
                want += a_host[i * N + k] * b_host[k * N + j];
            H_CHECK (c_host[i * N + j] == want, "c[%d][%d] = %g, want %g", i, j,
                     c_host[i * N + j], want);
        }
    long long blocks = su_count_keys (head, "dcpool:block:*");
    h_log ("%lld block keys with a, b, c, d", blocks);
    H_CHECK (blocks > 2, "no matrix blocks in the store");

    /* The same product again right after deleting c: the workers still
       have its blocks in their caches and store nothing new, but the
       head must hold them again for this client (BLOCK_HOLD), or put
       them again when they went meanwhile. */
    pool_matrix_delete (&c);
    H_CHECK (pool_matrix_multiply (pool, a, false, b, false, &c) == 0,
             "multiply again: %s", pool_last_error (pool));
    pool_matrix_delete (&a);
    pool_matrix_delete (&b);
    /* d (and the second c) still read after a's (and the first c's)
       deletion and the grace: sweep past it with a marker released
       after them. */
    uint8_t marker[POOL_HASH_SIZE];
    pool_bytes_t bytes = { "marker", 6 };
    H_CHECK (pool_put (pool, bytes, marker) == 0 && pool_delete (pool, marker) == 0,
             "marker");
    double deadline = h_now () + h_timeout (20);
    while (su_block_exists (head, marker) && h_now () < deadline)
        usleep (50 * 1000);
    H_CHECK (!su_block_exists (head, marker), "the marker was not deleted");
    memset (c_host, 0, N * N * sizeof *c_host);
    H_CHECK (pool_matrix_get (pool, d, c_host) == 0, "get d after deleting a: %s",
             pool_last_error (pool));
    H_CHECK (memcmp (c_host, a_host, N * N * sizeof *c_host) == 0, "d changed");
    pool_matrix_delete (&d);
    /* The second product survived the first one's deletion. */
    H_CHECK (pool_matrix_get (pool, c, c_host) == 0, "get c again: %s",
             pool_last_error (pool));
    for (int i = 0; i < N; i += 13)
        for (int j = 0; j < N; j += 11) {
            double want = 0;
            for (int k = 0; k < N; k++)
                want += a_host[i * N + k] * b_host[k * N + j];
            H_CHECK (c_host[i * N + j] == want, "c[%d][%d] = %g, want %g", i, j,
                     c_host[i * N + j], want);
        }
    pool_matrix_delete (&c);

    long long left = su_wait_keys (head, "dcpool:block:*", 2, 30);
    H_CHECK (left == 2, "%lld block keys after the deletes, want the pool's 2", left);
    /* A matrix outlives its pool: its blocks go with the client's holds,
       and deleting it afterwards only frees the handle. */
    pool_matrix_t *e = NULL;
    H_CHECK (pool_matrix_create (pool, &e, b_host, N, N, POOL_FLOAT64, BS) == 0,
             "create e: %s", pool_last_error (pool));
    pool_close (&pool);
    pool_matrix_delete (&e);
    H_CHECK (e == NULL, "pool_matrix_delete did not null the handle");
    left = su_wait_keys (head, "dcpool:block:*", 0, 30);
    H_CHECK (left == 0, "%lld block keys after the pool closed", left);
    H_CHECK (su_count_keys (head, "dcpool:chunk*") == 0, "chunks left");
    free (a_host);
    free (b_host);
    free (c_host);
}

int
main (void)
{
    return h_main ("test_blocks_matrix_multiply_leaves_no_block", s_body);
}
