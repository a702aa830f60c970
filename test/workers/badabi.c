/*  test/workers/badabi.c - a worker library built for an ABI version this
    dcpool does not speak (999).  pool_open must refuse it and name the
    cause; nothing of the table may be called.
*/
#include <stdlib.h>

#include "pool_worker.h"

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    abort (); /* must never be called */
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

const pool_worker_class_t pool_worker = { 999, "badabi", s_init, s_run, NULL, s_destroy };
