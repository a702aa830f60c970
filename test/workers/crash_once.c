/*  test/workers/crash_once.c - a worker that crashes on the first attempt
    of some inputs only.

    A worker library cannot see the attempt number, so the first attempt
    leaves a trace: a marker file per input in a directory.

    Init data:     the path of an existing directory (DIR).
    Input, text:   "N" or "N!".  For "N!" the first run creates DIR/N
                   (O_EXCL) and then dereferences NULL (signal 11); any
                   later run, which finds DIR/N, returns the value.
    Output, text:  "R", R = N * N + 1 in wrapping uint64 arithmetic,
                   printed as an int64 (as square).
*/
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool_worker.h"
#include "segv.h"

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    static char dir[512];
    if (init_data.size == 0 || init_data.size >= sizeof dir) {
        pool_worker_error (ctx, "crash_once: init data is a directory path");
        return NULL;
    }
    memcpy (dir, init_data.data, init_data.size);
    dir[init_data.size] = 0;
    if (access (dir, W_OK)) {
        pool_worker_error (ctx, "crash_once: %s: %s", dir, strerror (errno));
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
    if (errno || end == text || (*end && strcmp (end, "!")))
        goto bad;
    if (*end == '!') {
        char marker[600];
        snprintf (marker, sizeof marker, "%s/%lld", dir, n);
        int fd = open (marker, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd >= 0) {
            /* First attempt: the marker is on disk before we die. */
            close (fd);
            test_segv ();
        }
        if (errno != EEXIST) {
            pool_worker_error (ctx, "crash_once: %s: %s", marker, strerror (errno));
            return -1;
        }
    }
    char out[32];
    int len = snprintf (out, sizeof out, "%" PRId64,
                        (int64_t)((uint64_t)n * (uint64_t)n + 1));
    return pool_output_set (output, out, (size_t)len);
bad:
    pool_worker_error (ctx, "crash_once: cannot parse input");
    return -1;
}

static void
s_destroy (void *self)
{
    (void)self;
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "crash_once", s_init, s_run, NULL, s_destroy };
