/*  Bad input to pool_delete gets a clear error and loses nothing: a hash
    never put, a block deleted twice, a NULL hash; and a block put twice is
    two references, so one delete keeps it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_util.h"

/* Deletes marker and waits until the sweep took it: every block released
   before it and still unheld is gone by then too. */
static void
s_sweep_past (h_proc_t *head, pool_t *pool, const char *text)
{
    uint8_t marker[POOL_HASH_SIZE];
    pool_bytes_t bytes = { text, strlen (text) };
    H_CHECK (pool_put (pool, bytes, marker) == 0, "put marker");
    H_CHECK (su_block_exists (head, marker), "the marker is not in the store");
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
    h_proc_t *head = h_start_head_with (1, false, grace);
    pool_t *pool = h_open (head, "square", 1);
    H_CHECK (pool, "pool_open: %s", pool_open_error ());

    uint8_t unknown[POOL_HASH_SIZE];
    memset (unknown, 0xab, sizeof unknown);
    int rc = pool_delete (pool, unknown);
    H_CHECK (rc == POOL_EINVAL, "delete of an unknown hash: %d", rc);
    H_CHECK (strstr (pool_last_error (pool), "not held by this client"),
             "the error says: %s", pool_last_error (pool));
    H_CHECK (pool_delete (pool, NULL) == POOL_EINVAL, "NULL hash");
    H_CHECK (pool_delete (NULL, unknown) == POOL_EINVAL, "NULL pool");

    uint8_t once[POOL_HASH_SIZE];
    pool_bytes_t bytes = { "deleted twice", 13 };
    H_CHECK (pool_put (pool, bytes, once) == 0, "put");
    H_CHECK (pool_delete (pool, once) == 0, "first delete: %s", pool_last_error (pool));
    rc = pool_delete (pool, once);
    H_CHECK (rc == POOL_EINVAL, "second delete: %d", rc);
    H_CHECK (strstr (pool_last_error (pool), "not held"), "the error says: %s",
             pool_last_error (pool));

    uint8_t twice[POOL_HASH_SIZE];
    pool_bytes_t kept = { "put twice", 9 };
    H_CHECK (pool_put (pool, kept, twice) == 0, "put 1");
    H_CHECK (pool_put (pool, kept, twice) == 0, "put 2");
    H_CHECK (pool_delete (pool, twice) == 0, "delete 1: %s", pool_last_error (pool));
    s_sweep_past (head, pool, "marker 1");
    H_CHECK (su_block_exists (head, twice), "a block put twice went after one delete");
    void *data = NULL;
    size_t size = 0;
    H_CHECK (pool_get (pool, twice, &data, &size) == 0 && size == 9
                 && memcmp (data, "put twice", 9) == 0,
             "pool_get of the block still referenced");
    free (data);
    H_CHECK (pool_delete (pool, twice) == 0, "delete 2: %s", pool_last_error (pool));
    s_sweep_past (head, pool, "marker 2");
    H_CHECK (!su_block_exists (head, twice), "the block stayed after its last delete");
    H_CHECK (!su_block_exists (head, once), "the block deleted twice stayed");
    /* The pool still works after all that. */
    pool_bytes_t input = { "7", 1 };
    pool_result_t result;
    H_CHECK (pool_map (pool, &input, 1, &result) == 0 && result.status == 0,
             "a map after the bad deletes");
    pool_results_release (pool, &result, 1);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_blocks_delete_bad_input", s_body);
}
