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

enum { HEAD, NODE1, NODE2, CLIENT };

static void
s_map (pool_t *pool, size_t count, const char *what)
{
    pool_bytes_t *inputs = fu_inputs (count, "");
    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, inputs, count, &iter);
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
    netlab_t *lab = netlab_new (4, 0, 0);
    h_use_netns (netlab_ns (lab, HEAD));
    h_proc_t *head = h_start_head (0, true);
    h_set_address (head, netlab_addr (lab, HEAD));
    h_use_netns (netlab_ns (lab, NODE1));
    h_start_node (head, 1);
    h_use_netns (netlab_ns (lab, NODE2));
    h_start_node (head, 1);
    h_use_netns (NULL);
    h_enter_netns (netlab_ns (lab, CLIENT));

    pool_options_t options;
    h_options (&options, head, "square");
    options.shared_memory_min = 0;      /* as between machines */
    options.min_workers = 2;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open across namespaces: %s: %s", pool_strerror (rc),
             pool_open_error ());
    s_map (pool, 2000, "no delay");
    netlab_set (lab, "delay 10");
    s_map (pool, 400, "10 ms one-way delay");
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_net_map_exactly_once_at_0_and_10ms_delay", s_body);
}
