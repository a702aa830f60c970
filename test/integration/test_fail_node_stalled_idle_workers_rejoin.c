/*  Only a node's own process stalls (SIGSTOP of start_node for longer
    than liveness, its workers left running, no pool open): the head
    declares the node lost and forgets its idle workers, whose links were
    fine.  Each worker is told so (ERROR UNKNOWN_PEER in answer to its
    heartbeats) and must connect again and say HELLO on its own: while the
    node is still stopped the head counts no node and both workers again.
    Before the fix the errors themselves kept each worker's link looking
    alive, so it never said HELLO again and the head counted 0 workers for
    good.  Once the node is back a pool gets both workers and maps right.
*/
#include <signal.h>
#include <stdio.h>

#include "fail_util.h"

enum { WORKERS = 2, N = 200 };

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (0, true, fast);
    h_proc_t *node = h_start_node (head, WORKERS);
    fu_wait_status (head, 1, WORKERS, 0, 30);

    h_kill (node, SIGSTOP);
    h_log ("stopped %s (its workers run on)", node->name);
    /* Past liveness the head forgets the node and its workers; the
       workers, told so, come back by themselves (the node cannot). */
    fu_wait_status (head, 0, WORKERS, 0, 30);
    h_log ("no node, %d workers: they rejoined while %s is stopped", WORKERS, node->name);
    h_kill (node, SIGCONT);

    fu_wait_status (head, 1, WORKERS, 0, 30);
    pool_t *pool = h_open (head, "square", WORKERS);
    H_CHECK (pool_workers_count (pool) == WORKERS, "the pool has %d workers, want %d",
             pool_workers_count (pool), WORKERS);
    fu_map_once (pool, N, "", "a map after the stall");
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_fail_node_stalled_idle_workers_rejoin", s_body);
}
