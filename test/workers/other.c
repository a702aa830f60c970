/*  test/workers/other.c - a second, different worker library: the output is
    the input's bytes reversed.  Used beside square to prove two pools of
    two programs never see each other's results.
*/
#include <stdint.h>
#include <string.h>

#include "pool_worker.h"

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    static int dummy;
    return &dummy;
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    uint8_t *out = pool_output_alloc (output, input.size);
    if (!out && input.size)
        return -1;
    const uint8_t *in = input.data;
    for (size_t i = 0; i < input.size; i++)
        out[i] = in[input.size - 1 - i];
    return 0;
}

static void
s_destroy (void *self)
{
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "other", s_init, s_run, NULL, s_destroy };
