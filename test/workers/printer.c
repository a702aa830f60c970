/*  test/workers/printer.c - a worker that writes on stdout and stderr, for
    the tests of output forwarding.

    Init data, text: TAG (the pool's name in the tests).  init writes
    "TAG init out" on stdout and "TAG init err" on stderr.
    handle_update writes "TAG update out U" and "TAG update err U", U the
    update's bytes.
    Input, text:
      "N"          the run writes N lines "TAG run out I" on stdout and as
                   many "TAG run err I" on stderr, I from 0, and returns
                   the input;
      "flood:N"    the run writes N bytes of 'x' on stdout without a single
                   newline, then returns "flooded".
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_worker.h"

typedef struct {
    char tag[64];
} printer_t;

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    printer_t *self = calloc (1, sizeof *self);
    if (!self) {
        pool_worker_error (ctx, "printer: out of memory");
        return NULL;
    }
    size_t size
        = init_data.size < sizeof self->tag ? init_data.size : sizeof self->tag - 1;
    memcpy (self->tag, init_data.data, size);
    printf ("%s init out\n", self->tag);
    fprintf (stderr, "%s init err\n", self->tag);
    fflush (stdout);
    return self;
}

static int
s_update (void *self_, pool_bytes_t update, pool_worker_ctx_t *ctx)
{
    printer_t *self = self_;
    printf ("%s update out %.*s\n", self->tag, (int)update.size,
            (const char *)update.data);
    fprintf (stderr, "%s update err %.*s\n", self->tag, (int)update.size,
             (const char *)update.data);
    fflush (stdout);
    return 0;
}

static int
s_flood (long bytes)
{
    static char block[65536];
    memset (block, 'x', sizeof block);
    for (long left = bytes; left > 0;) {
        size_t n = left < (long)sizeof block ? (size_t)left : sizeof block;
        if (fwrite (block, 1, n, stdout) != n)
            return -1;
        left -= (long)n;
    }
    return fflush (stdout);
}

static int
s_run (void *self_, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    printer_t *self = self_;
    char text[64];
    if (input.size == 0 || input.size >= sizeof text) {
        pool_worker_error (ctx, "printer: want N or flood:N");
        return -1;
    }
    memcpy (text, input.data, input.size);
    text[input.size] = 0;
    if (strncmp (text, "flood:", 6) == 0) {
        if (s_flood (strtol (text + 6, NULL, 10))) {
            pool_worker_error (ctx, "printer: cannot write the flood");
            return -1;
        }
        return pool_output_set (output, "flooded", 7);
    }
    long lines = strtol (text, NULL, 10);
    for (long i = 0; i < lines; i++) {
        printf ("%s run out %ld\n", self->tag, i);
        fprintf (stderr, "%s run err %ld\n", self->tag, i);
    }
    fflush (stdout);
    return pool_output_set (output, input.data, input.size);
}

static void
s_destroy (void *self)
{
    free (self);
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "printer", s_init, s_run, s_update, s_destroy };
