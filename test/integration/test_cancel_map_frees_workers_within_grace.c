/*  pool_iter_cancel in the middle of an iterator of 1,000 jobs of 1 s on
    2 workers: both workers are free again within the grace + 0.5 s (a
    map of two jobs that can only finish when both run at once finishes
    within that bound of the cancel, measured with the real clock); the
    iterator yields each index exactly once (done: status 0; the rest
    POOL_ECANCELED); the next map on the same pool gets every result
    right.
*/
#include <stdio.h>
#include <string.h>

#include "cancel_util.h"

enum { N = 1000, WORKERS = 2 };
#define GRACE 1.0

static void
s_body (void)
{
    h_proc_t *head = h_start_head (WORKERS, false);
    const char *dir = cu_dir ("markers");
    pool_t *pool = cu_open (head, dir, GRACE, 3, WORKERS);

    /* Jobs of 1 s that look at pool_worker_cancelled every 10 ms. */
    pool_bytes_t *inputs = cu_inputs (N, "1000c");
    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, inputs, N, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    /* Both workers run jobs: the first two results are in, and two more
       jobs have started. */
    size_t taken[2];
    for (int k = 0; k < 2; k++) {
        pool_result_t result;
        rc = pool_iter_next (iter, &result);
        H_CHECK (rc == 1, "pool_iter_next: %d (%s)", rc, pool_strerror (rc));
        H_CHECK (result.status == 0, "result %d: status %d", k, result.status);
        taken[k] = result.index;
    }
    cu_wait_files (dir, "run-", 4, 30);

    double cancelled_at = h_now ();
    rc = pool_iter_cancel (iter);
    H_CHECK (rc == 0, "pool_iter_cancel: %s: %s", pool_strerror (rc),
             pool_last_error (pool));

    /* Both workers free: a barrier of two jobs ends only when both run. */
    pool_bytes_t barrier[2] = { { "bfree", 5 }, { "bfree", 5 } };
    pool_result_t results[2];
    rc = pool_map (pool, barrier, 2, results);
    double took = h_now () - cancelled_at;
    H_CHECK (rc == 0, "barrier map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (int k = 0; k < 2; k++)
        H_CHECK (results[k].status == 0, "barrier job %d: status %d (%s)", k,
                 results[k].status, results[k].error ? results[k].error : "");
    H_CHECK (cu_pid_of (&results[0]) != cu_pid_of (&results[1]),
             "both barrier jobs ran in process %d", (int)cu_pid_of (&results[0]));
    pool_results_release (pool, results, 2);
    h_log ("both workers free %.3f s after the cancel (grace %.1f s)", took, GRACE);
    H_CHECK (took <= h_timeout (GRACE + 0.5),
             "both workers were free only %.3f s after the cancel", took);

    /* Each index exactly once: the two taken, then the rest. */
    size_t done = cu_drain_cancelled (iter, N, "1000c", taken, 2);
    h_log ("after the cancel: %zu more done, %zu cancelled", done, N - 2 - done);
    H_CHECK (done < 20, "%zu jobs of 1 s finished after the cancel", done);
    pool_iter_destroy (&iter);

    cu_map_right (pool, 200, 0);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_cancel_map_frees_workers_within_grace", s_body);
}
