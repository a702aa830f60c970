/*  test/workers/tally.c - a worker that counts how often each input ran.

    Every run of input N leaves a file DIR/N.K, K = 1 for the first run of
    N, 2 for the second, ... (created with O_EXCL, so concurrent runs on
    several workers still get distinct K).  Tests read K from the output
    (a result from a repeated run) and count the files afterwards (runs
    whose result was dropped, because their worker died or a copy won).

    Init data:     the path of an existing directory (DIR).
    Input, text:   "N[sMS]": "sMS" sleeps MS milliseconds after the file is
                   made (so the run is on record while it sleeps).
    Output, text:  "R#K@WORKER_ID", R = N * N + 1 in wrapping uint64
                   arithmetic printed as an int64 (as square).
*/
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pool_worker.h"

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    static char dir[512];
    if (init_data.size == 0 || init_data.size >= sizeof dir) {
        pool_worker_error (ctx, "tally: init data is a directory path");
        return NULL;
    }
    memcpy (dir, init_data.data, init_data.size);
    dir[init_data.size] = 0;
    if (access (dir, W_OK)) {
        pool_worker_error (ctx, "tally: %s: %s", dir, strerror (errno));
        return NULL;
    }
    return dir;
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    const char *dir = self;
    char text[64];
    if (input.size == 0 || input.size >= sizeof text)
        goto bad;
    memcpy (text, input.data, input.size);
    text[input.size] = 0;
    char *end = NULL;
    errno = 0;
    long long n = strtoll (text, &end, 10);
    if (errno || end == text)
        goto bad;
    long sleep_ms = 0;
    if (*end == 's') {
        char *after = NULL;
        sleep_ms = strtol (end + 1, &after, 10);
        if (after == end + 1 || sleep_ms < 0 || sleep_ms > 60000)
            goto bad;
        end = after;
    }
    if (*end)
        goto bad;
    int run = 0;
    for (int k = 1; k < 1000 && !run; k++) {
        char marker[600];
        snprintf (marker, sizeof marker, "%s/%lld.%d", dir, n, k);
        int fd = open (marker, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd >= 0) {
            close (fd);
            run = k;
        } else if (errno != EEXIST) {
            pool_worker_error (ctx, "tally: %s: %s", marker, strerror (errno));
            return -1;
        }
    }
    if (sleep_ms > 0) {
        /* The whole time even when a signal (SIGTERM: drain) comes. */
        struct timespec ts = { sleep_ms / 1000, (sleep_ms % 1000) * 1000000L };
        while (nanosleep (&ts, &ts) && errno == EINTR)
            ;
    }
    char out[200];
    int len
        = snprintf (out, sizeof out, "%" PRId64 "#%d@%s",
                    (int64_t)((uint64_t)n * (uint64_t)n + 1), run, pool_worker_id (ctx));
    return pool_output_set (output, out, (size_t)len);
bad:
    pool_worker_error (ctx, "tally: cannot parse input");
    return -1;
}

static void
s_destroy (void *self)
{
    (void)self;
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "tally", s_init, s_run, NULL, s_destroy };
