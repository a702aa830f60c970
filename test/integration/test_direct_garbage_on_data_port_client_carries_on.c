/*  A client's data endpoint (libpool/direct_server.h, DESIGN.md section
    13) survives whatever reaches its port, and its pool goes on moving
    big inputs and outputs through it.  Shared memory is off
    (shared_memory_min = 0), so the workers on this host use the data
    plane; the test process is the client, so its endpoint is the one TCP
    socket it listens on (found in /proc/self/net/tcp by the inodes of its
    own fds).

    - With CURVE (the default): random bytes, ZMTP greetings offering
      every mechanism followed by garbage commands or a huge declared
      length, hundreds of connections opened and dropped, and half
      greetings left hanging while a map of 1 MiB inputs runs: every
      result is right, and no worker fell back to the head.
    - Insecure (start_node --insecure, options.insecure = 1), a raw
      ZeroMQ DEALER sends data-plane messages libpool never would.
      Garbage gets no answer (random frames, a wrong magic, an unknown
      kind, a length over a chunk, a body of the wrong size, a GET of
      nothing, the server's own kinds DATA/ACK/ERR); a GET for a key not
      served is answered ERR naming its key and offset, and being the
      first answer proves the garbage before it got none.  A PUT for a
      job id that does not exist is stored and ACKed (the endpoint does
      not know job ids: an output waits for its RESULT, and is dropped
      after POOL_DIRECT_STALE_MS); chunks out of order, and an output
      larger than the endpoint holds, are answered ERR; a message over
      the size limit (PROTO_DIRECT_CHUNK + 4 KiB) gets no answer, and the
      other connections are served as before.  Then a map of 1 MiB inputs (with 1 MiB
   outputs, put back at the endpoint) returns every result right.
*/
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "direct.h"
#include "harness.h"

#define MIB ((size_t)1 << 20)
#define INPUTS 16
#define HANGING 10

static uint64_t s_state = 0x9e3779b97f4a7c15ull;
static uint32_t
s_rand (void)
{
    s_state ^= s_state << 13;
    s_state ^= s_state >> 7;
    s_state ^= s_state << 17;
    return (uint32_t)s_state;
}

/* ---- finding the endpoint ------------------------------------------- */

/*  Whether inode is the inode of a socket among this process' fds. */
static bool
s_own_socket (unsigned long inode)
{
    char want[64];
    snprintf (want, sizeof want, "socket:[%lu]", inode);
    DIR *dir = opendir ("/proc/self/fd");
    H_CHECK (dir, "opendir /proc/self/fd: %s", strerror (errno));
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir (dir))) {
        char path[300], link[128];
        snprintf (path, sizeof path, "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink (path, link, sizeof link - 1);
        if (n > 0) {
            link[n] = 0;
            found = streq (link, want);
        }
    }
    closedir (dir);
    return found;
}

/*  This process' IPv4 TCP sockets in state (0x0A listen, 0x01
    established) whose local port is port (0: any): their count, the last
    one's address into *out when not NULL. */
static int
s_own_tcp (unsigned int state, unsigned int port, struct sockaddr_in *out)
{
    FILE *f = fopen ("/proc/self/net/tcp", "r");
    H_CHECK (f, "open /proc/self/net/tcp: %s", strerror (errno));
    char line[512];
    int found = 0;
    while (fgets (line, sizeof line, f)) {
        unsigned int addr, local, st;
        unsigned long inode;
        /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
        if (sscanf (line,
                    " %*d: %8X:%4X %*8X:%*4X %2X %*8X:%*8X %*2X:%*8X %*8X %*u %*u %lu",
                    &addr, &local, &st, &inode)
                != 4
            || st != state || (port && local != port) || !s_own_socket (inode))
            continue;
        if (out) {
            memset (out, 0, sizeof *out);
            out->sin_family = AF_INET;
            out->sin_addr.s_addr = addr; /* printed as the raw 32 bits */
            out->sin_port = htons ((uint16_t)local);
        }
        found++;
    }
    fclose (f);
    return found;
}

/*  The IPv4 address and port of the one TCP socket this process listens
    on: the pool's data endpoint (the link to the head only connects).
    Fails the test unless there is exactly one. */
static void
s_data_endpoint (struct sockaddr_in *out)
{
    int found = s_own_tcp (0x0A, 0, out);
    H_CHECK (found == 1,
             "this client listens on %d TCP sockets, want 1 (its data endpoint)", found);
    char text[INET_ADDRSTRLEN];
    inet_ntop (AF_INET, &out->sin_addr, text, sizeof text);
    h_log ("the client's data endpoint listens on %s:%d", text, ntohs (out->sin_port));
}

/* ---- the pool and its maps --------------------------------------------- */

/*  An xor pool on head with shared memory off and `workers` workers. */
static pool_t *
s_open (const h_proc_t *head, bool insecure, int workers)
{
    pool_options_t options;
    h_options (&options, head, "xor");
    options.shared_memory_min = 0; /* workers here use the data plane */
    if (insecure) {
        options.insecure = 1;
        options.password = NULL;
    }
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0 && pool, "pool_open: %s: %s", pool_strerror (rc),
             pool_open_error ());
    rc = pool_wait_for_workers (pool, workers, h_timeout (60));
    H_CHECK (rc == 0, "pool_wait_for_workers (%d): %s: %s", workers, pool_strerror (rc),
             pool_last_error (pool));
    return pool;
}

/*  Maps INPUTS inputs of 1 MiB (modes 'A' and 'S': every byte XOR 0x5A,
    1 MiB back) and checks every result; round tells the inputs apart. */
static void
s_map_big (pool_t *pool, int round)
{
    pool_bytes_t inputs[INPUTS];
    pool_result_t results[INPUTS];
    for (size_t i = 0; i < INPUTS; i++) {
        uint8_t *p = malloc (MIB);
        H_CHECK (p, "out of memory");
        p[0] = i % 2 ? 'A' : 'S';
        for (size_t k = 1; k < MIB; k++)
            p[k] = (uint8_t)(k * 31 + i + 7 * (size_t)round + (k >> 12));
        inputs[i] = (pool_bytes_t){ p, MIB };
    }
    int rc = pool_map (pool, inputs, INPUTS, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (size_t i = 0; i < INPUTS; i++) {
        H_CHECK (results[i].status == 0 && results[i].value.size == MIB,
                 "round %d, input %zu: status %d (%s), %zu bytes", round, i,
                 results[i].status, results[i].error ? results[i].error : "",
                 results[i].value.size);
        const uint8_t *in = inputs[i].data, *o = results[i].value.data;
        for (size_t k = 0; k < MIB; k++)
            if (o[k] != (in[k] ^ 0x5A))
                H_FAIL ("round %d, input %zu: byte %zu is %u, want %u", round, i, k, o[k],
                        in[k] ^ 0x5A);
    }
    pool_results_release (pool, results, INPUTS);
    for (size_t i = 0; i < INPUTS; i++)
        free ((void *)inputs[i].data);
    h_log ("round %d: %d inputs of 1 MiB, every result right", round, INPUTS);
}

/*  Fails the test unless workers are connected to the endpoint at (more
    connections than the `ours` the test holds itself) and none of them
    fell back to the head: a worker that could not fetch an
    input answers RESEND (the head logs it), one that could not put an
    output sends it as bytes (its node logs it). */
static void
s_no_fallback (const h_proc_t *head, const h_proc_t *node, const struct sockaddr_in *at,
               int ours, const char *when)
{
    int connected = s_own_tcp (0x01, ntohs (at->sin_port), NULL) - ours;
    H_CHECK (connected >= 1, "%s: no worker is connected to the data endpoint", when);
    char log[400];
    snprintf (log, sizeof log, "%s/head.log", head->dir);
    H_CHECK (!h_file_has (log, "cannot reach pool"),
             "%s: a worker could not reach the client's data endpoint (head.log says so)",
             when);
    snprintf (log, sizeof log, "%s/node.log", node->dir);
    H_CHECK (!h_file_has (log, "cannot fetch its input")
                 && !h_file_has (log, "output goes through the head"),
             "%s: a worker fell back to the head (node.log says so)", when);
    h_log ("%s: %d workers connected to the data endpoint, no fall-back to the head",
           when, connected);
}

/* ---- raw TCP garbage ----------------------------------------------------- */

static int
s_connect (const struct sockaddr_in *at)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    H_CHECK (fd >= 0, "socket: %s", strerror (errno));
    H_CHECK (connect (fd, (const struct sockaddr *)at, sizeof *at) == 0,
             "connect to the data endpoint: %s", strerror (errno));
    return fd;
}

/* Sends what it can: the endpoint may cut us off at any point. */
static void
s_send (int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = send (fd, p, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0)
            return;
        p += n;
        size -= (size_t)n;
    }
}

/* A ZMTP 3.0 greeting offering mechanism. */
static void
s_greeting (uint8_t out[64], const char *mechanism)
{
    memset (out, 0, 64);
    out[0] = 0xff;
    out[9] = 0x7f;
    out[10] = 3;
    memcpy (out + 12, mechanism, strlen (mechanism));
}

/*  Random bytes, broken greetings, connections dropped; leaves HANGING
    half greetings open in hanging[]. */
static void
s_tcp_garbage (const struct sockaddr_in *at, int hanging[HANGING])
{
    static uint8_t junk[65536];
    for (int i = 0; i < 30; i++) {
        int fd = s_connect (at);
        size_t size = i == 29 ? sizeof junk : 1 + s_rand () % 4096;
        for (size_t k = 0; k < size; k++)
            junk[k] = (uint8_t)s_rand ();
        if (i % 3 == 0)
            junk[0] = 0xff; /* looks like the start of a signature */
        s_send (fd, junk, size);
        close (fd);
    }
    h_log ("sent random bytes on 30 connections");

    static const char *mechanisms[] = { "NULL", "PLAIN", "CURVE", "GSSAPI", "XXXX" };
    for (size_t m = 0; m < sizeof mechanisms / sizeof mechanisms[0]; m++) {
        int fd = s_connect (at);
        uint8_t greeting[64];
        s_greeting (greeting, mechanisms[m]);
        s_send (fd, greeting, 64);
        /* A short command "HELLO" full of garbage. */
        uint8_t command[200] = { 0x04, 198, 5, 'H', 'E', 'L', 'L', 'O' };
        for (size_t k = 8; k < sizeof command; k++)
            command[k] = (uint8_t)s_rand ();
        s_send (fd, command, sizeof command);
        /* A long command declaring 2^62 bytes. */
        static const uint8_t huge[] = { 0x06, 0x40, 0, 0, 0, 0, 0, 0, 0 };
        s_send (fd, huge, sizeof huge);
        close (fd);
    }
    {
        int fd = s_connect (at);
        uint8_t greeting[64];
        s_greeting (greeting, "CURVE");
        greeting[10] = 9; /* ZMTP 9.0 */
        s_send (fd, greeting, 64);
        /* A data-plane GET as if the connection were up. */
        proto_direct_t get = { PROTO_DIRECT_GET, 1, 0, 0, 16, 16 };
        zmsg_t *msg = proto_direct_encode (&get, NULL);
        H_CHECK (msg, "encode a GET");
        s_send (fd, zframe_data (zmsg_first (msg)), PROTO_DIRECT_HEADER);
        zmsg_destroy (&msg);
        close (fd);
    }
    h_log ("sent broken greetings");

    for (int i = 0; i < 200; i++)
        close (s_connect (at));
    h_log ("opened and dropped 200 connections");

    for (int i = 0; i < HANGING; i++) {
        hanging[i] = s_connect (at);
        uint8_t greeting[64];
        s_greeting (greeting, "CURVE");
        s_send (hanging[i], greeting, 1 + (size_t)(i % 12));
    }
    h_log ("%d half greetings hanging", HANGING);
}

static void
s_secure (void)
{
    h_proc_t *head = h_start_head (0, true);
    h_proc_t *node = h_start_node (head, 2);
    pool_t *pool = s_open (head, false, 2);
    struct sockaddr_in at;
    s_data_endpoint (&at);
    s_map_big (pool, 0);
    s_no_fallback (head, node, &at, 0, "before the garbage");

    int hanging[HANGING];
    s_tcp_garbage (&at, hanging);
    s_map_big (pool, 1); /* with the half greetings still open */
    for (int i = 0; i < HANGING; i++)
        close (hanging[i]);
    s_map_big (pool, 2);
    s_no_fallback (head, node, &at, 0, "after the garbage");
    pool_close (&pool);
    h_stop (node);
    h_stop (head);
}

/* ---- a raw DEALER, insecure -------------------------------------------- */

/*  Sends a data-plane message with these fields (magic and kind as
    given) and frames body[nbody] after the header. */
static void
s_send_raw (zsock_t *dealer, uint32_t magic, uint32_t kind, proto_direct_t f,
            const void *const *body, const size_t *sizes, int nbody)
{
    proto_direct_t fields = f;
    fields.kind = PROTO_DIRECT_GET; /* encode the fields, then set the rest */
    zmsg_t *msg = proto_direct_encode (&fields, NULL);
    H_CHECK (msg, "encode a header");
    uint8_t *p = zframe_data (zmsg_first (msg));
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(magic >> (8 * i));
        p[4 + i] = (uint8_t)(kind >> (8 * i));
    }
    for (int i = 0; i < nbody; i++)
        H_CHECK (zmsg_addmem (msg, body[i], sizes[i]) == 0, "out of memory");
    H_CHECK (zmsg_send (&msg, dealer) == 0, "send: %s", zmq_strerror (zmq_errno ()));
}

/*  A well-formed message of f.kind with body (size bytes) when not NULL. */
static void
s_send_direct (zsock_t *dealer, proto_direct_t f, const void *body, size_t size)
{
    const void *frames[1] = { body };
    s_send_raw (dealer, PROTO_DIRECT_MAGIC, f.kind, f, frames, &size, body ? 1 : 0);
}

/*  The next answer on dealer, decoded (its text into text[text_size] for
    ERR); fails the test when none comes within the timeout or it does
    not decode. */
static proto_direct_t
s_answer (zsock_t *dealer, char *text, size_t text_size, const char *what)
{
    zpoller_t *poller = zpoller_new (dealer, NULL);
    H_CHECK (poller, "zpoller_new");
    void *which = zpoller_wait (poller, (int)(h_timeout (20) * 1000));
    zpoller_destroy (&poller);
    H_CHECK (which == dealer, "%s: no answer from the data endpoint", what);
    zmsg_t *msg = zmsg_recv (dealer);
    H_CHECK (msg, "%s: receive", what);
    proto_direct_t head;
    zframe_t *body;
    char reason[128] = "";
    H_CHECK (proto_direct_decode (msg, &head, &body, reason, sizeof reason) == 0,
             "%s: the endpoint answered something that does not decode: %s", what,
             reason);
    text[0] = 0;
    if (head.kind == PROTO_DIRECT_ERR)
        snprintf (text, text_size, "%.*s", (int)zframe_size (body),
                  (const char *)zframe_data (body));
    zmsg_destroy (&msg);
    return head;
}

/*  Sends a GET for key (never served) and expects its ERR as the very next
    answer: what was sent before it got none. */
static void
s_probe (zsock_t *dealer, uint64_t key, const char *after)
{
    s_send_direct (dealer, (proto_direct_t){ PROTO_DIRECT_GET, key, 0, 32, 16, 64 }, NULL,
                   0);
    char text[256];
    proto_direct_t a = s_answer (dealer, text, sizeof text, after);
    H_CHECK (
        a.kind == PROTO_DIRECT_ERR && a.key == key && a.offset == 32,
        "after %s the first answer is kind %d key %llu offset %llu, want the ERR for "
        "the probe (key %llu offset 32)",
        after, a.kind, (unsigned long long)a.key, (unsigned long long)a.offset,
        (unsigned long long)key);
    h_log ("%s: no answer; a GET for key %llu not served: ERR '%s'", after,
           (unsigned long long)key, text);
}

static zsock_t *
s_dealer (const struct sockaddr_in *at)
{
    char text[INET_ADDRSTRLEN];
    inet_ntop (AF_INET, &at->sin_addr, text, sizeof text);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    H_CHECK (dealer, "zsock_new");
    zsock_set_linger (dealer, 0);
    H_CHECK (zsock_connect (dealer, "tcp://%s:%d", text, ntohs (at->sin_port)) == 0,
             "connect a DEALER to the data endpoint");
    return dealer;
}

/*  Garbage that decodes to nothing the endpoint answers. */
static void
s_garbage_messages (zsock_t *dealer)
{
    const uint64_t C = PROTO_DIRECT_CHUNK;
    uint8_t junk[256];
    for (int i = 0; i < 200; i++) { /* random frames, one to three */
        int n = 1 + (int)(s_rand () % 3);
        zmsg_t *msg = zmsg_new ();
        for (int k = 0; k < n; k++) {
            size_t size = s_rand () % sizeof junk;
            for (size_t b = 0; b < size; b++)
                junk[b] = (uint8_t)s_rand ();
            zmsg_addmem (msg, junk, size);
        }
        H_CHECK (zmsg_send (&msg, dealer) == 0, "send");
    }
    proto_direct_t get = { PROTO_DIRECT_GET, 5, 0, 0, 16, 64 };
    s_send_raw (dealer, PROTO_DIRECT_MAGIC ^ 0x01000000u, PROTO_DIRECT_GET, get, NULL,
                NULL, 0);
    s_send_raw (dealer, PROTO_DIRECT_MAGIC, 9, get, NULL, NULL, 0);
    s_send_raw (dealer, PROTO_DIRECT_MAGIC, 0, get, NULL, NULL, 0);
    /* length over a chunk: a GET, and a PUT whose body is small */
    s_send_direct (dealer, (proto_direct_t){ PROTO_DIRECT_GET, 5, 0, 0, C + 1, 4 * C },
                   NULL, 0);
    const void *small[1] = { "0123456789" };
    size_t ten = 10;
    s_send_raw (dealer, PROTO_DIRECT_MAGIC, PROTO_DIRECT_PUT,
                (proto_direct_t){ PROTO_DIRECT_PUT, 424242, 1, 0, C + 1, 4 * C }, small,
                &ten, 1);
    /* a body that is not `length` bytes; offset + length past total */
    s_send_raw (dealer, PROTO_DIRECT_MAGIC, PROTO_DIRECT_PUT,
                (proto_direct_t){ PROTO_DIRECT_PUT, 424242, 1, 0, 16, 64 }, small, &ten,
                1);
    s_send_direct (dealer, (proto_direct_t){ PROTO_DIRECT_GET, 5, 0, 60, 16, 64 }, NULL,
                   0);
    /* total over PROTO_DIRECT_TOTAL_MAX */
    s_send_direct (
        dealer,
        (proto_direct_t){ PROTO_DIRECT_GET, 5, 0, 0, 16, PROTO_DIRECT_TOTAL_MAX + 1 },
        NULL, 0);
    /* a GET of nothing */
    s_send_direct (dealer, (proto_direct_t){ PROTO_DIRECT_GET, 5, 0, 0, 0, 0 }, NULL, 0);
    /* what the endpoint sends, not what it serves */
    s_send_direct (dealer, (proto_direct_t){ PROTO_DIRECT_DATA, 5, 0, 0, 10, 10 },
                   "0123456789", 10);
    s_send_direct (dealer, (proto_direct_t){ PROTO_DIRECT_ACK, 424242, 1, 0, 10, 10 },
                   NULL, 0);
    s_send_direct (dealer, (proto_direct_t){ PROTO_DIRECT_ERR, 5, 0, 0, 0, 0 }, "oops",
                   4);
}

/*  A PUT chunk of 16 bytes for job id at offset of total; the answer. */
static proto_direct_t
s_put (zsock_t *dealer, uint64_t id, uint64_t offset, uint64_t total, char *text,
       size_t text_size, const char *what)
{
    s_send_direct (dealer, (proto_direct_t){ PROTO_DIRECT_PUT, id, 1, offset, 16, total },
                   "0123456789abcdef", 16);
    proto_direct_t a = s_answer (dealer, text, text_size, what);
    H_CHECK (a.key == id && a.attempt == 1 && a.offset == offset,
             "%s: the answer names job %llu attempt %llu offset %llu, want %llu 1 %llu",
             what, (unsigned long long)a.key, (unsigned long long)a.attempt,
             (unsigned long long)a.offset, (unsigned long long)id,
             (unsigned long long)offset);
    return a;
}

static void
s_insecure (void)
{
    const char *const insecure[] = { "--insecure", NULL };
    h_proc_t *head = h_start_head_with (0, true, insecure);
    h_proc_t *node = h_start_node_with (head, 2, insecure);
    pool_t *pool = s_open (head, true, 2);
    struct sockaddr_in at;
    s_data_endpoint (&at);
    zsock_t *dealer = s_dealer (&at);
    char text[256];

    /* A GET for a key not served: ERR naming it. */
    s_probe (dealer, 0xdead0001ull, "a first GET");
    s_garbage_messages (dealer);
    s_probe (dealer, 0xdead0002ull, "200 random messages and 12 malformed ones");

    /* A PUT for a job that does not exist: stored, ACKed chunk by chunk. */
    const uint64_t C = PROTO_DIRECT_CHUNK;
    for (uint64_t off = 0; off < 32; off += 16) {
        proto_direct_t a = s_put (dealer, 999999, off, 32, text, sizeof text,
                                  "a PUT for a job that does not exist");
        H_CHECK (
            a.kind == PROTO_DIRECT_ACK && a.length == 16 && a.total == 32,
            "a PUT for a job that does not exist, offset %llu: kind %d (%s), want ACK",
            (unsigned long long)off, a.kind, text);
    }
    h_log ("a PUT for a job that does not exist: ACKed (held until stale)");

    /* Chunks out of order: a first chunk not at 0, a chunk skipped (the
       upload is then dropped: the next chunk, in order, is refused too). */
    proto_direct_t a
        = s_put (dealer, 999998, C, 2 * C, text, sizeof text, "no first chunk");
    H_CHECK (a.kind == PROTO_DIRECT_ERR, "a PUT starting at %llu: kind %d, want ERR",
             (unsigned long long)C, a.kind);
    h_log ("a PUT starting past 0: ERR '%s'", text);
    a = s_put (dealer, 999997, 0, 64, text, sizeof text, "a first chunk");
    H_CHECK (a.kind == PROTO_DIRECT_ACK, "a first chunk: kind %d (%s), want ACK", a.kind,
             text);
    a = s_put (dealer, 999997, 32, 64, text, sizeof text, "a chunk skipped");
    H_CHECK (a.kind == PROTO_DIRECT_ERR, "a chunk skipped: kind %d, want ERR", a.kind);
    h_log ("a chunk skipped: ERR '%s'", text);
    a = s_put (dealer, 999997, 16, 64, text, sizeof text,
               "the chunk after a dropped upload");
    H_CHECK (a.kind == PROTO_DIRECT_ERR,
             "the next chunk of an upload dropped for a skip: kind %d, want ERR", a.kind);

    /* An output larger than the endpoint holds for outputs at once. */
    a = s_put (dealer, 999996, 0, (uint64_t)2 << 30, text, sizeof text, "a 2 GiB output");
    H_CHECK (a.kind == PROTO_DIRECT_ERR, "a 2 GiB output: kind %d, want ERR", a.kind);
    h_log ("a 2 GiB output: ERR '%s'", text);

    /* A message over the size limit (ZMQ_MAXMSGSIZE drops its connection). */
    zsock_t *big = s_dealer (&at);
    size_t size = 3 * MIB;
    uint8_t *bytes = calloc (1, size);
    H_CHECK (bytes, "out of memory");
    s_send_direct (big, (proto_direct_t){ PROTO_DIRECT_PUT, 999995, 1, 0, C, 2 * C },
                   bytes, size);
    free (bytes);
    s_probe (dealer, 0xdead0003ull, "a 3 MiB message on another connection");
    H_CHECK (!(zsock_events (big) & ZMQ_POLLIN), "a 3 MiB message got an answer");
    zsock_destroy (&big);

    s_map_big (pool, 3);
    s_probe (dealer, 0xdead0004ull, "a map");
    s_no_fallback (head, node, &at, 1, "after the raw DEALER");
    zsock_destroy (&dealer);
    pool_close (&pool);
    h_stop (node);
    h_stop (head);
}

static void
s_body (void)
{
    s_secure ();
    s_insecure ();
}

int
main (void)
{
    return h_main ("test_direct_garbage_on_data_port_client_carries_on", s_body);
}
