/*  Two pools of one program in local mode share one private cluster: one
    start_node serves both; the first pool_close leaves it running (the
    second pool still maps), the second stops it (local_client checks all
    three), and nothing is left after the program.
*/
#include <string.h>

#include "harness.h"
#include "local_util.h"

static void
s_body (void)
{
    lu_client_t client;
    lu_start (&client, "two", NULL);
    char line[64];
    lu_read_line (&client, "two pools, one cluster", line, sizeof line, h_timeout (90));
    int code = lu_wait (&client, h_timeout (30));
    H_CHECK (code == 0, "local_client two exited with %d", code);
    lu_check_nothing_left (&client, h_timeout (10));
}

int
main (void)
{
    return h_main ("test_local_mode_two_pools_share_one_cluster", s_body);
}
