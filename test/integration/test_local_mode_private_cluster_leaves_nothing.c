/*  Local mode with nothing running: a program whose pool has no server
    (and no $DCPOOL_SERVER, no password: 127.0.0.1:8899 is not tried) gets
    a private cluster that pool_open starts, maps on it with correct
    results, and once it has closed its pool and exited, no process of
    that cluster (start_node, pool-head, redis-server, pool-worker) is left
    and its temporary data directory is gone.  Prints how long pool_open
    took.
*/
#include "harness.h"
#include "local_util.h"

static void
s_body (void)
{
    lu_client_t client;
    lu_start (&client, "map", NULL);
    char line[128];
    lu_read_line (&client, "open_s=", line, sizeof line, h_timeout (90));
    h_log ("pool_open in local mode (a private cluster started): %s s", line + 7);
    int code = lu_wait (&client, h_timeout (60));
    H_CHECK (code == 0, "local_client map exited with %d", code);
    lu_check_nothing_left (&client, h_timeout (10));
}

int
main (void)
{
    return h_main ("test_local_mode_private_cluster_leaves_nothing", s_body);
}
