/*  test/workers/crash_on.c - a worker that crashes on one input.

    Init data, text:  "K:segv", "K:abort" or "K:exitS" (K a decimal int64,
                      S a decimal 0..255): the run for input K dereferences
                      NULL (signal 11), calls abort() (signal 6) or calls
                      exit(S) (the worker process ends with status S, no
                      signal), on every attempt.
    Input, text:      "N"; any other N gives "R", R = N * N + 1 in wrapping
                      uint64 arithmetic printed as an int64 (as square).
    Anything else is an error result "crash_on: cannot parse ...".
*/
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_worker.h"
#include "segv.h"

typedef struct {
    long long k;
    enum { S_SEGV, S_ABORT, S_EXIT } how;
    int status; /* for S_EXIT */
} s_self_t;

/* "S" a whole decimal 0..255: 0 with *status, else -1. */
static int
s_parse_status (const char *text, int *status)
{
    char *end = NULL;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (errno || end == text || *end || value < 0 || value > 255)
        return -1;
    *status = (int)value;
    return 0;
}

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    static s_self_t self;
    char text[64];
    if (init_data.size == 0 || init_data.size >= sizeof text) {
        pool_worker_error (ctx, "crash_on: init data is \"K:segv\", \"K:abort\" "
                                "or \"K:exitS\"");
        return NULL;
    }
    memcpy (text, init_data.data, init_data.size);
    text[init_data.size] = 0;
    char *end = NULL;
    errno = 0;
    self.k = strtoll (text, &end, 10);
    self.status = 0;
    if (!errno && end != text && strcmp (end, ":segv") == 0)
        self.how = S_SEGV;
    else if (!errno && end != text && strcmp (end, ":abort") == 0)
        self.how = S_ABORT;
    else if (!errno && end != text && strncmp (end, ":exit", 5) == 0
             && s_parse_status (end + 5, &self.status) == 0)
        self.how = S_EXIT;
    else {
        pool_worker_error (ctx, "crash_on: cannot parse init data '%s'", text);
        return NULL;
    }
    return &self;
}

static int
s_run (void *self_, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    s_self_t *self = self_;
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
    if (n == self->k) {
        if (self->how == S_ABORT)
            abort ();
        if (self->how == S_EXIT)
            exit (self->status);
        test_segv ();
    }
    char out[32];
    int len = snprintf (out, sizeof out, "%" PRId64,
                        (int64_t)((uint64_t)n * (uint64_t)n + 1));
    return pool_output_set (output, out, (size_t)len);
bad:
    pool_worker_error (ctx, "crash_on: cannot parse input");
    return -1;
}

static void
s_destroy (void *self)
{
    (void)self;
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "crash_on", s_init, s_run, NULL, s_destroy };
