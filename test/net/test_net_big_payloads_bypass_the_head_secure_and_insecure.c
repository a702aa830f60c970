/*  Big inputs and outputs go directly between the client and the workers,
    not through the head (DESIGN.md section 13): the head in host 0, a
    node in hosts 1 and 2, the client in host 3, shared memory off (the
    namespaces share one boot id, so a worker would otherwise take the
    client's memfds).  A map of 24 inputs of 2-4 MiB, each turned by the
    xor worker into an output of its size, gives every result right, and
    the head's host sends and receives less than a tenth of the payload
    (inputs and outputs) meanwhile.  A second pool with direct_min 0 on
    the same cluster moves more than the payload through the head's host,
    which shows that its counters see the payload when it passes there.
    Eight outputs of one size, each built where the one before it was,
    are each right too.
    Both with CURVE (the default) and on an insecure cluster.
*/
#include <stdio.h>

#include "fail_util.h"
#include "netlab.h"
#include "xor_payloads.h"

#define MIB ((size_t)1 << 20)

enum { N = 24 };

/* Bytes the head's host sent and received while the pool mapped the
   inputs (every result checked); those of the client's host into
   *client. */
static uint64_t
s_head_bytes_of_map (netlab_t *lab, pool_t *pool, const pool_bytes_t *inputs,
                     const char *what, uint64_t *client)
{
    uint64_t rx0, tx0, rx1, tx1, crx0, ctx0, crx1, ctx1;
    netlab_bytes (lab, 0, &rx0, &tx0);
    netlab_bytes (lab, 3, &crx0, &ctx0);
    double started = h_now ();
    xp_map_checked (pool, inputs, N, what);
    netlab_bytes (lab, 0, &rx1, &tx1);
    netlab_bytes (lab, 3, &crx1, &ctx1);
    *client = (crx1 - crx0) + (ctx1 - ctx0);
    h_log ("%s: %d results right in %.1f s; the head's host received %llu and sent "
           "%llu bytes, the client's host %llu in all",
           what, N, h_now () - started, (unsigned long long)(rx1 - rx0),
           (unsigned long long)(tx1 - tx0), (unsigned long long)*client);
    return (rx1 - rx0) + (tx1 - tx0);
}

/* A pool of the xor worker on the cluster of head, shared memory off,
   with both workers. */
static pool_t *
s_open (const h_proc_t *head, bool insecure, size_t direct_min)
{
    pool_options_t options;
    h_options (&options, head, "xor");
    options.insecure = insecure;
    options.shared_memory_min = 0; /* as between machines */
    options.direct_min = direct_min;
    options.min_workers = 2;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open (insecure %d, direct_min %zu): %s: %s", insecure,
             direct_min, pool_strerror (rc), pool_open_error ());
    return pool;
}

/* Starts the cluster in the lab (secure or insecure), maps the inputs
   directly and with direct_min 0, checks what crossed the head's host,
   and stops the cluster. */
static void
s_cluster_case (netlab_t *lab, bool insecure)
{
    const char *mode = insecure ? "insecure" : "CURVE";
    const char *extra[] = { "--insecure", NULL };
    h_proc_t *node1, *node2;
    h_proc_t *head = netlab_cluster_with (lab, insecure ? extra : NULL,
                                          insecure ? extra : NULL, &node1, &node2);
    uint64_t total;
    pool_bytes_t *inputs = xp_inputs (N, 2 * MIB, 4 * MIB, &total);
    uint64_t payload = 2 * total; /* every input goes out, its output back */

    pool_t *direct = s_open (head, insecure, 64 * 1024);
    char what[64];
    snprintf (what, sizeof what, "%s, direct", mode);
    uint64_t client;
    uint64_t direct_bytes = s_head_bytes_of_map (lab, direct, inputs, what, &client);
    /* Outputs of one size, one after another on each worker: each is
       built in the frame the one before it was sent from (a worker keeps
       it, node/worker_ctx.h), built in place ('A') or copied ('S'), and
       each is still its own. */
    pool_bytes_t *same = xp_inputs (8, 2 * MIB, 2 * MIB, NULL);
    for (size_t i = 0; i < 8; i++) {
        same[i].size = 2 * MIB; /* xp_inputs makes input i i bytes longer */
        ((uint8_t *)same[i].data)[0] = i % 2 ? 'S' : 'A';
    }
    snprintf (what, sizeof what, "%s, direct, outputs of one size", mode);
    xp_map_checked (direct, same, 8, what);
    xp_inputs_free (&same, 8);
    pool_close (&direct);
    /* The payload did cross the network (no shared memory took it). */
    H_CHECK (client > payload,
             "%s: the client's host moved only %llu bytes for %llu bytes of payload",
             mode, (unsigned long long)client, (unsigned long long)payload);
    H_CHECK (direct_bytes < payload / 10,
             "%s: the head's host moved %llu bytes for %llu bytes of payload "
             "(inputs and outputs) that should have gone around it",
             mode, (unsigned long long)direct_bytes, (unsigned long long)payload);

    pool_t *through = s_open (head, insecure, 0);
    snprintf (what, sizeof what, "%s, direct_min 0", mode);
    uint64_t through_bytes = s_head_bytes_of_map (lab, through, inputs, what, &client);
    pool_close (&through);
    H_CHECK (through_bytes > payload,
             "%s: with direct_min 0 the head's host moved only %llu bytes for %llu "
             "bytes of payload: its counters do not see what passes the head",
             mode, (unsigned long long)through_bytes, (unsigned long long)payload);
    h_log ("%s: %llu bytes of payload; the head's host moved %.1f%% of it directly, "
           "%.0f%% with direct_min 0",
           mode, (unsigned long long)payload,
           100.0 * (double)direct_bytes / (double)payload,
           100.0 * (double)through_bytes / (double)payload);
    xp_inputs_free (&inputs, N);
    h_stop (node1);
    h_stop (node2);
    h_stop (head);
}

static void
s_body (void)
{
    netlab_t *lab = netlab_new (4, 0, 0);
    s_cluster_case (lab, false);
    s_cluster_case (lab, true);
}

int
main (void)
{
    return h_main ("test_net_big_payloads_bypass_the_head_secure_and_insecure", s_body);
}
