/*  Nothing travels in clear: the test puts its own TCP relay between a
    client and the head, maps inputs that contain a marker string, and
    checks every byte that went through the relay, both ways.  With CURVE
    the marker (and the reversed marker the "other" worker returns) never
    appears; with --insecure on both ends it does, which proves the relay
    saw the traffic.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sec_util.h"

#define MARKER "dcpool-marker-Q7x9wZ"
#define RELAY_PAIRS 32
#define N 64

typedef struct {
    int listen_fd;
    int head_port;
    char capture[400];
} s_relay_t;

static int
s_connect_head (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr
        = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (fd >= 0 && connect (fd, (struct sockaddr *)&addr, sizeof addr) == 0)
        return fd;
    if (fd >= 0)
        close (fd);
    return -1;
}

/* The relay process: accepts, connects each to the head, copies both ways
   and appends every byte to the capture file.  Ends when killed. */
static int
s_relay_run (void *varg)
{
    s_relay_t *relay = varg;
    int capture = open (relay->capture, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (capture < 0)
        return 2;
    int fds[RELAY_PAIRS][2];
    int npairs = 0;
    while (true) {
        struct pollfd pfd[1 + 2 * RELAY_PAIRS];
        pfd[0] = (struct pollfd){ relay->listen_fd, POLLIN, 0 };
        for (int i = 0; i < npairs; i++) {
            pfd[1 + 2 * i] = (struct pollfd){ fds[i][0], POLLIN, 0 };
            pfd[2 + 2 * i] = (struct pollfd){ fds[i][1], POLLIN, 0 };
        }
        if (poll (pfd, (nfds_t)(1 + 2 * npairs), -1) < 0) {
            if (errno == EINTR)
                continue;
            return 3;
        }
        if (pfd[0].revents & POLLIN) {
            int client = accept (relay->listen_fd, NULL, NULL);
            if (client >= 0) {
                int head = npairs < RELAY_PAIRS ? s_connect_head (relay->head_port) : -1;
                if (head < 0)
                    close (client);
                else {
                    fds[npairs][0] = client;
                    fds[npairs][1] = head;
                    npairs++;
                }
            }
        }
        for (int i = 0; i < npairs; i++)
            for (int side = 0; side < 2; side++) {
                if (!(pfd[1 + 2 * i + side].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                char buf[65536];
                ssize_t n = read (fds[i][side], buf, sizeof buf);
                bool gone = n <= 0;
                for (ssize_t off = 0; !gone && off < n;) {
                    ssize_t w = write (fds[i][!side], buf + off, (size_t)(n - off));
                    if (w <= 0)
                        gone = true;
                    else
                        off += w;
                }
                if (n > 0 && write (capture, buf, (size_t)n) != n)
                    return 4;
                if (gone) {
                    close (fds[i][0]);
                    close (fds[i][1]);
                    fds[i][0] = fds[npairs - 1][0];
                    fds[i][1] = fds[npairs - 1][1];
                    npairs--;
                    /* The poll results of the moved pair are stale: next turn. */
                    goto next;
                }
            }
    next:;
    }
}

/* Starts a relay to head; its port in *port, its pid returned. */
static pid_t
s_relay_start (const h_proc_t *head, s_relay_t *relay, const char *name, int *port)
{
    relay->listen_fd = socket (AF_INET, SOCK_STREAM, 0);
    H_CHECK (relay->listen_fd >= 0, "socket: %s", strerror (errno));
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    H_CHECK (bind (relay->listen_fd, (struct sockaddr *)&addr, sizeof addr) == 0
                 && listen (relay->listen_fd, 16) == 0
                 && getsockname (relay->listen_fd, (struct sockaddr *)&addr, &len) == 0,
             "relay listen: %s", strerror (errno));
    *port = ntohs (addr.sin_port);
    relay->head_port = head->port;
    snprintf (relay->capture, sizeof relay->capture, "%s/%s.bytes", h_tmpdir (), name);
    pid_t pid = h_fork (s_relay_run, relay);
    close (relay->listen_fd);
    h_log ("relay %s: 127.0.0.1:%d -> %s", name, *port, head->server);
    return pid;
}

static void
s_relay_stop (pid_t pid)
{
    kill (pid, SIGTERM);
    int code = h_wait (pid, h_timeout (10));
    H_CHECK (code == 128 + SIGTERM,
             "the relay ended with %d, not by SIGTERM "
             "(it failed)",
             code);
}

/* Reads the capture: its size, whether it holds needle. */
static bool
s_capture_has (const char *path, const char *needle, size_t *size)
{
    FILE *f = fopen (path, "rb");
    H_CHECK (f, "open %s", path);
    fseek (f, 0, SEEK_END);
    long len = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *data = malloc ((size_t)len + 1);
    H_CHECK (data && fread (data, 1, (size_t)len, f) == (size_t)len, "read %s", path);
    fclose (f);
    *size = (size_t)len;
    bool found = memmem (data, (size_t)len, needle, strlen (needle)) != NULL;
    free (data);
    return found;
}

/* Maps N marked inputs through the relay with the "other" worker
   (reverses its input) and checks the results. */
static void
s_map_through (const h_proc_t *head, int relay_port, bool insecure)
{
    char server[64];
    snprintf (server, sizeof server, "127.0.0.1:%d", relay_port);
    pool_options_t options;
    h_options (&options, head, "other");
    options.server = server;
    options.insecure = insecure;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open through the relay (%s): %s: %s",
             insecure ? "insecure" : "CURVE", pool_strerror (rc), pool_open_error ());
    rc = pool_wait_for_workers (pool, 2, h_timeout (60));
    H_CHECK (rc == 0, "pool_wait_for_workers: %s", pool_strerror (rc));
    static char texts[N][64];
    static pool_bytes_t inputs[N];
    static pool_result_t results[N];
    for (int i = 0; i < N; i++) {
        snprintf (texts[i], sizeof texts[i], "%s-%d", MARKER, i);
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    }
    rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (int i = 0; i < N; i++) {
        size_t len = strlen (texts[i]);
        H_CHECK (results[i].status == 0 && results[i].value.size == len,
                 "input %d: status %d", i, results[i].status);
        for (size_t k = 0; k < len; k++)
            H_CHECK (((const char *)results[i].value.data)[k] == texts[i][len - 1 - k],
                     "input %d: output is not the reversed input", i);
    }
    pool_results_release (pool, results, N);
    pool_close (&pool);
}

static void
s_body (void)
{
    char reversed[64];
    size_t mlen = strlen (MARKER);
    for (size_t k = 0; k < mlen; k++)
        reversed[k] = MARKER[mlen - 1 - k];
    reversed[mlen] = 0;

    /* CURVE: the relay sees only ciphertext. */
    h_proc_t *head = h_start_head (2, false);
    static s_relay_t relay1, relay2;
    int port;
    pid_t pid = s_relay_start (head, &relay1, "curve", &port);
    s_map_through (head, port, false);
    s_relay_stop (pid);
    size_t size;
    bool found = s_capture_has (relay1.capture, MARKER, &size);
    bool found_rev = s_capture_has (relay1.capture, reversed, &size);
    h_log ("CURVE: %zu bytes relayed, marker %s, reversed marker %s", size,
           found ? "FOUND" : "absent", found_rev ? "FOUND" : "absent");
    H_CHECK (size > (size_t)N * mlen, "the relay saw only %zu bytes", size);
    H_CHECK (!found, "the marker went through the relay in clear with CURVE");
    H_CHECK (!found_rev, "a result went through the relay in clear with CURVE");
    h_stop (head);

    /* --insecure on both ends: the same traffic is readable. */
    const char *insecure[] = { "--insecure", NULL };
    head = h_start_head_with (2, false, insecure);
    pid = s_relay_start (head, &relay2, "insecure", &port);
    s_map_through (head, port, true);
    s_relay_stop (pid);
    found = s_capture_has (relay2.capture, MARKER, &size);
    found_rev = s_capture_has (relay2.capture, reversed, &size);
    h_log ("insecure: %zu bytes relayed, marker %s, reversed marker %s", size,
           found ? "found" : "ABSENT", found_rev ? "found" : "ABSENT");
    H_CHECK (found && found_rev, "with --insecure the relay did not see the marker "
                                 "and the result: is it relaying at all?");
}

int
main (void)
{
    return h_main ("test_sec_no_clear_text_on_the_wire", s_body);
}
