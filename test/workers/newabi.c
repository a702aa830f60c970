/*  test/workers/newabi.c - a worker library built against a pool_worker.h
    newer than this dcpool's: it declares POOL_WORKER_ABI + 1 and calls a
    host function this dcpool does not have.  Loading it with RTLD_NOW (or
    at all: it is linked with -z now) fails with "undefined symbol:
    pool_worker_from_the_future"; pool_open and the workers must refuse it
    before that, naming both ABI versions.  Nothing of it may run.
*/
#include <stdlib.h>

#include "pool_worker.h"

/* A host function of the future pool_worker.h: no dcpool provides it. */
extern int pool_worker_from_the_future (pool_worker_ctx_t *ctx);

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    if (pool_worker_from_the_future (ctx) == 0)
        abort (); /* must never be called */
    return NULL;
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    abort ();
}

static void
s_destroy (void *self)
{
    abort ();
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI + 1, "newabi", s_init, s_run, NULL, s_destroy };
