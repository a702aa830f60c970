/*  Across machines with 1 ms one-way delay and 5% of frames dropped on
    every link, in both directions: maps of tiny jobs and of short sleeps
    complete with every result once and right (TCP resends what is lost;
    nothing in dcpool mistakes the hiccups for a dead peer).
*/
#include <stdio.h>

#include "fail_util.h"
#include "netlab.h"

enum { HEAD, NODE1, NODE2, CLIENT };

static void
s_map (pool_t *pool, size_t count, const char *suffix, const char *what)
{
    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, fu_inputs (count, suffix), count, &iter);
    H_CHECK (rc == 0, "%s: pool_imap_unordered: %s", what, pool_strerror (rc));
    fu_once_t once;
    fu_once_init (&once, count);
    double started = h_now ();
    pool_result_t result;
    while ((rc = pool_iter_next (iter, &result)) == 1) {
        fu_once_add (&once, &result);
        fu_check_value (&result, (long long) result.index, what);
    }
    H_CHECK (rc == 0, "%s: pool_iter_next: %s: %s", what, pool_strerror (rc),
             pool_last_error (pool));
    fu_once_check (&once);
    pool_iter_destroy (&iter);
    h_log ("%s: %zu results, each once, in %.2f s", what, count, h_now () - started);
}

static void
s_body (void)
{
    netlab_t *lab = netlab_new (4, 1, 5);
    h_use_netns (netlab_ns (lab, HEAD));
    h_proc_t *head = h_start_head (0, true);
    h_set_address (head, netlab_addr (lab, HEAD));
    h_use_netns (netlab_ns (lab, NODE1));
    h_start_node (head, 1);
    h_use_netns (netlab_ns (lab, NODE2));
    h_start_node (head, 1);
    h_use_netns (NULL);
    h_enter_netns (netlab_ns (lab, CLIENT));
    pool_t *pool = h_open (head, "square", 2);
    s_map (pool, 5000, "", "5000 tiny jobs");
    s_map (pool, 200, "@s5", "200 jobs of 5 ms");
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_net_5pct_loss_map_completes_once", s_body);
}
