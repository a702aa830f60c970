/*  The head's HTTP bound off its default (--http-bind 127.0.0.2: an
    address of the loopback net other than 127.0.0.1, which the head treats
    like any address it was told to bind) wants the cluster password on
    every path: 401 without it or with a wrong one, 200 with it.  Hostile
    clients cost it nothing but a connection each: garbage bytes get 400
    or a close, a slowloris connection trickling headers never blocks maps
    or /metrics and is closed once idle, headers bigger than a connection's
    memory get an error, a GET announcing a body gets 413, and a 100 MB
    POST is answered (405) and cut off without being read.  start_node
    refuses --http without --head, --http-bind without --http, and
    --http-bind off 127.0.0.1 with --insecure (no password to ask for).  All the while
   maps finish and /metrics answers. (Loopback without a password: the Prometheus and page
   tests.)
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_util.h"
#include "sec_util.h"

#define ADDR "127.0.0.2"

static int s_port;

static void
s_metrics_ok (const char *when)
{
    char url[128], *body = NULL;
    snprintf (url, sizeof url, "http://" ADDR ":%d/metrics", s_port);
    int code = hu_get (url, h_password (), &body);
    H_CHECK (code == 200 && body && strstr (body, "dcpool_nodes 1"),
             "GET /metrics %s: %d, %s", when, code, body ? body : "(nothing)");
    free (body);
}

/*  Sends all of text (MSG_NOSIGNAL: the server may have closed); false
    once the server no longer takes bytes. */
static bool
s_send (int fd, const void *data, size_t size)
{
    const char *at = data;
    while (size) {
        ssize_t sent = send (fd, at, size, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            return false;
        at += sent;
        size -= (size_t)sent;
    }
    return true;
}

static void
s_auth (void)
{
    const char *paths[] = { "/", "/metrics", "/api/status", "/nothing" };
    for (int i = 0; i < 4; i++) {
        char url[128];
        snprintf (url, sizeof url, "http://" ADDR ":%d%s", s_port, paths[i]);
        int code = hu_get (url, NULL, NULL);
        H_CHECK (code == 401, "GET %s without the password: %d, want 401", paths[i],
                 code);
        code = hu_get (url, "not-the-password", NULL);
        H_CHECK (code == 401, "GET %s with a wrong password: %d, want 401", paths[i],
                 code);
        code = hu_get (url, h_password (), NULL);
        H_CHECK (code == (i == 3 ? 404 : 200), "GET %s with the password: %d", paths[i],
                 code);
    }
    h_log ("401 without the password or with a wrong one, 200 with it");
}

static void
s_garbage (void)
{
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 131 + 7);
    junk[sizeof junk - 4] = '\r', junk[sizeof junk - 3] = '\n';
    junk[sizeof junk - 2] = '\r', junk[sizeof junk - 1] = '\n';
    int fd = hu_connect (ADDR, s_port);
    s_send (fd, junk, sizeof junk);
    char reply[4096];
    bool closed;
    hu_read_until_close (fd, reply, sizeof reply, h_timeout (30), &closed);
    close (fd);
    H_CHECK (closed, "garbage: the connection stays open");
    H_CHECK (!reply[0] || strncmp (reply, "HTTP/1.1 4", 10) == 0,
             "garbage got '%.60s', want a 4xx or a close", reply);
    h_log ("garbage: '%.40s', closed", reply);
}

static void
s_big_headers (void)
{
    size_t size = 256 * 1024;
    char *request = malloc (size + 64);
    H_CHECK (request, "out of memory");
    int n = snprintf (request, 64, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset (request + n, 'a', size);
    memcpy (request + n + size, "\r\n\r\n", 4);
    int fd = hu_connect (ADDR, s_port);
    s_send (fd, request, (size_t)n + size + 4);
    free (request);
    char reply[4096];
    bool closed;
    hu_read_until_close (fd, reply, sizeof reply, h_timeout (30), &closed);
    close (fd);
    H_CHECK (closed && (!reply[0] || strncmp (reply, "HTTP/1.1 4", 10) == 0),
             "256 KiB of headers got '%.60s'%s, want a 4xx and a close", reply,
             closed ? "" : " and the connection stays open");
    h_log ("256 KiB of headers: '%.40s'", reply);
}

/* "Basic BASE64(dcpool:PASSWORD)" into out, by hand: the harness's
   password is printable ASCII. */
static void
s_basic (char *out, size_t size)
{
    static const char b64[]
        = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char plain[200];
    int len = snprintf (plain, sizeof plain, "dcpool:%s", h_password ());
    size_t j = (size_t)snprintf (out, size, "Basic ");
    for (int i = 0; i < len && j + 5 < size; i += 3) {
        unsigned v = (unsigned)(unsigned char)plain[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)(unsigned char)plain[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)plain[i + 2];
        out[j++] = b64[(v >> 18) & 63];
        out[j++] = b64[(v >> 12) & 63];
        out[j++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        out[j++] = i + 2 < len ? b64[v & 63] : '=';
    }
    out[j] = 0;
}

/*  A GET that announces a body gets 413 at once and is closed. */
static void
s_get_with_body (void)
{
    char auth[256], request[512];
    s_basic (auth, sizeof auth);
    int n = snprintf (request, sizeof request,
                      "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
                      "Content-Length: 1000000000\r\n\r\n",
                      auth);
    int fd = hu_connect (ADDR, s_port);
    H_CHECK (s_send (fd, request, (size_t)n), "cannot send a GET");
    char reply[4096];
    bool closed;
    hu_read_until_close (fd, reply, sizeof reply, h_timeout (30), &closed);
    close (fd);
    H_CHECK (closed && strncmp (reply, "HTTP/1.1 413", 12) == 0,
             "a GET with a 1 GB body got '%.60s'%s, want 413 and a close", reply,
             closed ? "" : " and the connection stays open");
}

static void
s_big_post (const h_proc_t *head)
{
    char auth[256], header[512];
    s_basic (auth, sizeof auth);
    int n = snprintf (header, sizeof header,
                      "POST /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
                      "Content-Type: application/octet-stream\r\n"
                      "Content-Length: 104857600\r\n\r\n",
                      auth);
    int fd = hu_connect (ADDR, s_port);
    H_CHECK (s_send (fd, header, (size_t)n), "cannot send the POST's headers");
    static char chunk[1 << 16];
    memset (chunk, 'x', sizeof chunk);
    size_t sent = 0;
    while (sent < 100u << 20 && s_send (fd, chunk, sizeof chunk))
        sent += sizeof chunk;
    char reply[4096];
    bool closed;
    hu_read_until_close (fd, reply, sizeof reply, h_timeout (30), &closed);
    close (fd);
    h_log ("100 MB POST: %zu bytes taken before the cut, answer '%.40s'", sent, reply);
    H_CHECK (closed, "the 100 MB POST's connection stays open");
    H_CHECK (!reply[0] || strncmp (reply, "HTTP/1.1 4", 10) == 0,
             "the 100 MB POST got '%.60s', want a 4xx or a close", reply);
    s_metrics_ok ("after the 100 MB POST");
    sec_map_square_ok (head, 2, 200);
}

static void
s_slowloris (const h_proc_t *head)
{
    int fd = hu_connect (ADDR, s_port);
    const char *start = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
    H_CHECK (s_send (fd, start, strlen (start)), "slowloris: cannot send");
    /* A header line at a time, with a map and a scrape between: the head
       answers both while the connection hangs on. */
    for (int i = 0; i < 5; i++) {
        char line[64];
        int n = snprintf (line, sizeof line, "X-Slow-%d: %d\r\n", i, i);
        s_send (fd, line, (size_t)n);
        sec_map_square_ok (head, 2, 100);
        s_metrics_ok ("while a slowloris connection trickles headers");
    }
    /* Then it goes quiet: the head closes it once idle (10 s). */
    char reply[4096];
    bool closed;
    double start_s = h_now ();
    hu_read_until_close (fd, reply, sizeof reply, h_timeout (60), &closed);
    close (fd);
    H_CHECK (closed, "the slowloris connection is still open after %.0f s",
             h_now () - start_s);
    h_log ("slowloris: closed after %.1f s idle ('%.40s')", h_now () - start_s, reply);
}

/*  The flags that make no sense are refused before anything starts. */
static void
s_misused_flags (void)
{
    const char *no_head[] = { "-a", "127.0.0.1", "-r", "pw", "--http", "9100", NULL };
    const char *bind_alone[] = { "--head", "-r", "pw", "--http-bind", ADDR, NULL };
    const char *insecure[]
        = { "--head", "--insecure", "--http", "9100", "--http-bind", ADDR, NULL };
    const char *const *cases[] = { no_head, bind_alone, insecure };
    const char *says[] = { "go with --head", "needs --http", "--insecure has none" };
    for (int i = 0; i < 3; i++) {
        char *output = NULL;
        int code = h_run_start_node (cases[i], h_timeout (30), &output);
        H_CHECK (code != 0 && strstr (output, says[i]),
                 "start_node exited %d without saying '%s':\n%s", code, says[i], output);
        free (output);
    }
}

static void
s_body (void)
{
    s_misused_flags ();
    h_proc_t *head = hu_start_head (2, ADDR, &s_port);
    H_CHECK (strstr (head->out, "basic auth"),
             "start_node does not say the page needs the password:\n%s", head->out);
    s_auth ();
    s_garbage ();
    s_metrics_ok ("after garbage");
    s_big_headers ();
    s_metrics_ok ("after big headers");
    s_get_with_body ();
    s_big_post (head);
    s_slowloris (head);
    s_metrics_ok ("at the end");
    sec_map_square_ok (head, 2, 200);
}

int
main (void)
{
    return h_main ("test_http_auth_and_hostile_requests_head_carries_on", s_body);
}
