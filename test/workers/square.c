/*  test/workers/square.c - a pure function the tests can check locally.

    Input, text:   "N[@][sMS]"  N a decimal int64 (may be negative);
                   "@" asks for the worker id in the output;
                   "sMS" makes the run sleep MS milliseconds first (for tests
                   that need a map to last while something else happens).
    Output, text:  "R" or "R@WORKER_ID", R = N * N + 1 in wrapping
                   uint64 arithmetic, printed as an int64.
    Input, binary: 'b' then 8 bytes little-endian int64 N.
    Output:        8 bytes little-endian, N * N + 1 (same arithmetic).
    Anything else is an error result "square: cannot parse input".

    Init data "count:PATH": init appends a line to PATH (one per init, so a
    test counts how often the pool was loaded) and takes 1 s, like a model
    that is slow to load.

    Other init data, when given, is the path of a gate file: init first creates
    "GATE.loading.PID" (so a test sees the worker is loading), then waits
    until GATE exists (at most 60 s).  Tests use it to hold workers in
    the loading state while something else happens.
*/
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pool_worker.h"

static int64_t
s_square (int64_t n)
{
    return (int64_t)((uint64_t)n * (uint64_t)n + 1);
}

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    static int dummy;
    if (init_data.size > 6 && memcmp (init_data.data, "count:", 6) == 0) {
        char path[512];
        if (init_data.size - 6 >= sizeof path) {
            pool_worker_error (ctx, "square: count path too long");
            return NULL;
        }
        memcpy (path, (const char *)init_data.data + 6, init_data.size - 6);
        path[init_data.size - 6] = 0;
        FILE *f = fopen (path, "a");
        if (!f) {
            pool_worker_error (ctx, "square: cannot append to the count file");
            return NULL;
        }
        fprintf (f, "init %d\n", (int)getpid ());
        fclose (f);
        struct timespec ts = { 1, 0 };
        while (nanosleep (&ts, &ts) && errno == EINTR)
            ;
        return &dummy;
    }
    if (init_data.size > 0) {
        char gate[512], marker[600];
        if (init_data.size >= sizeof gate) {
            pool_worker_error (ctx, "square: gate path too long");
            return NULL;
        }
        memcpy (gate, init_data.data, init_data.size);
        gate[init_data.size] = 0;
        snprintf (marker, sizeof marker, "%s.loading.%d", gate, (int)getpid ());
        FILE *f = fopen (marker, "w");
        if (f)
            fclose (f);
        for (int i = 0; i < 6000 && access (gate, F_OK) != 0; i++) {
            struct timespec ts = { 0, 10 * 1000000L };
            nanosleep (&ts, NULL);
        }
    }
    return &dummy;
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    const uint8_t *in = input.data;
    if (input.size == 9 && in[0] == 'b') {
        uint64_t n = 0;
        for (int i = 8; i >= 1; i--)
            n = (n << 8) | in[i];
        uint64_t r = (uint64_t)s_square ((int64_t)n);
        uint8_t *out = pool_output_alloc (output, 8);
        if (!out)
            return -1;
        for (int i = 0; i < 8; i++)
            out[i] = (uint8_t)(r >> (8 * i));
        return 0;
    }
    char text[64];
    if (input.size == 0 || input.size >= sizeof text)
        goto bad;
    memcpy (text, in, input.size);
    text[input.size] = 0;
    char *end = NULL;
    errno = 0;
    long long n = strtoll (text, &end, 10);
    if (errno || end == text)
        goto bad;
    int want_id = 0;
    long sleep_ms = 0;
    if (*end == '@') {
        want_id = 1;
        end++;
    }
    if (*end == 's') {
        char *after = NULL;
        sleep_ms = strtol (end + 1, &after, 10);
        if (after == end + 1 || sleep_ms < 0 || sleep_ms > 10000)
            goto bad;
        end = after;
    }
    if (*end)
        goto bad;
    if (sleep_ms > 0) {
        struct timespec ts = { sleep_ms / 1000, (sleep_ms % 1000) * 1000000L };
        while (nanosleep (&ts, &ts) && errno == EINTR)
            ;
    }
    char out[160];
    int len = want_id ? snprintf (out, sizeof out, "%" PRId64 "@%s", s_square (n),
                                  pool_worker_id (ctx))
                      : snprintf (out, sizeof out, "%" PRId64, s_square (n));
    return pool_output_set (output, out, (size_t)len);
bad:
    pool_worker_error (ctx, "square: cannot parse input");
    return -1;
}

static void
s_destroy (void *self)
{
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "square", s_init, s_run, NULL, s_destroy };
