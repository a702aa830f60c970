/*  results_worker.c - worker library of the results example: big results
    left on the cluster (README, "Results left on the cluster").

    Input (text), one of:
      "walk I STEPS"  walks STEPS steps of +1 or -1 from 0 (a random walk
                      seeded by I) and stores the positions, STEPS int32
                      values, as a block with pool_worker_block_put.  The
                      output is only the block's hash (POOL_HASH_SIZE
                      bytes): the walk itself stays on the cluster.
      "stats HEX"     reads the walk named by HEX (64 hex digits) with
                      pool_worker_block_get, on whichever worker runs it
                      (the worker's cache, or the store), and answers
                      "STEPS FARTHEST FINAL": the largest distance from 0
                      and the last position.
*/
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_worker.h"

static int s_self;

static void *
walk_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    (void)init_data;
    (void)ctx;
    return &s_self;
}

/* xorshift64: the same walk for the same seed on every machine. */
static uint64_t
next_random (uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static int
walk (uint64_t seed, size_t steps, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    int32_t *positions = malloc (steps * sizeof *positions);
    if (!positions) {
        pool_worker_error (ctx, "results: no memory for %zu steps", steps);
        return -1;
    }
    uint64_t state = 0x9E3779B97F4A7C15ULL * (seed + 1);
    int32_t at = 0;
    for (size_t i = 0; i < steps; i++) {
        at += (next_random (&state) >> 32) & 1 ? 1 : -1;
        positions[i] = at;
    }
    uint8_t hash[POOL_HASH_SIZE];
    /* Held for our client until it says pool_delete (or goes). */
    int rc = pool_worker_block_put (ctx, positions, steps * sizeof *positions, hash);
    free (positions);
    if (rc)
        return rc; /* the reason is set, e.g. the store is full */
    return pool_output_set (output, hash, sizeof hash);
}

static int
stats (const char *hex, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    uint8_t hash[POOL_HASH_SIZE];
    for (int i = 0; i < POOL_HASH_SIZE; i++) {
        unsigned byte;
        if (sscanf (hex + 2 * i, "%2x", &byte) != 1) {
            pool_worker_error (ctx, "results: bad hash '%s'", hex);
            return -1;
        }
        hash[i] = (uint8_t)byte;
    }
    pool_bytes_t block;
    int rc = pool_worker_block_get (ctx, hash, &block);
    if (rc)
        return rc;
    const int32_t *positions = block.data;
    size_t steps = block.size / sizeof *positions;
    int32_t farthest = 0;
    for (size_t i = 0; i < steps; i++) {
        int32_t distance = positions[i] < 0 ? -positions[i] : positions[i];
        if (distance > farthest)
            farthest = distance;
    }
    char text[96];
    int n = snprintf (text, sizeof text, "%zu %" PRId32 " %" PRId32, steps, farthest,
                      steps ? positions[steps - 1] : 0);
    return pool_output_set (output, text, (size_t)n);
}

static int
walk_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    (void)self;
    char text[160];
    if (input.size >= sizeof text) {
        pool_worker_error (ctx, "results: input too long");
        return -1;
    }
    memcpy (text, input.data, input.size);
    text[input.size] = 0;
    unsigned long long seed, steps;
    char hex[2 * POOL_HASH_SIZE + 1];
    if (sscanf (text, "walk %llu %llu", &seed, &steps) == 2 && steps > 0
        && steps <= (1ULL << 28))
        return walk (seed, (size_t)steps, output, ctx);
    if (sscanf (text, "stats %64s", hex) == 1 && strlen (hex) == 2 * POOL_HASH_SIZE)
        return stats (hex, output, ctx);
    pool_worker_error (ctx, "results: cannot read '%s'", text);
    return -1;
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "results", walk_init, walk_run, NULL, NULL };
