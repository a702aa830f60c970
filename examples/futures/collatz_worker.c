/*  collatz_worker.c - worker library of the futures example.

    Input, text:   "FIRST COUNT"   a block of COUNT starting values.
    Output, text:  "BEST STEPS"    the value of the block whose Collatz
                   sequence takes the most steps to reach 1, and its steps.
    A block with COUNT 0 is an error result (to show on_failure).  A long
    block looks at pool_worker_cancelled now and then and stops early when
    its client cancelled it.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "pool_worker.h"

static uint64_t
steps_of (uint64_t n)
{
    uint64_t steps = 0;
    while (n > 1) {
        n = n % 2 ? 3 * n + 1 : n / 2;
        steps++;
    }
    return steps;
}

static void *
collatz_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    static int ready;
    return &ready;
}

static int
collatz_run (void *self, pool_bytes_t input, pool_output_t *output,
             pool_worker_ctx_t *ctx)
{
    char text[64];
    if (input.size == 0 || input.size >= sizeof text) {
        pool_worker_error (ctx, "want \"FIRST COUNT\"");
        return -1;
    }
    snprintf (text, sizeof text, "%.*s", (int)input.size, (const char *)input.data);
    uint64_t first = 0, count = 0;
    if (sscanf (text, "%" SCNu64 " %" SCNu64, &first, &count) != 2 || first == 0
        || count == 0) {
        pool_worker_error (ctx, "cannot use block \"%s\"", text);
        return -1;
    }
    uint64_t best = first, best_steps = 0;
    for (uint64_t n = first; n < first + count; n++) {
        if ((n - first) % 65536 == 0 && pool_worker_cancelled (ctx)) {
            pool_worker_error (ctx, "cancelled");
            return -1;
        }
        uint64_t steps = steps_of (n);
        if (steps > best_steps) {
            best = n;
            best_steps = steps;
        }
    }
    char out[64];
    int len = snprintf (out, sizeof out, "%" PRIu64 " %" PRIu64, best, best_steps);
    return pool_output_set (output, out, (size_t)len) == 0 ? 0 : -1;
}

static void
collatz_destroy (void *self)
{
}

const pool_worker_class_t pool_worker = {
    .abi_version = POOL_WORKER_ABI,
    .name = "collatz",
    .init = collatz_init,
    .run = collatz_run,
    .handle_update = NULL,
    .destroy = collatz_destroy,
};
