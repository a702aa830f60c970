/*  A peer that knows the password and then sends garbage cannot hurt the
    head.  Raw DEALER peers (proto_keys_derive + proto_keys_apply_client)
    say HELLO and send: random frames, truncated headers, fields of the
    wrong msgpack type, huge declared lengths, deep nesting, unknown message
    types, messages of the wrong role (as a client, a node and a worker),
    messages before HELLO, a wrong protocol version (DENIED naming both
    versions), and SUBMIT, UPDATE and POOL_CLOSE for a pool another client
    owns.  After each batch the head answers STATUS_REQ; at the end the
    other client's pool, open all along, and a new pool map correctly.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_util.h"

/* A deterministic generator: the same garbage on every run. */
static uint64_t s_state = 0x9e3779b97f4a7c15ull;
static uint32_t
s_rand (void)
{
    s_state ^= s_state << 13;
    s_state ^= s_state >> 7;
    s_state ^= s_state << 17;
    return (uint32_t)s_state;
}

static void
s_send_one (zsock_t *sock, const void *data, size_t size)
{
    const void *frames[] = { data };
    size_t sizes[] = { size };
    sec_send_raw (sock, 1, frames, sizes);
}

/* The encoded header (frame 0) of msg into out; its size. */
static size_t
s_header (proto_msg_t *msg, uint8_t *out, size_t cap)
{
    zmsg_t *wire = NULL;
    H_CHECK (proto_msg_encode (msg, &wire) == PROTO_OK, "encode");
    zframe_t *first = zmsg_first (wire);
    size_t size = zframe_size (first);
    H_CHECK (size <= cap, "header too big");
    memcpy (out, zframe_data (first), size);
    zmsg_destroy (&wire);
    return size;
}

static void
s_random_frames (zsock_t *sock)
{
    for (int m = 0; m < 200; m++) {
        int nframes = 1 + (int)(s_rand () % 4);
        static uint8_t data[4][512];
        const void *frames[4];
        size_t sizes[4];
        for (int f = 0; f < nframes; f++) {
            sizes[f] = s_rand () % sizeof data[f];
            for (size_t k = 0; k < sizes[f]; k++)
                data[f][k] = (uint8_t)s_rand ();
            /* Half of them look like a header: a map with v and t. */
            if (f == 0 && m % 2 && sizes[f] >= 7) {
                memcpy (data[f], "\x83\xa1v\x01\xa1t", 6);
                data[f][6] = (uint8_t)(s_rand () % 30);
            }
            frames[f] = data[f];
        }
        sec_send_raw (sock, nframes, frames, sizes);
    }
    sec_send_raw (sock, 0, NULL, NULL); /* an empty message */
    s_send_one (sock, "", 0);           /* an empty header */
}

static void
s_truncated (zsock_t *sock)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_SUBMIT);
    proto_msg_set_pool (&msg, 1);
    for (int i = 0; i < 5; i++)
        proto_msg_add_job (&msg)->id = (uint64_t)i;
    uint8_t header[4096];
    size_t size = s_header (&msg, header, sizeof header);
    proto_msg_reset (&msg);
    for (size_t cut = 1; cut < size; cut++)
        s_send_one (sock, header, cut);
    /* The whole header with too few and too many payload frames. */
    const void *frames[8] = { header, "a", "b" };
    size_t sizes[8] = { size, 1, 1 };
    sec_send_raw (sock, 3, frames, sizes);
    for (int i = 1; i < 8; i++) {
        frames[i] = "x";
        sizes[i] = 1;
    }
    sec_send_raw (sock, 8, frames, sizes);
}

/* Headers whose base type is HEARTBEAT (4): one that decodes after all
   gets no answer, so every answer counted is an ERROR for garbage. */
static void
s_wrong_types (zsock_t *sock)
{
    static const struct {
        const char *bytes;
        size_t size;
    } headers[] = {
#define H(s) { s, sizeof s - 1 }
        H ("\x82\xa1v\xa1"
           "1\xa1t\x04"),                                 /* v a string */
        H ("\x82\xa1v\x01\xa1t\xa6SUBMIT"),               /* t a string */
        H ("\x82\xa1v\x01\xa1t\xc0"),                     /* t nil */
        H ("\x82\xa1v\x01\xa1t\xff"),                     /* t -1 */
        H ("\x82\xa1v\x01\xa1t\xcb\x40\x10\0\0\0\0\0\0"), /* t 4.0 */
        H ("\x92\x01\x04"),                               /* an array */
        H ("\x01"),                                       /* a number */
        H ("\x83\xa1v\x01\xa1t\x07\xa1p\xa1x"),           /* SUBMIT, pool a string */
        H ("\x84\xa1v\x01\xa1t\x07\xa1p\x01\xa1j\x05"),   /* jobs a number */
        H ("\x84\xa1v\x01\xa1t\x07\xa1p\x01\xa1j\xc4\x05xxxxx"), /* jobs not n*24 */
        H ("\x83\xa1v\x01\xa1t\x04\xa1u\x91\xa1x"),     /* nums holding a string */
        H ("\x83\xa1v\x01\xa1t\x04\xa1h\xc4\x05xxxxx"), /* a short hash */
        H ("\x83\xa1v\x01\xa1t\x04\xa1q\x01"),          /* unknown key */
        H ("\x83\xa1v\x01\xa1t\x04\xa2pp\x01"),         /* a two-letter key */
        H ("\x83\xa1v\x01\xa1t\x04\x01\x01"),           /* a number key */
        H ("\x83\xa1v\x01\xa1t\x04\xa1t\x04"),          /* t twice */
        H ("\x83\xa1v\x01\xa1t\x04\xa1x\xc4\x02hi"),    /* text as bin */
        H ("\x83\xa1v\x01\xa1t\x04\xa1x\xa3h\0i"),      /* text with a NUL */
        H ("\x83\xa1v\x01\xa1t\x04\xa1"
           "c\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), /* code 2^64-1 */
        H ("\x82\xa1v\x01\xa1t\x04 trailing"),       /* bytes after the map */
#undef H
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        s_send_one (sock, headers[i].bytes, headers[i].size);
}

static void
s_huge_lengths (zsock_t *sock)
{
    static const struct {
        const char *bytes;
        size_t size;
    } headers[] = {
#define H(s) { s, sizeof s - 1 }
        H ("\x83\xa1v\x01\xa1t\x04\xa1x\xdb\xff\xff\xff\xf0"), /* str32 4 GiB */
        H ("\x83\xa1v\x01\xa1t\x07\xa1j\xc6\xff\xff\xff\xff"), /* bin32 4 GiB */
        H ("\x83\xa1v\x01\xa1t\x04\xa1u\xdd\xff\xff\xff\xff"), /* array32 */
        H ("\xdf\xff\xff\xff\xff\xa1v\x01"),                   /* map32 */
        H ("\x83\xa1v\x01\xa1t\x04\xa1u\xdc\x00\x20"
           "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
           "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"),
        /* 32 nums, limit 16 */
        H ("\x83\xa1v\x01\xa1t\x04\xa1i\xd9\x50"
           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
           "xxx"),
    /* an 80-byte id */
#undef H
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        s_send_one (sock, headers[i].bytes, headers[i].size);
    /* Nesting far deeper than any header has. */
    static uint8_t deep[100000];
    memset (deep, 0x91, sizeof deep);
    s_send_one (sock, deep, sizeof deep);
    /* A SUBMIT declaring 65536 jobs with one frame, and 100000 jobs. */
    for (int round = 0; round < 2; round++) {
        size_t njobs = round ? 100000 : 65536;
        size_t bin = njobs * PROTO_JOB_WIRE_SIZE;
        uint8_t *h = calloc (1, bin + 32);
        size_t n = 0;
        memcpy (h + n, "\x84\xa1v\x01\xa1t\x07\xa1p\x01\xa1j\xc6", 13);
        n += 13;
        h[n++] = (uint8_t)(bin >> 24);
        h[n++] = (uint8_t)(bin >> 16);
        h[n++] = (uint8_t)(bin >> 8);
        h[n++] = (uint8_t)bin;
        n += bin;
        const void *frames[] = { h, "x" };
        size_t sizes[] = { n, 1 };
        sec_send_raw (sock, 2, frames, sizes);
        free (h);
    }
    /* A 70000-byte text (limit 65536): the encoder cuts, so by hand. */
    static uint8_t text[16 + 70000];
    size_t n = 0;
    memcpy (text, "\x83\xa1v\x01\xa1t\x04\xa1x\xdb", 10);
    n = 10;
    text[n++] = 0;
    text[n++] = (uint8_t)(70000 >> 16);
    text[n++] = (uint8_t)(70000 >> 8);
    text[n++] = (uint8_t)70000;
    memset (text + n, 'y', 70000);
    s_send_one (sock, text, n + 70000);
}

static void
s_unknown_types (zsock_t *sock)
{
    uint8_t header[32];
    memcpy (header, "\x82\xa1v\x01\xa1t", 6);
    const uint8_t types[] = { 0, PROTO_TYPE_COUNT, 99, 127 };
    for (size_t i = 0; i < sizeof types; i++) {
        header[6] = types[i];
        s_send_one (sock, header, 7);
    }
    memcpy (header + 6, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9);
    s_send_one (sock, header, 15);
}

/* Every type a head never expects from this role, well formed. */
static void
s_wrong_role (zsock_t *sock, proto_role_t role)
{
    uint8_t hash[PROTO_HASH_SIZE] = { 1 };
    for (int t = PROTO_HELLO + 1; t < PROTO_TYPE_COUNT; t++) {
        if (t == PROTO_HEARTBEAT || t == PROTO_STATUS_REQ || t == PROTO_BYE
            || t == PROTO_ERROR)
            continue;
        bool allowed = false;
        if (role == PROTO_ROLE_CLIENT)
            allowed = t == PROTO_POOL_OPEN || t == PROTO_SUBMIT || t == PROTO_UPDATE
                      || t == PROTO_POOL_CLOSE || t == PROTO_BLOCK_GET
                      || t == PROTO_BLOCK_PUT;
        else if (role == PROTO_ROLE_WORKER)
            allowed = t == PROTO_BLOCK_GET || t == PROTO_BLOCK_PUT;
        if (allowed)
            continue;
        proto_msg_t msg;
        proto_msg_init (&msg, (proto_type_t)t);
        proto_msg_set_pool (&msg, 1);
        proto_msg_set_code (&msg, 0);
        proto_msg_set_id (&msg, "nobody/w0");
        proto_msg_set_text (&msg, "garbage");
        proto_msg_add_hash (&msg, hash);
        proto_msg_add_hash (&msg, hash);
        for (int i = 0; i < 4; i++)
            proto_msg_add_num (&msg, 1);
        proto_msg_add_job (&msg)->id = 0;
        int frames = t == PROTO_POOL_OPEN ? 2
                     : t == PROTO_UPDATE || t == PROTO_BLOCK || t == PROTO_BLOCK_PUT
                             || t == PROTO_SUBMIT || t == PROTO_RESULT || t == PROTO_JOB
                         ? 1
                         : 0;
        for (int f = 0; f < frames; f++)
            proto_msg_add_bytes (&msg, "z", 1);
        H_CHECK (proto_msg_send (&msg, zsock_resolve (sock)) == PROTO_OK, "send %s",
                 proto_type_name ((proto_type_t)t));
        proto_msg_reset (&msg);
    }
}

/* A worker peer's well-formed nonsense: results and readiness for pools it
   was never given, blocks that do not match their hash. */
static void
s_worker_nonsense (zsock_t *sock)
{
    uint8_t hash[PROTO_HASH_SIZE] = { 2 };
    for (int t = 0; t < 4; t++) {
        proto_msg_t msg;
        proto_msg_init (&msg, t == 0   ? PROTO_RESULT
                              : t == 1 ? PROTO_WORKER_READY
                              : t == 2 ? PROTO_BLOCK_PUT
                                       : PROTO_BLOCK_GET);
        proto_msg_set_pool (&msg, 1000 + (uint64_t)t); /* no such pool */
        proto_msg_set_code (&msg, t == 1 ? -3 : 0);
        proto_msg_add_hash (&msg, hash);
        if (t == 0) {
            proto_job_t *job = proto_msg_add_job (&msg);
            job->id = 0;
            proto_msg_add_bytes (&msg, "result", 6);
        }
        if (t == 2)
            proto_msg_add_bytes (&msg, "not the hash's bytes", 20);
        H_CHECK (proto_msg_send (&msg, zsock_resolve (sock)) == PROTO_OK, "send");
        proto_msg_reset (&msg);
    }
}

static void
s_bye (zsock_t *sock)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_BYE);
    proto_msg_send (&msg, zsock_resolve (sock));
    proto_msg_reset (&msg);
}

static void
s_wrong_version (zsock_t *sock)
{
    /* HELLO {v: PROTO_VERSION + 1, t: HELLO, r: client, i: "x"} */
    char header[] = "\x84\xa1v\x02\xa1t\x01\xa1r\x01\xa1i\xa1x";
    header[3] = (char)(PROTO_VERSION + 1);
    s_send_one (sock, header, sizeof header - 1);
    proto_msg_t msg;
    proto_msg_init (&msg, 0);
    double deadline = h_now () + h_timeout (15);
    while (true) {
        char reason[256] = "";
        int rc = sec_recv (sock, deadline - h_now (), &msg, reason, sizeof reason);
        H_CHECK (rc != PROTO_EIO, "no DENIED for a HELLO of protocol version %d",
                 PROTO_VERSION + 1);
        if (rc == PROTO_OK && msg.type == PROTO_DENIED)
            break;
    }
    h_log ("version %d: DENIED: %s", PROTO_VERSION + 1, msg.text);
    char theirs[16], ours[16];
    snprintf (theirs, sizeof theirs, "%d", PROTO_VERSION + 1);
    snprintf (ours, sizeof ours, "%d", PROTO_VERSION);
    H_CHECK (msg.text && strstr (msg.text, theirs) && strstr (msg.text, ours)
                 && strcasestr (msg.text, "version"),
             "DENIED does not name both versions: '%s'", msg.text);
    proto_msg_reset (&msg);
}

/* SUBMIT, UPDATE, POOL_CLOSE for pools 1..8, none of them this peer's. */
static void
s_not_my_pool (zsock_t *sock)
{
    for (uint64_t id = 1; id <= 8; id++) {
        for (int t = 0; t < 3; t++) {
            proto_msg_t msg;
            proto_msg_init (&msg, t == 0   ? PROTO_SUBMIT
                                  : t == 1 ? PROTO_UPDATE
                                           : PROTO_POOL_CLOSE);
            proto_msg_set_pool (&msg, id);
            if (t == 0) {
                proto_msg_add_job (&msg)->id = 1000000;
                proto_msg_add_bytes (&msg, "7", 1);
            }
            if (t == 1)
                proto_msg_add_bytes (&msg, "update", 6);
            proto_msg_send (&msg, zsock_resolve (sock));
            proto_msg_reset (&msg);
        }
    }
    /* Each is answered: the pool is not open (for this peer). */
    int errors = 0;
    sec_expect_alive (sock, "SUBMIT for pools of another client", &errors);
    h_log ("not my pool: %d ERROR answers to 24 messages", errors);
    H_CHECK (errors == 24,
             "%d ERRORs for 24 messages about another client's "
             "pools, want 24",
             errors);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);

    /* Another client's pool, open all along: it must never notice. */
    pool_t *victim = h_open (head, "square", 1);

    /* Before HELLO: ERROR UNKNOWN_PEER, nothing else. */
    {
        zsock_t *raw = zsock_new (ZMQ_DEALER);
        proto_keys_apply_client (sec_keys (h_password ()), raw);
        H_CHECK (zsock_connect (raw, "tcp://%s", head->server) == 0, "connect");
        /* HEARTBEAT {v: PROTO_VERSION, t: 7} */
        char heartbeat[] = "\x82\xa1v\x01\xa1t\x07";
        heartbeat[3] = (char)PROTO_VERSION;
        s_send_one (raw, heartbeat, 7);
        proto_msg_t msg;
        proto_msg_init (&msg, 0);
        char reason[256];
        int rc = sec_recv (raw, h_timeout (15), &msg, reason, sizeof reason);
        H_CHECK (rc == PROTO_OK && msg.type == PROTO_ERROR,
                 "a message before HELLO was not answered with ERROR");
        proto_msg_reset (&msg);
        zsock_set_linger (raw, 0);
        zsock_destroy (&raw);
    }

    /* A node and a worker that send what their role must not. */
    proto_link_t *node
        = sec_raw_peer (head, h_password (), PROTO_ROLE_NODE, "garbage-node");
    s_wrong_role (proto_link_sock (node), PROTO_ROLE_NODE);
    {
        proto_msg_t died;
        proto_msg_init (&died, PROTO_WORKER_DIED);
        proto_msg_set_id (&died, "someone-else/w0");
        proto_msg_set_code (&died, 9);
        proto_msg_send (&died, zsock_resolve (proto_link_sock (node)));
        proto_msg_reset (&died);
    }
    sec_expect_alive (proto_link_sock (node), "wrong-role messages from a node", NULL);
    s_bye (proto_link_sock (node));
    proto_link_destroy (&node);

    proto_link_t *worker
        = sec_raw_peer (head, h_password (), PROTO_ROLE_WORKER, "garbage-node/w0");
    s_wrong_role (proto_link_sock (worker), PROTO_ROLE_WORKER);
    s_worker_nonsense (proto_link_sock (worker));
    s_random_frames (proto_link_sock (worker));
    sec_expect_alive (proto_link_sock (worker), "garbage from a worker", NULL);
    s_bye (proto_link_sock (worker));
    proto_link_destroy (&worker);

    /* A client, through every kind of garbage. */
    proto_link_t *client
        = sec_raw_peer (head, h_password (), PROTO_ROLE_CLIENT, "garbage-client");
    zsock_t *sock = proto_link_sock (client);
    int errors = 0;
    s_random_frames (sock);
    sec_expect_alive (sock, "random frames", &errors);
    s_truncated (sock);
    sec_expect_alive (sock, "truncated headers", &errors);
    s_wrong_types (sock);
    sec_expect_alive (sock, "fields of the wrong type", &errors);
    s_huge_lengths (sock);
    sec_expect_alive (sock, "huge declared lengths", &errors);
    s_unknown_types (sock);
    sec_expect_alive (sock, "unknown message types", &errors);
    s_wrong_role (sock, PROTO_ROLE_CLIENT);
    sec_expect_alive (sock, "messages of the wrong role", &errors);
    h_log ("%d ERROR answers so far", errors);
    H_CHECK (errors > 100, "only %d ERROR answers to the garbage", errors);
    s_not_my_pool (sock);
    s_wrong_version (sock);
    s_bye (sock);
    proto_link_destroy (&client);

    /* The victim's pool still works, and a new one too. */
    static char texts[100][8];
    static pool_bytes_t inputs[100];
    static pool_result_t results[100];
    for (int i = 0; i < 100; i++) {
        snprintf (texts[i], sizeof texts[i], "%d", i);
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    }
    int rc = pool_map (victim, inputs, 100, results);
    H_CHECK (rc == 0, "the other client's pool after the garbage: %s: %s",
             pool_strerror (rc), pool_last_error (victim));
    for (int i = 0; i < 100; i++) {
        char want[32];
        snprintf (want, sizeof want, "%" PRId64, h_square (i));
        H_CHECK (results[i].status == 0 && results[i].value.size == strlen (want)
                     && memcmp (results[i].value.data, want, strlen (want)) == 0,
                 "the other client's input %d is wrong", i);
    }
    pool_results_release (victim, results, 100);
    pool_close (&victim);
    sec_map_square_ok (head, 2, 300);
}

int
main (void)
{
    return h_main ("test_sec_garbage_after_auth_head_survives", s_body);
}
