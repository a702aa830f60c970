/*  start_node --serve (issue 17) against hostile clients: bound to
    another address than loopback it says it is open to anyone; garbage
    on the port gets a 400 (or the connection closed); a slowloris client
    (headers half sent, then silence; a body half sent, then silence)
    does not hold up other requests and is cut off after --serve-idle; a
    body over --serve-max-body gets 413, with a Content-Length and
    chunked; after each the service answers a plain request.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve_util.h"

/*  A TCP connection to 127.0.0.1:port that has sent text. */
static int
s_connect (int port, const char *text, size_t size)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    H_CHECK (fd >= 0, "socket: %s", strerror (errno));
    struct sockaddr_in addr
        = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    H_CHECK (connect (fd, (struct sockaddr *)&addr, sizeof addr) == 0, "connect: %s",
             strerror (errno));
    H_CHECK (write (fd, text, size) == (ssize_t)size, "write: %s", strerror (errno));
    return fd;
}

/*  Reads until the server closes fd or timeout seconds pass: true when it
    closed; what it sent into reply[size]. */
static bool
s_until_closed (int fd, double timeout, char *reply, size_t size)
{
    size_t used = 0;
    reply[0] = 0;
    double deadline = h_now () + timeout;
    while (h_now () < deadline) {
        struct pollfd item = { .fd = fd, .events = POLLIN };
        if (poll (&item, 1, 100) <= 0)
            continue;
        char buffer[4096];
        ssize_t got = read (fd, buffer, sizeof buffer);
        if (got <= 0)
            return true;
        size_t keep = (size_t)got < size - 1 - used ? (size_t)got : size - 1 - used;
        memcpy (reply + used, buffer, keep);
        used += keep;
        reply[used] = 0;
    }
    return false;
}

static void
s_still_answers (const char *url, const char *after)
{
    char *out = NULL;
    int status = serve_post (url, "ok", 2, &out, NULL);
    H_CHECK (status == 200 && strcmp (out, "echo:ok") == 0, "after %s: status %d, '%s'",
             after, status, out);
    free (out);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    const char *extra[] = {
        "--serve-bind", "0.0.0.0", "--serve-max-body", "1000", "--serve-idle", "2", NULL
    };
    serve_proc_t serve;
    serve_start (&serve, head, extra);
    H_CHECK (strstr (serve.said, "open to anyone who can reach 0.0.0.0:")
                 && strstr (serve.said, "no authentication"),
             "bound to 0.0.0.0 it must say it is open to anyone: '%s'", serve.said);
    char url[128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/run", serve.port);
    s_still_answers (url, "start");

    /* Garbage. */
    static const char garbage[] = "\x01\x02 this is not HTTP \xff\xfe\r\n\r\n";
    int fd = s_connect (serve.port, garbage, sizeof garbage - 1);
    char reply[4096];
    H_CHECK (s_until_closed (fd, h_timeout (20), reply, sizeof reply),
             "garbage: the connection stayed open");
    H_CHECK (reply[0] == 0 || strncmp (reply, "HTTP/1.1 400", 12) == 0,
             "garbage: answered '%.40s', want 400 or nothing", reply);
    h_log ("garbage: '%.30s'", reply[0] ? reply : "(closed without an answer)");
    close (fd);
    s_still_answers (url, "garbage");

    /* Slowloris: half a header, then silence; half a body, then silence.
       Others are served meanwhile; both are cut off after --serve-idle. */
    static const char half_header[] = "POST /run HTTP/1.1\r\nHost: x\r\nContent-Le";
    static const char half_body[] = "POST /run HTTP/1.1\r\nHost: x\r\n"
                                    "Content-Length: 100\r\n\r\nonly part of it";
    double started = h_now ();
    int slow1 = s_connect (serve.port, half_header, sizeof half_header - 1);
    int slow2 = s_connect (serve.port, half_body, sizeof half_body - 1);
    s_still_answers (url, "two slowloris connections opened");
    H_CHECK (s_until_closed (slow1, h_timeout (30), reply, sizeof reply),
             "a half-sent header kept its connection for 30 s (--serve-idle 2)");
    H_CHECK (s_until_closed (slow2, h_timeout (30), reply, sizeof reply),
             "a half-sent body kept its connection for 30 s (--serve-idle 2)");
    h_log ("both slowloris connections cut off after %.1f s (--serve-idle 2)",
           h_now () - started);
    close (slow1);
    close (slow2);
    s_still_answers (url, "slowloris");

    /* Over the body cap: with a Content-Length, and chunked. */
    static char big[5000];
    memset (big, 'b', sizeof big);
    char *out = NULL;
    int status = serve_post (url, big, sizeof big, &out, NULL);
    H_CHECK (status == 413, "a 5000-byte body (cap 1000): status %d, '%s'", status, out);
    free (out);
    char path[320], data[340];
    snprintf (path, sizeof path, "%s/big", h_tmpdir ());
    snprintf (data, sizeof data, "@%s", path);
    FILE *file = fopen (path, "wb");
    H_CHECK (file && fwrite (big, 1, sizeof big, file) == sizeof big
                 && fclose (file) == 0,
             "write %s", path);
    const char *chunked[] = { "curl",
                              "-s",
                              "-o",
                              "/dev/null",
                              "-w",
                              "%{http_code}",
                              "-H",
                              "Transfer-Encoding: chunked",
                              "--data-binary",
                              data,
                              url,
                              NULL };
    char *said = NULL;
    serve_run_program (chunked, h_timeout (60), &said);
    H_CHECK (strcmp (said, "413") == 0, "a chunked 5000-byte body: status %s", said);
    free (said);
    s_still_answers (url, "oversized bodies");
    H_CHECK (serve_stop (&serve) == 0, "start_node --serve did not exit 0 on SIGTERM");
}

int
main (void)
{
    return h_main ("test_serve_hostile_clients_get_errors_and_service_goes_on", s_body);
}
