/*  Across machines: the head, two nodes (one CPU worker each) and the
    client each in a network namespace of their own, joined by a switch.
    A map of tiny jobs gives every result once and right with no delay,
    and again with 10 ms of one-way delay on every frame; an unordered
    iterator also yields each input exactly once.
*/
#include <stdio.h>
#include <string.h>

#include "fail_util.h"
#include "netlab.h"

static void
s_body (void)
{
    netlab_t *lab = netlab_new (4, 0, 0);
    h_proc_t *head = netlab_cluster (lab, NULL, NULL, NULL);

    pool_options_t options;
    h_options (&options, head, "square");
    options.shared_memory_min = 0; /* as between machines */
    options.min_workers = 2;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open across namespaces: %s: %s", pool_strerror (rc),
             pool_open_error ());
    fu_map_once (pool, 2000, "", "no delay");
    netlab_set (lab, "delay 10");
    fu_map_once (pool, 400, "", "10 ms one-way delay");
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_net_map_exactly_once_at_0_and_10ms_delay", s_body);
}
