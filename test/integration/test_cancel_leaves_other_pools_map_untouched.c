/*  Cancelling one pool's iterator, whose runs ignore the cancellation and
    are killed after the grace, leaves another client's map, running at
    the same time on the same workers (one each; the killed worker's
    replacement goes to the other pool), untouched: all its results status 0
    and exactly once.  Both pools have max_attempts = 1, so a job of the
    other pool charged for the kills would come back POOL_ECRASHED.
*/
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cancel_util.h"

enum { WORKERS = 2, OTHER = 400, MINE = 20, QUICK = 2 };

static const h_proc_t *s_head;
static const char *s_dir;

/* The other client: a map of OTHER jobs of 20 ms, each right, once. */
static int
s_other (void *arg)
{
    (void)arg;
    pool_t *pool = cu_open (s_head, s_dir, 0.5, 1, 1);
    pool_bytes_t *inputs = cu_inputs (OTHER, "20c");
    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, inputs, OTHER, &iter);
    H_CHECK (rc == 0, "other: pool_imap_unordered: %s", pool_strerror (rc));
    fu_once_t once;
    fu_once_init (&once, OTHER);
    pool_result_t result;
    while ((rc = pool_iter_next (iter, &result)) == 1) {
        fu_once_add (&once, &result);
        H_CHECK (result.status == 0, "other: input %zu: status %d (%s): %s", result.index,
                 result.status, pool_strerror (result.status),
                 result.error ? result.error : "");
        H_CHECK (result.value.size > 4 && memcmp (result.value.data, "20c@", 4) == 0,
                 "other: input %zu: '%.*s'", result.index, (int)result.value.size,
                 (const char *)result.value.data);
    }
    H_CHECK (rc == 0, "other: pool_iter_next: %s", pool_strerror (rc));
    fu_once_check (&once);
    pool_iter_destroy (&iter);
    pool_close (&pool);
    return 0;
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (WORKERS, false);
    s_head = head;
    s_dir = cu_dir ("markers");
    /* The other client's map runs first, on both workers; mine comes and
       takes its share. */
    pid_t other = h_fork (s_other, NULL);
    cu_wait_files (s_dir, "-20c", 1, 60);
    pool_t *pool = cu_open (head, s_dir, 0.5, 1, 1);

    /* Mine: runs of 60 s that ignore the cancellation, after 2 quick ones
       (the first result comes at once; a worker sends its results when
       its queue is empty).  My worker runs one of 60 s then. */
    pool_bytes_t *inputs = cu_inputs (MINE, "60000");
    for (int k = 0; k < QUICK; k++)
        inputs[k] = (pool_bytes_t){ "0", 1 };
    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, inputs, MINE, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    pool_result_t result;
    rc = pool_iter_next (iter, &result);
    H_CHECK (rc == 1 && result.status == 0, "first result: %d", rc);
    size_t taken = result.index;
    cu_wait_files (s_dir, "-60000", 1, 30);
    H_CHECK (cu_count (s_dir, "-20c") < OTHER, "the other map is over already");

    rc = pool_iter_cancel (iter);
    H_CHECK (rc == 0, "pool_iter_cancel: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    size_t done = cu_drain_cancelled (iter, MINE, NULL, &taken, 1);
    H_CHECK (done < QUICK, "%zu values after the cancel: runs of 60 s gave some", done);
    pool_iter_destroy (&iter);

    int code = h_wait (other, h_timeout (90));
    H_CHECK (code == 0, "the other client's map failed (exit %d)", code);
    char log[400];
    snprintf (log, sizeof log, "%s/head.stderr", h_tmpdir ());
    H_CHECK (h_file_has (log, "was cancelled and still runs after the grace"),
             "no worker was killed for running on after the cancel");
    cu_map_right (pool, 20, 0);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_cancel_leaves_other_pools_map_untouched", s_body);
}
