/*  pool_nodes_count and pool_workers_count report what was started: the
    head's node with 2 workers, then a node with 1, then one with 2; and
    they go down again when a node stops.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

/* Polls until the counts match, within the timeout; true when they do. */
static bool
s_counts_become (pool_t *pool, int nodes, int workers, double timeout)
{
    double deadline = h_now () + timeout;
    while (true) {
        if (pool_nodes_count (pool) == nodes && pool_workers_count (pool) == workers)
            return true;
        if (h_now () >= deadline)
            return false;
        /* The counts come from the head; ask again a little later. */
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep (&ts, NULL);
    }
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    pool_t *pool = h_open (head, "square", 2);
    H_CHECK (pool_nodes_count (pool) == 1, "nodes %d, want 1", pool_nodes_count (pool));
    H_CHECK (pool_workers_count (pool) == 2, "workers %d, want 2",
             pool_workers_count (pool));

    h_proc_t *one = h_start_node (head, 1);
    H_CHECK (pool_wait_for_workers (pool, 3, h_timeout (60)) == 0, "3 workers: has %d",
             pool_workers_count (pool));
    H_CHECK (pool_nodes_count (pool) == 2, "nodes %d, want 2", pool_nodes_count (pool));
    H_CHECK (pool_workers_count (pool) == 3, "workers %d, want 3",
             pool_workers_count (pool));

    h_proc_t *two = h_start_node (head, 2);
    H_CHECK (pool_wait_for_workers (pool, 5, h_timeout (60)) == 0, "5 workers: has %d",
             pool_workers_count (pool));
    H_CHECK (pool_nodes_count (pool) == 3, "nodes %d, want 3", pool_nodes_count (pool));
    H_CHECK (pool_workers_count (pool) == 5, "workers %d, want 5",
             pool_workers_count (pool));

    h_stop (two);
    H_CHECK (s_counts_become (pool, 2, 3, h_timeout (30)),
             "after stopping a node of 2 workers: nodes %d workers %d, "
             "want 2 and 3",
             pool_nodes_count (pool), pool_workers_count (pool));
    h_stop (one);
    H_CHECK (s_counts_become (pool, 1, 2, h_timeout (30)),
             "after stopping a node of 1 worker: nodes %d workers %d, "
             "want 1 and 2",
             pool_nodes_count (pool), pool_workers_count (pool));
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_counts_match_started_nodes", s_body);
}
