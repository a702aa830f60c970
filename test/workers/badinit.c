/*  test/workers/badinit.c - a worker whose init goes wrong when asked.

    Init data, text:  "segv"   init dies of SIGSEGV (writes through NULL);
                      "exit0"  init calls exit(0): the process ends with
                               status 0, no signal, no message;
                      "hang"   init never returns (sleeps in pause ()
                               forever);
                      anything else (empty too): init succeeds.
    Input, text:      "N" (after a good init): "R", R = N * N + 1 in
                      wrapping uint64 arithmetic printed as an int64 (as
                      square).
    Anything else is an error result "badinit: cannot parse input".
*/
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool_worker.h"
#include "segv.h"

static int
s_init_is (pool_bytes_t init_data, const char *what)
{
    size_t len = strlen (what);
    return init_data.size == len && memcmp (init_data.data, what, len) == 0;
}

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    static int dummy;
    (void)ctx;
    if (s_init_is (init_data, "segv"))
        test_segv ();
    if (s_init_is (init_data, "exit0"))
        exit (0);
    if (s_init_is (init_data, "hang"))
        /* Asleep, not spinning: the test machines are small.  Signals that
           the host handles (SIGTERM) end a pause, not the hang. */
        while (1)
            pause ();
    return &dummy;
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    (void)self;
    char text[64];
    if (input.size == 0 || input.size >= sizeof text)
        goto bad;
    memcpy (text, input.data, input.size);
    text[input.size] = 0;
    char *end = NULL;
    errno = 0;
    long long n = strtoll (text, &end, 10);
    if (errno || end == text || *end)
        goto bad;
    char out[32];
    int len = snprintf (out, sizeof out, "%" PRId64,
                        (int64_t)((uint64_t)n * (uint64_t)n + 1));
    return pool_output_set (output, out, (size_t)len);
bad:
    pool_worker_error (ctx, "badinit: cannot parse input");
    return -1;
}

static void
s_destroy (void *self)
{
    (void)self;
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "badinit", s_init, s_run, NULL, s_destroy };
