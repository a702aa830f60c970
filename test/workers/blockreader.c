/*  test/workers/blockreader.c - a worker that reads blocks and says where
    it ran, for the locality tests.

    Input, text:   "MS WHERE HEX..."  sleeps MS milliseconds, then reads
                   each block named by HEX (64 hex digits) with
                   pool_worker_block_get, when WHERE is "-" or the start
                   of its worker id (a node id: only that node's workers
                   read them).
    Output, text:  "<worker id> read" or "<worker id> skipped".
*/
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool_worker.h"

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    (void)init_data;
    (void)ctx;
    static int self;
    return &self;
}

static void
s_sleep_ms (long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep (&ts, &ts) && errno == EINTR)
        ;
}

/* Reads 64 hex digits at text into hash: 0, or -1. */
static int
s_hash (const char *text, uint8_t hash[POOL_HASH_SIZE])
{
    for (int i = 0; i < POOL_HASH_SIZE; i++) {
        unsigned byte;
        if (sscanf (text + 2 * i, "%2x", &byte) != 1)
            return -1;
        hash[i] = (uint8_t)byte;
    }
    return 0;
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    (void)self;
    char text[4096];
    if (input.size == 0 || input.size >= sizeof text) {
        pool_worker_error (ctx, "blockreader: cannot parse input");
        return -1;
    }
    memcpy (text, input.data, input.size);
    text[input.size] = 0;
    char *save = NULL;
    const char *ms = strtok_r (text, " ", &save);
    const char *where = strtok_r (NULL, " ", &save);
    if (!ms || !where) {
        pool_worker_error (ctx, "blockreader: want 'MS WHERE HEX...'");
        return -1;
    }
    s_sleep_ms (atol (ms));
    const char *id = pool_worker_id (ctx);
    bool here = strcmp (where, "-") == 0 || strncmp (id, where, strlen (where)) == 0;
    for (const char *hex; here && (hex = strtok_r (NULL, " ", &save));) {
        uint8_t hash[POOL_HASH_SIZE];
        pool_bytes_t block;
        if (strlen (hex) != 2 * POOL_HASH_SIZE || s_hash (hex, hash)) {
            pool_worker_error (ctx, "blockreader: bad hash '%s'", hex);
            return -1;
        }
        int rc = pool_worker_block_get (ctx, hash, &block);
        if (rc)
            return rc;
    }
    char out[256];
    int len = snprintf (out, sizeof out, "%s %s", id, here ? "read" : "skipped");
    return pool_output_set (output, out, (size_t)len);
}

static void
s_destroy (void *self)
{
    (void)self;
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "blockreader", s_init, s_run, NULL, s_destroy };
