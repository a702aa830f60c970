/*  test/workers/crash_on.c - a worker that crashes on one input.

    Init data, text:  "K:segv" or "K:abort" (K a decimal int64): the run
                      for input K dereferences NULL (signal 11) or calls
                      abort() (signal 6), on every attempt.
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
    int abort_it; /* 1: abort(), 0: write through NULL */
} s_self_t;

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    static s_self_t self;
    char text [64];
    if (init_data.size == 0 || init_data.size >= sizeof text) {
        pool_worker_error (ctx, "crash_on: init data is \"K:segv\" or \"K:abort\"");
        return NULL;
    }
    memcpy (text, init_data.data, init_data.size);
    text [init_data.size] = 0;
    char *end = NULL;
    errno = 0;
    self.k = strtoll (text, &end, 10);
    if (errno || end == text || (strcmp (end, ":segv") && strcmp (end, ":abort"))) {
        pool_worker_error (ctx, "crash_on: cannot parse init data '%s'", text);
        return NULL;
    }
    self.abort_it = strcmp (end, ":abort") == 0;
    return &self;
}

static int
s_run (void *self_, pool_bytes_t input, pool_output_t *output,
       pool_worker_ctx_t *ctx)
{
    s_self_t *self = self_;
    char text [64];
    if (input.size == 0 || input.size >= sizeof text)
        goto bad;
    memcpy (text, input.data, input.size);
    text [input.size] = 0;
    char *end = NULL;
    errno = 0;
    long long n = strtoll (text, &end, 10);
    if (errno || end == text || *end)
        goto bad;
    if (n == self->k) {
        if (self->abort_it)
            abort ();
        test_segv ();
    }
    char out [32];
    int len = snprintf (out, sizeof out, "%" PRId64,
                        (int64_t) ((uint64_t) n * (uint64_t) n + 1));
    return pool_output_set (output, out, (size_t) len);
bad:
    pool_worker_error (ctx, "crash_on: cannot parse input");
    return -1;
}

static void
s_destroy (void *self)
{
    (void) self;
}

const pool_worker_class_t pool_worker = {
    POOL_WORKER_ABI, "crash_on", s_init, s_run, NULL, s_destroy
};
