/*  test/workers/echo_update.c - shows which updates a job saw.

    handle_update keeps the update's bytes (text) and appends them to the
    history of every update applied.  run ignores its input and returns
    "LAST|WORKER_ID|HISTORY": LAST the last update applied ("" before any),
    HISTORY every update applied, in order, joined by ','.
    The update "crash" makes handle_update die of SIGSEGV, every time; the
    update "refuse" makes it fail, every time: pool_worker_error
    "update refused: custom" and -1, the update not applied.
    Init data "count:PATH": init appends a line to PATH and takes 1 s (a
    slow load a test can count), as square does.
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pool_worker.h"
#include "segv.h"

typedef struct {
    char *last;
    char *history;
} echo_t;

/* "count:PATH": one line more in PATH, then 1 s; -1 when it cannot. */
static int
s_count_init (pool_bytes_t init_data)
{
    char path[512];
    if (init_data.size <= 6 || init_data.size - 6 >= sizeof path
        || memcmp (init_data.data, "count:", 6) != 0)
        return 0;
    memcpy (path, (const char *)init_data.data + 6, init_data.size - 6);
    path[init_data.size - 6] = 0;
    FILE *f = fopen (path, "a");
    if (!f)
        return -1;
    fprintf (f, "init %d\n", (int)getpid ());
    fclose (f);
    struct timespec ts = { 1, 0 };
    while (nanosleep (&ts, &ts) && errno == EINTR)
        ;
    return 0;
}

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    if (s_count_init (init_data)) {
        pool_worker_error (ctx, "echo_update: cannot append to the count file");
        return NULL;
    }
    echo_t *self = calloc (1, sizeof *self);
    if (self) {
        self->last = strdup ("");
        self->history = strdup ("");
    }
    if (!self || !self->last || !self->history) {
        pool_worker_error (ctx, "echo_update: out of memory");
        if (self) {
            free (self->last);
            free (self->history);
            free (self);
        }
        return NULL;
    }
    return self;
}

static int
s_update (void *self_, pool_bytes_t update, pool_worker_ctx_t *ctx)
{
    echo_t *self = self_;
    if (update.size == 5 && memcmp (update.data, "crash", 5) == 0)
        test_segv ();
    if (update.size == 6 && memcmp (update.data, "refuse", 6) == 0) {
        pool_worker_error (ctx, "update refused: custom");
        return -1;
    }
    char *last = malloc (update.size + 1);
    size_t hlen = strlen (self->history);
    char *history = malloc (hlen + update.size + 2);
    if (!last || !history) {
        free (last);
        free (history);
        pool_worker_error (ctx, "echo_update: out of memory");
        return -1;
    }
    if (update.size)
        memcpy (last, update.data, update.size);
    last[update.size] = 0;
    memcpy (history, self->history, hlen);
    size_t at = hlen;
    if (hlen)
        history[at++] = ',';
    memcpy (history + at, last, update.size + 1);
    free (self->last);
    free (self->history);
    self->last = last;
    self->history = history;
    return 0;
}

static int
s_run (void *self_, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    echo_t *self = self_;
    const char *id = pool_worker_id (ctx);
    size_t size = strlen (self->last) + strlen (id) + strlen (self->history) + 3;
    char *out = pool_output_alloc (output, size);
    if (!out)
        return -1;
    /* The output is exactly size bytes, no terminating NUL. */
    char *text = malloc (size + 1);
    if (!text)
        return -1;
    snprintf (text, size + 1, "%s|%s|%s", self->last, id, self->history);
    memcpy (out, text, size);
    free (text);
    return 0;
}

static void
s_destroy (void *self_)
{
    echo_t *self = self_;
    if (self) {
        free (self->last);
        free (self->history);
        free (self);
    }
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "echo_update", s_init, s_run, s_update, s_destroy };
