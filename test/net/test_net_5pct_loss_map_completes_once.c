/*  Across machines with 1 ms one-way delay and 5% of frames dropped on
    every link, in both directions: maps of tiny jobs and of short sleeps
    complete with every result once and right (TCP resends what is lost;
    nothing in dcpool mistakes the hiccups for a dead peer).
*/
#include <stdio.h>

#include "fail_util.h"
#include "netlab.h"

static void
s_body (void)
{
    netlab_t *lab = netlab_new (4, 1, 5);
    h_proc_t *head = netlab_cluster (lab, NULL, NULL, NULL);
    pool_t *pool = h_open (head, "square", 2);
    fu_map_once (pool, 5000, "", "5000 tiny jobs");
    fu_map_once (pool, 200, "@s5", "200 jobs of 5 ms");
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_net_5pct_loss_map_completes_once", s_body);
}
