/*  kill -9 of `start_node --head` itself in the middle of a map (its
    pool-head and redis-server die with it), then `start_node --head`
    again on the same port and data directory: Redis comes back from its
    append-only file, the node and its workers reconnect, the client
    (waiting up to reconnect_timeout) opens its pool again and the map
    completes with every input exactly once, each the right value.
*/
#include <signal.h>
#include <stdio.h>

#include "fail_util.h"

enum { N = 3000, KILL_AFTER = 500, WORKERS = 2 };

static void
s_body (void)
{
    char port[16];
    snprintf (port, sizeof port, "%d", h_free_port ());
    const char *args[] = { "-p", port, FU_FAST_HEARTBEAT, NULL };
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (0, true, args);
    h_proc_t *node = h_start_node (head, WORKERS);
    (void)node;
    pool_t *pool = h_open (head, "square", WORKERS);

    pool_bytes_t *inputs = fu_inputs (N, "@s5");
    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, inputs, N, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    fu_once_t once;
    fu_once_init (&once, N);
    double restarted_at = 0, first_after = 0;
    size_t at_restart = 0;
    pool_result_t r;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        fu_once_add (&once, &r);
        fu_check_value (&r, (long long)r.index, "map");
        if (restarted_at > 0 && first_after == 0 && once.results > at_restart + 64)
            first_after = h_now ();
        if (once.results == KILL_AFTER) {
            h_kill (head, SIGKILL);
            head = h_restart_head (head, 0, true, fast);
            restarted_at = h_now ();
            at_restart = once.results;
        }
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    pool_iter_destroy (&iter);
    fu_once_check (&once);
    h_log ("map of %d done; results flowed again %.2f s after the restart", N,
           first_after > 0 ? first_after - restarted_at : -1.0);
    H_CHECK (pool_nodes_count (pool) == 1, "the new head counts %d nodes",
             pool_nodes_count (pool));
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_fail_head_start_node_kill9_restart_same_dir_map_once", s_body);
}
