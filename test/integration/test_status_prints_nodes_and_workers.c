/*  start_node --status prints every node and every worker (as cpu) of the
    cluster, and exits 0.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void
s_expect (const char *output, const char *what)
{
    H_CHECK (strstr (output, what),
             "--status does not show '%s'; it "
             "printed:\n%s",
             what, output);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    h_proc_t *node = h_start_node (head, 1);
    /* A pool, so that the workers are busy with something to report. */
    pool_t *pool = h_open (head, "square", 3);

    char port[16];
    snprintf (port, sizeof port, "%d", head->port);
    const char *args[]
        = { "--status", "-a", "127.0.0.1", "-p", port, "-r", h_password (), NULL };
    char *output = NULL;
    int code = h_run_start_node (args, h_timeout (30), &output);
    h_log ("start_node --status exited %d:\n%s", code, output);
    H_CHECK (code == 0, "start_node --status exited %d:\n%s", code, output);
    s_expect (output, head->id);
    s_expect (output, node->id);
    char worker[200];
    for (int w = 0; w < 2; w++) {
        snprintf (worker, sizeof worker, "%s/w%d", head->id, w);
        s_expect (output, worker);
    }
    snprintf (worker, sizeof worker, "%s/w0", node->id);
    s_expect (output, worker);
    s_expect (output, "cpu");
    free (output);

    /* With a wrong password it fails, and says so. */
    const char *bad[]
        = { "--status", "-a", "127.0.0.1", "-p", port, "-r", "not-the-password", NULL };
    code = h_run_start_node (bad, h_timeout (60), &output);
    h_log ("start_node --status with a wrong password exited %d:\n%s", code, output);
    H_CHECK (code != 0, "--status with a wrong password exited 0:\n%s", output);
    H_CHECK (strcasestr (output, "password"),
             "--status with a wrong password does not mention the "
             "password:\n%s",
             output);
    free (output);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_status_prints_nodes_and_workers", s_body);
}
