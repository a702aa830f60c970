/*  The head's window grows to thousands of jobs per worker for tiny jobs
    (it covers the round trip); a map of slow jobs that follows on the same
    pool must still spread over every worker, not pile onto the first one
    while the other idles: 6 jobs of 300 ms on 2 workers run 3 on each.
*/
#include <stdio.h>
#include <string.h>

#include "fail_util.h"

enum { SLOW = 6 };

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    pool_t *pool = h_open (head, "square", 2);
    fu_map_once (pool, 20000, "", "20,000 tiny jobs (the window grows)");

    static pool_result_t results[SLOW];
    int rc = pool_map (pool, fu_inputs (SLOW, "@s300"), SLOW, results);
    H_CHECK (rc == 0, "pool_map: %s", pool_strerror (rc));
    char first[128] = "";
    int on_first = 0;
    for (size_t i = 0; i < SLOW; i++) {
        fu_check_value (&results[i], (long long)i, "slow jobs");
        char id[128];
        fu_worker_of (&results[i], id, sizeof id);
        if (!first[0])
            snprintf (first, sizeof first, "%s", id);
        on_first += strcmp (id, first) == 0;
    }
    pool_results_release (pool, results, SLOW);
    h_log ("%d of %d slow jobs ran on %s", on_first, SLOW, first);
    H_CHECK (on_first == SLOW / 2,
             "%d of %d slow jobs ran on one worker, want %d on "
             "each of 2",
             on_first, SLOW, SLOW / 2);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_slow_jobs_spread_over_all_workers", s_body);
}
