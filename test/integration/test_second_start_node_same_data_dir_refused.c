/*  A second start_node on a data directory that a running start_node holds
    exits non-zero and says that one is running -- both as a joining node
    and as a head -- and the running one is not disturbed.  A second head
    on its own directory but the running head's port says that the
    address is in use (what pool-head found), not only "see head.log".
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    char port[16];
    snprintf (port, sizeof port, "%d", head->port);

    const char *join[]
        = { "-a", "127.0.0.1",  "-p",      port, "-r", h_password (), "--cpu-workers",
            "1",  "--data-dir", head->dir, NULL };
    char *output = NULL;
    int code = h_run_start_node (join, h_timeout (30), &output);
    h_log ("second start_node (join) exited %d:\n%s", code, output);
    H_CHECK (code != 0, "a second start_node on %s exited 0", head->dir);
    H_CHECK (strstr (output, "another start_node is running"),
             "it did not say 'another start_node is running'; it said:\n%s", output);
    free (output);

    const char *as_head[]
        = { "--head",        "-p", "0",          "-r",      h_password (),
            "--cpu-workers", "1",  "--data-dir", head->dir, NULL };
    code = h_run_start_node (as_head, h_timeout (30), &output);
    h_log ("second start_node --head exited %d:\n%s", code, output);
    H_CHECK (code != 0, "a second start_node --head on %s exited 0", head->dir);
    H_CHECK (strstr (output, "another start_node is running"),
             "it did not say 'another start_node is running'; it said:\n%s", output);
    free (output);

    char other[400];
    snprintf (other, sizeof other, "%s/other-head", h_tmpdir ());
    const char *same_port[] = { "--head",        "-p", port,         "-r",  h_password (),
                                "--cpu-workers", "1",  "--data-dir", other, NULL };
    code = h_run_start_node (same_port, h_timeout (30), &output);
    h_log ("second start_node --head on port %s exited %d:\n%s", port, code, output);
    H_CHECK (code != 0, "a second start_node --head on busy port %s exited 0", port);
    H_CHECK (strstr (output, "Address already in use"),
             "it did not say 'Address already in use'; it said:\n%s", output);
    free (output);

    /* The first one still serves. */
    pool_t *pool = h_open (head, "square", 1);
    H_CHECK (pool_nodes_count (pool) == 1, "nodes %d, want 1", pool_nodes_count (pool));
    pool_bytes_t input = { "12", 2 };
    pool_result_t result;
    int rc = pool_map (pool, &input, 1, &result);
    H_CHECK (rc == 0 && result.status == 0 && result.value.size == 3
                 && memcmp (result.value.data, "145", 3) == 0,
             "map after the refused start_node: rc %d status %d", rc, result.status);
    pool_results_release (pool, &result, 1);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_second_start_node_same_data_dir_refused", s_body);
}
