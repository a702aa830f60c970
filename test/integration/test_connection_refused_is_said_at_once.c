/*  With the head's machine up and nothing on the port, the client and
    `start_node --status` say "connection refused ...: is the head
    running?" within a few seconds, instead of waiting their whole timeout
    and then saying "no dcpool head answered", the words for a host that
    is down or cut off.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void
s_body (void)
{
    char server[64], port[16];
    int free_port = h_free_port ();
    snprintf (server, sizeof server, "127.0.0.1:%d", free_port);
    snprintf (port, sizeof port, "%d", free_port);

    pool_options_t options;
    pool_options_default (&options);
    options.server = server;
    options.password = h_password ();
    options.worker_library = h_worker_path ("square");
    options.connect_timeout = 30;
    pool_t *pool = NULL;
    double started = h_now ();
    int rc = pool_open (&pool, &options);
    double took = h_now () - started;
    h_log ("pool_open: %s after %.2f s: %s", pool_strerror (rc), took,
           pool_open_error ());
    H_CHECK (rc == POOL_ECONNECT, "pool_open gave %s, want POOL_ECONNECT",
             pool_strerror (rc));
    H_CHECK (strstr (pool_open_error (), "refused")
                 && strstr (pool_open_error (), "is the head running"),
             "the message does not say the connection was refused: %s",
             pool_open_error ());
    H_CHECK (took < 10, "refused only after %.1f s (connect_timeout 30)", took);

    const char *status[]
        = { "--status", "-p", port, "-r", h_password (), "--timeout", "30", NULL };
    char *output = NULL;
    started = h_now ();
    int code = h_run_start_node (status, h_timeout (60), &output);
    took = h_now () - started;
    h_log ("start_node --status exited %d after %.2f s:\n%s", code, took, output);
    H_CHECK (code != 0, "start_node --status with no head exited 0");
    H_CHECK (strstr (output, "refused"), "it did not say refused:\n%s", output);
    H_CHECK (took < 10, "it said so only after %.1f s (--timeout 30)", took);
    free (output);
}

int
main (void)
{
    return h_main ("test_connection_refused_is_said_at_once", s_body);
}
