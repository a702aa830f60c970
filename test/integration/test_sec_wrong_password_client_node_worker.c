/*  A wrong password fails clearly, within the connect timeout, for each
    kind of peer, and the head carries on:
    - a client: pool_open returns POOL_EAUTH, the message says the
      handshake was refused and the password may be wrong;
    - a node: `start_node -a 127.0.0.1 -p PORT -r WRONG` exits non-zero
      printing the same;
    - a worker: pool-worker run directly with DCPOOL_KEYS derived from a
      wrong password exits with its auth exit code (3) and logs the same.
    Afterwards a client with the right password gets a correct map.
*/
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sec_util.h"

#define CONNECT_TIMEOUT 5.0
#define WORKER_EXIT_AUTH 3

/* The message every kind of peer gives. */
static void
s_check_message (const char *who, const char *text)
{
    H_CHECK (text && strcasestr (text, "refused") && strcasestr (text, "password"),
             "%s: the message does not say the handshake was refused and the "
             "password may be wrong: '%s'",
             who, text ? text : "(null)");
}

static void
s_client (const h_proc_t *head)
{
    pool_options_t options;
    h_options (&options, head, "square");
    options.password = "not-the-password";
    options.connect_timeout = CONNECT_TIMEOUT;
    pool_t *pool = NULL;
    double t0 = h_now ();
    int rc = pool_open (&pool, &options);
    double took = h_now () - t0;
    h_log ("client: %s after %.2f s: %s", pool_strerror (rc), took, pool_open_error ());
    H_CHECK (rc == POOL_EAUTH && !pool, "pool_open returned %s, want POOL_EAUTH",
             pool_strerror (rc));
    s_check_message ("client", pool_open_error ());
    /* Key derivation and start-up aside, which the margin covers. */
    H_CHECK (took < CONNECT_TIMEOUT + h_timeout (5), "pool_open took %.1f s", took);
}

static void
s_node (const h_proc_t *head)
{
    char port[16], dir[400];
    snprintf (port, sizeof port, "%d", head->port);
    snprintf (dir, sizeof dir, "%s/wrong-node", h_tmpdir ());
    const char *args[] = { "-a",
                           "127.0.0.1",
                           "-p",
                           port,
                           "-r",
                           "not-the-password",
                           "--cpu-workers",
                           "1",
                           "--timeout",
                           "5",
                           "--data-dir",
                           dir,
                           NULL };
    char *output = NULL;
    double t0 = h_now ();
    int code = h_run_start_node (args, CONNECT_TIMEOUT + h_timeout (15), &output);
    double took = h_now () - t0;
    h_log ("node: exit %d after %.2f s: %s", code, took, output);
    H_CHECK (code != 0, "start_node with a wrong password exited 0");
    s_check_message ("start_node", output);
    H_CHECK (took < CONNECT_TIMEOUT + h_timeout (10), "start_node took %.1f s", took);
    free (output);
}

typedef struct {
    const h_proc_t *head;
    char log[400];
    char dir[400];
} s_worker_arg_t;

static int
s_exec_worker (void *varg)
{
    s_worker_arg_t *arg = varg;
    const char *bin = getenv ("DCPOOL_TEST_POOL_WORKER");
    char keys[256], server[128];
    H_CHECK (proto_keys_export (sec_keys ("not-the-password"), keys, sizeof keys) == 0,
             "proto_keys_export");
    setenv (PROTO_KEYS_ENV, keys, 1);
    snprintf (server, sizeof server, "tcp://%s", arg->head->server);
    int fd = open (arg->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return 126;
    dup2 (fd, 1);
    dup2 (fd, 2);
    execl (bin, bin, "--server", server, "--node", "wrongnode", "--id", "wrongnode/w0",
           "--data-dir", arg->dir, (char *)NULL);
    dprintf (2, "exec %s failed\n", bin);
    return 127;
}

static void
s_worker (const h_proc_t *head)
{
    const char *bin = getenv ("DCPOOL_TEST_POOL_WORKER");
    H_CHECK (bin && access (bin, X_OK) == 0, "DCPOOL_TEST_POOL_WORKER not set");
    static s_worker_arg_t arg;
    arg.head = head;
    snprintf (arg.log, sizeof arg.log, "%s/wrong-worker.stderr", h_tmpdir ());
    snprintf (arg.dir, sizeof arg.dir, "%s/wrong-worker", h_tmpdir ());
    H_CHECK (mkdir (arg.dir, 0700) == 0, "mkdir %s", arg.dir);
    sec_keys ("not-the-password"); /* derive before the clock starts */
    double t0 = h_now ();
    pid_t pid = h_fork (s_exec_worker, &arg);
    /* The worker's own connect timeout is 10 s. */
    int code = h_wait (pid, h_timeout (10) + 10);
    double took = h_now () - t0;
    char text[4096] = "";
    FILE *f = fopen (arg.log, "r");
    if (f) {
        size_t n = fread (text, 1, sizeof text - 1, f);
        text[n] = 0;
        fclose (f);
    }
    h_log ("worker: exit %d after %.2f s: %s", code, took, text);
    H_CHECK (code == WORKER_EXIT_AUTH, "pool-worker exited %d, want %d (auth)", code,
             WORKER_EXIT_AUTH);
    s_check_message ("pool-worker", text);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    s_client (head);
    s_node (head);
    s_worker (head);
    sec_map_square_ok (head, 2, 200);
}

int
main (void)
{
    return h_main ("test_sec_wrong_password_client_node_worker", s_body);
}
