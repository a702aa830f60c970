/*  kill -9 of a client that put blocks: the head notices it gone (the
    same path that closes its pools) and releases its holds; its blocks,
    and its pool's library and init data, are deleted after the grace. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fail_util.h"
#include "store_util.h"

#define BLOCKS 10

static const h_proc_t *s_head;
static int s_ready_fd;

/* The doomed client: puts its blocks, says so, waits to die. */
static int
s_client (void *arg)
{
    (void)arg;
    pool_t *pool = h_open (s_head, "square", 1);
    H_CHECK (pool != NULL, "pool_open");
    for (int i = 0; i < BLOCKS; i++) {
        char text[64];
        snprintf (text, sizeof text, "block %d of a client about to die", i);
        uint8_t hash[POOL_HASH_SIZE];
        pool_bytes_t bytes = { text, strlen (text) };
        H_CHECK (pool_put (pool, bytes, hash) == 0, "put: %s", pool_last_error (pool));
    }
    H_CHECK (write (s_ready_fd, "r", 1) == 1, "write");
    while (true)
        pause ();
    return 0;
}

static void
s_body (void)
{
    const char *extra[] = { FU_FAST_HEARTBEAT, "--block-grace", "1", NULL };
    h_proc_t *head = h_start_head_with (1, false, extra);
    s_head = head;
    int pipefd[2];
    H_CHECK (pipe (pipefd) == 0, "pipe");
    s_ready_fd = pipefd[1];
    pid_t client = h_fork (s_client, NULL);
    close (pipefd[1]);
    char c;
    H_CHECK (read (pipefd[0], &c, 1) == 1, "the client died before its puts (exit %d)",
             h_wait (client, 10));
    close (pipefd[0]);
    long long held = su_count_keys (head, "dcpool:block:*");
    H_CHECK (held == BLOCKS + 2, "%lld block keys, want %d", held, BLOCKS + 2);

    h_log ("kill -9 the client (pid %d)", (int)client);
    kill (client, SIGKILL);
    int code = h_wait (client, 10);
    H_CHECK (code == 128 + SIGKILL, "the client ended with %d", code);
    long long left = su_wait_keys (head, "dcpool:block:*", 0, 30);
    H_CHECK (left == 0, "%lld block keys of the dead client left", left);
    H_CHECK (su_count_keys (head, "dcpool:holds:*") == 0, "holder records left");
}

int
main (void)
{
    return h_main ("test_blocks_killed_client_released_after_grace", s_body);
}
