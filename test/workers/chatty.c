/*  test/workers/chatty.c - a worker that prints a lot.

    Input, text:   "N:TAG"  the run writes N lines of 100 bytes to stdout,
                   each "TAG line I" padded with dots, flushes, and
                   returns "TAG" (for tests of the node's log cap).
    Anything else is an error result.
*/
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
    char text[64];
    if (input.size == 0 || input.size >= sizeof text) {
        pool_worker_error (ctx, "chatty: want N:TAG");
        return -1;
    }
    memcpy (text, input.data, input.size);
    text[input.size] = 0;
    char *colon = strchr (text, ':');
    if (!colon) {
        pool_worker_error (ctx, "chatty: want N:TAG");
        return -1;
    }
    long lines = strtol (text, NULL, 10);
    const char *tag = colon + 1;
    for (long i = 0; i < lines; i++) {
        char line[101];
        int n = snprintf (line, sizeof line, "%s line %ld ", tag, i);
        if (n < 0 || n > 99)
            n = 0;
        memset (line + n, '.', (size_t)(99 - n));
        line[99] = '\n';
        fwrite (line, 1, 100, stdout);
    }
    fflush (stdout);
    return pool_output_set (output, tag, strlen (tag));
}

static void
s_destroy (void *self)
{
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "chatty", s_init, s_run, NULL, s_destroy };
