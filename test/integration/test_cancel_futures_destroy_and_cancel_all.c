/*  Cancelling futures, as Ray's ray.cancel and Dask's future.cancel do:
    - pool_future_cancel of a running future gives it POOL_ECANCELED at
      once, and pool_future_destroy of a pending one cancels its job
      (queued or running; both runs look at pool_worker_cancelled, so
      two cancels in a row must each reach its run); both workers are
      free again within the grace + 0.5 s (a two-job barrier map that
      needs both at once);
    - cancelling a future twice, or one that has its result, is
      POOL_EINVAL with a reason;
    - pool_cancel_all stops a running iterator and every outstanding
      future at once: each future and each input yields exactly one
      result (POOL_ECANCELED for those without one), the workers are free
      again, and the next map and future on the pool are right.
*/
#include <stdio.h>
#include <string.h>

#include "cancel_util.h"

enum { WORKERS = 2, NFUT = 100, NITER = 100 };
#define GRACE 0.5

/* Both workers free: a barrier of two jobs ends only when both run. */
static double
s_workers_free_after (pool_t *pool, double since, const char *tag)
{
    char text[16];
    int len = snprintf (text, sizeof text, "b%s", tag);
    pool_bytes_t barrier[2] = { { text, (size_t)len }, { text, (size_t)len } };
    pool_result_t results[2];
    int rc = pool_map (pool, barrier, 2, results);
    double took = h_now () - since;
    H_CHECK (rc == 0, "barrier map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (int k = 0; k < 2; k++)
        H_CHECK (results[k].status == 0, "barrier job %d: status %d (%s)", k,
                 results[k].status, results[k].error ? results[k].error : "");
    pool_results_release (pool, results, 2);
    return took;
}

static void
s_cancel_and_destroy (pool_t *pool, const char *dir)
{
    /* Runs that look at pool_worker_cancelled: a worker killed and
       replaced would make the barrier below wait for its successor. */
    pool_future_t *cancelled = NULL, *destroyed = NULL;
    H_CHECK (pool_submit (pool, (pool_bytes_t){ "60000c", 6 }, &cancelled) == 0,
             "submit");
    H_CHECK (pool_submit (pool, (pool_bytes_t){ "60000c", 6 }, &destroyed) == 0,
             "submit");
    /* One runs at least (the head may hand both to one worker, whose
       queue then holds the other); pool_poll takes in what the head
       says meanwhile. */
    double deadline = h_now () + h_timeout (30);
    while (cu_count (dir, "run-") < 1 && h_now () < deadline)
        H_CHECK (pool_poll (pool, 0.01) >= 0, "pool_poll: %s", pool_last_error (pool));
    H_CHECK (cu_count (dir, "run-") >= 1, "the 60 s jobs did not start");

    double at = h_now ();
    H_CHECK (pool_future_cancel (cancelled) == 0, "pool_future_cancel: %s",
             pool_last_error (pool));
    pool_result_t r;
    H_CHECK (pool_future_result (cancelled, &r) == 0 && r.status == POOL_ECANCELED,
             "a cancelled future has POOL_ECANCELED at once (status %d)", r.status);
    H_CHECK (pool_future_cancel (cancelled) == POOL_EINVAL
                 && strstr (pool_last_error (pool), "cancelled"),
             "cancelling twice: POOL_EINVAL with a reason, not '%s'",
             pool_last_error (pool));
    pool_future_destroy (&destroyed); /* pending: cancels its job */
    H_CHECK (destroyed == NULL, "pool_future_destroy must null the pointer");
    double took = s_workers_free_after (pool, at, "one");
    h_log ("both workers free %.3f s after cancelling two 60 s futures (grace %.1f s)",
           took, GRACE);
    H_CHECK (took <= h_timeout (GRACE + 0.5), "workers free only %.3f s after the cancel",
             took);
    pool_future_destroy (&cancelled);

    pool_future_t *quick = NULL;
    H_CHECK (pool_submit (pool, (pool_bytes_t){ "0", 1 }, &quick) == 0, "submit");
    H_CHECK (pool_future_wait (quick, h_timeout (30)) == 0, "wait");
    H_CHECK (pool_future_cancel (quick) == POOL_EINVAL && *pool_last_error (pool),
             "cancelling a future that has its result: POOL_EINVAL with a reason");
    pool_future_destroy (&quick);
}

static void
s_cancel_all (pool_t *pool)
{
    pool_bytes_t *inputs = cu_inputs (NITER, "1000c");
    pool_iter_t *iter = NULL;
    H_CHECK (pool_imap_unordered (pool, inputs, NITER, &iter) == 0, "imap");
    /* The iterator sends its inputs from its first pool_iter_next on. */
    pool_result_t r;
    size_t taken[1];
    H_CHECK (pool_iter_next (iter, &r) == 1 && r.status == 0, "first result");
    taken[0] = r.index;
    static pool_future_t *futures[NFUT];
    for (int i = 0; i < NFUT; i++)
        H_CHECK (pool_submit (pool, (pool_bytes_t){ "1000c", 5 }, &futures[i]) == 0,
                 "submit %d", i);

    double at = h_now ();
    H_CHECK (pool_cancel_all (pool) == 0, "pool_cancel_all: %s", pool_last_error (pool));
    int cancelled = 0;
    for (int i = 0; i < NFUT; i++) {
        H_CHECK (pool_future_result (futures[i], &r) == 0,
                 "future %d has no result after pool_cancel_all", i);
        H_CHECK (r.status == 0 || r.status == POOL_ECANCELED, "future %d: status %d", i,
                 r.status);
        cancelled += r.status == POOL_ECANCELED;
    }
    H_CHECK (cancelled > NFUT / 2, "only %d of %d futures were cancelled", cancelled,
             NFUT);
    double took = s_workers_free_after (pool, at, "two");
    h_log ("pool_cancel_all: %d futures cancelled, workers free after %.3f s", cancelled,
           took);
    H_CHECK (took <= h_timeout (GRACE + 0.5), "workers free only %.3f s after cancel_all",
             took);
    size_t done = cu_drain_cancelled (iter, NITER, "1000c", taken, 1);
    h_log ("the iterator: %zu more done, the rest cancelled", done);
    pool_iter_destroy (&iter);
    H_CHECK (pool_wait_all (futures, NFUT, 1) == 0, "every future has its result");
    for (int i = 0; i < NFUT; i++)
        pool_future_destroy (&futures[i]);

    cu_map_right (pool, 50, 0);
    pool_future_t *after = NULL;
    H_CHECK (pool_submit (pool, (pool_bytes_t){ "0", 1 }, &after) == 0, "submit");
    H_CHECK (pool_future_wait (after, h_timeout (30)) == 0
                 && pool_future_result (after, &r) == 0 && r.status == 0,
             "a future after pool_cancel_all: status %d", r.status);
    pool_future_destroy (&after);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (WORKERS, false);
    const char *dir = cu_dir ("markers");
    pool_t *pool = cu_open (head, dir, GRACE, 3, WORKERS);
    s_cancel_and_destroy (pool, dir);
    s_cancel_all (pool);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_cancel_futures_destroy_and_cancel_all", s_body);
}
