/*  test/workers/initfail.c - a worker library whose init fails with the
    message "no data".  pool_open must fail with POOL_EWORKER and that
    message.
*/
#include <stdlib.h>

#include "pool_worker.h"

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    pool_worker_error (ctx, "no data");
    return NULL;
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    abort (); /* init failed: never called */
}

static void
s_destroy (void *self)
{
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "initfail", s_init, s_run, NULL, s_destroy };
