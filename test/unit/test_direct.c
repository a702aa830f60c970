/*  test/unit/test_direct.c - the data plane's messages (proto/direct.c).

    Every kind (GET, DATA, PUT, ACK, ERR) encodes to the 48-byte
    little-endian header and its body frame, and decodes back to the same
    fields with the message's own body frame; the extremes the rules allow
    (a full chunk ending at PROTO_DIRECT_TOTAL_MAX, an empty GET of nothing)
    pass.  Each rule of the decoder refuses, for its own reason, what it
    must: a wrong magic, an unknown kind, a header not 48 bytes, a frame
    too many or too few, length over a chunk, offset + length past total
    (also when the sum wraps around), total over PROTO_DIRECT_TOTAL_MAX,
    an empty chunk of something, a body that is not `length` bytes.  The
    encoder refuses a missing body, a body of the wrong size and a body
    where the kind has none, and takes the body either way.

    The relay frame (proto/relay.c) that carries these messages through
    the head: every kind round-trips, little-endian; a frame of another
    size, a wrong magic, an unknown kind, a data plane header or no frame
    at all is not one.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "direct.h"
#include "relay.h"

#define C PROTO_DIRECT_CHUNK

static void
s_put (uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
s_get (const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/*  A message as a peer could send it: a header of header_size bytes with
    these fields (whatever they say), then body (size bytes) when not NULL,
    then `extra` more frames. */
static zmsg_t *
s_raw (uint32_t magic, uint32_t kind, proto_direct_t f, size_t header_size,
       const void *body, size_t size, int extra)
{
    uint8_t header[64] = { 0 };
    s_put (header, magic, 4);
    s_put (header + 4, kind, 4);
    s_put (header + 8, f.key, 8);
    s_put (header + 16, f.attempt, 8);
    s_put (header + 24, f.offset, 8);
    s_put (header + 32, f.length, 8);
    s_put (header + 40, f.total, 8);
    zmsg_t *msg = zmsg_new ();
    assert_non_null (msg);
    assert_int_equal (zmsg_addmem (msg, header, header_size), 0);
    if (body)
        assert_int_equal (zmsg_addmem (msg, body, size), 0);
    for (int i = 0; i < extra; i++)
        assert_int_equal (zmsg_addstr (msg, "extra"), 0);
    return msg;
}

/*  Fails unless a and b have the same fields (not memcmp: padding). */
static void
s_same_fields (const proto_direct_t *a, const proto_direct_t *b)
{
    assert_int_equal (a->kind, b->kind);
    assert_true (a->key == b->key);
    assert_true (a->attempt == b->attempt);
    assert_true (a->offset == b->offset);
    assert_true (a->length == b->length);
    assert_true (a->total == b->total);
}

/*  Decodes msg (destroyed after): expects a refusal whose reason says
    `why`. */
static void
s_refused (zmsg_t *msg, const char *why)
{
    proto_direct_t head;
    zframe_t *body = (zframe_t *)1;
    char reason[128] = "";
    assert_int_equal (proto_direct_decode (msg, &head, &body, reason, sizeof reason), -1);
    assert_null (body);
    if (!strstr (reason, why))
        fail_msg ("refused as '%s', want '%s'", reason, why);
    zmsg_destroy (&msg);
}

/*  Decodes msg (destroyed after): expects it taken with these fields. */
static void
s_taken (zmsg_t *msg, const proto_direct_t *want)
{
    proto_direct_t head;
    zframe_t *body;
    char reason[128] = "";
    if (proto_direct_decode (msg, &head, &body, reason, sizeof reason) != 0)
        fail_msg ("refused: %s", reason);
    s_same_fields (&head, want);
    zmsg_destroy (&msg);
}

/*  Encodes head with body (size bytes; NULL: none), checks the wire
    format, decodes it back and checks fields and body. */
static void
s_round_trip (proto_direct_t head, const char *text, size_t size)
{
    zframe_t *body = text ? zframe_new (text, size) : NULL;
    zmsg_t *msg = proto_direct_encode (&head, text ? &body : NULL);
    assert_non_null (msg);
    assert_null (body);
    assert_int_equal (zmsg_size (msg), text ? 2 : 1);
    const uint8_t *p = zframe_data (zmsg_first (msg));
    assert_int_equal (zframe_size (zmsg_first (msg)), PROTO_DIRECT_HEADER);
    assert_memory_equal (p, "DCP1", 4);
    assert_int_equal (s_get (p + 4, 4), head.kind);
    assert_true (s_get (p + 8, 8) == head.key);
    assert_true (s_get (p + 16, 8) == head.attempt);
    assert_true (s_get (p + 24, 8) == head.offset);
    assert_true (s_get (p + 32, 8) == head.length);
    assert_true (s_get (p + 40, 8) == head.total);

    proto_direct_t back;
    zframe_t *got;
    char reason[128] = "";
    if (proto_direct_decode (msg, &back, &got, reason, sizeof reason) != 0)
        fail_msg ("kind %d refused: %s", head.kind, reason);
    s_same_fields (&back, &head);
    assert_int_equal (zmsg_size (msg), text ? 2 : 1); /* msg keeps its frames */
    if (text) {
        assert_ptr_equal (got, zmsg_last (msg)); /* its own frame, not a copy */
        assert_int_equal (zframe_size (got), size);
        assert_memory_equal (zframe_data (got), text, size);
    } else
        assert_null (got);
    zmsg_destroy (&msg);
}

static void
test_every_kind_round_trips (void **state)
{
    (void)state;
    s_round_trip (
        (proto_direct_t){ PROTO_DIRECT_GET, 0x1122334455667788ull, 0, 16, 16, 40 }, NULL,
        0);
    s_round_trip ((proto_direct_t){ PROTO_DIRECT_DATA, 77, 0, 16, 16, 40 },
                  "0123456789abcdef", 16);
    s_round_trip ((proto_direct_t){ PROTO_DIRECT_PUT, 9, 3, 0, 12, 24 }, "output bytes",
                  12);
    s_round_trip ((proto_direct_t){ PROTO_DIRECT_ACK, 9, 3, 12, 12, 24 }, NULL, 0);
    s_round_trip ((proto_direct_t){ PROTO_DIRECT_ERR, 77, 0, 16, 0, 0 }, "no such input",
                  13);
    s_round_trip ((proto_direct_t){ PROTO_DIRECT_ERR, 77, 0, 0, 0, 0 }, "", 0);
    /* ERR carries text, whatever its other fields say. */
    s_round_trip ((proto_direct_t){ PROTO_DIRECT_ERR, 1, 2, UINT64_MAX, UINT64_MAX, 5 },
                  "x", 1);
}

static void
test_extremes_the_rules_allow_pass (void **state)
{
    (void)state;
    /* A full chunk, the last one of the largest transfer. */
    proto_direct_t last
        = { PROTO_DIRECT_GET,           UINT64_MAX, UINT64_MAX,
            PROTO_DIRECT_TOTAL_MAX - C, C,          PROTO_DIRECT_TOTAL_MAX };
    s_round_trip (last, NULL, 0);
    /* A GET of nothing from nothing. */
    s_round_trip ((proto_direct_t){ PROTO_DIRECT_GET, 5, 0, 0, 0, 0 }, NULL, 0);
    /* A full DATA chunk with its body. */
    static char chunk[C];
    memset (chunk, 'z', sizeof chunk);
    s_round_trip ((proto_direct_t){ PROTO_DIRECT_DATA, 5, 0, C, C, 2 * C }, chunk, C);
    /* The ACK of the last bytes. */
    s_taken (s_raw (PROTO_DIRECT_MAGIC, PROTO_DIRECT_ACK,
                    (proto_direct_t){ .offset = 99, .length = 1, .total = 100 },
                    PROTO_DIRECT_HEADER, NULL, 0, 0),
             &(proto_direct_t){ PROTO_DIRECT_ACK, 0, 0, 99, 1, 100 });
}

static void
test_wrong_magic_is_refused (void **state)
{
    (void)state;
    proto_direct_t get = { PROTO_DIRECT_GET, 1, 0, 0, 16, 40 };
    s_refused (
        s_raw (PROTO_DIRECT_MAGIC ^ 0x80000000u, PROTO_DIRECT_GET, get, 48, NULL, 0, 0),
        "wrong magic");
    s_refused (s_raw (0, PROTO_DIRECT_GET, get, 48, NULL, 0, 0), "wrong magic");
    /* big-endian "DCP1" */
    s_refused (s_raw (0x44435031u, PROTO_DIRECT_GET, get, 48, NULL, 0, 0), "wrong magic");
}

static void
test_unknown_kind_is_refused (void **state)
{
    (void)state;
    proto_direct_t get = { PROTO_DIRECT_GET, 1, 0, 0, 16, 40 };
    /* 0, one past ERR, all ones, and GET's kind with the top bit set */
    const uint32_t kinds[] = { 0, PROTO_DIRECT_ERR + 1, 0xffffffffu, 0x80000001u };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        s_refused (s_raw (PROTO_DIRECT_MAGIC, kinds[i], get, 48, "x", 1, 0),
                   "unknown kind");
}

static void
test_wrong_frames_are_refused (void **state)
{
    (void)state;
    uint32_t M = PROTO_DIRECT_MAGIC;
    proto_direct_t get = { PROTO_DIRECT_GET, 1, 0, 0, 4, 40 };
    /* no frame at all, a short or long header */
    zmsg_t *empty = zmsg_new ();
    s_refused (empty, "no 48-byte header");
    s_refused (s_raw (M, PROTO_DIRECT_GET, get, 47, NULL, 0, 0), "no 48-byte header");
    s_refused (s_raw (M, PROTO_DIRECT_GET, get, 49, NULL, 0, 0), "no 48-byte header");
    s_refused (s_raw (M, PROTO_DIRECT_GET, get, 0, NULL, 0, 0), "no 48-byte header");
    /* a body where the kind has none */
    s_refused (s_raw (M, PROTO_DIRECT_GET, get, 48, "data", 4, 0),
               "wrong number of frames");
    s_refused (s_raw (M, PROTO_DIRECT_ACK, get, 48, "data", 4, 0),
               "wrong number of frames");
    /* no body where the kind has one */
    s_refused (s_raw (M, PROTO_DIRECT_DATA, get, 48, NULL, 0, 0),
               "wrong number of frames");
    s_refused (s_raw (M, PROTO_DIRECT_PUT, get, 48, NULL, 0, 0),
               "wrong number of frames");
    s_refused (s_raw (M, PROTO_DIRECT_ERR, get, 48, NULL, 0, 0),
               "wrong number of frames");
    /* a frame too many */
    s_refused (s_raw (M, PROTO_DIRECT_PUT, get, 48, "data", 4, 1),
               "wrong number of frames");
    s_refused (s_raw (M, PROTO_DIRECT_ERR, get, 48, "text", 4, 1),
               "wrong number of frames");
    s_refused (s_raw (M, PROTO_DIRECT_GET, get, 48, NULL, 0, 2),
               "wrong number of frames");
}

static void
test_length_over_a_chunk_is_refused (void **state)
{
    (void)state;
    static char big[C + 1];
    proto_direct_t f = { PROTO_DIRECT_PUT, 1, 1, 0, C + 1, 4 * C };
    s_refused (s_raw (PROTO_DIRECT_MAGIC, PROTO_DIRECT_PUT, f, 48, big, sizeof big, 0),
               "disagree");
    f.kind = PROTO_DIRECT_GET;
    s_refused (s_raw (PROTO_DIRECT_MAGIC, PROTO_DIRECT_GET, f, 48, NULL, 0, 0),
               "disagree");
    f.length = UINT64_MAX;
    f.total = UINT64_MAX;
    s_refused (s_raw (PROTO_DIRECT_MAGIC, PROTO_DIRECT_GET, f, 48, NULL, 0, 0),
               "disagree");
}

static void
test_offset_and_length_past_total_are_refused (void **state)
{
    (void)state;
    uint32_t M = PROTO_DIRECT_MAGIC;
    /* 30 + 16 > 40 */
    s_refused (s_raw (M, PROTO_DIRECT_GET,
                      (proto_direct_t){ .offset = 30, .length = 16, .total = 40 }, 48,
                      NULL, 0, 0),
               "disagree");
    /* one byte past */
    s_refused (s_raw (M, PROTO_DIRECT_PUT,
                      (proto_direct_t){ .offset = 25, .length = 16, .total = 40 }, 48,
                      "0123456789abcdef", 16, 0),
               "disagree");
    /* offset itself past total */
    s_refused (s_raw (M, PROTO_DIRECT_GET,
                      (proto_direct_t){ .offset = 41, .length = 0, .total = 40 }, 48,
                      NULL, 0, 0),
               "disagree");
    /* offset + length wraps around 2^64 to a small number */
    s_refused (
        s_raw (M, PROTO_DIRECT_GET,
               (proto_direct_t){ .offset = UINT64_MAX - 7, .length = 16, .total = 40 },
               48, NULL, 0, 0),
        "disagree");
    /* an empty chunk of something */
    s_refused (s_raw (M, PROTO_DIRECT_GET,
                      (proto_direct_t){ .offset = 0, .length = 0, .total = 40 }, 48, NULL,
                      0, 0),
               "disagree");
    /* exactly to the end passes */
    s_taken (s_raw (M, PROTO_DIRECT_GET,
                    (proto_direct_t){ .offset = 24, .length = 16, .total = 40 }, 48, NULL,
                    0, 0),
             &(proto_direct_t){ PROTO_DIRECT_GET, 0, 0, 24, 16, 40 });
}

static void
test_total_over_the_maximum_is_refused (void **state)
{
    (void)state;
    uint32_t M = PROTO_DIRECT_MAGIC;
    uint64_t over = PROTO_DIRECT_TOTAL_MAX + 1;
    s_refused (s_raw (M, PROTO_DIRECT_GET,
                      (proto_direct_t){ .offset = 0, .length = 16, .total = over }, 48,
                      NULL, 0, 0),
               "disagree");
    s_refused (s_raw (M, PROTO_DIRECT_PUT,
                      (proto_direct_t){ .offset = over - 4, .length = 4, .total = over },
                      48, "data", 4, 0),
               "disagree");
    s_refused (s_raw (M, PROTO_DIRECT_ACK,
                      (proto_direct_t){ .offset = 0, .length = 1, .total = UINT64_MAX },
                      48, NULL, 0, 0),
               "disagree");
}

static void
test_body_not_length_bytes_is_refused (void **state)
{
    (void)state;
    uint32_t M = PROTO_DIRECT_MAGIC;
    proto_direct_t f = { .offset = 0, .length = 4, .total = 8 };
    s_refused (s_raw (M, PROTO_DIRECT_PUT, f, 48, "dat", 3, 0), "not `length` bytes");
    s_refused (s_raw (M, PROTO_DIRECT_PUT, f, 48, "data!", 5, 0), "not `length` bytes");
    s_refused (s_raw (M, PROTO_DIRECT_DATA, f, 48, "", 0, 0), "not `length` bytes");
    s_refused (s_raw (M, PROTO_DIRECT_DATA, f, 48, "dat", 3, 0), "not `length` bytes");
}

/*  Encoding head with body (NULL pointer when body_p is false) gives no
    message, and the body is gone. */
static void
s_encode_refused (proto_direct_t head, zframe_t *body, bool body_p)
{
    zmsg_t *msg = proto_direct_encode (&head, body_p ? &body : NULL);
    assert_null (msg);
    assert_null (body);
}

static void
test_encode_refuses_a_missing_or_wrong_body (void **state)
{
    (void)state;
    proto_direct_t data = { PROTO_DIRECT_DATA, 1, 0, 0, 4, 8 };
    proto_direct_t put = { PROTO_DIRECT_PUT, 1, 1, 4, 4, 8 };
    proto_direct_t get = { PROTO_DIRECT_GET, 1, 0, 0, 4, 8 };
    proto_direct_t ack = { PROTO_DIRECT_ACK, 1, 1, 0, 4, 8 };
    proto_direct_t err = { PROTO_DIRECT_ERR, 1, 0, 0, 0, 0 };
    /* missing: no pointer, or a pointer to NULL */
    s_encode_refused (data, NULL, false);
    s_encode_refused (data, NULL, true);
    s_encode_refused (put, NULL, false);
    s_encode_refused (put, NULL, true);
    s_encode_refused (err, NULL, false);
    s_encode_refused (err, NULL, true);
    /* the wrong size */
    s_encode_refused (data, zframe_new ("dat", 3), true);
    s_encode_refused (data, zframe_new ("data!", 5), true);
    s_encode_refused (put, zframe_new ("", 0), true);
    /* a body where the kind has none */
    s_encode_refused (get, zframe_new ("data", 4), true);
    s_encode_refused (ack, zframe_new ("data", 4), true);
    /* and what passes: the right size, no body where none belongs */
    zframe_t *body = zframe_new ("data", 4);
    zmsg_t *msg = proto_direct_encode (&put, &body);
    assert_non_null (msg);
    assert_null (body);
    zmsg_destroy (&msg);
    msg = proto_direct_encode (&get, NULL);
    assert_non_null (msg);
    zmsg_destroy (&msg);
    body = NULL;
    msg = proto_direct_encode (&ack, &body);
    assert_non_null (msg);
    zmsg_destroy (&msg);
}

static void
test_relay_frame_round_trips_and_refuses_others (void **state)
{
    (void)state;
    for (int kind = PROTO_RELAY_HELLO; kind <= PROTO_RELAY_NOROUTE; kind++) {
        uint8_t bytes[PROTO_RELAY_FRAME];
        proto_relay_frame ((proto_relay_kind_t)kind, 0x0102030405060708ull, bytes);
        assert_int_equal (bytes[0], 0x44); /* "DCPR", little-endian */
        assert_int_equal (bytes[4], kind);
        assert_int_equal (bytes[8], 0x08);
        zframe_t *frame = zframe_new (bytes, sizeof bytes);
        proto_relay_t relay = { 0, 0 };
        assert_true (proto_relay_read (frame, &relay));
        assert_int_equal (relay.kind, kind);
        assert_true (relay.pool == 0x0102030405060708ull);
        zframe_destroy (&frame);
    }
    uint8_t good[PROTO_RELAY_FRAME + 1];
    proto_relay_frame (PROTO_RELAY_REQUEST, 7, good);
    proto_relay_t relay;
    zframe_t *frame = zframe_new (good, PROTO_RELAY_FRAME + 1); /* a byte too many */
    assert_false (proto_relay_read (frame, &relay));
    zframe_destroy (&frame);
    frame = zframe_new (good, PROTO_RELAY_FRAME - 1);
    assert_false (proto_relay_read (frame, &relay));
    zframe_destroy (&frame);
    uint8_t bad[PROTO_RELAY_FRAME];
    memcpy (bad, good, sizeof bad);
    bad[0] ^= 1; /* magic */
    frame = zframe_new (bad, sizeof bad);
    assert_false (proto_relay_read (frame, &relay));
    zframe_destroy (&frame);
    for (uint32_t kind = 0; kind < 7; kind += 5) { /* below and above the kinds */
        memcpy (bad, good, sizeof bad);
        bad[4] = (uint8_t)kind;
        frame = zframe_new (bad, sizeof bad);
        assert_false (proto_relay_read (frame, &relay));
        zframe_destroy (&frame);
    }
    uint8_t header[PROTO_DIRECT_HEADER];
    proto_direct_header (&(proto_direct_t){ PROTO_DIRECT_GET, 1, 0, 0, 16, 16 }, header);
    frame = zframe_new (header, PROTO_RELAY_FRAME); /* its first 16 bytes */
    assert_false (proto_relay_read (frame, &relay));
    zframe_destroy (&frame);
    assert_false (proto_relay_read (NULL, &relay));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_kind_round_trips),
        cmocka_unit_test (test_relay_frame_round_trips_and_refuses_others),
        cmocka_unit_test (test_extremes_the_rules_allow_pass),
        cmocka_unit_test (test_wrong_magic_is_refused),
        cmocka_unit_test (test_unknown_kind_is_refused),
        cmocka_unit_test (test_wrong_frames_are_refused),
        cmocka_unit_test (test_length_over_a_chunk_is_refused),
        cmocka_unit_test (test_offset_and_length_past_total_are_refused),
        cmocka_unit_test (test_total_over_the_maximum_is_refused),
        cmocka_unit_test (test_body_not_length_bytes_is_refused),
        cmocka_unit_test (test_encode_refuses_a_missing_or_wrong_body),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
