/*  test/workers/failing.c - a run that fails for some inputs.

    Input: a decimal int N.  N divisible by 7: the run fails with the
    message "bad input N".  Otherwise the output is N * N + 1 in decimal.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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
    char text[32];
    if (input.size == 0 || input.size >= sizeof text) {
        pool_worker_error (ctx, "failing: cannot parse input");
        return -1;
    }
    memcpy (text, input.data, input.size);
    text[input.size] = 0;
    int n = atoi (text);
    if (n % 7 == 0) {
        pool_worker_error (ctx, "bad input %d", n);
        return 1;
    }
    char out[32];
    int len = snprintf (out, sizeof out, "%" PRId64, (int64_t)n * n + 1);
    return pool_output_set (output, out, (size_t)len);
}

static void
s_destroy (void *self)
{
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "failing", s_init, s_run, NULL, s_destroy };
