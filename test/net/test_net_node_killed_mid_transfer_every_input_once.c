/*  kill -9 of a node (start_node and, through PDEATHSIG, its worker) while
    its worker moves a big payload on the data plane: every input still
    gets exactly one result, each right.  The head in host 0, a node in
    hosts 1 and 2 (one worker each), the client in host 3, shared memory
    off, every port of the switch limited to 100 Mbit/s so that an input or
    output of 2-4 MiB takes a good part of a second on the wire.

    Two maps of 8 inputs: in the first, once two results came, the node
    of host 1 is killed as soon as its interface has received another
    512 KiB (its worker is fetching an input from the client); host 1 then
    gets a fresh node, and in the second map the node of host 2 is killed
    as soon as its interface has sent another 1 MiB (its worker is putting
    an output at the client; a fetch sends only acknowledgements, far
    less).  Host 2 then gets a fresh node, and a third map, through the
    head (the data plane off), loses host 1's node while the head sends
    its worker an input.  Host 1 then gets a fresh node, and a fourth
    map, of a client no worker can reach, loses host 2's node while its
    worker fetches an input in chunks through the head's relay.  The sync is on those
   counters, with a deadline, never a fixed sleep.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fail_util.h"
#include "netlab.h"
#include "xor_payloads.h"

#define MIB ((size_t)1 << 20)

enum { N = 8, KILL_AFTER = 2 };

/* Polls the counters of host until it has received (fetching: true) or
   sent at least `bytes` more than now; fails the test after a deadline. */
static void
s_wait_moving (netlab_t *lab, int host, bool fetching, uint64_t bytes, const char *what)
{
    uint64_t rx0, tx0, rx, tx;
    netlab_bytes (lab, host, &rx0, &tx0);
    double deadline = h_now () + h_timeout (60);
    while (true) {
        netlab_bytes (lab, host, &rx, &tx);
        uint64_t moved = fetching ? rx - rx0 : tx - tx0;
        if (moved >= bytes)
            break;
        H_CHECK (h_now () < deadline, "%s: host %d %s only %llu bytes in 60 s", what,
                 host, fetching ? "received" : "sent", (unsigned long long)moved);
        usleep (2000);
    }
}

/* Maps the inputs; after KILL_AFTER results, kills doomed (in host) once
   its interface shows a transfer under way.  Checks every result. */
static void
s_map_kill (netlab_t *lab, pool_t *pool, const pool_bytes_t *inputs, h_proc_t *doomed,
            int host, bool fetching, const char *what)
{
    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, inputs, N, &iter);
    H_CHECK (rc == 0, "%s: pool_imap_unordered: %s", what, pool_strerror (rc));
    fu_once_t once;
    fu_once_init (&once, N);
    double killed_at = 0;
    size_t after_kill = 0;
    pool_result_t r;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        fu_once_add (&once, &r);
        xp_check (&r, inputs[r.index], what);
        after_kill += killed_at > 0;
        if (once.results == KILL_AFTER) {
            s_wait_moving (lab, host, fetching, fetching ? MIB / 2 : MIB, what);
            h_kill (doomed, SIGKILL);
            killed_at = h_now ();
            h_log ("%s: %s killed while its worker was %s", what, doomed->name,
                   fetching ? "fetching an input" : "putting an output");
        }
    }
    H_CHECK (rc == 0, "%s: pool_iter_next: %s: %s", what, pool_strerror (rc),
             pool_last_error (pool));
    pool_iter_destroy (&iter);
    fu_once_check (&once);
    H_CHECK (killed_at > 0, "%s: the map ended before the kill", what);
    h_log ("%s: %zu results, each once and right; %zu after the kill, in %.1f s", what,
           once.results, after_kill, h_now () - killed_at);
}

static void
s_body (void)
{
    netlab_t *lab = netlab_new (4, 0, 0);
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *node1, *node2;
    h_proc_t *head = netlab_cluster (lab, fast, &node1, &node2);
    pool_bytes_t *inputs = xp_inputs (N, 2 * MIB, 4 * MIB, NULL);

    pool_options_t options;
    h_options (&options, head, "xor");
    options.shared_memory_min = 0; /* as between machines */
    options.min_workers = 2;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    netlab_set (lab, "rate 100");

    s_map_kill (lab, pool, inputs, node1, 1, true, "kill mid-fetch");
    H_CHECK (pool_nodes_count (pool) == 1, "the head still counts %d nodes",
             pool_nodes_count (pool));

    h_use_netns (netlab_ns (lab, 1));
    h_proc_t *node1b = h_start_node (head, 1);
    h_use_netns (NULL);
    rc = pool_wait_for_workers (pool, 2, h_timeout (60));
    H_CHECK (rc == 0, "the pool has %d workers, not 2, after host 1 got a fresh node",
             pool_workers_count (pool));

    s_map_kill (lab, pool, inputs, node2, 2, false, "kill mid-put");
    H_CHECK (pool_nodes_count (pool) == 1, "the head still counts %d nodes",
             pool_nodes_count (pool));
    pool_close (&pool);

    /* The same through the head (the data plane off): the head holds each
       input in the pieces it came in and relays them; host 1's node is
       killed while its worker receives one from the head, and the head
       sends those pieces again to the worker of host 2. */
    h_use_netns (netlab_ns (lab, 2));
    h_proc_t *node2b = h_start_node (head, 1);
    h_use_netns (NULL);
    options.direct_min = 0;
    rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    rc = pool_wait_for_workers (pool, 2, h_timeout (60));
    H_CHECK (rc == 0, "the pool has %d workers, not 2", pool_workers_count (pool));
    s_map_kill (lab, pool, inputs, node1b, 1, true, "kill mid-head-transfer");
    pool_close (&pool);

    /* The same through the head's chunk relay: a client its workers
       cannot reach (it advertises an address nobody has); host 2's node
       is killed while its worker fetches chunks through the head. */
    h_use_netns (netlab_ns (lab, 1));
    h_start_node (head, 1);
    h_use_netns (NULL);
    H_CHECK (setenv ("DCPOOL_DATA_ADDRESS", "10.203.0.200", 1) == 0, "setenv");
    options.direct_min = 64 << 10;
    rc = pool_open (&pool, &options);
    unsetenv ("DCPOOL_DATA_ADDRESS");
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    rc = pool_wait_for_workers (pool, 2, h_timeout (60));
    H_CHECK (rc == 0, "the pool has %d workers, not 2", pool_workers_count (pool));
    s_map_kill (lab, pool, inputs, node2b, 2, true, "kill mid-chunk-relay");
    char log[400];
    snprintf (log, sizeof log, "%s/node.log", node2b->dir);
    H_CHECK (h_file_has (log, "its chunks go through the head's relay"),
             "the killed node's log (%s) does not say its worker fetched through the "
             "head's relay",
             log);
    snprintf (log, sizeof log, "%s/head.log", head->dir);
    H_CHECK (!h_file_has (log, "cannot reach pool"),
             "the head's log (%s) says a worker asked for whole payloads instead of "
             "using the relay",
             log);
    pool_close (&pool);
    xp_inputs_free (&inputs, N);
}

int
main (void)
{
    return h_main ("test_net_node_killed_mid_transfer_every_input_once", s_body);
}
