/*  test/workers/blocks.c - blocks put and read from inside jobs, for the
    block store's cap and the worker's block cache (issue 16).

    Init data: anything (ignored; the library-cache test sends megabytes).
    Input (text):
      "put SIZE SEED"  stores SIZE bytes made from SEED (blocks_fill below,
                       the same as the tests') with pool_worker_block_put;
                       output: the block's 32-byte hash.  A refused put
                       (the store full) is an error result with the
                       reason pool_worker_block_put gave.
      "get HEX"        reads the block named by HEX (64 hex digits) with
                       pool_worker_block_get; output: "SIZE SUM" (the sum
                       of its bytes).
    Anything else is an error result.
*/
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_worker.h"

static int s_self;

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    (void)init_data;
    (void)ctx;
    return &s_self;
}

/* Byte i of the block made from seed. */
static uint8_t
s_byte (unsigned seed, size_t i)
{
    return (uint8_t)(seed * 131u + i * 7u + (i >> 9));
}

static int
s_put (size_t size, unsigned seed, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    uint8_t *bytes = malloc (size ? size : 1);
    if (!bytes) {
        pool_worker_error (ctx, "blocks: out of memory");
        return -1;
    }
    for (size_t i = 0; i < size; i++)
        bytes[i] = s_byte (seed, i);
    uint8_t hash[POOL_HASH_SIZE];
    int rc = pool_worker_block_put (ctx, bytes, size, hash);
    free (bytes);
    if (rc)
        return rc; /* the reason is set */
    return pool_output_set (output, hash, sizeof hash);
}

static int
s_get (const char *hex, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    uint8_t hash[POOL_HASH_SIZE];
    for (int i = 0; i < POOL_HASH_SIZE; i++) {
        unsigned byte;
        if (sscanf (hex + 2 * i, "%2x", &byte) != 1) {
            pool_worker_error (ctx, "blocks: bad hash '%s'", hex);
            return -1;
        }
        hash[i] = (uint8_t)byte;
    }
    pool_bytes_t block;
    int rc = pool_worker_block_get (ctx, hash, &block);
    if (rc)
        return rc;
    uint64_t sum = 0;
    for (size_t i = 0; i < block.size; i++)
        sum += ((const uint8_t *)block.data)[i];
    char text[64];
    int n = snprintf (text, sizeof text, "%zu %" PRIu64, block.size, sum);
    return pool_output_set (output, text, (size_t)n);
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    (void)self;
    char text[160];
    if (input.size >= sizeof text) {
        pool_worker_error (ctx, "blocks: input too long");
        return -1;
    }
    memcpy (text, input.data, input.size);
    text[input.size] = 0;
    unsigned long long size;
    unsigned seed;
    char hex[2 * POOL_HASH_SIZE + 1];
    if (sscanf (text, "put %llu %u", &size, &seed) == 2)
        return s_put ((size_t)size, seed, output, ctx);
    if (sscanf (text, "get %64s", hex) == 1 && strlen (hex) == 2 * POOL_HASH_SIZE)
        return s_get (hex, output, ctx);
    pool_worker_error (ctx, "blocks: unknown input '%s'", text);
    return -1;
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "blocks", s_init, s_run, NULL, NULL };
