/*  Both ends must agree on --insecure.  A secure client or node against an
    insecure head, and an insecure client or node against a secure head,
    each fail within the connect timeout with a message that says the
    handshake was refused (and names --insecure as a possible cause); both
    heads carry on serving peers that agree with them.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_util.h"

/* A mismatch stalls the handshake until the timeout; on loopback 2 s is
   ample for the connection itself, so the failure is the mismatch. */
#define CONNECT_TIMEOUT 2

static void
s_client_fails (const h_proc_t *head, bool insecure)
{
    pool_options_t options;
    h_options (&options, head, "square");
    options.insecure = insecure;
    options.connect_timeout = CONNECT_TIMEOUT;
    pool_t *pool = NULL;
    double t0 = h_now ();
    int rc = pool_open (&pool, &options);
    double took = h_now () - t0;
    const char *error = pool_open_error ();
    h_log ("%s client: %s after %.2f s: %s", insecure ? "insecure" : "secure",
           pool_strerror (rc), took, error ? error : "(null)");
    H_CHECK (rc < 0 && !pool,
             "pool_open (insecure=%d) against the other kind of "
             "head succeeded",
             insecure);
    H_CHECK (rc == POOL_EAUTH || rc == POOL_ECONNECT, "pool_open returned %s",
             pool_strerror (rc));
    H_CHECK (error && strcasestr (error, "refused") && strstr (error, "--insecure"),
             "the message '%s' does not say the handshake was refused or "
             "mention --insecure",
             error ? error : "(null)");
    H_CHECK (took < CONNECT_TIMEOUT + h_timeout (5), "pool_open took %.1f s", took);
}

static void
s_node_fails (const h_proc_t *head, bool insecure)
{
    char port[16], dir[400], timeout[16];
    snprintf (port, sizeof port, "%d", head->port);
    snprintf (timeout, sizeof timeout, "%d", CONNECT_TIMEOUT);
    snprintf (dir, sizeof dir, "%s/mismatch-node-%d", h_tmpdir (), head->port);
    const char *args[] = { "-a",
                           "127.0.0.1",
                           "-p",
                           port,
                           "-r",
                           h_password (),
                           "--cpu-workers",
                           "1",
                           "--timeout",
                           timeout,
                           "--data-dir",
                           dir,
                           insecure ? "--insecure" : NULL,
                           NULL };
    char *output = NULL;
    double t0 = h_now ();
    int code = h_run_start_node (args, CONNECT_TIMEOUT + h_timeout (15), &output);
    double took = h_now () - t0;
    h_log ("%s node: exit %d after %.2f s: %s", insecure ? "insecure" : "secure", code,
           took, output);
    H_CHECK (code != 0,
             "start_node (insecure=%d) against the other kind of head "
             "exited 0",
             insecure);
    H_CHECK (strcasestr (output, "refused") && strstr (output, "--insecure"),
             "start_node's message does not say the handshake was refused or "
             "mention --insecure");
    H_CHECK (took < CONNECT_TIMEOUT + h_timeout (10), "start_node took %.1f s", took);
    free (output);
}

static void
s_insecure_map_ok (const h_proc_t *head)
{
    pool_options_t options;
    h_options (&options, head, "square");
    options.insecure = 1;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "insecure pool_open on the insecure head: %s: %s",
             pool_strerror (rc), pool_open_error ());
    static char texts[50][8];
    static pool_bytes_t inputs[50];
    static pool_result_t results[50];
    for (int i = 0; i < 50; i++) {
        snprintf (texts[i], sizeof texts[i], "%d", i);
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    }
    rc = pool_map (pool, inputs, 50, results);
    H_CHECK (rc == 0, "insecure pool_map: %s", pool_strerror (rc));
    for (int i = 0; i < 50; i++) {
        char want[32];
        snprintf (want, sizeof want, "%" PRId64, h_square (i));
        H_CHECK (results[i].status == 0 && results[i].value.size == strlen (want)
                     && memcmp (results[i].value.data, want, strlen (want)) == 0,
                 "insecure map: input %d wrong", i);
    }
    pool_results_release (pool, results, 50);
    pool_close (&pool);
}

static void
s_body (void)
{
    h_proc_t *secure = h_start_head (1, false);
    s_client_fails (secure, true);
    s_node_fails (secure, true);
    sec_map_square_ok (secure, 1, 50);
    h_stop (secure);

    const char *extra[] = { "--insecure", NULL };
    h_proc_t *insecure = h_start_head_with (1, false, extra);
    s_client_fails (insecure, false);
    s_node_fails (insecure, false);
    s_insecure_map_ok (insecure);
}

int
main (void)
{
    return h_main ("test_sec_insecure_mismatch_fails_clearly", s_body);
}
