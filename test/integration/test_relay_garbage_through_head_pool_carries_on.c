/*  The head's chunk relay (proto/relay.h, head/data_relay.h) survives what
    a peer holding the keys sends it, and so does the client behind it.
    An insecure head, a node of 2 workers and an xor pool (shared memory
    off); a raw ZeroMQ DEALER connects to the head's port and sends relay
    messages libpool and the workers never would:

    - a request for a pool that does not exist, one with too many frames,
      one whose header is not 48 bytes and one with a body over a chunk
      (which, passed on, would make libzmq cut the client's relay), and
      one of text, are answered NOROUTE naming the pool;
    - a HELLO for the pool without the key its client sent in POOL_OPEN,
      with a wrong key and with a key a byte short do not take the
      pool's relay (were one taken, the probe below would go to this
      DEALER, and the client's ERR never come);
    - a HELLO for a pool that does not exist, a REPLY from a connection
      that is not the pool's relay, and a request whose data plane message
      is a header of zeros (passed on to the client, which drops it) get no
      answer
      (the REPLY names the sender itself, so one passed on would come
      back);
    - a GET through the relay for an input the client does not serve is
      answered ERR by the client, naming its key and offset; being the
      first answer after the garbage proves the garbage got none.

    Then a map of 1 MiB inputs returns every result right, and the head
    still answers `start_node --status`.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "direct.h"
#include "harness.h"
#include "relay.h"

#define MIB ((size_t)1 << 20)
#define INPUTS 8

/*  The one pool's id, from `start_node --status`. */
static uint64_t
s_pool_id (const h_proc_t *head)
{
    char port[16];
    snprintf (port, sizeof port, "%d", head->port);
    const char *args[] = { "--status",   "-a",        "127.0.0.1", "-p", port,
                           "--insecure", "--timeout", "5",         NULL };
    char *out = NULL;
    int rc = h_run_start_node (args, h_timeout (30), &out);
    unsigned long long id = 0;
    const char *line = out ? strstr (out, "\npool ") : NULL;
    bool found = line && sscanf (line, "\npool %llu (", &id) == 1;
    H_CHECK (rc == 0 && found, "start_node --status (exit %d) names no pool:\n%s", rc,
             out ? out : "");
    free (out);
    return id;
}

/*  Sends the relay frame (kind, pool), then frames[n]. */
static void
s_send (zsock_t *dealer, proto_relay_kind_t kind, uint64_t pool, zframe_t **frames, int n)
{
    uint8_t relay[PROTO_RELAY_FRAME];
    proto_relay_frame (kind, pool, relay);
    zmsg_t *msg = zmsg_new ();
    H_CHECK (msg && zmsg_addmem (msg, relay, sizeof relay) == 0, "out of memory");
    for (int i = 0; i < n; i++)
        H_CHECK (zmsg_append (msg, &frames[i]) == 0, "out of memory");
    H_CHECK (zmsg_send (&msg, dealer) == 0, "send: %s", zmq_strerror (zmq_errno ()));
}

/*  A GET header for key at offset 32 of 64, as a frame. */
static zframe_t *
s_get (uint64_t key)
{
    proto_direct_t get = { PROTO_DIRECT_GET, key, 0, 32, 16, 64 };
    zmsg_t *msg = proto_direct_encode (&get, NULL);
    H_CHECK (msg, "encode a GET");
    zframe_t *frame = zmsg_pop (msg);
    zmsg_destroy (&msg);
    return frame;
}

/*  The next message on dealer; fails the test when none comes. */
static zmsg_t *
s_next (zsock_t *dealer, const char *what)
{
    zpoller_t *poller = zpoller_new (dealer, NULL);
    H_CHECK (poller, "zpoller_new");
    void *which = zpoller_wait (poller, (int)(h_timeout (20) * 1000));
    zpoller_destroy (&poller);
    H_CHECK (which == dealer, "%s: no answer from the head", what);
    zmsg_t *msg = zmsg_recv (dealer);
    H_CHECK (msg, "%s: receive", what);
    return msg;
}

/*  Expects NOROUTE for pool as the next answer. */
static void
s_expect_noroute (zsock_t *dealer, uint64_t pool, const char *what)
{
    zmsg_t *msg = s_next (dealer, what);
    proto_relay_t relay;
    H_CHECK (zmsg_size (msg) == 1 && proto_relay_read (zmsg_first (msg), &relay)
                 && relay.kind == PROTO_RELAY_NOROUTE && relay.pool == pool,
             "%s: the head's answer (%zu frames) is not NOROUTE for pool %llu", what,
             zmsg_size (msg), (unsigned long long)pool);
    zmsg_destroy (&msg);
    h_log ("%s: NOROUTE for pool %llu", what, (unsigned long long)pool);
}

/*  A GET through the relay of pool for key (never served): true when the
    next answer is the client's ERR for it, false when it is NOROUTE (the
    client's relay has not said HELLO yet); fails on anything else. */
static bool
s_probe (zsock_t *dealer, uint64_t pool, uint64_t key, const char *after)
{
    zframe_t *get = s_get (key);
    s_send (dealer, PROTO_RELAY_REQUEST, pool, &get, 1);
    zmsg_t *msg = s_next (dealer, after);
    proto_relay_t relay;
    if (proto_relay_read (zmsg_first (msg), &relay)
        && relay.kind == PROTO_RELAY_NOROUTE) {
        zmsg_destroy (&msg);
        return false;
    }
    proto_direct_t a;
    zframe_t *body;
    char reason[128] = "";
    H_CHECK (proto_direct_decode (msg, &a, &body, reason, sizeof reason) == 0,
             "%s: the answer does not decode: %s", after, reason);
    H_CHECK (a.kind == PROTO_DIRECT_ERR && a.key == key && a.offset == 32,
             "after %s the first answer is kind %d key %llu offset %llu, want the "
             "client's ERR for key %llu offset 32",
             after, a.kind, (unsigned long long)a.key, (unsigned long long)a.offset,
             (unsigned long long)key);
    h_log ("%s: no answer; a GET through the relay for key %llu: ERR '%.*s'", after,
           (unsigned long long)key, (int)zframe_size (body),
           (const char *)zframe_data (body));
    zmsg_destroy (&msg);
    return true;
}

static void
s_map_big (pool_t *pool)
{
    pool_bytes_t inputs[INPUTS];
    pool_result_t results[INPUTS];
    for (size_t i = 0; i < INPUTS; i++) {
        uint8_t *p = malloc (MIB);
        H_CHECK (p, "out of memory");
        p[0] = 'A';
        for (size_t k = 1; k < MIB; k++)
            p[k] = (uint8_t)(k * 31 + i + (k >> 12));
        inputs[i] = (pool_bytes_t){ p, MIB };
    }
    int rc = pool_map (pool, inputs, INPUTS, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (size_t i = 0; i < INPUTS; i++) {
        H_CHECK (results[i].status == 0 && results[i].value.size == MIB,
                 "input %zu: status %d, %zu bytes", i, results[i].status,
                 results[i].value.size);
        const uint8_t *in = inputs[i].data, *o = results[i].value.data;
        for (size_t k = 0; k < MIB; k++)
            if (o[k] != (in[k] ^ 0x5A))
                H_FAIL ("input %zu: byte %zu is %u, want %u", i, k, o[k], in[k] ^ 0x5A);
    }
    pool_results_release (pool, results, INPUTS);
    for (size_t i = 0; i < INPUTS; i++)
        free ((void *)inputs[i].data);
    h_log ("%d inputs of 1 MiB, every result right", INPUTS);
}

static void
s_body (void)
{
    const char *insecure[] = { "--insecure", NULL };
    h_proc_t *head = h_start_head_with (0, true, insecure);
    h_proc_t *node = h_start_node_with (head, 2, insecure);
    pool_options_t options;
    h_options (&options, head, "xor");
    options.insecure = 1;
    options.password = NULL;
    options.shared_memory_min = 0;
    options.min_workers = 2;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    uint64_t id = s_pool_id (head);
    uint64_t none = id + 1000;

    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    H_CHECK (dealer, "zsock_new");
    zsock_set_linger (dealer, 0);
    zsock_set_identity (dealer, "rawpeer"); /* a REPLY names it below */
    H_CHECK (zsock_connect (dealer, "tcp://127.0.0.1:%d", head->port) == 0, "connect");

    /* Ready: the client's relay has said HELLO once a probe gets its ERR. */
    double deadline = h_now () + h_timeout (20);
    while (!s_probe (dealer, id, 1, "the client's first HELLO")) {
        H_CHECK (h_now () < deadline, "the head never relayed for pool %llu",
                 (unsigned long long)id);
        usleep (10000);
    }

    zframe_t *frames[4];
    frames[0] = s_get (2);
    s_send (dealer, PROTO_RELAY_REQUEST, none, frames, 1);
    s_expect_noroute (dealer, none, "a request for a pool that does not exist");
    for (int i = 0; i < 4; i++)
        frames[i] = s_get (3);
    s_send (dealer, PROTO_RELAY_REQUEST, id, frames, 4);
    s_expect_noroute (dealer, id, "a request of 5 frames");
    frames[0] = zframe_new (NULL, PROTO_DIRECT_HEADER - 1);
    s_send (dealer, PROTO_RELAY_REQUEST, id, frames, 1);
    s_expect_noroute (dealer, id, "a request whose header is 47 bytes");
    frames[0] = zframe_new ("garbage, not a data plane header", 32);
    s_send (dealer, PROTO_RELAY_REQUEST, id, frames, 1);
    s_expect_noroute (dealer, id, "a request of 32 bytes of text");
    proto_direct_t put
        = { PROTO_DIRECT_PUT, 6, 0, 0, PROTO_DIRECT_CHUNK + 1, PROTO_DIRECT_CHUNK + 1 };
    uint8_t header[PROTO_DIRECT_HEADER];
    proto_direct_header (&put, header);
    frames[0] = zframe_new (header, sizeof header);
    frames[1] = zframe_new (NULL, PROTO_DIRECT_CHUNK + 1);
    s_send (dealer, PROTO_RELAY_REQUEST, id, frames, 2);
    s_expect_noroute (dealer, id, "a request with a body of a chunk and a byte");

    /* HELLOs that would take the pool's relay, had they its key. */
    s_send (dealer, PROTO_RELAY_HELLO, id, NULL, 0);
    uint8_t key[PROTO_RELAY_KEY];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    frames[0] = zframe_new (key, sizeof key);
    s_send (dealer, PROTO_RELAY_HELLO, id, frames, 1);
    frames[0] = zframe_new (key, sizeof key - 1);
    s_send (dealer, PROTO_RELAY_HELLO, id, frames, 1);
    H_CHECK (s_probe (dealer, id, 7,
                      "HELLOs for the pool without its key, with a wrong "
                      "key, with a key a byte short"),
             "the head stopped relaying for pool %llu", (unsigned long long)id);

    frames[0] = zframe_new (key, sizeof key);
    s_send (dealer, PROTO_RELAY_HELLO, none, frames, 1);
    frames[0] = zframe_new ("rawpeer", 7); /* to itself, were it passed on */
    frames[1] = s_get (4);
    s_send (dealer, PROTO_RELAY_REPLY, id, frames, 2);
    frames[0] = zframe_new (NULL, PROTO_DIRECT_HEADER); /* all zeros: no magic */
    s_send (dealer, PROTO_RELAY_REQUEST, id, frames, 1);
    H_CHECK (s_probe (dealer, id, 5,
                      "a HELLO for no pool, a REPLY from a stranger, "
                      "a request of a header of zeros"),
             "the head stopped relaying for pool %llu", (unsigned long long)id);
    zsock_destroy (&dealer);

    s_map_big (pool);
    H_CHECK (s_pool_id (head) == id, "the head no longer lists pool %llu",
             (unsigned long long)id);
    pool_close (&pool);
    h_stop (node);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_relay_garbage_through_head_pool_carries_on", s_body);
}
