/*  A program killed with SIGKILL while its local mode pool is open (after
    a map) takes its private cluster with it: start_node sees the end of
    its lifeline (stdin) and stops pool-head, redis-server and the workers
    and removes its data directory.  Within a generous deadline none of
    them is left and the temporary directory is gone.
*/
#include "harness.h"
#include "local_util.h"

#include <signal.h>

static void
s_body (void)
{
    lu_client_t client;
    lu_start (&client, "hold", NULL);
    char line[64];
    lu_read_line (&client, "mapped", line, sizeof line, h_timeout (90));
    pid_t pids[64];
    int count = lu_marked (&client, pids, 64);
    /* start_node, pool-head, redis-server and at least one worker */
    H_CHECK (count >= 4, "the private cluster has %d processes, want at least 4", count);
    h_log ("private cluster: %d processes; killing local_client (pid %d) with SIGKILL",
           count, (int)client.pid);
    H_CHECK (kill (client.pid, SIGKILL) == 0, "kill");
    int code = lu_wait (&client, h_timeout (10));
    H_CHECK (code == 128 + SIGKILL, "local_client ended with %d, want 137", code);
    lu_check_nothing_left (&client, h_timeout (30));
}

int
main (void)
{
    return h_main ("test_local_mode_kill9_client_takes_its_cluster", s_body);
}
