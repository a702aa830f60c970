/*  test/workers/oldabi.c - a worker library built for pool_worker ABI 1,
    the oldest: a host of any later version still loads it.  The output is
    "abi1:" and the input.  It uses only ABI 1's host functions.
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
    uint8_t *out = pool_output_alloc (output, 5 + input.size);
    if (!out) {
        pool_worker_error (ctx, "out of memory");
        return -1;
    }
    memcpy (out, "abi1:", 5);
    if (input.size)
        memcpy (out + 5, input.data, input.size);
    return 0;
}

static void
s_destroy (void *self)
{
}

const pool_worker_class_t pool_worker = { 1, "oldabi", s_init, s_run, NULL, s_destroy };
