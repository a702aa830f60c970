/*  test/workers/forker.c - a run that leaves a process behind.

    Each run forks a child and returns at once; the child does nothing but
    sleep in pause () forever (no setsid, no closing of descriptors: it
    stays in the worker's session and process group, as a careless user
    library's helper would).  The child is left behind on purpose: tests
    use it to check what becomes of a worker's descendants when its pool
    closes.
    Input:         anything (ignored).
    Output, text:  the child's pid, in decimal.
    A fork that fails is an error result "forker: fork: ...".
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pool_worker.h"

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    static int dummy;
    (void)init_data;
    (void)ctx;
    return &dummy;
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    (void)self;
    (void)input;
    pid_t pid = fork ();
    if (pid < 0) {
        pool_worker_error (ctx, "forker: fork: %s", strerror (errno));
        return -1;
    }
    if (pid == 0)
        /* Only async-signal-safe calls here: the parent may have threads. */
        while (1)
            pause ();
    char out[32];
    int len = snprintf (out, sizeof out, "%d", (int)pid);
    return pool_output_set (output, out, (size_t)len);
}

static void
s_destroy (void *self)
{
    (void)self;
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "forker", s_init, s_run, NULL, s_destroy };
