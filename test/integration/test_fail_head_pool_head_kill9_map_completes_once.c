/*  kill -9 of pool-head in the middle of a map: start_node --head starts
    it again on the same port with the same Redis; the node, the workers
    and the client reconnect on their own (ERROR UNKNOWN_PEER, HELLO
    again; the client opens its pool again and resubmits what has no
    result) and the map completes with every input exactly once, each
    the right value.  The client sees a delay, not an error.
*/
#include <signal.h>
#include <stdio.h>

#include "fail_util.h"

enum { N = 1500, KILL_AFTER = 500, WORKERS = 2 };

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (0, true, fast);
    h_proc_t *node = h_start_node (head, WORKERS);
    (void)node;
    pool_t *pool = h_open (head, "square", WORKERS);

    pool_bytes_t *inputs = fu_inputs (N, "@s5");
    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, inputs, N, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    fu_once_t once;
    fu_once_init (&once, N);
    double killed_at = 0, first_after = 0;
    pool_result_t r;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        fu_once_add (&once, &r);
        fu_check_value (&r, (long long)r.index, "map");
        if (killed_at > 0 && first_after == 0 && once.results > KILL_AFTER + 64)
            first_after = h_now ();
        if (once.results == KILL_AFTER) {
            pid_t heads[4];
            int n = h_children (head->pid, "pool-head", heads, 4);
            H_CHECK (n == 1, "start_node %s has %d pool-head children", head->name, n);
            h_log ("kill -9 pool-head (pid %d)", (int)heads[0]);
            H_CHECK (kill (heads[0], SIGKILL) == 0, "kill pool-head");
            killed_at = h_now ();
        }
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    pool_iter_destroy (&iter);
    fu_once_check (&once);
    h_log ("map of %d done; results flowed again %.2f s after the kill", N,
           first_after > 0 ? first_after - killed_at : -1.0);
    /* The pool is still usable after the restart. */
    static pool_result_t results[100];
    rc = pool_map (pool, inputs, 100, results);
    H_CHECK (rc == 0, "pool_map after the restart: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < 100; i++)
        fu_check_value (&results[i], (long long)i, "map after the restart");
    pool_results_release (pool, results, 100);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_fail_head_pool_head_kill9_map_completes_once", s_body);
}
