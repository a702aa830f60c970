/*  Across machines (1 ms one-way delay), the head's machine loses its
    processes in the middle of a map (kill -9 of `start_node --head`: its
    pool-head and Redis die with it), then `start_node --head` comes back
    on the same port and data directory: the nodes on their machines and
    the client on its own reconnect by themselves, and the map finishes
    with every input exactly once and right.
*/
#include <signal.h>
#include <stdio.h>

#include "fail_util.h"
#include "netlab.h"

enum { HEAD };
enum { N = 1500, KILL_AFTER = 300 };

static void
s_body (void)
{
    netlab_t *lab = netlab_new (4, 1, 0);
    char port[16];
    snprintf (port, sizeof port, "%d", h_free_port ());
    const char *args[] = { "-p", port, FU_FAST_HEARTBEAT, NULL };
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = netlab_cluster (lab, args, NULL, NULL);
    pool_t *pool = h_open (head, "square", 2);

    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, fu_inputs (N, "@s5"), N, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    fu_once_t once;
    fu_once_init (&once, N);
    pool_result_t result;
    while ((rc = pool_iter_next (iter, &result)) == 1) {
        fu_once_add (&once, &result);
        fu_check_value (&result, (long long)result.index, "map");
        if (once.results == KILL_AFTER) {
            h_log ("killing the head's start_node (kill -9) after %d results",
                   KILL_AFTER);
            h_kill (head, SIGKILL);
            h_use_netns (netlab_ns (lab, HEAD));
            head = h_restart_head (head, 0, true, fast);
            h_set_address (head, netlab_addr (lab, HEAD));
            h_use_netns (NULL);
        }
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    pool_iter_destroy (&iter);
    fu_once_check (&once);
    fu_wait_status (head, 2, 2, -1, 60);
    h_log ("map of %d done, every result once; both nodes back", N);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_net_head_host_killed_and_restarted_map_once", s_body);
}
