/*  A run that crashes on one input (a write through NULL, then abort()):
    that input gets POOL_ECRASHED after max_attempts, naming the signal
    ("worker crashed (signal 11) on 3 attempts"), every other input its
    value, and the node is back to its full worker count afterwards (the
    crashed slots respawned and loaded the pool again).
*/
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "fail_util.h"

enum { N = 300, WORKERS = 2 };

static void
s_crash_map (const h_proc_t *head, const char *init, long long k, int signal_no)
{
    pool_options_t options;
    h_options (&options, head, "crash_on");
    options.init_data = (pool_bytes_t){ init, strlen (init) };
    options.max_attempts = 3;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    rc = pool_wait_for_workers (pool, WORKERS, h_timeout (60));
    H_CHECK (rc == 0, "pool_wait_for_workers: %s", pool_strerror (rc));

    pool_bytes_t *inputs = fu_inputs (N, "");
    static pool_result_t results[N];
    rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    char want[64];
    snprintf (want, sizeof want, "worker crashed (signal %d) on 3 attempts", signal_no);
    for (size_t i = 0; i < N; i++) {
        H_CHECK (results[i].index == i, "index %zu at %zu", results[i].index, i);
        if ((long long)i != k) {
            fu_check_value (&results[i], (long long)i, init);
            continue;
        }
        H_CHECK (results[i].status == POOL_ECRASHED,
                 "%s: input %zu: status %d (%s), want POOL_ECRASHED", init, i,
                 results[i].status, pool_strerror (results[i].status));
        H_CHECK (results[i].error && strstr (results[i].error, want),
                 "%s: input %zu: error '%s', want '%s'", init, i,
                 results[i].error ? results[i].error : "(null)", want);
        h_log ("%s: input %zu: %s", init, i, results[i].error);
    }
    pool_results_release (pool, results, N);

    /* Back to full: the respawned workers loaded this pool again. */
    rc = pool_wait_for_workers (pool, WORKERS, h_timeout (30));
    H_CHECK (rc == 0, "after the crashes the pool has %d of %d workers: %s",
             pool_workers_count (pool), WORKERS, pool_strerror (rc));
    H_CHECK (pool_workers_count (pool) == WORKERS, "pool_workers_count %d, want %d",
             pool_workers_count (pool), WORKERS);
    pool_close (&pool);
}

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (WORKERS, false, fast);
    s_crash_map (head, "7:segv", 7, SIGSEGV);
    s_crash_map (head, "123:abort", 123, SIGABRT);
    /* The node's own view: every slot runs a worker again. */
    fu_wait_status (head, 1, WORKERS, -1, 30);
    pid_t pids[16];
    H_CHECK (fu_workers (head, pids, 16) == WORKERS,
             "start_node runs %d pool-worker processes, want %d",
             fu_workers (head, pids, 16), WORKERS);
}

int
main (void)
{
    return h_main ("test_fail_crash_on_input_k_gets_error_after_max_attempts", s_body);
}
