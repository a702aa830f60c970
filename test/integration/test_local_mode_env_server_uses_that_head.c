/*  Local mode with $DCPOOL_SERVER and $DCPOOL_PASSWORD set: the program's
    pool (no server in its options) goes to that head, and nothing is
    started: no start_node child (the client checks), no process of a
    private cluster, no data directory; the head logged the pool's open and
    close, and the client saw its one node.
*/
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "local_util.h"

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    char server[128], password[256];
    snprintf (server, sizeof server, "DCPOOL_SERVER=%s", head->server);
    snprintf (password, sizeof password, "DCPOOL_PASSWORD=%s", h_password ());
    const char *env[] = { server, password, NULL };
    lu_client_t client;
    lu_start (&client, "env", env);
    char line[64];
    lu_read_line (&client, "nodes=", line, sizeof line, h_timeout (60));
    H_CHECK (!strcmp (line, "nodes=1"), "the client saw %s, want the head's one node",
             line);
    int code = lu_wait (&client, h_timeout (30));
    H_CHECK (code == 0, "local_client env exited with %d", code);
    lu_check_nothing_left (&client, h_timeout (10));

    char path[400];
    snprintf (path, sizeof path, "%s/head.log", head->dir);
    H_CHECK (h_file_has (path, "(square.so) closed"),
             "head.log has no pool of the client's opened and closed");
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_local_mode_env_server_uses_that_head", s_body);
}
