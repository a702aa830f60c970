/*  Machines boot in any order.  A node started 12 s before its head does
    not give up (it used to exit after 10 s: "no dcpool head answered"):
    it keeps trying, says on its log that it is still waiting and why, and
    joins by itself once the head is up; its workers then serve a map.
*/
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static void
s_body (void)
{
    /* The head-to-be: its port is known, nothing listens there yet. */
    h_proc_t future = { 0 };
    future.port = h_free_port ();
    snprintf (future.server, sizeof future.server, "127.0.0.1:%d", future.port);
    h_proc_t *node = h_start_node_async (&future, 1);

    /* Longer than the 10 s after which it used to give up, with room for
       a slow start (sanitizers); no shorter wait would show that bug. */
    double until = h_now () + 12;
    while (h_now () < until) {
        H_CHECK (kill (node->pid, 0) == 0, "the node gave up before its head came");
        H_CHECK (!h_node_ready (node), "the node says it is ready with no head");
        usleep (200000);
    }
    char log[400];
    snprintf (log, sizeof log, "%s/%s.stderr", h_tmpdir (), node->name);
    H_CHECK (h_file_has (log, "still waiting for the head"),
             "the node did not say it is still waiting (%s)", log);
    H_CHECK (h_file_has (log, "refused"), "the node did not say why (refused)");

    char port[16];
    snprintf (port, sizeof port, "%d", future.port);
    const char *same_port[] = { "-p", port, NULL };
    h_proc_t *head = h_start_head_with (0, true, same_port);
    H_CHECK (head->port == future.port, "the head took port %d, not %d", head->port,
             future.port);
    double deadline = h_now () + h_timeout (30);
    while (!h_node_ready (node)) {
        H_CHECK (h_now () < deadline, "the node did not join within 30 s of its head");
        usleep (50000);
    }
    h_log ("the node joined by itself once its head was up");

    pool_t *pool = h_open (head, "square", 1);
    pool_bytes_t input = { "12", 2 };
    pool_result_t result;
    int rc = pool_map (pool, &input, 1, &result);
    H_CHECK (rc == 0 && result.status == 0 && result.value.size == 3
                 && memcmp (result.value.data, "145", 3) == 0,
             "map: %s", pool_strerror (rc ? rc : result.status));
    pool_results_release (pool, &result, 1);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_node_started_before_its_head_joins_by_itself", s_body);
}
