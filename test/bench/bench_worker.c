/*  test/bench/bench_worker.c - the worker library of the dcpool benchmarks.

    The pool's init data picks what every run does (text, NUL not needed):

      "noop"            return the input unchanged (the no-op map, the round
                        trip and the 64 MiB echo: the output is the input)
      "spin:US"         busy-wait US microseconds of wall-clock time, then
                        return the input (the 1 ms-job map: "spin:1000")
      "spinlog:US"      the same, returning the input followed by the
                        job's start and end (CLOCK_MONOTONIC ns, u64 each)
                        and the worker's pid (u64): bench_pool's
                        ms_timeline
      "mark:DIR:US"     the recovery measure: the input is an 8-byte job
                        index; the first worker to start a job creates
                        DIR/<index> holding its worker id (O_EXCL, so a
                        re-run leaves it alone), sleeps US microseconds and
                        returns its worker id
      anything else     init fails

    An update "mark:DIR" (any mode) makes the worker write DIR/<pid>
    holding the CLOCK_MONOTONIC nanoseconds at which it applied it: the
    scale benchmark's time for an update to reach every worker.

    Links against nothing of dcpool's (pool_output_* and pool_worker_* come
    from pool-worker).
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

enum { MODE_NOOP, MODE_SPIN, MODE_SPINLOG, MODE_MARK };

typedef struct {
    int mode;
    long us;
    char dir[512];
} bench_t;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    char text[600];
    if (init_data.size == 0 || init_data.size >= sizeof text) {
        pool_worker_error (ctx, "bench_worker: init data must name a mode");
        return NULL;
    }
    memcpy (text, init_data.data, init_data.size);
    text[init_data.size] = 0;

    bench_t *self = calloc (1, sizeof *self);
    if (!self) {
        pool_worker_error (ctx, "bench_worker: out of memory");
        return NULL;
    }
    if (strcmp (text, "noop") == 0)
        self->mode = MODE_NOOP;
    else if (strncmp (text, "spin:", 5) == 0) {
        self->mode = MODE_SPIN;
        self->us = strtol (text + 5, NULL, 10);
    } else if (strncmp (text, "spinlog:", 8) == 0) {
        self->mode = MODE_SPINLOG;
        self->us = strtol (text + 8, NULL, 10);
    } else if (strncmp (text, "mark:", 5) == 0) {
        char *colon = strrchr (text + 5, ':');
        if (!colon || (size_t)(colon - (text + 5)) >= sizeof self->dir) {
            pool_worker_error (ctx, "bench_worker: mark:DIR:US expected");
            free (self);
            return NULL;
        }
        self->mode = MODE_MARK;
        memcpy (self->dir, text + 5, colon - (text + 5));
        self->us = strtol (colon + 1, NULL, 10);
    } else {
        pool_worker_error (ctx, "bench_worker: unknown mode '%s'", text);
        free (self);
        return NULL;
    }
    return self;
}

static int
s_run (void *self_, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    bench_t *self = self_;
    if (self->mode == MODE_NOOP)
        return pool_output_set (output, input.data, input.size);

    if (self->mode == MODE_SPIN) {
        double until = s_now () + self->us * 1e-6;
        while (s_now () < until)
            ;
        return pool_output_set (output, input.data, input.size);
    }

    if (self->mode == MODE_SPINLOG) {
        uint64_t out[4] = { 0 };
        if (input.size != sizeof out[0]) {
            pool_worker_error (ctx, "bench_worker: spinlog wants an 8-byte input");
            return -1;
        }
        memcpy (&out[0], input.data, sizeof out[0]);
        double start = s_now (), until = start + self->us * 1e-6, end;
        while ((end = s_now ()) < until)
            ;
        out[1] = (uint64_t)(start * 1e9);
        out[2] = (uint64_t)(end * 1e9);
        out[3] = (uint64_t)getpid ();
        return pool_output_set (output, out, sizeof out);
    }

    /* MODE_MARK */
    uint64_t index = 0;
    if (input.size != sizeof index) {
        pool_worker_error (ctx, "bench_worker: mark wants an 8-byte index");
        return -1;
    }
    memcpy (&index, input.data, sizeof index);
    const char *id = pool_worker_id (ctx);
    char path[600];
    snprintf (path, sizeof path, "%s/%" PRIu64, self->dir, index);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
        ssize_t rc = write (fd, id, strlen (id));
        (void)rc;
        close (fd);
    }
    struct timespec ts = { self->us / 1000000, (self->us % 1000000) * 1000 };
    while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
        ;
    return pool_output_set (output, id, strlen (id));
}

static int
s_update (void *self, pool_bytes_t update, pool_worker_ctx_t *ctx)
{
    (void)self;
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    char dir[520];
    if (update.size < 5 || update.size - 5 >= sizeof dir
        || memcmp (update.data, "mark:", 5) != 0)
        return 0; /* other updates: nothing to record */
    memcpy (dir, (const char *)update.data + 5, update.size - 5);
    dir[update.size - 5] = 0;
    char path[600], text[32];
    snprintf (path, sizeof path, "%s/%ld", dir, (long)getpid ());
    int len = snprintf (text, sizeof text, "%lld",
                        (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        pool_worker_error (ctx, "bench_worker: cannot write %s", path);
        return -1;
    }
    ssize_t rc = write (fd, text, (size_t)len);
    close (fd);
    return rc == len ? 0 : -1;
}

static void
s_destroy (void *self)
{
    free (self);
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "bench", s_init, s_run, s_update, s_destroy };
