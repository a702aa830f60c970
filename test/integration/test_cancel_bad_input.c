/*  Bad input to the cancellation calls: pool_iter_cancel (NULL) and
    pool_cancel_all (NULL) are POOL_EINVAL; cancelling an iterator twice
    is POOL_EINVAL with a message (pool_last_error); cancelling a finished
    iterator, or all of a pool with nothing running, is 0; an iterator
    cancelled and destroyed without being drained leaks nothing; the pool
    maps right after all of it.
*/
#include <stdio.h>
#include <string.h>

#include "cancel_util.h"

static void
s_body (void)
{
    H_CHECK (pool_iter_cancel (NULL) == POOL_EINVAL, "pool_iter_cancel (NULL)");
    H_CHECK (pool_cancel_all (NULL) == POOL_EINVAL, "pool_cancel_all (NULL)");

    h_proc_t *head = h_start_head (1, false);
    const char *dir = cu_dir ("markers");
    pool_t *pool = cu_open (head, dir, 0.5, 3, 1);
    H_CHECK (pool_cancel_all (pool) == 0, "pool_cancel_all with nothing running: %s",
             pool_last_error (pool));

    /* Twice. */
    pool_bytes_t *inputs = cu_inputs (50, "1000c");
    pool_iter_t *iter = NULL;
    int rc = pool_imap (pool, inputs, 50, &iter);
    H_CHECK (rc == 0, "pool_imap: %s", pool_strerror (rc));
    rc = pool_iter_cancel (iter);
    H_CHECK (rc == 0, "pool_iter_cancel: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    rc = pool_iter_cancel (iter);
    H_CHECK (rc == POOL_EINVAL, "second pool_iter_cancel: %d, want POOL_EINVAL", rc);
    H_CHECK (strstr (pool_last_error (pool), "cancelled already"),
             "second pool_iter_cancel: message '%s'", pool_last_error (pool));
    h_log ("cancelled twice: %s", pool_last_error (pool));
    cu_drain_cancelled (iter, 50, "1000c", NULL, 0);
    pool_iter_destroy (&iter);

    /* Destroyed without being drained; then all of the pool, by
       pool_cancel_all, on a live iterator. */
    rc = pool_imap_unordered (pool, inputs, 50, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    H_CHECK (pool_iter_cancel (iter) == 0, "pool_iter_cancel: %s",
             pool_last_error (pool));
    pool_iter_destroy (&iter);
    rc = pool_imap_unordered (pool, inputs, 50, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    H_CHECK (pool_cancel_all (pool) == 0, "pool_cancel_all: %s", pool_last_error (pool));
    cu_drain_cancelled (iter, 50, "1000c", NULL, 0);
    H_CHECK (pool_iter_cancel (iter) == POOL_EINVAL,
             "pool_iter_cancel after pool_cancel_all");
    pool_iter_destroy (&iter);

    /* A finished iterator: nothing to stop. */
    pool_bytes_t *quick = cu_inputs (5, "0");
    rc = pool_imap (pool, quick, 5, &iter);
    H_CHECK (rc == 0, "pool_imap: %s", pool_strerror (rc));
    pool_result_t result;
    size_t got = 0;
    while ((rc = pool_iter_next (iter, &result)) == 1)
        got += result.status == 0;
    H_CHECK (rc == 0 && got == 5, "quick iterator: rc %d, %zu values", rc, got);
    H_CHECK (pool_iter_cancel (iter) == 0, "pool_iter_cancel of a finished iterator");
    pool_iter_destroy (&iter);

    cu_map_right (pool, 20, 0);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_cancel_bad_input", s_body);
}
