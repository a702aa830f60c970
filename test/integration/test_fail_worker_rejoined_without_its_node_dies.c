/*  A worker outlives its node's standing at the head: start_node frozen
    with SIGSTOP past liveness (its workers left running), the head
    declares the node dead and drops its workers, which rejoin on their
    own.  Then those workers are killed with SIGKILL while their node is
    still frozen, so no node reports their deaths.  The head sees their
    connections close and puts their jobs back (CI once hung here for
    four minutes: 7 of 8000 jobs held by two dead workers whose node was
    gone).  The map ends with every input exactly once, on the other
    node.
*/
#include <signal.h>
#include <stdio.h>

#include "fail_util.h"

enum { N = 600, FREEZE_AFTER = 100, WORKERS = 2 };

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (0, true, fast);
    h_proc_t *lost = h_start_node (head, WORKERS);
    h_proc_t *other = h_start_node (head, WORKERS);
    pool_t *pool = h_open (head, "square", 2 * WORKERS);

    fu_once_t once;
    pool_iter_t *iter = fu_imap_once (pool, N, "@s20", &once, "map");
    bool killed = false;
    pid_t workers[WORKERS];
    pool_result_t r;
    int rc;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        fu_once_add (&once, &r);
        fu_check_value (&r, (long long)r.index, "map");
        if (once.results != FREEZE_AFTER)
            continue;
        H_CHECK (fu_workers (lost, workers, WORKERS) == WORKERS,
                 "%s does not run %d workers", lost->name, WORKERS);
        h_kill (lost, SIGSTOP);
        /* The node is dropped; its running workers come back alone. */
        fu_wait_status (head, 1, 2 * WORKERS, -1, 30);
        h_log ("the head dropped %s; its workers rejoined without it", lost->name);
        for (int i = 0; i < WORKERS; i++)
            H_CHECK (kill (workers[i], SIGKILL) == 0, "kill %d", (int)workers[i]);
        killed = true;
        fu_wait_status (head, 1, WORKERS, -1, 30);
        h_log ("the head let go of the dead workers");
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    H_CHECK (killed, "the map ended before the kill");
    pool_iter_destroy (&iter);
    fu_once_check (&once);
    h_log ("every input once, %zu results", once.results);

    pool_close (&pool);
    h_kill (lost, SIGCONT);
    (void)other;
}

int
main (void)
{
    return h_main ("test_fail_worker_rejoined_without_its_node_dies", s_body);
}
