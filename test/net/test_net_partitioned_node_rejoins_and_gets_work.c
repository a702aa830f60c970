/*  Across machines, a node cut off from the network for 4 s in the middle
    of a map: the head declares it lost and runs its jobs on the other
    node, so the map finishes with every result once and right; when the
    link comes back the same start_node (no restart by anyone) joins again
    by itself, and its workers get jobs of the next map.
*/
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fail_util.h"
#include "netlab.h"

enum { NODE1 = 1 };
/* Seconds of the cut: past the 0.9 s in which the head declares node1 lost
   and node1 finds the head silent (FU_FAST_HEARTBEAT), with room. */
enum { CUT_S = 4 };
enum { N = 80 }; /* about as long as the cut on the other node alone */

static netlab_t *s_lab;

/* Inputs "<i>@s50": 50 ms each, the worker's id in the value. */
static pool_bytes_t *
s_inputs (void)
{
    return fu_inputs (N, "@s50");
}

static void
s_body (void)
{
    s_lab = netlab_new (4, 0, 0);
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *node1 = NULL;
    h_proc_t *head = netlab_cluster (s_lab, fast, &node1, NULL);
    pool_t *pool = h_open (head, "square", 2);

    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, s_inputs (), N, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    fu_once_t once;
    fu_once_init (&once, N);
    pool_result_t result;
    double cut_at = 0, healed_at = 0;
    while ((rc = pool_iter_next (iter, &result)) == 1) {
        fu_once_add (&once, &result);
        fu_check_value (&result, (long long)result.index, "during the cut");
        if (!cut_at && once.results == 10) {
            netlab_set (s_lab, "cut %s", netlab_port (s_lab, NODE1));
            cut_at = h_now ();
        }
        if (cut_at && !healed_at && h_now () - cut_at >= CUT_S) {
            netlab_set (s_lab, "heal %s", netlab_port (s_lab, NODE1));
            healed_at = h_now ();
        }
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    fu_once_check (&once);
    pool_iter_destroy (&iter);
    h_log ("the map finished with every result once, %.1f s after the cut",
           h_now () - cut_at);
    if (!healed_at) {
        while (h_now () - cut_at < CUT_S)
            usleep (100000);
        netlab_set (s_lab, "heal %s", netlab_port (s_lab, NODE1));
    }

    /* The same start_node joins again and its worker serves the pool. */
    fu_wait_status (head, 2, 2, -1, 60);
    H_CHECK (kill (node1->pid, 0) == 0, "node1's start_node is gone");
    H_CHECK (pool_wait_for_workers (pool, 2, h_timeout (60)) == 0,
             "the pool does not get node1's worker back: %d workers",
             pool_workers_count (pool));
    H_CHECK (fu_node_serves (pool, node1, "@s20", "map after the heal"),
             "node1's worker got no job after it rejoined");
    h_log ("node1 rejoined without a restart and ran jobs");
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_net_partitioned_node_rejoins_and_gets_work", s_body);
}
