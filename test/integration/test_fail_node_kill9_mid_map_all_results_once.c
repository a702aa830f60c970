/*  kill -9 of one of two nodes (start_node and, through PDEATHSIG, its
    workers) in the middle of a 2,000-job map of 10 ms jobs: the head
    declares the node dead after liveness missed heartbeats and requeues
    what its workers held; every input gets exactly one result, each the
    right value, and the jobs after the kill ran on the surviving node.
*/
#include <signal.h>
#include <stdio.h>

#include "fail_util.h"

enum { N = 2000, KILL_AFTER = 400, WORKERS = 2 };

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (0, true, fast);
    h_proc_t *doomed = h_start_node (head, WORKERS);
    h_proc_t *survivor = h_start_node (head, WORKERS);
    pool_t *pool = h_open (head, "square", 2 * WORKERS);

    fu_once_t once;
    pool_iter_t *iter = fu_imap_once (pool, N, "@s10", &once, "map");
    size_t from_doomed = 0, after_kill = 0, late_from_doomed = 0;
    double killed_at = 0;
    pool_result_t r;
    int rc;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        fu_once_add (&once, &r);
        fu_check_value (&r, (long long)r.index, "map");
        char id[128];
        fu_worker_of (&r, id, sizeof id);
        bool doomed_ran = fu_on_node (id, doomed);
        from_doomed += doomed_ran;
        if (killed_at > 0) {
            after_kill++;
            late_from_doomed += doomed_ran;
        }
        if (once.results == KILL_AFTER) {
            H_CHECK (from_doomed > 0, "no job ran on %s before the kill", doomed->name);
            h_kill (doomed, SIGKILL);
            killed_at = h_now ();
        }
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    pool_iter_destroy (&iter);
    fu_once_check (&once);
    h_log ("%zu results in all, %zu from the killed node (%zu of them arrived "
           "after the kill, sent before it), %zu after the kill in %.1f s",
           once.results, from_doomed, late_from_doomed, after_kill, h_now () - killed_at);
    /* Whatever the dead node's workers had sent before the kill may still
       arrive; everything else ran on the survivor. */
    H_CHECK (after_kill - late_from_doomed > N / 2,
             "only %zu results came from %s after the kill",
             after_kill - late_from_doomed, survivor->name);
    H_CHECK (pool_nodes_count (pool) == 1, "the head still counts %d nodes",
             pool_nodes_count (pool));
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_fail_node_kill9_mid_map_all_results_once", s_body);
}
