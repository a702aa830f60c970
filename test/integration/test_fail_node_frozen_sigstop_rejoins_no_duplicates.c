/*  A node frozen with SIGSTOP (start_node and each of its workers) for
    longer than liveness: the head declares it dead and requeues what its
    workers held.  After SIGCONT the node is told it was declared dead
    (ERROR UNKNOWN_PEER), its late results are dropped, it says HELLO
    again and rejoins.  The client sees every input exactly once, with the
    right value; afterwards the head counts both nodes and all workers.
*/
#include <signal.h>
#include <stdio.h>

#include "fail_util.h"

enum { N = 2000, FREEZE_AFTER = 300, WORKERS = 2 };

static pid_t s_frozen[16];
static int s_nfrozen;

static void
s_freeze (h_proc_t *node)
{
    h_kill (node, SIGSTOP);
    s_frozen[0] = node->pid;
    s_nfrozen = 1 + fu_workers (node, s_frozen + 1, 15);
    for (int i = 1; i < s_nfrozen; i++)
        kill (s_frozen[i], SIGSTOP);
    h_log ("froze %s and %d workers", node->name, s_nfrozen - 1);
}

static void
s_thaw (void)
{
    for (int i = s_nfrozen - 1; i >= 0; i--)
        kill (s_frozen[i], SIGCONT);
    h_log ("thawed %d processes", s_nfrozen);
}

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (0, true, fast);
    h_proc_t *frozen = h_start_node (head, WORKERS);
    h_proc_t *other = h_start_node (head, WORKERS);
    (void)other;
    pool_t *pool = h_open (head, "square", 2 * WORKERS);

    fu_once_t once;
    pool_iter_t *iter = fu_imap_once (pool, N, "@s10", &once, "map");
    bool thawed = false;
    pool_result_t r;
    int rc;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        fu_once_add (&once, &r);
        fu_check_value (&r, (long long)r.index, "map");
        if (once.results == FREEZE_AFTER) {
            s_freeze (frozen);
            /* Frozen past liveness: the head no longer counts the node. */
            fu_wait_status (head, 1, WORKERS, -1, 30);
            h_log ("the head declared %s dead", frozen->name);
            s_thaw ();
            thawed = true;
        }
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    H_CHECK (thawed, "the map ended before the freeze");
    pool_iter_destroy (&iter);
    fu_once_check (&once);

    /* The node rejoined: both nodes, all workers, and the pool can use
       them all again. */
    fu_wait_status (head, 2, 2 * WORKERS, -1, 30);
    H_CHECK (pool_nodes_count (pool) == 2, "pool_nodes_count %d, want 2",
             pool_nodes_count (pool));
    rc = pool_wait_for_workers (pool, 2 * WORKERS, h_timeout (30));
    H_CHECK (rc == 0, "the pool has %d workers after the thaw, want %d",
             pool_workers_count (pool), 2 * WORKERS);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_fail_node_frozen_sigstop_rejoins_no_duplicates", s_body);
}
