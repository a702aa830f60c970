/*  A block two clients put stays while the second still holds it after
    the first deleted it; the library and init data of an open pool stay
    while a pool using them is open, and go once the last closes.  "Stays"
    is checked after the sweep took a block released later (a marker), so
    no fixed wait is needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_util.h"

/* Puts and deletes a marker, and waits until the sweep took it. */
static void
s_sweep_past (h_proc_t *head, pool_t *pool, const char *text)
{
    uint8_t marker[POOL_HASH_SIZE];
    pool_bytes_t bytes = { text, strlen (text) };
    H_CHECK (pool_put (pool, bytes, marker) == 0, "put marker");
    H_CHECK (pool_delete (pool, marker) == 0, "delete marker: %s",
             pool_last_error (pool));
    double deadline = h_now () + h_timeout (20);
    while (su_block_exists (head, marker) && h_now () < deadline)
        usleep (50 * 1000);
    H_CHECK (!su_block_exists (head, marker), "the marker was not deleted");
}

static void
s_body (void)
{
    const char *grace[] = { "--block-grace", "1", NULL };
    h_proc_t *head = h_start_head_with (2, false, grace);
    pool_t *first = h_open (head, "square", 1);
    H_CHECK (first, "pool_open 1: %s", pool_open_error ());
    pool_t *second = h_open (head, "square", 1);
    H_CHECK (second, "pool_open 2: %s", pool_open_error ());
    /* One library and one init data, held by both pools. */
    H_CHECK (su_count_keys (head, "dcpool:block:*") == 2, "the pools' blocks");

    uint8_t shared[POOL_HASH_SIZE], again[POOL_HASH_SIZE];
    pool_bytes_t bytes = { "held by two clients", 19 };
    H_CHECK (pool_put (first, bytes, shared) == 0, "put 1: %s", pool_last_error (first));
    H_CHECK (pool_put (second, bytes, again) == 0, "put 2: %s", pool_last_error (second));
    H_CHECK (memcmp (shared, again, POOL_HASH_SIZE) == 0, "the same bytes, two hashes");
    H_CHECK (pool_delete (first, shared) == 0, "delete 1: %s", pool_last_error (first));
    int rc = pool_delete (first, shared);
    H_CHECK (rc == POOL_EINVAL, "the first client deleted it again: %d", rc);
    s_sweep_past (head, first, "marker 1");
    H_CHECK (su_block_exists (head, shared),
             "the block went while the second client still held it");
    void *data = NULL;
    size_t size = 0;
    H_CHECK (pool_get (first, shared, &data, &size) == 0 && size == 19,
             "the first client cannot read it any more: %s", pool_last_error (first));
    free (data);

    H_CHECK (pool_delete (second, shared) == 0, "delete 2: %s", pool_last_error (second));
    s_sweep_past (head, second, "marker 2");
    H_CHECK (!su_block_exists (head, shared), "the block stayed after its last holder");

    /* The first pool closes: the second still uses the same library. */
    pool_close (&first);
    s_sweep_past (head, second, "marker 3");
    long long own = su_count_keys (head, "dcpool:block:*");
    H_CHECK (own == 2, "%lld block keys while a pool uses them, want 2", own);
    pool_bytes_t input = { "9", 1 };
    pool_result_t result;
    H_CHECK (pool_map (second, &input, 1, &result) == 0 && h_is_square (&result, 9),
             "a map on the pool still open");
    pool_results_release (second, &result, 1);
    pool_close (&second);
    long long left = su_wait_keys (head, "dcpool:block:*", 0, 30);
    H_CHECK (left == 0, "%lld block keys after the last pool closed", left);
}

int
main (void)
{
    return h_main ("test_blocks_held_by_another_client_or_open_pool_stay", s_body);
}
