/*  A 3 s network blip (longer than liveness x heartbeat) does not throw
    away a loaded worker: the worker of the cut node connects again and
    rejoins its still-open pool with its library and state loaded, after
    the head requeued what it held, instead of exiting and loading the
    pool again (a model that takes minutes to load would be loaded again
    after every short cut).  The pool's init, slow and counted on disk,
    ran once per worker; the maps give every result once and right, and
    the rejoined worker runs jobs again.
*/
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fail_util.h"
#include "netlab.h"

enum { NODE1 = 1 };
enum { N = 300 };

static void
s_body (void)
{
    netlab_t *lab = netlab_new (4, 0, 0);
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *node1 = NULL;
    h_proc_t *head = netlab_cluster (lab, fast, &node1, NULL);

    char count[400], init[420];
    snprintf (count, sizeof count, "%s/inits", h_tmpdir ());
    snprintf (init, sizeof init, "count:%s", count);
    pool_options_t options;
    h_options (&options, head, "square");
    options.init_data = (pool_bytes_t){ init, strlen (init) };
    options.min_workers = 2;
    options.connect_timeout = h_timeout (30);
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    H_CHECK (fu_count_lines (count) == 2, "init ran %d times for 2 workers",
             fu_count_lines (count));

    pool_iter_t *iter = NULL;
    rc = pool_imap_unordered (pool, fu_inputs (N, "@s10"), N, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    fu_once_t once;
    fu_once_init (&once, N);
    pool_result_t result;
    double cut_at = 0;
    bool healed = false;
    while ((rc = pool_iter_next (iter, &result)) == 1) {
        fu_once_add (&once, &result);
        fu_check_value (&result, (long long)result.index, "map across the blip");
        if (!cut_at && once.results == 20) {
            netlab_set (lab, "cut %s", netlab_port (lab, NODE1));
            cut_at = h_now ();
        }
        if (cut_at && !healed && h_now () - cut_at >= 3) {
            netlab_set (lab, "heal %s", netlab_port (lab, NODE1));
            healed = true;
        }
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    fu_once_check (&once);
    pool_iter_destroy (&iter);
    if (!healed) {
        while (h_now () - cut_at < 3)
            usleep (50000);
        netlab_set (lab, "heal %s", netlab_port (lab, NODE1));
    }

    /* node1's worker comes back to the pool, loaded. */
    H_CHECK (pool_wait_for_workers (pool, 2, h_timeout (60)) == 0,
             "the pool has %d workers after the blip", pool_workers_count (pool));
    H_CHECK (fu_node_serves (pool, node1, "@s10", "map after the blip"),
             "node1's worker ran no job after the blip");
    int inits = fu_count_lines (count);
    h_log ("init ran %d times for 2 workers across a 3 s blip", inits);
    H_CHECK (inits == 2,
             "init ran %d times: the cut node's worker loaded the pool "
             "again instead of rejoining it",
             inits);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_net_blip_keeps_loaded_workers", s_body);
}
