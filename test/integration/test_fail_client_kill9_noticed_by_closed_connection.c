/*  kill -9 of a client, with heartbeats every 30 seconds (silence would
    take 90 to count): the kernel closes the client's connection at once,
    the head's watch on its ROUTER (head/watch.c) hears of it, and the
    client's pool is closed within seconds, with "connection closed" in
    the head's log.  Guards the monitor socket, which the head watches
    through its ZMQ_FD: a monitor that never signals leaves the loss to the
    heartbeats.
*/
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "fail_util.h"

static const h_proc_t *s_head;
static int s_ready_fd;

/* The doomed client: one pool open, then it waits to die. */
static int
s_client (void *arg)
{
    (void)arg;
    pool_t *pool = h_open (s_head, "square", 1);
    H_CHECK (pool != NULL, "pool_open");
    H_CHECK (write (s_ready_fd, "r", 1) == 1, "write");
    while (true)
        pause ();
    return 0;
}

static void
s_body (void)
{
    /* The head's heartbeat tick (which also probes every client) comes
       every 30 s, and 90 s of silence would make a peer lost. */
    const char *slow[] = { "--heartbeat", "30000", "--liveness", "3", NULL };
    h_proc_t *head = h_start_head_with (1, false, slow);
    s_head = head;
    int pipefd[2];
    H_CHECK (pipe (pipefd) == 0, "pipe");
    s_ready_fd = pipefd[1];
    pid_t client = h_fork (s_client, NULL);
    close (pipefd[1]);
    char c;
    H_CHECK (read (pipefd[0], &c, 1) == 1,
             "the client died before its pool opened (exit %d)", h_wait (client, 10));
    close (pipefd[0]);
    int nodes, workers, pools;
    fu_status (head, &nodes, &workers, &pools);
    H_CHECK (pools == 1, "the head has %d pools open, want the client's 1", pools);

    h_log ("kill -9 the client (pid %d)", (int)client);
    kill (client, SIGKILL);
    int code = h_wait (client, 10);
    H_CHECK (code == 128 + SIGKILL, "the client ended with %d", code);
    /* Far less than the 30 s until the next heartbeat tick. */
    fu_wait_status (head, 1, 1, 0, 10);
    char log[400];
    snprintf (log, sizeof log, "%s/head.log", head->dir);
    H_CHECK (h_file_has (log, "connection closed"),
             "the head did not say the client's connection closed");
}

int
main (void)
{
    return h_main ("test_fail_client_kill9_noticed_by_closed_connection", s_body);
}
