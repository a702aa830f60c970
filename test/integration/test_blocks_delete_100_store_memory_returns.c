/*  100 blocks of 100 KiB put, then deleted: with --block-grace 1 the
    store's memory (Redis INFO memory, used_memory) goes back down to
    about where it was, and no block key but the open pool's library and
    init data is left.  The pool's own blocks stay while it is open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_util.h"

#define BLOCKS 100
#define BLOCK_SIZE (100 * 1024)

static void
s_body (void)
{
    const char *grace[] = { "--block-grace", "1", NULL };
    h_proc_t *head = h_start_head_with (1, false, grace);
    pool_t *pool = h_open (head, "square", 1);
    H_CHECK (pool, "pool_open: %s", pool_open_error ());
    /* The pool's library and init data. */
    long long own = su_count_keys (head, "dcpool:block:*");
    H_CHECK (own == 2, "%lld block keys after pool_open, want 2", own);
    long long before = su_used_memory (head);

    static uint8_t hashes[BLOCKS][POOL_HASH_SIZE];
    uint8_t *bytes = malloc (BLOCK_SIZE);
    H_CHECK (bytes, "malloc");
    for (int i = 0; i < BLOCKS; i++) {
        for (size_t k = 0; k < BLOCK_SIZE; k++)
            bytes[k] = (uint8_t)(i * 131 + k * 7 + (k >> 9));
        pool_bytes_t block = { bytes, BLOCK_SIZE };
        int rc = pool_put (pool, block, hashes[i]);
        H_CHECK (rc == 0, "pool_put %d: %s", i, pool_last_error (pool));
    }
    free (bytes);
    long long full = su_used_memory (head);
    h_log ("used_memory %lld before, %lld with %d blocks", before, full, BLOCKS);
    H_CHECK (full - before >= (long long)BLOCKS * BLOCK_SIZE * 9 / 10,
             "the store grew by only %lld bytes", full - before);
    H_CHECK (su_count_keys (head, "dcpool:block:*") == BLOCKS + 2, "block keys");

    for (int i = 0; i < BLOCKS; i++) {
        int rc = pool_delete (pool, hashes[i]);
        H_CHECK (rc == 0, "pool_delete %d: %s", i, pool_last_error (pool));
    }
    long long left = su_wait_keys (head, "dcpool:block:*", 2, 30);
    H_CHECK (left == 2, "%lld block keys left after the grace, want the pool's 2", left);
    /* Freed memory shows at once in used_memory (jemalloc's own caches
       are not in it); a little slack for Redis' bookkeeping. */
    double deadline = h_now () + h_timeout (20);
    long long after;
    while ((after = su_used_memory (head)) > before + 1024 * 1024 && h_now () < deadline)
        usleep (100 * 1000);
    h_log ("used_memory %lld after the deletes", after);
    H_CHECK (after <= before + 1024 * 1024,
             "used_memory %lld after deleting, %lld before the puts", after, before);
    pool_close (&pool);
    left = su_wait_keys (head, "dcpool:block:*", 0, 30);
    H_CHECK (left == 0, "%lld block keys left after the pool closed", left);
}

int
main (void)
{
    return h_main ("test_blocks_delete_100_store_memory_returns", s_body);
}
