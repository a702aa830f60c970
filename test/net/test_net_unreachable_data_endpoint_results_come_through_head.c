/*  A client whose data endpoint no worker can reach (it advertises, through
    $DCPOOL_DATA_ADDRESS, an address of the lab's subnet that no host has,
    as behind a NAT that forwards nothing) still gets every result of a
    map of big inputs, all right: a worker waits for the endpoint
    (WORKER_DATA_CONNECT_MS), says so in its node's log, and sends the same
    chunk requests through the head's relay from then on, its big outputs
    going back the same way; the head's host moved the payload.  A second
    map of the pool waits for the endpoint no more (the nodes' logs say no
    worker waited again): nobody pays the 5 s per job for an endpoint
    known to be out of reach.  The relay streams: a 128 MiB echo through
    it grows pool-head's peak memory by a fraction of the payload, where
    whole messages through the head grow it by twice the payload.  With
    the relay turned off in the client ($DCPOOL_DATA_RELAY=off) the
    workers get the big payloads through the head as whole messages, and
    the head's log says which worker cannot reach the client, and where.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail_util.h"
#include "netlab.h"
#include "proc_memory.h"
#include "xor_payloads.h"

#define MIB ((size_t)1 << 20)
#define NOWHERE "10.203.0.200"
#define ECHO (128 * MIB)

/* ASan's allocator keeps freed memory in quarantine: peaks mean nothing. */
#if defined(__SANITIZE_ADDRESS__)
static const bool s_sanitized = true;
#else
static const bool s_sanitized = false;
#endif

enum { N = 8 };

/* Lines of the nodes' logs that hold what. */
static int
s_count_lines (const h_proc_t *const *nodes, int count, const char *what)
{
    int waits = 0;
    for (int i = 0; i < count; i++) {
        char path[400], line[1024];
        snprintf (path, sizeof path, "%s/node.log", nodes[i]->dir);
        FILE *log = fopen (path, "r");
        H_CHECK (log, "no log %s", path);
        while (fgets (line, sizeof line, log))
            waits += strstr (line, what) != NULL;
        fclose (log);
    }
    return waits;
}

static void
s_body (void)
{
    netlab_t *lab = netlab_new (4, 0, 0);
    h_proc_t *node1, *node2;
    h_proc_t *head = netlab_cluster (lab, NULL, &node1, &node2);
    const h_proc_t *nodes[] = { node1, node2 };
    uint64_t total;
    pool_bytes_t *inputs = xp_inputs (N, MIB, 2 * MIB, &total);

    H_CHECK (setenv ("DCPOOL_DATA_ADDRESS", NOWHERE, 1) == 0, "setenv");
    pool_options_t options;
    h_options (&options, head, "xor");
    options.shared_memory_min = 0; /* as between machines */
    options.min_workers = 2;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open with the data endpoint advertised at %s: %s: %s",
             NOWHERE, pool_strerror (rc), pool_open_error ());

    uint64_t rx0, tx0, rx1, tx1;
    netlab_bytes (lab, 0, &rx0, &tx0);
    double started = h_now ();
    xp_map_checked (pool, inputs, N, "endpoint unreachable");
    netlab_bytes (lab, 0, &rx1, &tx1);
    uint64_t moved = (rx1 - rx0) + (tx1 - tx0);
    h_log ("%d results right in %.1f s; the head's host moved %llu bytes for %llu of "
           "payload",
           N, h_now () - started, (unsigned long long)moved,
           (unsigned long long)(2 * total));
    H_CHECK (moved > 2 * total,
             "the head's host moved only %llu bytes for %llu bytes of payload: "
             "the results cannot have come through it",
             (unsigned long long)moved, (unsigned long long)(2 * total));

    char log[400], text[200];
    snprintf (log, sizeof log, "%s/head.log", head->dir);
    H_CHECK (!h_file_has (log, "cannot reach pool"),
             "the head's log (%s) says a worker asked for whole payloads: the "
             "relay through the head was not used",
             log);
    int relays
        = s_count_lines (nodes, 2, "its chunks go through the head's relay from now on");
    H_CHECK (relays > 0,
             "no node's log says that a worker sends its chunk requests through the "
             "head's relay");

    /* A second map goes through the head at once: no worker waits again. */
    const char *waited = "no answer from the client";
    int waits = s_count_lines (nodes, 2, waited);
    H_CHECK (waits > 0, "no worker says it waited for the client's data endpoint");
    started = h_now ();
    xp_map_checked (pool, inputs, N, "endpoint unreachable, second map");
    int again = s_count_lines (nodes, 2, waited) - waits;
    h_log ("a second map: %d results right in %.1f s; the workers waited for the "
           "endpoint %d times in the first map, %d in the second",
           N, h_now () - started, waits, again);
    H_CHECK (again == 0,
             "in a second map the workers waited %d more times (5 s each) for the "
             "client's data endpoint, known to be out of reach since the first "
             "(see the nodes' node.log)",
             again);

    /* Streamed: the head holds a few chunks, never the payload. */
    pid_t pool_head;
    H_CHECK (h_children (head->pid, "pool-head", &pool_head, 1) == 1, "no pool-head");
    char pid[16];
    snprintf (pid, sizeof pid, "%d", (int)pool_head);
    proc_reset_peak (pid);
    long before = proc_status_kib (pid, "VmHWM");
    started = h_now ();
    h_xor_echo (pool, ECHO);
    long peak = proc_status_kib (pid, "VmHWM");
    H_CHECK (before > 0 && peak > 0, "cannot read pool-head's memory");
    double grew = (double)(peak - before) * 1024 / (double)ECHO;
    h_log ("a %zu MiB echo through the relay in %.1f s: pool-head's peak grew by "
           "%.2f times the payload",
           ECHO / MIB, h_now () - started, grew);
    if (!s_sanitized)
        H_CHECK (grew < 0.5,
                 "pool-head's peak grew by %.2f times the %zu MiB payload it "
                 "relayed: it held the payload instead of passing chunks on",
                 grew, ECHO / MIB);
    pool_close (&pool);

    /* Without the relay: whole payloads through the head. */
    H_CHECK (setenv ("DCPOOL_DATA_RELAY", "off", 1) == 0, "setenv");
    rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open without the relay: %s: %s", pool_strerror (rc),
             pool_open_error ());
    netlab_bytes (lab, 0, &rx0, &tx0);
    xp_map_checked (pool, inputs, N, "endpoint unreachable, no relay");
    netlab_bytes (lab, 0, &rx1, &tx1);
    moved = (rx1 - rx0) + (tx1 - tx0);
    H_CHECK (moved > 2 * total,
             "without the relay the head's host moved only %llu bytes for %llu "
             "bytes of payload",
             (unsigned long long)moved, (unsigned long long)(2 * total));
    snprintf (text, sizeof text, "'s client at tcp://%s:", NOWHERE);
    H_CHECK (h_file_has (log, "cannot reach pool") && h_file_has (log, text),
             "the head's log (%s) does not say that a worker cannot reach the "
             "client at %s",
             log, NOWHERE);
    pool_close (&pool);
    xp_inputs_free (&inputs, N);
    unsetenv ("DCPOOL_DATA_ADDRESS");
    unsetenv ("DCPOOL_DATA_RELAY");
}

int
main (void)
{
    return h_main ("test_net_unreachable_data_endpoint_results_come_through_head",
                   s_body);
}
