/*  test/unit/test_proto.c - the proto codec, CURVE key derivation and the
    endpoint parser.

    Every message type must survive encode + decode with all its fields and
    payload frames; every kind of bad header (truncated, wrong-typed, unknown
    type or key, duplicated key, missing field, wrong frame count, oversized
    strings, bad jobs bin, random bytes) must come back as PROTO_EMALFORMED
    without a crash, and another protocol version as PROTO_EVERSION with
    the peer's version set.  Bad headers are built by hand with msgpack so
    that the decoder sees exactly what a hostile or broken peer would send.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "keys.h"
#include "link.h"
#include "msg.h"
#include "views.h"

/* Payload frames each type must carry; -1: one per job. */
static int
s_frames_for (proto_type_t type)
{
    switch (type) {
    case PROTO_POOL_OPEN:
        return 2;
    case PROTO_UPDATE:
    case PROTO_BLOCKS_HELD:
    case PROTO_BLOCK_PUT:
    case PROTO_BLOCK:
        return 1;
    case PROTO_SUBMIT:
    case PROTO_RESULT:
    case PROTO_JOB:
        return -1;
    default:
        return 0;
    }
}

/* Fills every field a message can have, and the frames its type needs. */
static void
s_fill_all (proto_msg_t *msg, proto_type_t type)
{
    proto_msg_init (msg, type);
    proto_msg_set_role (msg, PROTO_ROLE_WORKER);
    assert_int_equal (proto_msg_set_id (msg, "host-1a2b3c4d/w7"), PROTO_OK);
    assert_int_equal (proto_msg_set_node (msg, "host-1a2b3c4d"), PROTO_OK);
    proto_msg_set_pool (msg, UINT64_MAX - (uint64_t)type);
    proto_msg_set_seq (msg, 1000 + (uint64_t)type);
    proto_msg_set_code (msg, -12345678901LL);
    assert_int_equal (
        proto_msg_set_text (msg, "text of %s: \xc3\xa9t\xc3\xa9", proto_type_name (type)),
        PROTO_OK);
    uint8_t hash[PROTO_HASH_SIZE];
    for (int h = 0; h < PROTO_HASHES_MAX; h++) {
        for (int i = 0; i < PROTO_HASH_SIZE; i++)
            hash[i] = (uint8_t)(i * 7 + h * 31 + (int)type);
        assert_int_equal (proto_msg_add_hash (msg, hash), PROTO_OK);
    }
    assert_int_equal (proto_msg_add_num (msg, 0), PROTO_OK);
    assert_int_equal (proto_msg_add_num (msg, UINT64_MAX), PROTO_OK);
    assert_int_equal (proto_msg_add_num (msg, 42), PROTO_OK);
    for (int j = 0; j < 3; j++) {
        proto_job_t *job = proto_msg_add_job (msg);
        assert_non_null (job);
        job->id = ((uint64_t)1 << 40) + (uint64_t)j;
        job->attempt = (uint32_t)j + 1;
        job->status = j == 1 ? -11 : 0;
        job->useq = UINT64_MAX - (uint64_t)j;
    }
    int frames = s_frames_for (type);
    if (frames < 0)
        frames = (int)msg->njobs;
    for (int f = 0; f < frames; f++) {
        char payload[64];
        int len = snprintf (payload, sizeof payload, "payload %d of %s", f,
                            proto_type_name (type));
        /* An empty frame is a valid payload too. */
        assert_int_equal (proto_msg_add_bytes (msg, payload, f == 1 ? 0 : (size_t)len),
                          PROTO_OK);
    }
}

static void
s_assert_same (const proto_msg_t *a, const proto_msg_t *b)
{
    assert_int_equal (a->type, b->type);
    assert_int_equal (b->version, PROTO_VERSION);
    assert_int_equal (a->present, b->present);
    assert_int_equal (a->role, b->role);
    assert_string_equal (a->id, b->id);
    assert_string_equal (a->node, b->node);
    assert_true (a->pool == b->pool);
    assert_true (a->seq == b->seq);
    assert_true (a->code == b->code);
    assert_non_null (b->text);
    assert_string_equal (a->text, b->text);
    assert_int_equal (a->text_size, b->text_size);
    assert_int_equal (a->nhashes, b->nhashes);
    assert_memory_equal (a->hash, b->hash, a->nhashes * PROTO_HASH_SIZE);
    assert_int_equal (a->nnums, b->nnums);
    for (size_t i = 0; i < a->nnums; i++)
        assert_true (a->nums[i] == b->nums[i]);
    assert_int_equal (a->njobs, b->njobs);
    for (size_t i = 0; i < a->njobs; i++) {
        assert_true (a->jobs[i].id == b->jobs[i].id);
        assert_int_equal (a->jobs[i].attempt, b->jobs[i].attempt);
        assert_int_equal (a->jobs[i].status, b->jobs[i].status);
        assert_true (a->jobs[i].useq == b->jobs[i].useq);
    }
}

/* Why the last s_round_trip decode failed. */
static char s_reason[256];

/* Encodes msg, decodes the result, and returns the decode's code. */
static int
s_round_trip (proto_msg_t *msg, proto_msg_t *out)
{
    zmsg_t *wire = NULL;
    assert_int_equal (proto_msg_encode (msg, &wire), PROTO_OK);
    assert_non_null (wire);
    assert_null (msg->frames);
    s_reason[0] = 0;
    int rc = proto_msg_decode (out, &wire, s_reason, sizeof s_reason);
    assert_null (wire);
    return rc;
}

static void
test_every_message_type_round_trips_with_fields_and_frames (void **state)
{
    (void)state;
    for (int t = PROTO_HELLO; t < PROTO_TYPE_COUNT; t++) {
        proto_msg_t msg, copy, out;
        s_fill_all (&msg, (proto_type_t)t);
        /* Keep a copy of the payloads to compare against: encode moves them. */
        size_t nframes = proto_msg_frames (&msg);
        zmsg_t *payloads = msg.frames ? zmsg_dup (msg.frames) : NULL;
        copy = msg;
        proto_msg_init (&out, 0);
        if (s_round_trip (&msg, &out) != PROTO_OK)
            fail_msg ("%s: %s", proto_type_name ((proto_type_t)t), s_reason);
        copy.frames = NULL;
        s_assert_same (&copy, &out);
        assert_int_equal (proto_msg_frames (&out), nframes);
        for (size_t f = 0; f < nframes; f++) {
            zframe_t *want = zmsg_pop (payloads);
            zframe_t *got = proto_msg_pop_frame (&out);
            assert_non_null (got);
            assert_true (zframe_eq (want, got));
            zframe_destroy (&want);
            zframe_destroy (&got);
        }
        assert_null (proto_msg_pop_frame (&out));
        zmsg_destroy (&payloads);
        proto_msg_reset (&msg);
        proto_msg_reset (&out);
    }
}

static void
test_minimal_messages_round_trip (void **state)
{
    (void)state;
    proto_msg_t msg, out;
    proto_msg_init (&out, 0);

    proto_msg_init (&msg, PROTO_HEARTBEAT);
    assert_int_equal (s_round_trip (&msg, &out), PROTO_OK);
    assert_int_equal (out.type, PROTO_HEARTBEAT);
    assert_int_equal (out.present, 0);
    assert_null (out.text);
    assert_int_equal (proto_msg_frames (&out), 0);

    proto_msg_init (&msg, PROTO_HELLO);
    proto_msg_set_role (&msg, PROTO_ROLE_CLIENT);
    assert_int_equal (proto_msg_set_id (&msg, ""), PROTO_OK);
    assert_int_equal (s_round_trip (&msg, &out), PROTO_OK);
    assert_int_equal (out.type, PROTO_HELLO);
    assert_int_equal (out.role, PROTO_ROLE_CLIENT);
    assert_string_equal (out.id, "");

    /* Text set to the empty string is present and empty. */
    proto_msg_init (&msg, PROTO_DENIED);
    assert_int_equal (proto_msg_set_text (&msg, "%s", ""), PROTO_OK);
    assert_int_equal (s_round_trip (&msg, &out), PROTO_OK);
    assert_non_null (out.text);
    assert_string_equal (out.text, "");
    proto_msg_reset (&msg);

    /* A SUBMIT of many jobs keeps every entry and frame in order. */
    proto_msg_init (&msg, PROTO_SUBMIT);
    proto_msg_set_pool (&msg, 7);
    for (uint64_t i = 0; i < 1024; i++) {
        proto_job_t *job = proto_msg_add_job (&msg);
        assert_non_null (job);
        job->id = i * 3;
        assert_int_equal (proto_msg_add_bytes (&msg, &i, sizeof i), PROTO_OK);
    }
    assert_int_equal (s_round_trip (&msg, &out), PROTO_OK);
    assert_int_equal (out.njobs, 1024);
    assert_int_equal (proto_msg_frames (&out), 1024);
    for (uint64_t i = 0; i < 1024; i++) {
        assert_true (out.jobs[i].id == i * 3);
        zframe_t *frame = proto_msg_pop_frame (&out);
        assert_int_equal (zframe_size (frame), sizeof i);
        uint64_t v;
        memcpy (&v, zframe_data (frame), sizeof v);
        assert_true (v == i);
        zframe_destroy (&frame);
    }
    proto_msg_reset (&msg);
    proto_msg_reset (&out);

    /* Reusing a decoded message for the next decode leaks nothing and keeps
       nothing of the previous message. */
    s_fill_all (&msg, PROTO_ERROR);
    assert_int_equal (s_round_trip (&msg, &out), PROTO_OK);
    proto_msg_reset (&msg);
    proto_msg_init (&msg, PROTO_BYE);
    assert_int_equal (s_round_trip (&msg, &out), PROTO_OK);
    assert_int_equal (out.type, PROTO_BYE);
    assert_int_equal (out.present, 0);
    assert_null (out.text);
    assert_int_equal (out.njobs, 0);
    proto_msg_reset (&out);
}

static void
test_type_names_are_known (void **state)
{
    (void)state;
    for (int t = PROTO_HELLO; t < PROTO_TYPE_COUNT; t++) {
        assert_non_null (proto_type_name ((proto_type_t)t));
        assert_string_not_equal (proto_type_name ((proto_type_t)t), "UNKNOWN");
    }
    assert_string_equal (proto_type_name ((proto_type_t)0), "UNKNOWN");
    assert_string_equal (proto_type_name (PROTO_TYPE_COUNT), "UNKNOWN");
    assert_string_equal (proto_type_name (PROTO_HELLO), "HELLO");
}

static void
test_setters_refuse_what_does_not_fit (void **state)
{
    (void)state;
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_HELLO);
    char id[PROTO_ID_MAX + 2];
    memset (id, 'a', sizeof id);
    id[PROTO_ID_MAX] = 0;
    assert_int_equal (proto_msg_set_id (&msg, id), PROTO_OK); /* 64: fits */
    id[PROTO_ID_MAX] = 'a';
    id[PROTO_ID_MAX + 1] = 0;
    assert_int_equal (proto_msg_set_id (&msg, id), PROTO_EMALFORMED);
    assert_int_equal (proto_msg_set_node (&msg, id), PROTO_EMALFORMED);
    assert_false (msg.present & PROTO_F_NODE);

    uint8_t hash[PROTO_HASH_SIZE] = { 1 };
    for (int i = 0; i < PROTO_HASHES_MAX; i++)
        assert_int_equal (proto_msg_add_hash (&msg, hash), PROTO_OK);
    assert_int_equal (proto_msg_add_hash (&msg, hash), PROTO_EMALFORMED);
    for (int i = 0; i < PROTO_NUMS_MAX; i++)
        assert_int_equal (proto_msg_add_num (&msg, (uint64_t)i), PROTO_OK);
    assert_int_equal (proto_msg_add_num (&msg, 99), PROTO_EMALFORMED);

    /* An over-long text is cut to the limit, not refused. */
    char *big = malloc (PROTO_TEXT_MAX + 100);
    assert_non_null (big);
    memset (big, 'x', PROTO_TEXT_MAX + 99);
    big[PROTO_TEXT_MAX + 99] = 0;
    assert_int_equal (proto_msg_set_text (&msg, "%s", big), PROTO_OK);
    assert_int_equal (msg.text_size, PROTO_TEXT_MAX);
    assert_int_equal (strlen (msg.text), PROTO_TEXT_MAX);
    free (big);
    proto_msg_reset (&msg);
}

/* ---- hand-built headers ------------------------------------------------ */

typedef struct {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
} s_hdr_t;

static void
s_hdr_begin (s_hdr_t *h, uint32_t entries)
{
    msgpack_sbuffer_init (&h->sbuf);
    msgpack_packer_init (&h->pk, &h->sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&h->pk, entries);
}

static void
s_key (s_hdr_t *h, const char *key)
{
    msgpack_pack_str (&h->pk, strlen (key));
    msgpack_pack_str_body (&h->pk, key, strlen (key));
}

static void
s_kv_uint (s_hdr_t *h, const char *key, uint64_t value)
{
    s_key (h, key);
    msgpack_pack_uint64 (&h->pk, value);
}

static void
s_kv_str (s_hdr_t *h, const char *key, const char *value, size_t len)
{
    s_key (h, key);
    msgpack_pack_str (&h->pk, len);
    msgpack_pack_str_body (&h->pk, value, len);
}

static void
s_kv_bin (s_hdr_t *h, const char *key, const void *value, size_t len)
{
    s_key (h, key);
    msgpack_pack_bin (&h->pk, len);
    msgpack_pack_bin_body (&h->pk, value, len);
}

/* Sends the header plus nframes empty payload frames through the decoder;
   returns its code and leaves the decoded message in out (reset after). */
static int
s_decode_raw_into (proto_msg_t *out, const void *data, size_t size, int nframes)
{
    zmsg_t *wire = zmsg_new ();
    zmsg_addmem (wire, data, size);
    for (int i = 0; i < nframes; i++)
        zmsg_addmem (wire, "f", 1);
    char reason[256] = "";
    int rc = proto_msg_decode (out, &wire, reason, sizeof reason);
    assert_null (wire);
    if (rc != PROTO_OK)
        assert_true (strlen (reason) > 0); /* every failure says why */
    return rc;
}

static int
s_decode_raw (const void *data, size_t size, int nframes)
{
    proto_msg_t out;
    proto_msg_init (&out, 0);
    int rc = s_decode_raw_into (&out, data, size, nframes);
    proto_msg_reset (&out);
    return rc;
}

static int
s_hdr_decode (s_hdr_t *h, int nframes)
{
    int rc = s_decode_raw (h->sbuf.data, h->sbuf.size, nframes);
    msgpack_sbuffer_destroy (&h->sbuf);
    return rc;
}

/* A well-formed HELLO header with one extra field given by the caller. */
static void
s_hello_plus (s_hdr_t *h)
{
    s_hdr_begin (h, 5);
    s_kv_uint (h, "v", PROTO_VERSION);
    s_kv_uint (h, "t", PROTO_HELLO);
    s_kv_uint (h, "r", PROTO_ROLE_NODE);
    s_kv_str (h, "i", "node-1", 6);
}

static void
test_hand_built_valid_header_decodes (void **state)
{
    (void)state;
    /* Proves the helpers build what the codec expects, so that the failures
       below fail for the reason each one names. */
    s_hdr_t h;
    s_hello_plus (&h);
    s_kv_str (&h, "x", "hostname", 8);
    proto_msg_t out;
    proto_msg_init (&out, 0);
    assert_int_equal (s_decode_raw_into (&out, h.sbuf.data, h.sbuf.size, 0), PROTO_OK);
    assert_int_equal (out.type, PROTO_HELLO);
    assert_int_equal (out.role, PROTO_ROLE_NODE);
    assert_string_equal (out.id, "node-1");
    assert_string_equal (out.text, "hostname");
    proto_msg_reset (&out);
    msgpack_sbuffer_destroy (&h.sbuf);
}

static void
test_truncated_header_is_malformed (void **state)
{
    (void)state;
    proto_msg_t msg;
    s_fill_all (&msg, PROTO_ERROR);
    zmsg_t *wire = NULL;
    assert_int_equal (proto_msg_encode (&msg, &wire), PROTO_OK);
    zframe_t *header = zmsg_pop (wire);
    zmsg_destroy (&wire);
    for (size_t len = 0; len < zframe_size (header); len++)
        assert_int_equal (s_decode_raw (zframe_data (header), len, 0), PROTO_EMALFORMED);
    /* Extra bytes after the header object are not ignored either. */
    uint8_t *longer = malloc (zframe_size (header) + 1);
    memcpy (longer, zframe_data (header), zframe_size (header));
    longer[zframe_size (header)] = 0xc0;
    assert_int_equal (s_decode_raw (longer, zframe_size (header) + 1, 0),
                      PROTO_EMALFORMED);
    free (longer);
    zframe_destroy (&header);
    proto_msg_reset (&msg);

    /* No frames at all, and a NULL message. */
    zmsg_t *empty = zmsg_new ();
    proto_msg_t out;
    proto_msg_init (&out, 0);
    char reason[128];
    assert_int_equal (proto_msg_decode (&out, &empty, reason, sizeof reason),
                      PROTO_EMALFORMED);
    assert_null (empty);
    assert_int_equal (proto_msg_decode (&out, &empty, reason, sizeof reason),
                      PROTO_EMALFORMED);
    /* A NULL reason buffer is allowed. */
    empty = zmsg_new ();
    assert_int_equal (proto_msg_decode (&out, &empty, NULL, 0), PROTO_EMALFORMED);
    proto_msg_reset (&out);
}

static void
test_wrong_typed_fields_are_malformed (void **state)
{
    (void)state;
    s_hdr_t h;
    /* Each case replaces one field's value by a value of the wrong type. */
    static const char *keys[] = { "r", "i", "n", "p", "s", "c", "x", "h", "u", "j" };
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        for (int variant = 0; variant < 4; variant++) {
            s_hdr_begin (&h, 3);
            s_kv_uint (&h, "v", PROTO_VERSION);
            s_kv_uint (&h, "t", PROTO_HEARTBEAT);
            s_key (&h, keys[k]);
            const char *key = keys[k];
            switch (variant) {
            case 0: /* nil is never a valid value */
                msgpack_pack_nil (&h.pk);
                break;
            case 1: /* a map is never a valid value */
                msgpack_pack_map (&h.pk, 0);
                break;
            case 2: /* a float */
                msgpack_pack_double (&h.pk, 1.5);
                break;
            default: /* a type close to the right one, but wrong */
                if (strchr ("rps", key[0]))
                    msgpack_pack_int64 (&h.pk, -1);
                else if (strchr ("inx", key[0]))
                    msgpack_pack_uint64 (&h.pk, 5);
                else if (key[0] == 'c') {
                    msgpack_pack_str (&h.pk, 1);
                    msgpack_pack_str_body (&h.pk, "1", 1);
                } else if (key[0] == 'h') {
                    msgpack_pack_bin (&h.pk, PROTO_HASH_SIZE);
                    msgpack_pack_bin_body (&h.pk, "0123456789abcdef0123456789abcdef",
                                           PROTO_HASH_SIZE);
                } else if (key[0] == 'u') {
                    msgpack_pack_array (&h.pk, 2);
                    msgpack_pack_uint64 (&h.pk, 1);
                    msgpack_pack_int64 (&h.pk, -1);
                } else {
                    uint8_t entry[PROTO_JOB_WIRE_SIZE] = { 0 };
                    msgpack_pack_str (&h.pk, sizeof entry);
                    msgpack_pack_str_body (&h.pk, entry, sizeof entry);
                }
                break;
            }
            if (s_hdr_decode (&h, 0) != PROTO_EMALFORMED)
                fail_msg ("field '%s' variant %d was accepted", key, variant);
        }
    }
    /* Values out of their range. */
    s_hdr_begin (&h, 3);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_HEARTBEAT);
    s_kv_uint (&h, "r", 99);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hdr_begin (&h, 3);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_HEARTBEAT);
    s_kv_uint (&h, "c", UINT64_MAX); /* does not fit an int64 */
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    /* A hash of the wrong length, too many hashes, none. */
    s_hdr_begin (&h, 3);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_BLOCK_GET);
    s_key (&h, "h");
    msgpack_pack_array (&h.pk, 1);
    msgpack_pack_bin (&h.pk, PROTO_HASH_SIZE - 1);
    msgpack_pack_bin_body (&h.pk, "0123456789abcdef0123456789abcde", PROTO_HASH_SIZE - 1);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hdr_begin (&h, 3);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_BLOCK_GET);
    s_key (&h, "h");
    msgpack_pack_array (&h.pk, PROTO_HASHES_MAX + 1);
    for (int i = 0; i < PROTO_HASHES_MAX + 1; i++) {
        msgpack_pack_bin (&h.pk, PROTO_HASH_SIZE);
        msgpack_pack_bin_body (&h.pk, "0123456789abcdef0123456789abcdef",
                               PROTO_HASH_SIZE);
    }
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hdr_begin (&h, 3);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_BLOCK_GET);
    s_key (&h, "h");
    msgpack_pack_array (&h.pk, 0);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    /* Too many nums. */
    s_hdr_begin (&h, 3);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_STATUS);
    s_key (&h, "u");
    msgpack_pack_array (&h.pk, PROTO_NUMS_MAX + 1);
    for (int i = 0; i < PROTO_NUMS_MAX + 1; i++)
        msgpack_pack_uint64 (&h.pk, (uint64_t)i);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    /* An id with an embedded NUL would be cut silently: refused. */
    s_hello_plus (&h);
    s_kv_str (&h, "n", "ab\0cd", 5);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    /* Version and type of the wrong type. */
    s_hdr_begin (&h, 2);
    s_kv_str (&h, "v", "1", 1);
    s_kv_uint (&h, "t", PROTO_HEARTBEAT);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hdr_begin (&h, 2);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_str (&h, "t", "HELLO", 5);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
}

static void
test_unknown_type_is_malformed (void **state)
{
    (void)state;
    uint64_t types[]
        = { 0, PROTO_TYPE_COUNT, PROTO_TYPE_COUNT + 1, 999, UINT32_MAX, UINT64_MAX };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        s_hdr_t h;
        s_hdr_begin (&h, 2);
        s_kv_uint (&h, "v", PROTO_VERSION);
        s_kv_uint (&h, "t", types[i]);
        assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    }
    s_hdr_t h;
    s_hdr_begin (&h, 1); /* no type at all */
    s_kv_uint (&h, "v", PROTO_VERSION);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hdr_begin (&h, 1); /* no version at all */
    s_kv_uint (&h, "t", PROTO_HEARTBEAT);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
}

static void
test_unknown_key_is_malformed (void **state)
{
    (void)state;
    s_hdr_t h;
    s_hello_plus (&h);
    s_kv_uint (&h, "z", 1);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hello_plus (&h);
    s_kv_uint (&h, "pool", 1); /* long keys are not ours */
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hello_plus (&h);
    s_kv_uint (&h, "", 1);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hello_plus (&h);
    msgpack_pack_uint64 (&h.pk, 112); /* an integer key */
    msgpack_pack_uint64 (&h.pk, 1);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hello_plus (&h);
    msgpack_pack_bin (&h.pk, 1); /* a bin key "p" */
    msgpack_pack_bin_body (&h.pk, "p", 1);
    msgpack_pack_uint64 (&h.pk, 1);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
}

static void
test_duplicated_key_is_malformed (void **state)
{
    (void)state;
    static const char *keys[] = { "r", "i" };
    for (size_t k = 0; k < 2; k++) {
        s_hdr_t h;
        s_hello_plus (&h);
        if (keys[k][0] == 'r')
            s_kv_uint (&h, "r", PROTO_ROLE_CLIENT);
        else
            s_kv_str (&h, "i", "other", 5);
        assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    }
    s_hdr_t h;
    s_hdr_begin (&h, 4);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_POOL_CLOSE);
    s_kv_uint (&h, "p", 1);
    s_kv_uint (&h, "p", 2);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    /* A text given twice must not leak the first copy either. */
    s_hdr_begin (&h, 5);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_ERROR);
    s_kv_uint (&h, "c", 1);
    s_kv_str (&h, "x", "one", 3);
    s_kv_str (&h, "x", "two", 3);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    /* So must jobs given twice. */
    uint8_t entry[PROTO_JOB_WIRE_SIZE] = { 0 };
    s_hdr_begin (&h, 5);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_SUBMIT);
    s_kv_uint (&h, "p", 1);
    s_kv_bin (&h, "j", entry, sizeof entry);
    s_kv_bin (&h, "j", entry, sizeof entry);
    assert_int_equal (s_hdr_decode (&h, 1), PROTO_EMALFORMED);
}

static void
test_missing_required_field_is_malformed (void **state)
{
    (void)state;
    s_hdr_t h;
    s_hdr_begin (&h, 3); /* HELLO without id */
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_HELLO);
    s_kv_uint (&h, "r", PROTO_ROLE_CLIENT);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hdr_begin (&h, 3); /* HELLO without role */
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_HELLO);
    s_kv_str (&h, "i", "x", 1);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hdr_begin (&h, 3); /* SUBMIT without jobs */
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_SUBMIT);
    s_kv_uint (&h, "p", 1);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hdr_begin (&h, 3); /* ERROR without text */
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_ERROR);
    s_kv_uint (&h, "c", 1);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hdr_begin (&h, 2); /* POOL_OPEN with nothing */
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_POOL_OPEN);
    assert_int_equal (s_hdr_decode (&h, 2), PROTO_EMALFORMED);

    /* And through the encoder: a message missing what its type needs
       encodes (the encoder trusts its caller) but does not decode. */
    for (int t = PROTO_HELLO; t < PROTO_TYPE_COUNT; t++) {
        proto_msg_t msg, out;
        proto_msg_init (&msg, (proto_type_t)t);
        proto_msg_init (&out, 0);
        int frames = s_frames_for ((proto_type_t)t);
        for (int f = 0; f < frames; f++)
            proto_msg_add_bytes (&msg, "x", 1);
        int rc = s_round_trip (&msg, &out);
        bool needs_nothing = t == PROTO_HEARTBEAT || t == PROTO_STATUS_REQ
                             || t == PROTO_BYE
                             || t == PROTO_BLOCKS_HELD; /* its frame is all it has */
        if (needs_nothing)
            assert_int_equal (rc, PROTO_OK);
        else if (rc != PROTO_EMALFORMED)
            fail_msg ("%s without fields decoded with %d",
                      proto_type_name ((proto_type_t)t), rc);
        proto_msg_reset (&msg);
        proto_msg_reset (&out);
    }
}

/* Decodes a copy of wire with its last payload frame dropped (delta -1),
   as it is (0) or with one more frame (+1). */
static int
s_decode_variant (zmsg_t *wire, int delta)
{
    zmsg_t *copy = zmsg_dup (wire);
    if (delta < 0) {
        zframe_t *last = zmsg_last (copy);
        zmsg_remove (copy, last);
        zframe_destroy (&last);
    } else if (delta > 0)
        zmsg_addmem (copy, "f", 1);
    proto_msg_t out;
    proto_msg_init (&out, 0);
    char reason[256] = "";
    int rc = proto_msg_decode (&out, &copy, reason, sizeof reason);
    if (rc != PROTO_OK)
        assert_true (strlen (reason) > 0);
    proto_msg_reset (&out);
    return rc;
}

static void
test_wrong_frame_count_is_malformed (void **state)
{
    (void)state;
    for (int t = PROTO_HELLO; t < PROTO_TYPE_COUNT; t++) {
        proto_msg_t msg;
        s_fill_all (&msg, (proto_type_t)t);
        zmsg_t *wire = NULL;
        assert_int_equal (proto_msg_encode (&msg, &wire), PROTO_OK);
        /* One frame fewer (where there is one) and one frame more; small
           job payloads travel packed in one frame, which counts as all. */
        if (zmsg_size (wire) > 1)
            assert_int_equal (s_decode_variant (wire, -1), PROTO_EMALFORMED);
        if (s_decode_variant (wire, +1) != PROTO_EMALFORMED)
            fail_msg ("%s with one frame too many was accepted",
                      proto_type_name ((proto_type_t)t));
        assert_int_equal (s_decode_variant (wire, 0), PROTO_OK);
        zmsg_destroy (&wire);
        proto_msg_reset (&msg);
    }
}

/* Small payloads are packed into one frame and come back one per job;
   a packed frame whose sizes do not add up is refused. */
static void
test_small_payloads_travel_packed (void **state)
{
    (void)state;
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_RESULT);
    proto_msg_set_pool (&msg, 3);
    const char *items[] = { "a", "", "ccc", "dddd" };
    for (int i = 0; i < 4; i++) {
        proto_job_t *job = proto_msg_add_job (&msg);
        job->id = (uint64_t)i;
        if (i % 2)
            assert_int_equal (proto_msg_add_borrowed (&msg, items[i], strlen (items[i])),
                              PROTO_OK);
        else
            assert_int_equal (proto_msg_add_bytes (&msg, items[i], strlen (items[i])),
                              PROTO_OK);
    }
    zmsg_t *wire = NULL;
    assert_int_equal (proto_msg_encode (&msg, &wire), PROTO_OK);
    assert_int_equal (zmsg_size (wire), 2); /* header + one packed frame */
    zmsg_t *bad = zmsg_dup (wire);
    zframe_t *last = zmsg_last (bad);
    zmsg_remove (bad, last);
    zframe_destroy (&last);
    zmsg_addmem (bad, "abcdefghij", 10); /* 10 bytes, sizes say 8 */
    proto_msg_t out;
    proto_msg_init (&out, 0);
    char reason[256];
    assert_int_equal (proto_msg_decode (&out, &bad, reason, sizeof reason),
                      PROTO_EMALFORMED);
    assert_int_equal (proto_msg_decode (&out, &wire, reason, sizeof reason), PROTO_OK);
    assert_int_equal (proto_msg_frames (&out), 4);
    for (int i = 0; i < 4; i++) {
        const void *data;
        size_t size;
        assert_int_equal (proto_msg_payload (&out, (size_t)i, &data, &size), 0);
        assert_int_equal (size, strlen (items[i]));
        assert_memory_equal (data, items[i], size);
    }
    zframe_t *frame = proto_msg_pop_frame (&out);
    assert_int_equal (zframe_size (frame), 1);
    zframe_destroy (&frame);
    proto_msg_reset (&out);
    proto_msg_reset (&msg);
}

/*  Builds in msg a RESULT of pool 3 with n jobs (ids from first) and small
    borrowed payloads from items. */
static void
s_build_batch (proto_msg_t *msg, uint64_t first, size_t n, const char *const *items)
{
    proto_msg_set_pool (msg, 3);
    for (size_t i = 0; i < n; i++) {
        proto_job_t *job = proto_msg_add_job (msg);
        assert_non_null (job);
        job->id = first + i;
        assert_int_equal (
            proto_msg_add_borrowed (msg, items[i % 4], strlen (items[i % 4])), PROTO_OK);
    }
}

/* A recycled message keeps its arrays but nothing else: the next batch
   built in it goes on the wire exactly as one built in a fresh message. */
static void
test_recycled_message_sends_as_a_fresh_one (void **state)
{
    (void)state;
    const char *const items[] = { "a", "", "ccc", "dddd" };
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_RESULT);
    s_build_batch (&msg, 100, 300, items);
    assert_int_equal (proto_msg_set_text (&msg, "only in the first"), PROTO_OK);
    zmsg_t *wire = NULL;
    assert_int_equal (proto_msg_encode (&msg, &wire), PROTO_OK);
    zmsg_destroy (&wire);
    proto_job_t *jobs = msg.jobs;
    size_t jobs_cap = msg.jobs_cap, borrowed_cap = msg.borrowed_cap;
    assert_true (jobs_cap >= 300 && borrowed_cap >= 300);
    proto_msg_recycle (&msg);
    assert_int_equal (msg.type, PROTO_RESULT);
    assert_int_equal (msg.njobs, 0);
    assert_int_equal (msg.nborrowed, 0);
    assert_int_equal (msg.present, 0);
    assert_null (msg.text);
    assert_ptr_equal (msg.jobs, jobs);
    assert_int_equal (msg.jobs_cap, jobs_cap);
    assert_int_equal (msg.borrowed_cap, borrowed_cap);
    s_build_batch (&msg, 7, 5, items);
    assert_ptr_equal (msg.jobs, jobs); /* no growth */

    proto_msg_t fresh;
    proto_msg_init (&fresh, PROTO_RESULT);
    s_build_batch (&fresh, 7, 5, items);
    zmsg_t *a = NULL, *b = NULL;
    assert_int_equal (proto_msg_encode (&msg, &a), PROTO_OK);
    assert_int_equal (proto_msg_encode (&fresh, &b), PROTO_OK);
    assert_int_equal (zmsg_size (a), zmsg_size (b));
    for (zframe_t *fa = zmsg_first (a), *fb = zmsg_first (b); fa && fb;
         fa = zmsg_next (a), fb = zmsg_next (b)) {
        assert_int_equal (zframe_size (fa), zframe_size (fb));
        assert_memory_equal (zframe_data (fa), zframe_data (fb), zframe_size (fa));
    }
    zmsg_destroy (&a);
    zmsg_destroy (&b);
    proto_msg_reset (&fresh);
    proto_msg_recycle (&msg);
    proto_msg_reset (&msg); /* frees the kept arrays (valgrind, ASan) */
    assert_null (msg.jobs);
    assert_int_equal (msg.jobs_cap, 0);
}

static void
test_oversized_id_and_text_are_malformed (void **state)
{
    (void)state;
    char id[PROTO_ID_MAX + 1];
    memset (id, 'a', sizeof id);
    s_hdr_t h;
    s_hello_plus (&h); /* 64 bytes: fits */
    s_kv_str (&h, "n", id, PROTO_ID_MAX);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_OK);
    s_hello_plus (&h); /* 65 bytes: does not */
    s_kv_str (&h, "n", id, PROTO_ID_MAX + 1);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    s_hdr_begin (&h, 4);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_HELLO);
    s_kv_uint (&h, "r", PROTO_ROLE_NODE);
    s_kv_str (&h, "i", id, PROTO_ID_MAX + 1);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);

    char *text = malloc (PROTO_TEXT_MAX + 1);
    assert_non_null (text);
    memset (text, 't', PROTO_TEXT_MAX + 1);
    s_hello_plus (&h);
    s_kv_str (&h, "x", text, PROTO_TEXT_MAX);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_OK);
    s_hello_plus (&h);
    s_kv_str (&h, "x", text, PROTO_TEXT_MAX + 1);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);
    free (text);
}

static void
test_bad_jobs_bin_is_malformed (void **state)
{
    (void)state;
    static uint8_t entries[PROTO_JOB_WIRE_SIZE * 3];
    size_t sizes[] = { 0, 1, PROTO_JOB_WIRE_SIZE - 1, PROTO_JOB_WIRE_SIZE + 1,
                       2 * PROTO_JOB_WIRE_SIZE + 5 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        s_hdr_t h;
        s_hdr_begin (&h, 4);
        s_kv_uint (&h, "v", PROTO_VERSION);
        s_kv_uint (&h, "t", PROTO_SUBMIT);
        s_kv_uint (&h, "p", 1);
        s_kv_bin (&h, "j", entries, sizes[i]);
        int frames = (int)(sizes[i] / PROTO_JOB_WIRE_SIZE);
        if (s_hdr_decode (&h, frames) != PROTO_EMALFORMED)
            fail_msg ("jobs bin of %zu bytes was accepted", sizes[i]);
    }
    /* More jobs than PROTO_JOBS_MAX. */
    size_t size = (size_t)(PROTO_JOBS_MAX + 1) * PROTO_JOB_WIRE_SIZE;
    uint8_t *big = calloc (1, size);
    assert_non_null (big);
    s_hdr_t h;
    s_hdr_begin (&h, 4);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_RESULT);
    s_kv_uint (&h, "p", 1);
    s_kv_bin (&h, "j", big, size);
    free (big);
    assert_int_equal (s_hdr_decode (&h, PROTO_JOBS_MAX + 1), PROTO_EMALFORMED);
    /* A right-sized bin decodes, proving the cases above fail on length. */
    s_hdr_begin (&h, 4);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_SUBMIT);
    s_kv_uint (&h, "p", 1);
    s_kv_bin (&h, "j", entries, 3 * PROTO_JOB_WIRE_SIZE);
    assert_int_equal (s_hdr_decode (&h, 3), PROTO_OK);
}

/* A batch of n jobs from first, with payloads of size(i) bytes. */
static void
s_batch (proto_msg_t *msg, proto_type_t type, size_t n, uint64_t first, uint32_t attempt,
         int32_t status, size_t (*size) (size_t))
{
    proto_msg_init (msg, type);
    proto_msg_set_pool (msg, 3);
    for (size_t i = 0; i < n; i++) {
        proto_job_t *job = proto_msg_add_job (msg);
        assert_non_null (job);
        *job = (proto_job_t){
            .id = first + i, .attempt = attempt, .status = status, .useq = 9
        };
        uint8_t bytes[64];
        for (size_t b = 0; b < sizeof bytes; b++)
            bytes[b] = (uint8_t)(i * 31 + b);
        assert_int_equal (proto_msg_add_bytes (msg, bytes, size (i)), PROTO_OK);
    }
}

static size_t
s_eight (size_t i)
{
    (void)i;
    return 8;
}
static size_t
s_varied (size_t i)
{
    return i % 17;
}

/* Encodes msg; returns the header's size and decodes into out. */
static size_t
s_encode_decode (proto_msg_t *msg, proto_msg_t *out)
{
    zmsg_t *wire = NULL;
    assert_int_equal (proto_msg_encode (msg, &wire), PROTO_OK);
    size_t header = zframe_size (zmsg_first (wire));
    char reason[256] = "";
    proto_msg_init (out, 0);
    assert_int_equal (proto_msg_decode (out, &wire, reason, sizeof reason), PROTO_OK);
    return header;
}

static void
s_assert_batch (proto_msg_t *out, size_t n, uint64_t first, uint32_t attempt,
                int32_t status, size_t (*size) (size_t), uint64_t gap_at)
{
    assert_int_equal (out->njobs, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t id = first + i + (i >= gap_at ? 1 : 0);
        assert_true (out->jobs[i].id == id);
        assert_int_equal (out->jobs[i].attempt, attempt);
        assert_int_equal (out->jobs[i].status, status);
        assert_true (out->jobs[i].useq == 9);
        const void *data = NULL;
        size_t len = 0;
        assert_int_equal (proto_msg_payload (out, i, &data, &len), PROTO_OK);
        assert_int_equal (len, size (i));
        for (size_t b = 0; b < len; b++)
            assert_int_equal (((const uint8_t *)data)[b], (uint8_t)(i * 31 + b));
    }
}

static void
test_runs_of_jobs_travel_in_a_few_bytes (void **state)
{
    (void)state;
    enum { N = 1000 };
    proto_msg_t msg, out;
    /* Consecutive ids, one attempt and status, equal sizes: the header does
       not grow with the batch. */
    s_batch (&msg, PROTO_SUBMIT, N, UINT64_MAX - N, 2, 0, s_eight);
    size_t header = s_encode_decode (&msg, &out);
    assert_true (header < 64);
    s_assert_batch (&out, N, UINT64_MAX - N, 2, 0, s_eight, UINT64_MAX);
    proto_msg_reset (&msg);
    proto_msg_reset (&out);
    /* A RESULT run keeps its status. */
    s_batch (&msg, PROTO_RESULT, 2, 7, 0, -11, s_eight);
    assert_true (s_encode_decode (&msg, &out) < 64);
    s_assert_batch (&out, 2, 7, 0, -11, s_eight, UINT64_MAX);
    proto_msg_reset (&msg);
    proto_msg_reset (&out);
    /* Sizes that differ travel one by one. */
    s_batch (&msg, PROTO_JOB, N, 100, 0, 0, s_varied);
    header = s_encode_decode (&msg, &out);
    assert_true (header >= 4 * N && header < 5 * N);
    s_assert_batch (&out, N, 100, 0, 0, s_varied, UINT64_MAX);
    proto_msg_reset (&msg);
    proto_msg_reset (&out);
    /* One gap in the ids: two runs, still a few bytes (protocol 8). */
    s_batch (&msg, PROTO_RESULT, N, 100, 0, 0, s_eight);
    for (size_t i = N / 2; i < N; i++)
        msg.jobs[i].id++;
    header = s_encode_decode (&msg, &out);
    assert_true (header < 64);
    s_assert_batch (&out, N, 100, 0, 0, s_eight, N / 2);
    proto_msg_reset (&msg);
    proto_msg_reset (&out);
    /* Runs of 4 (one worker's turns of a map): 12 bytes per run. */
    s_batch (&msg, PROTO_RESULT, N, 100, 1, 0, s_eight);
    for (size_t i = 0; i < N; i++)
        msg.jobs[i].id = 100 + (i / 4) * 8 + i % 4;
    header = s_encode_decode (&msg, &out);
    assert_true (header >= PROTO_SEGMENT_WIRE_SIZE * N / 4
                 && header < PROTO_SEGMENT_WIRE_SIZE * N / 4 + 64);
    assert_int_equal (out.njobs, N);
    for (size_t i = 0; i < N; i++) {
        assert_true (out.jobs[i].id == 100 + (i / 4) * 8 + i % 4);
        assert_int_equal (out.jobs[i].attempt, 1);
        assert_true (out.jobs[i].useq == 9);
    }
    proto_msg_reset (&msg);
    proto_msg_reset (&out);
    /* No two ids in a row: runs would save nothing, every entry travels. */
    s_batch (&msg, PROTO_JOB, N, 100, 0, 0, s_eight);
    for (size_t i = 0; i < N; i++)
        msg.jobs[i].id = 100 + 2 * i;
    header = s_encode_decode (&msg, &out);
    assert_true (header >= PROTO_JOB_WIRE_SIZE * N);
    for (size_t i = 0; i < N; i++)
        assert_true (out.jobs[i].id == 100 + 2 * i);
    proto_msg_reset (&msg);
    proto_msg_reset (&out);
    s_batch (&msg, PROTO_JOB, 3, 100, 0, 0, s_eight);
    msg.jobs[2].attempt = 1;
    assert_true (s_encode_decode (&msg, &out) >= 3 * PROTO_JOB_WIRE_SIZE);
    assert_int_equal (out.jobs[2].attempt, 1);
    assert_int_equal (out.jobs[1].attempt, 0);
    proto_msg_reset (&msg);
    proto_msg_reset (&out);
}

/* A SUBMIT header whose "j" is the array the caller packs next. */
static void
s_run_header (s_hdr_t *h, size_t items)
{
    s_hdr_begin (h, 4);
    s_kv_uint (h, "v", PROTO_VERSION);
    s_kv_uint (h, "t", PROTO_SUBMIT);
    s_kv_uint (h, "p", 1);
    s_key (h, "j");
    msgpack_pack_array (&h->pk, (uint32_t)items);
}

static void
test_bad_job_runs_are_malformed (void **state)
{
    (void)state;
    struct {
        uint64_t first, count, attempt;
        int64_t status;
    } bad[] = {
        { 1, 0, 0, 0 },                        /* no jobs */
        { 1, 1, 0, 0 },                        /* a run is two or more */
        { UINT64_MAX - 1, 3, 0, 0 },           /* ids past the end */
        { 1, 3, (uint64_t)UINT32_MAX + 1, 0 }, /* attempt too big */
        { 1, 3, 0, (int64_t)INT32_MIN - 1 },   /* status out of range */
        { 1, 3, 0, (int64_t)INT32_MAX + 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_hdr_t h;
        s_run_header (&h, 5);
        msgpack_pack_uint64 (&h.pk, bad[i].first);
        msgpack_pack_uint64 (&h.pk, bad[i].count);
        msgpack_pack_uint64 (&h.pk, bad[i].attempt);
        msgpack_pack_int64 (&h.pk, bad[i].status);
        msgpack_pack_uint64 (&h.pk, 0);
        int frames = bad[i].count <= 3 ? (int)bad[i].count : 3;
        if (s_hdr_decode (&h, frames) != PROTO_EMALFORMED)
            fail_msg ("bad run %zu was accepted", i);
    }
    /* Arrays of another length, or with a string in them. */
    for (size_t items = 4; items <= 6; items += 2) {
        s_hdr_t h;
        s_run_header (&h, items);
        for (size_t k = 0; k < items; k++)
            msgpack_pack_uint64 (&h.pk, k == 1 ? 3 : 0);
        assert_int_equal (s_hdr_decode (&h, 3), PROTO_EMALFORMED);
    }
    s_hdr_t h;
    s_run_header (&h, 5);
    msgpack_pack_uint64 (&h.pk, 1);
    msgpack_pack_str (&h.pk, 1);
    msgpack_pack_str_body (&h.pk, "3", 1);
    msgpack_pack_uint64 (&h.pk, 0);
    msgpack_pack_int64 (&h.pk, 0);
    msgpack_pack_uint64 (&h.pk, 0);
    assert_int_equal (s_hdr_decode (&h, 3), PROTO_EMALFORMED);
    /* The right frame count is checked against the run's count. */
    s_run_header (&h, 5);
    msgpack_pack_uint64 (&h.pk, 1);
    msgpack_pack_uint64 (&h.pk, 3);
    msgpack_pack_uint64 (&h.pk, 0);
    msgpack_pack_int64 (&h.pk, -11);
    msgpack_pack_uint64 (&h.pk, 0);
    assert_int_equal (s_hdr_decode (&h, 2), PROTO_EMALFORMED);
    /* ...and a good run decodes, proving the cases above fail on content. */
    s_run_header (&h, 5);
    msgpack_pack_uint64 (&h.pk, UINT64_MAX - 2); /* the last id is the last */
    msgpack_pack_uint64 (&h.pk, 3);
    msgpack_pack_uint64 (&h.pk, UINT32_MAX);
    msgpack_pack_int64 (&h.pk, INT32_MIN);
    msgpack_pack_uint64 (&h.pk, 5);
    proto_msg_t out;
    proto_msg_init (&out, 0);
    assert_int_equal (s_decode_raw_into (&out, h.sbuf.data, h.sbuf.size, 3), PROTO_OK);
    msgpack_sbuffer_destroy (&h.sbuf);
    assert_int_equal (out.njobs, 3);
    assert_true (out.jobs[2].id == UINT64_MAX);
    assert_int_equal (out.jobs[2].attempt, UINT32_MAX);
    assert_int_equal (out.jobs[2].status, INT32_MIN);
    assert_true (out.jobs[2].useq == 5);
    proto_msg_reset (&out);
}

/* A SUBMIT header whose "j" is [runs, attempt, status, useq] with the
   given runs ({u64 first, u32 count} each, little-endian). */
static void
s_segments_header (s_hdr_t *h, const uint64_t (*runs)[2], size_t nruns, size_t bin_size,
                   uint64_t attempt)
{
    s_run_header (h, 4);
    uint8_t bin[64] = { 0 };
    assert_true (nruns * PROTO_SEGMENT_WIRE_SIZE <= sizeof bin && bin_size <= sizeof bin);
    for (size_t r = 0; r < nruns; r++)
        for (int b = 0; b < 8; b++) {
            bin[r * 12 + (size_t)b] = (uint8_t)(runs[r][0] >> (8 * b));
            if (b < 4)
                bin[r * 12 + 8 + (size_t)b] = (uint8_t)(runs[r][1] >> (8 * b));
        }
    msgpack_pack_bin (&h->pk, bin_size);
    msgpack_pack_bin_body (&h->pk, bin, bin_size);
    msgpack_pack_uint64 (&h->pk, attempt);
    msgpack_pack_int64 (&h->pk, 0);
    msgpack_pack_uint64 (&h->pk, 0);
}

static void
test_bad_job_segments_are_malformed (void **state)
{
    (void)state;
    static const uint64_t good[][2] = { { 10, 2 }, { 20, 1 } };
    static const uint64_t zero[][2] = { { 10, 2 }, { 20, 0 } };
    static const uint64_t past[][2] = { { UINT64_MAX, 2 } };
    static const uint64_t many[][2] = { { 1, PROTO_JOBS_MAX }, { 1u << 30, 1 } };
    struct {
        const uint64_t (*runs)[2];
        size_t nruns, bin_size;
        uint64_t attempt;
        int frames;
    } bad[] = {
        { zero, 2, 24, 0, 2 },                        /* a run of no jobs */
        { past, 1, 12, 0, 2 },                        /* ids past the end */
        { many, 2, 24, 0, 3 },                        /* more than PROTO_JOBS_MAX */
        { good, 2, 23, 0, 3 },                        /* not whole entries */
        { good, 0, 0, 0, 3 },                         /* no runs */
        { good, 2, 24, (uint64_t)UINT32_MAX + 1, 3 }, /* attempt too big */
        { good, 2, 24, 0, 2 },                        /* frames != jobs */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_hdr_t h;
        s_segments_header (&h, bad[i].runs, bad[i].nruns, bad[i].bin_size,
                           bad[i].attempt);
        if (s_hdr_decode (&h, bad[i].frames) != PROTO_EMALFORMED)
            fail_msg ("bad runs %zu were accepted", i);
    }
    /* The same header with good runs decodes: the cases above fail on
       content. */
    s_hdr_t h;
    s_segments_header (&h, good, 2, 24, 4);
    proto_msg_t out;
    proto_msg_init (&out, 0);
    assert_int_equal (s_decode_raw_into (&out, h.sbuf.data, h.sbuf.size, 3), PROTO_OK);
    msgpack_sbuffer_destroy (&h.sbuf);
    assert_int_equal (out.njobs, 3);
    assert_true (out.jobs[0].id == 10 && out.jobs[1].id == 11 && out.jobs[2].id == 20);
    assert_int_equal (out.jobs[2].attempt, 4);
    proto_msg_reset (&out);
}

/* A packed SUBMIT of `count` consecutive jobs whose payloads are all
   `size` bytes ("z" of one u32), with a packed frame of `total` bytes. */
static int
s_uniform_decode_n (uint64_t count, uint32_t size, size_t total)
{
    s_hdr_t h;
    s_run_header (&h, 5);
    msgpack_pack_uint64 (&h.pk, 1);
    msgpack_pack_uint64 (&h.pk, count);
    msgpack_pack_uint64 (&h.pk, 0);
    msgpack_pack_int64 (&h.pk, 0);
    msgpack_pack_uint64 (&h.pk, 0);
    uint8_t le[4] = { (uint8_t)size, (uint8_t)(size >> 8), (uint8_t)(size >> 16),
                      (uint8_t)(size >> 24) };
    s_kv_bin (&h, "z", le, sizeof le);
    /* the map said 4 entries; this one made it 5 */
    ((uint8_t *)h.sbuf.data)[0] = 0x85;
    zmsg_t *wire = zmsg_new ();
    zmsg_addmem (wire, h.sbuf.data, h.sbuf.size);
    msgpack_sbuffer_destroy (&h.sbuf);
    uint8_t *bytes = calloc (1, total + 1);
    assert_non_null (bytes);
    zmsg_addmem (wire, bytes, total);
    free (bytes);
    proto_msg_t out;
    proto_msg_init (&out, 0);
    char reason[256] = "";
    int rc = proto_msg_decode (&out, &wire, reason, sizeof reason);
    if (rc == PROTO_OK) {
        for (size_t i = 0; i < 3; i++) {
            const void *data;
            size_t len = 0;
            assert_int_equal (proto_msg_payload (&out, i, &data, &len), PROTO_OK);
            assert_int_equal (len, size);
        }
    }
    proto_msg_reset (&out);
    return rc;
}

static int
s_uniform_decode (uint32_t size, size_t total)
{
    return s_uniform_decode_n (3, size, total);
}

static void
test_uniform_sizes_must_fill_the_frame (void **state)
{
    (void)state;
    /* The most jobs a message may carry, and one more, in 40 bytes. */
    assert_int_equal (s_uniform_decode_n (PROTO_JOBS_MAX, 0, 0), PROTO_OK);
    assert_int_equal (s_uniform_decode_n (PROTO_JOBS_MAX + 1, 0, 0), PROTO_EMALFORMED);
    assert_int_equal (s_uniform_decode (3, 9), PROTO_OK);
    assert_int_equal (s_uniform_decode (0, 0), PROTO_OK);
    assert_int_equal (s_uniform_decode (3, 8), PROTO_EMALFORMED);
    assert_int_equal (s_uniform_decode (3, 10), PROTO_EMALFORMED);
    assert_int_equal (s_uniform_decode (UINT32_MAX, 9), PROTO_EMALFORMED);
}

static void
test_header_that_is_not_a_map_is_malformed (void **state)
{
    (void)state;
    s_hdr_t h;
    msgpack_sbuffer_init (&h.sbuf);
    msgpack_packer_init (&h.pk, &h.sbuf, msgpack_sbuffer_write);
    msgpack_pack_array (&h.pk, 2);
    msgpack_pack_uint64 (&h.pk, PROTO_VERSION);
    msgpack_pack_uint64 (&h.pk, PROTO_HEARTBEAT);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);

    msgpack_sbuffer_init (&h.sbuf);
    msgpack_packer_init (&h.pk, &h.sbuf, msgpack_sbuffer_write);
    msgpack_pack_uint64 (&h.pk, 1);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);

    msgpack_sbuffer_init (&h.sbuf);
    msgpack_packer_init (&h.pk, &h.sbuf, msgpack_sbuffer_write);
    msgpack_pack_nil (&h.pk);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);

    msgpack_sbuffer_init (&h.sbuf);
    msgpack_packer_init (&h.pk, &h.sbuf, msgpack_sbuffer_write);
    msgpack_pack_str (&h.pk, 5);
    msgpack_pack_str_body (&h.pk, "HELLO", 5);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);

    /* Two maps back to back are not one header. */
    s_hdr_begin (&h, 2);
    s_kv_uint (&h, "v", PROTO_VERSION);
    s_kv_uint (&h, "t", PROTO_HEARTBEAT);
    msgpack_pack_map (&h.pk, 0);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EMALFORMED);

    /* Tiny headers that declare huge or deep contents: refused without
       allocating what they declare, and without deep recursion. */
    static const uint8_t huge_map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
    assert_int_equal (s_decode_raw (huge_map, sizeof huge_map, 0), PROTO_EMALFORMED);
    static const uint8_t huge_array[] = { 0x81, 0xa1, 'u', 0xdd, 0xff, 0xff, 0xff, 0xff };
    assert_int_equal (s_decode_raw (huge_array, sizeof huge_array, 0), PROTO_EMALFORMED);
    static const uint8_t huge_str[]
        = { 0x81, 0xa1, 'x', 0xdb, 0xff, 0xff, 0xff, 0xf0, 'a' };
    assert_int_equal (s_decode_raw (huge_str, sizeof huge_str, 0), PROTO_EMALFORMED);
    uint8_t deep[10000];
    deep[0] = 0x81;
    deep[1] = 0xa1;
    deep[2] = 'u';
    memset (deep + 3, 0x91, sizeof deep - 4); /* arrays of one array... */
    deep[sizeof deep - 1] = 0x01;
    assert_int_equal (s_decode_raw (deep, sizeof deep, 0), PROTO_EMALFORMED);

    /* JSON is not msgpack. */
    const char *json = "{\"v\":1,\"t\":4}";
    assert_int_equal (s_decode_raw (json, strlen (json), 0), PROTO_EMALFORMED);
}

static void
test_other_version_is_refused_with_its_number (void **state)
{
    (void)state;
    uint64_t versions[] = { 0, PROTO_VERSION + 1, 1000, UINT32_MAX };
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        s_hdr_t h;
        s_hdr_begin (&h, 3);
        s_kv_uint (&h, "v", versions[i]);
        s_kv_uint (&h, "t", PROTO_HELLO);
        /* A field this version does not know: a newer peer may add some. */
        s_kv_uint (&h, "q", 1);
        proto_msg_t out;
        proto_msg_init (&out, 0);
        zmsg_t *wire = zmsg_new ();
        zmsg_addmem (wire, h.sbuf.data, h.sbuf.size);
        char reason[256] = "";
        assert_int_equal (proto_msg_decode (&out, &wire, reason, sizeof reason),
                          PROTO_EVERSION);
        assert_int_equal (out.version, (uint32_t)versions[i]);
        assert_non_null (strstr (reason, "version"));
        proto_msg_reset (&out);
        msgpack_sbuffer_destroy (&h.sbuf);
    }
    /* The version is checked before the type. */
    s_hdr_t h;
    s_hdr_begin (&h, 2);
    s_kv_uint (&h, "v", PROTO_VERSION + 1);
    s_kv_uint (&h, "t", 999);
    assert_int_equal (s_hdr_decode (&h, 0), PROTO_EVERSION);
}

/* xorshift64*: a fixed seed, so a failure reproduces. */
static uint64_t
s_rand (uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void
test_random_bytes_are_malformed_not_a_crash (void **state)
{
    (void)state;
    uint64_t seed = 0x5eed5eed12345678ULL;
    uint8_t buf[512];
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(s_rand (&seed) % sizeof buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)s_rand (&seed);
        /* Avoid what would be, by chance, a well-formed other version: a
           fixmap whose first key is "v" (rare, but the seed is fixed). */
        int frames = (int)(s_rand (&seed) % 4);
        int rc = s_decode_raw (buf, len, frames);
        if (rc != PROTO_EMALFORMED)
            fail_msg ("random round %d (%zu bytes) gave %d", round, len, rc);
    }
    /* Mutations of real messages: any outcome but a crash or a leak. */
    for (int t = PROTO_HELLO; t < PROTO_TYPE_COUNT; t++) {
        proto_msg_t msg;
        s_fill_all (&msg, (proto_type_t)t);
        zmsg_t *wire = NULL;
        assert_int_equal (proto_msg_encode (&msg, &wire), PROTO_OK);
        int frames = (int)zmsg_size (wire) - 1;
        zframe_t *header = zmsg_pop (wire);
        zmsg_destroy (&wire);
        size_t len = zframe_size (header);
        uint8_t *copy = malloc (len);
        for (int round = 0; round < 2000; round++) {
            memcpy (copy, zframe_data (header), len);
            int flips = 1 + (int)(s_rand (&seed) % 4);
            for (int f = 0; f < flips; f++)
                copy[s_rand (&seed) % len] ^= (uint8_t)(1u << (s_rand (&seed) % 8));
            int rc = s_decode_raw (copy, len, frames);
            assert_true (rc == PROTO_OK || rc == PROTO_EMALFORMED
                         || rc == PROTO_EVERSION);
        }
        free (copy);
        zframe_destroy (&header);
        proto_msg_reset (&msg);
    }
}

/* ---- keys and endpoints ------------------------------------------------ */

static void
test_keys_are_derived_from_the_password_alone (void **state)
{
    (void)state;
    proto_keys_t a, b, c;
    assert_int_equal (proto_keys_derive (&a, "correct horse", false), 0);
    assert_int_equal (proto_keys_derive (&b, "correct horse", false), 0);
    assert_int_equal (proto_keys_derive (&c, "correct horsf", false), 0);
    assert_false (a.insecure);
    assert_int_equal (strlen (a.server_public), 40);
    assert_int_equal (strlen (a.server_secret), 40);
    assert_int_equal (strlen (a.client_public), 40);
    assert_int_equal (strlen (a.client_secret), 40);
    assert_memory_equal (&a, &b, sizeof a);
    assert_string_not_equal (a.server_public, c.server_public);
    assert_string_not_equal (a.server_secret, c.server_secret);
    assert_string_not_equal (a.client_public, c.client_public);
    assert_string_not_equal (a.client_secret, c.client_secret);
    /* The server and client keypairs are not the same keypair. */
    assert_string_not_equal (a.server_public, a.client_public);

    proto_keys_t d;
    assert_int_equal (proto_keys_derive (&d, "correct horse", true), 0);
    assert_true (d.insecure);
    assert_string_equal (d.server_public, "");
}

static void
test_keys_export_import_round_trip (void **state)
{
    (void)state;
    proto_keys_t keys, back;
    assert_int_equal (proto_keys_derive (&keys, "pw", false), 0);
    char text[256];
    assert_int_equal (proto_keys_export (&keys, text, sizeof text), 0);
    /* The server's secret never leaves the head. */
    assert_null (strstr (text, keys.server_secret));
    assert_int_equal (proto_keys_import (&back, text), 0);
    assert_false (back.insecure);
    assert_string_equal (back.server_public, keys.server_public);
    assert_string_equal (back.client_public, keys.client_public);
    assert_string_equal (back.client_secret, keys.client_secret);
    assert_string_equal (back.server_secret, "");

    char small[40];
    assert_int_equal (proto_keys_export (&keys, small, sizeof small), -1);

    proto_keys_t insecure;
    assert_int_equal (proto_keys_derive (&insecure, "pw", true), 0);
    assert_int_equal (proto_keys_export (&insecure, text, sizeof text), 0);
    assert_int_equal (proto_keys_import (&back, text), 0);
    assert_true (back.insecure);

    assert_int_equal (proto_keys_import (&back, ""), -1);
    assert_int_equal (proto_keys_import (&back, "garbage"), -1);
    assert_int_equal (proto_keys_export (&keys, text, sizeof text), 0);
    text[40] = '-'; /* wrong separator */
    assert_int_equal (proto_keys_import (&back, text), -1);
    assert_int_equal (proto_keys_export (&keys, text, sizeof text), 0);
    text[strlen (text) - 1] = 0; /* one character short */
    assert_int_equal (proto_keys_import (&back, text), -1);
}

static void
test_endpoint_accepts_host_port_and_rejects_the_rest (void **state)
{
    (void)state;
    char out[256];
    assert_int_equal (proto_endpoint ("h:1", out, sizeof out), 0);
    assert_string_equal (out, "tcp://h:1");
    assert_int_equal (proto_endpoint ("tcp://h:1", out, sizeof out), 0);
    assert_string_equal (out, "tcp://h:1");
    assert_int_equal (proto_endpoint ("127.0.0.1:8899", out, sizeof out), 0);
    assert_string_equal (out, "tcp://127.0.0.1:8899");

    const char *bad[]
        = { "h",        ":1",   "h:x",          "h:",  "",        "tcp://",  "tcp://h",
            "tcp://:1", "h:1x", "h:-1",         "h:0", "h:65536", "h:99999", " :1",
            "a b:1",    " ",    "127.0.0.1:abc" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (proto_endpoint (bad[i], out, sizeof out) == 0)
            fail_msg ("'%s' was accepted as an endpoint", bad[i]);
    assert_int_equal (proto_endpoint (NULL, out, sizeof out), -1);
    char small[8];
    assert_int_equal (proto_endpoint ("host:8899", small, sizeof small), -1);
}

/*  Frames added by reference go out as shared copies: the receiver gets
    every byte, in order with the other payloads, and the sender's frame
    is untouched and can be sent again (the head keeps a job's input for a
    requeue after it sent it to a worker). */
static void
test_frame_references_are_sent_and_kept (void **state)
{
    (void)state;
    zsock_t *in = zsock_new_pair ("@inproc://frame-refs");
    zsock_t *out = zsock_new_pair (">inproc://frame-refs");
    assert_non_null (in);
    assert_non_null (out);
    zframe_t *big = zframe_new (NULL, 300000);
    for (size_t i = 0; i < zframe_size (big); i++)
        zframe_data (big)[i] = (uint8_t)(i * 31 + 7);
    for (int round = 0; round < 2; round++) {
        proto_msg_t msg, got;
        proto_msg_init (&msg, PROTO_JOB);
        proto_msg_set_pool (&msg, 3);
        for (int j = 0; j < 3; j++) {
            proto_job_t *job = proto_msg_add_job (&msg);
            job->id = (uint64_t)j;
            assert_int_equal (j == 1 ? proto_msg_add_frame_ref (&msg, big)
                                     : proto_msg_add_borrowed (&msg, "small", 5),
                              PROTO_OK);
        }
        assert_int_equal (proto_msg_send (&msg, zsock_resolve (out)), PROTO_OK);
        proto_msg_reset (&msg);
        proto_msg_init (&got, 0);
        char reason[256] = "";
        assert_int_equal (
            proto_msg_recv (&got, zsock_resolve (in), reason, sizeof reason), PROTO_OK);
        assert_int_equal (got.njobs, 3);
        for (size_t j = 0; j < 3; j++) {
            const void *data;
            size_t size;
            assert_int_equal (proto_msg_payload (&got, j, &data, &size), 0);
            if (j == 1) {
                assert_int_equal (size, zframe_size (big));
                assert_memory_equal (data, zframe_data (big), size);
            } else {
                assert_int_equal (size, 5);
                assert_memory_equal (data, "small", 5);
            }
        }
        proto_msg_reset (&got);
    }
    assert_int_equal (zframe_size (big), 300000);
    assert_int_equal (zframe_data (big)[299999], (uint8_t)(299999 * 31 + 7));
    zframe_destroy (&big);
    zsock_destroy (&out);
    zsock_destroy (&in);
}

/*  Payloads over PROTO_PIECE_MAX go on the wire as several frames and come
    back whole: owned frames, frame references and borrowed bytes, and a
    packed frame of many small payloads; sizes at the piece size and one
    past it.  A message that lost a piece is malformed, never a crash. */
static void
s_fill (uint8_t *data, size_t size, unsigned seed)
{
    for (size_t i = 0; i < size; i++)
        data[i] = (uint8_t)(i * 131 + seed);
}

static void
s_send_and_check (zsock_t *out, zsock_t *in, proto_msg_t *msg, size_t njobs,
                  const uint8_t *const *want, const size_t *sizes, size_t min_wire)
{
    assert_int_equal (proto_msg_send (msg, zsock_resolve (out)), PROTO_OK);
    proto_msg_reset (msg);
    zmsg_t *wire = zmsg_recv (in);
    assert_non_null (wire);
    assert_true (zmsg_size (wire) >= min_wire);
    /* Without its last piece: malformed. */
    zmsg_t *cut = zmsg_dup (wire);
    zframe_t *last = zmsg_last (cut);
    zmsg_remove (cut, last);
    zframe_destroy (&last);
    proto_msg_t got;
    proto_msg_init (&got, 0);
    char reason[256] = "";
    assert_int_equal (proto_msg_decode (&got, &cut, reason, sizeof reason),
                      PROTO_EMALFORMED);
    proto_msg_reset (&got);
    proto_msg_init (&got, 0);
    int rc = proto_msg_decode (&got, &wire, reason, sizeof reason);
    if (rc != PROTO_OK)
        fail_msg ("decode: %s", reason);
    assert_int_equal (got.njobs, njobs);
    for (size_t j = 0; j < njobs; j++) {
        const void *data;
        size_t size;
        assert_int_equal (proto_msg_payload (&got, j, &data, &size), 0);
        assert_int_equal (size, sizes[j]);
        if (size)
            assert_memory_equal (data, want[j], size);
    }
    proto_msg_reset (&got);
}

static void
test_big_payloads_travel_in_pieces (void **state)
{
    (void)state;
    zsock_t *in = zsock_new_pair ("@inproc://pieces");
    zsock_t *out = zsock_new_pair (">inproc://pieces");
    assert_non_null (in);
    assert_non_null (out);
    const size_t big = 2 * PROTO_PIECE_MAX + 12345;
    uint8_t *a = malloc (big), *b = malloc (PROTO_PIECE_MAX + 1);
    assert_non_null (a);
    assert_non_null (b);
    s_fill (a, big, 1);
    s_fill (b, PROTO_PIECE_MAX + 1, 2);

    /* Owned frames: 3 pieces, none, exactly one piece, 2 pieces. */
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_JOB);
    proto_msg_set_pool (&msg, 1);
    const uint8_t *want[4] = { a, (const uint8_t *)"small", b, b };
    size_t sizes[4] = { big, 5, PROTO_PIECE_MAX, PROTO_PIECE_MAX + 1 };
    for (int j = 0; j < 4; j++) {
        proto_msg_add_job (&msg)->id = (uint64_t)j;
        assert_int_equal (proto_msg_add_bytes (&msg, want[j], sizes[j]), PROTO_OK);
    }
    s_send_and_check (out, in, &msg, 4, want, sizes, 1 + 3 + 1 + 1 + 2);

    /* A frame reference and borrowed bytes: the frame stays the caller's. */
    zframe_t *ref = zframe_new (a, big);
    proto_msg_init (&msg, PROTO_JOB);
    proto_msg_set_pool (&msg, 1);
    const uint8_t *want2[3] = { a, b, (const uint8_t *)"tiny" };
    size_t sizes2[3] = { big, PROTO_PIECE_MAX + 1, 4 };
    proto_msg_add_job (&msg)->id = 0;
    assert_int_equal (proto_msg_add_frame_ref (&msg, ref), PROTO_OK);
    proto_msg_add_job (&msg)->id = 1;
    assert_int_equal (proto_msg_add_borrowed (&msg, b, sizes2[1]), PROTO_OK);
    proto_msg_add_job (&msg)->id = 2;
    assert_int_equal (proto_msg_add_borrowed (&msg, "tiny", 4), PROTO_OK);
    s_send_and_check (out, in, &msg, 3, want2, sizes2, 1 + 3 + 2 + 1);
    assert_int_equal (zframe_size (ref), big);
    assert_memory_equal (zframe_data (ref), a, big);
    zframe_destroy (&ref);

    /* Many small payloads: one packed frame over the piece size. */
    enum { JOBS = 700, EACH = 3000 };
    const uint8_t *want3[JOBS];
    size_t sizes3[JOBS];
    proto_msg_init (&msg, PROTO_RESULT);
    proto_msg_set_pool (&msg, 1);
    for (size_t j = 0; j < JOBS; j++) {
        proto_msg_add_job (&msg)->id = j;
        want3[j] = a + j * EACH;
        sizes3[j] = EACH;
        assert_int_equal (proto_msg_add_borrowed (&msg, want3[j], EACH), PROTO_OK);
    }
    s_send_and_check (out, in, &msg, JOBS, want3, sizes3, 1 + 3);

    free (a);
    free (b);
    zsock_destroy (&out);
    zsock_destroy (&in);
}

/*  A message received with keep_pieces (as the head receives) keeps a big
    payload in the pieces it came in; relayed, owned or by reference, the
    pieces go on as they are and arrive whole at a receiver that joins.
    Whoever asks for its bytes gets them joined; pieces cut otherwise than
    proto_msg_send cuts are joined on receipt; a reference cannot be big. */
static zmsg_t *
s_wire_of (zsock_t *out, zsock_t *in, proto_msg_t *msg)
{
    assert_int_equal (proto_msg_send (msg, zsock_resolve (out)), PROTO_OK);
    proto_msg_reset (msg);
    zmsg_t *wire = zmsg_recv (in);
    assert_non_null (wire);
    return wire;
}

static void
s_decode_kept (proto_msg_t *got, zmsg_t **wire, int want_rc)
{
    proto_msg_init (got, 0);
    got->keep_pieces = true;
    char reason[256] = "";
    int rc = proto_msg_decode (got, wire, reason, sizeof reason);
    if (rc != want_rc)
        fail_msg ("decode gave %d (%s), not %d", rc, reason, want_rc);
}

static void
test_relayed_payloads_keep_their_pieces (void **state)
{
    (void)state;
    /* Over TCP: each piece arrives in a buffer of its own (inproc would
       hand over pieces of the sender's one buffer). */
    zsock_t *in = zsock_new (ZMQ_PAIR);
    zsock_t *out = zsock_new (ZMQ_PAIR);
    assert_non_null (in);
    assert_non_null (out);
    int port = zsock_bind (in, "tcp://127.0.0.1:*");
    assert_true (port > 0);
    assert_int_equal (zsock_connect (out, "tcp://127.0.0.1:%d", port), 0);
    const size_t big = 2 * PROTO_PIECE_MAX + 12345;
    uint8_t *a = malloc (big);
    assert_non_null (a);
    s_fill (a, big, 7);
    const uint8_t *want[4] = { a, (const uint8_t *)"small", a + 1, a + 2 };
    size_t sizes[4] = { big, 5, PROTO_PIECE_MAX, PROTO_PIECE_MAX + 1 };
    size_t tails[4] = { 2, 0, 0, 1 }; /* pieces after the first */
    proto_msg_t msg, got;
    for (int relay = 0; relay < 2; relay++) {
        proto_msg_init (&msg, PROTO_JOB);
        proto_msg_set_pool (&msg, 1);
        for (int j = 0; j < 4; j++) {
            proto_msg_add_job (&msg)->id = (uint64_t)j;
            assert_int_equal (proto_msg_add_bytes (&msg, want[j], sizes[j]), PROTO_OK);
        }
        zmsg_t *wire = s_wire_of (out, in, &msg);
        s_decode_kept (&got, &wire, PROTO_OK);
        zframe_t *first[4];
        zmsg_t *tail[4];
        for (int j = 0; j < 4; j++) {
            assert_int_equal (proto_msg_pop_pieces (&got, &first[j], &tail[j]), 0);
            assert_int_equal (tail[j] ? zmsg_size (tail[j]) : 0, tails[j]);
            assert_int_equal (zframe_size (first[j])
                                  + (tail[j] ? zmsg_content_size (tail[j]) : 0),
                              sizes[j]);
        }
        zframe_t *none = NULL;
        zmsg_t *no_tail = NULL;
        assert_int_equal (proto_msg_pop_pieces (&got, &none, &no_tail), -1);
        proto_msg_reset (&got);
        /* On again: owned (moved in) or by reference (kept here). */
        proto_msg_init (&msg, PROTO_RESULT);
        proto_msg_set_pool (&msg, 1);
        for (int j = 0; j < 4; j++) {
            proto_msg_add_job (&msg)->id = (uint64_t)j;
            if (relay == 0)
                assert_int_equal (proto_msg_add_pieces (&msg, &first[j], &tail[j]),
                                  PROTO_OK);
            else
                assert_int_equal (proto_msg_add_pieces_ref (&msg, first[j], tail[j]),
                                  PROTO_OK);
        }
        s_send_and_check (out, in, &msg, 4, want, sizes, 1 + 3 + 1 + 1 + 2);
        for (int j = 0; j < 4; j++) {
            if (relay == 0) {
                assert_null (first[j]);
                assert_null (tail[j]);
            }
            zframe_destroy (&first[j]);
            zmsg_destroy (&tail[j]);
        }
    }

    /* Asked for its bytes, or encoded in one go: joined. */
    proto_msg_init (&msg, PROTO_JOB);
    proto_msg_set_pool (&msg, 1);
    proto_msg_add_job (&msg)->id = 0;
    assert_int_equal (proto_msg_add_bytes (&msg, a, big), PROTO_OK);
    zmsg_t *wire = s_wire_of (out, in, &msg);
    zmsg_t *again = zmsg_dup (wire);
    s_decode_kept (&got, &wire, PROTO_OK);
    const void *data;
    size_t size;
    assert_int_equal (proto_msg_payload (&got, 0, &data, &size), 0);
    assert_int_equal (size, big);
    assert_memory_equal (data, a, big);
    proto_msg_reset (&got);
    s_decode_kept (&got, &again, PROTO_OK);
    zmsg_t *encoded = NULL;
    assert_int_equal (proto_msg_encode (&got, &encoded), PROTO_OK);
    assert_int_equal (zmsg_size (encoded), 2);
    proto_msg_reset (&got);
    s_decode_kept (&got, &encoded, PROTO_OK);
    assert_int_equal (proto_msg_payload (&got, 0, &data, &size), 0);
    assert_int_equal (size, big);
    assert_memory_equal (data, a, big);
    proto_msg_reset (&got);

    /* Cut at other places (the same count): joined on receipt. */
    proto_msg_init (&msg, PROTO_JOB);
    proto_msg_set_pool (&msg, 1);
    proto_msg_add_job (&msg)->id = 0;
    assert_int_equal (proto_msg_add_bytes (&msg, a, big), PROTO_OK);
    wire = s_wire_of (out, in, &msg);
    assert_int_equal (zmsg_size (wire), 1 + 3);
    zframe_t *header = zmsg_pop (wire);
    zmsg_destroy (&wire);
    wire = zmsg_new ();
    zmsg_append (wire, &header);
    size_t cuts[3] = { PROTO_PIECE_MAX - 1, PROTO_PIECE_MAX + 1, 12345 };
    for (size_t i = 0, off = 0; i < 3; off += cuts[i++])
        assert_int_equal (zmsg_addmem (wire, a + off, cuts[i]), 0);
    s_decode_kept (&got, &wire, PROTO_OK);
    zframe_t *whole = NULL;
    zmsg_t *rest = NULL;
    assert_int_equal (proto_msg_pop_pieces (&got, &whole, &rest), 0);
    assert_null (rest);
    assert_int_equal (zframe_size (whole), big);
    assert_memory_equal (zframe_data (whole), a, big);
    zframe_destroy (&whole);
    proto_msg_reset (&got);

    /* A shared-memory reference in pieces: malformed, kept or not. */
    for (int keep = 0; keep < 2; keep++) {
        proto_msg_init (&msg, PROTO_JOB);
        proto_msg_set_pool (&msg, 1);
        proto_msg_add_job (&msg)->flags = PROTO_JOB_SHARED;
        assert_int_equal (proto_msg_add_bytes (&msg, a, big), PROTO_OK);
        wire = s_wire_of (out, in, &msg);
        proto_msg_init (&got, 0);
        got.keep_pieces = keep;
        char reason[256] = "";
        assert_int_equal (proto_msg_decode (&got, &wire, reason, sizeof reason),
                          PROTO_EMALFORMED);
        assert_non_null (strstr (reason, "not a reference"));
        proto_msg_reset (&got);
    }

    free (a);
    zsock_destroy (&out);
    zsock_destroy (&in);
}

/*  POOL_OPEN's typed view: what the client sets is what the head reads,
    through the wire; numbers out of range get the documented defaults; a
    POOL_OPEN without its hashes is refused with a reason; the relay key
    goes through when there is one, and is absent when not. */
static void
test_pool_open_view_round_trips_and_applies_defaults (void **state)
{
    (void)state;
    proto_pool_open_t in = { .name = "square.so",
                             .max_attempts = 5,
                             .job_timeout_ms = 2500,
                             .min_workers = 2,
                             .min_gpu_memory_mb = 1024,
                             .previous_pool = 41,
                             .previous_epoch = 0xE1E1,
                             .has_relay_key = true };
    for (int i = 0; i < PROTO_RELAY_KEY; i++)
        in.relay_key[i] = (uint8_t)(0xA0 + i);
    proto_hash ("lib", 3, in.lib_hash);
    proto_hash ("init", 4, in.init_hash);
    proto_msg_t msg, out;
    proto_msg_init (&msg, PROTO_POOL_OPEN);
    proto_msg_init (&out, 0);
    assert_int_equal (proto_pool_open_set (&msg, &in), PROTO_OK);
    assert_int_equal (proto_msg_add_bytes (&msg, "lib", 3), PROTO_OK);
    assert_int_equal (proto_msg_add_bytes (&msg, "init", 4), PROTO_OK);
    assert_int_equal (s_round_trip (&msg, &out), PROTO_OK);
    proto_msg_reset (&msg); /* its fields; the frames went */
    proto_pool_open_t got;
    char reason[128];
    assert_int_equal (proto_pool_open_get (&out, &got, reason, sizeof reason), PROTO_OK);
    assert_string_equal (got.name, "square.so");
    assert_memory_equal (got.lib_hash, in.lib_hash, PROTO_HASH_SIZE);
    assert_memory_equal (got.init_hash, in.init_hash, PROTO_HASH_SIZE);
    assert_int_equal (got.max_attempts, 5);
    assert_int_equal (got.job_timeout_ms, 2500);
    assert_int_equal (got.min_workers, 2);
    assert_int_equal (got.min_gpu_memory_mb, 1024);
    assert_int_equal (got.previous_pool, 41);
    assert_int_equal (got.previous_epoch, 0xE1E1);
    assert_true (got.has_relay_key);
    assert_memory_equal (got.relay_key, in.relay_key, PROTO_RELAY_KEY);
    proto_msg_reset (&out);

    /* Out of range: 0 attempts means 3; a first open names no pool. */
    in.max_attempts = 0;
    in.min_workers = 200000;
    in.previous_pool = in.previous_epoch = 0;
    in.has_relay_key = false;
    proto_msg_init (&msg, PROTO_POOL_OPEN);
    assert_int_equal (proto_pool_open_set (&msg, &in), PROTO_OK);
    assert_int_equal (proto_pool_open_get (&msg, &got, reason, sizeof reason), PROTO_OK);
    assert_false (got.has_relay_key);
    assert_int_equal (got.max_attempts, 3);
    assert_int_equal (got.min_workers, 1);
    assert_int_equal (got.previous_pool, 0);
    proto_msg_reset (&msg);

    /* Without the hashes: refused, saying what is missing. */
    proto_msg_init (&msg, PROTO_POOL_OPEN);
    proto_msg_add_num (&msg, 3);
    assert_int_equal (proto_pool_open_get (&msg, &got, reason, sizeof reason),
                      PROTO_EMALFORMED);
    assert_non_null (strstr (reason, "two hashes"));
    proto_msg_reset (&msg);
}

/*  The views of HELLO, WELCOME and ASSIGN: a worker that rejoins says its
    pool, hashes, updates and head epoch, and the head reads them back;
    WELCOME settings out of range get the defaults every peer would use. */
static void
test_hello_welcome_assign_views_round_trip (void **state)
{
    (void)state;
    proto_hello_t in = { .role = PROTO_ROLE_WORKER,
                         .id = "n1/w0",
                         .node = "n1",
                         .text = "GPU 0 H200",
                         .pid = 4242,
                         .has_gpu = true,
                         .gpu_index = 0,
                         .gpu_memory = 1ull << 37,
                         .rejoin = true,
                         .pool = 7,
                         .useq = 3,
                         .epoch = 0xABCDEF };
    proto_hash ("lib", 3, in.lib_hash);
    proto_hash ("init", 4, in.init_hash);
    proto_msg_t msg, out;
    proto_msg_init (&msg, PROTO_HELLO);
    proto_msg_init (&out, 0);
    assert_int_equal (proto_hello_set (&msg, &in), PROTO_OK);
    assert_int_equal (s_round_trip (&msg, &out), PROTO_OK);
    proto_msg_reset (&msg); /* its fields; the frames went */
    proto_hello_t got;
    assert_int_equal (proto_hello_get (&out, &got), PROTO_OK);
    assert_int_equal (got.role, PROTO_ROLE_WORKER);
    assert_string_equal (got.id, "n1/w0");
    assert_string_equal (got.node, "n1");
    assert_string_equal (got.text, "GPU 0 H200");
    assert_int_equal (got.pid, 4242);
    assert_true (got.has_gpu);
    assert_int_equal (got.gpu_memory, 1ull << 37);
    assert_true (got.rejoin && got.rejoin_complete);
    assert_int_equal (got.pool, 7);
    assert_int_equal (got.useq, 3);
    assert_int_equal (got.epoch, 0xABCDEF);
    assert_memory_equal (got.init_hash, in.init_hash, PROTO_HASH_SIZE);
    proto_msg_reset (&out);

    /* A node says how many workers it runs; a CPU worker has no GPU. */
    proto_hello_t node = { .role = PROTO_ROLE_NODE, .id = "n1", .worker_slots = 4 };
    proto_msg_init (&msg, PROTO_HELLO);
    assert_int_equal (proto_hello_set (&msg, &node), PROTO_OK);
    assert_int_equal (proto_hello_get (&msg, &got), PROTO_OK);
    assert_int_equal (got.worker_slots, 4);
    assert_false (got.has_gpu);
    assert_false (got.rejoin);
    proto_msg_reset (&msg);

    proto_welcome_t welcome = { .heartbeat_ms = 5, .liveness = 0, .epoch = 99 };
    proto_msg_init (&msg, PROTO_WELCOME);
    assert_int_equal (proto_welcome_set (&msg, &welcome), PROTO_OK);
    proto_welcome_t said;
    assert_int_equal (proto_welcome_get (&msg, &said), PROTO_OK);
    assert_int_equal (said.heartbeat_ms, 1000);
    assert_int_equal (said.liveness, 3);
    assert_int_equal (said.epoch, 99);
    proto_msg_reset (&msg);

    proto_assign_t assign = { .pool = 12, .name = "square.so", .job_timeout_ms = 900 };
    proto_hash ("lib", 3, assign.lib_hash);
    proto_hash ("init", 4, assign.init_hash);
    proto_msg_init (&msg, PROTO_ASSIGN);
    assert_int_equal (proto_assign_set (&msg, &assign), PROTO_OK);
    assert_int_equal (s_round_trip (&msg, &out), PROTO_OK);
    proto_msg_reset (&msg); /* its fields; the frames went */
    proto_assign_t task;
    char reason[128];
    assert_int_equal (proto_assign_get (&out, &task, reason, sizeof reason), PROTO_OK);
    assert_int_equal (task.pool, 12);
    assert_string_equal (task.name, "square.so");
    assert_int_equal (task.job_timeout_ms, 900);
    assert_memory_equal (task.lib_hash, assign.lib_hash, PROTO_HASH_SIZE);
    proto_msg_reset (&out);
}

/*  WORKER_DIED says where the worker was: in a job (which), an update
    (which), init, nothing, or the node cannot tell. */
static void
test_worker_died_view_says_where_it_died (void **state)
{
    (void)state;
    const proto_died_where_t wheres[]
        = { PROTO_DIED_JOB, PROTO_DIED_UPDATE, PROTO_DIED_INIT, PROTO_DIED_IDLE,
            PROTO_DIED_UNKNOWN };
    for (size_t i = 0; i < sizeof wheres / sizeof wheres[0]; i++) {
        proto_died_t in = { .id = "n1/w1",
                            .pid = 77,
                            .code = 11,
                            .text = "worker n1/w1 killed by signal 11",
                            .where = wheres[i],
                            .pool = 5,
                            .job = { .id = 1234, .attempt = 2 },
                            .update_seq = 9 };
        proto_msg_t msg, out;
        proto_msg_init (&msg, PROTO_WORKER_DIED);
        proto_msg_init (&out, 0);
        assert_int_equal (proto_died_set (&msg, &in), PROTO_OK);
        assert_int_equal (s_round_trip (&msg, &out), PROTO_OK);
        proto_msg_reset (&msg); /* its fields; the frames went */
        proto_died_t got;
        assert_int_equal (proto_died_get (&out, &got), PROTO_OK);
        assert_int_equal (got.where, wheres[i]);
        assert_string_equal (got.id, "n1/w1");
        assert_int_equal (got.pid, 77);
        assert_int_equal (got.code, 11);
        if (wheres[i] == PROTO_DIED_JOB) {
            assert_int_equal (got.job.id, 1234);
            assert_int_equal (got.job.attempt, 2);
        }
        if (wheres[i] == PROTO_DIED_UPDATE)
            assert_int_equal (got.update_seq, 9);
        if (wheres[i] != PROTO_DIED_IDLE && wheres[i] != PROTO_DIED_UNKNOWN)
            assert_int_equal (got.pool, 5);
        proto_msg_reset (&out);
    }
}

/*  Locality's views: the blocks a SUBMIT names travel in its text and
    come back as they were; text that is not whole hashes in hex is
    malformed; BLOCKS_HELD entries (a size, or gone) read back as
    written, and a frame that is not whole entries is refused. */
static void
test_locality_views_round_trip (void **state)
{
    (void)state;
    uint8_t hashes[3][PROTO_HASH_SIZE];
    for (int k = 0; k < 3; k++)
        proto_hash (&k, sizeof k, hashes[k]);
    proto_msg_t msg, out;
    proto_msg_init (&msg, PROTO_SUBMIT);
    proto_msg_set_pool (&msg, 1);
    proto_msg_add_job (&msg)->id = 5;
    proto_msg_add_bytes (&msg, "x", 1);
    assert_int_equal (
        proto_submit_blocks_set (&msg, (const uint8_t (*)[PROTO_HASH_SIZE])hashes, 3),
        PROTO_OK);
    proto_msg_init (&out, 0);
    assert_int_equal (s_round_trip (&msg, &out), PROTO_OK);
    size_t count = 0;
    assert_int_equal (proto_submit_blocks_get (&out, &count), PROTO_OK);
    assert_int_equal (count, 3);
    for (size_t k = 0; k < 3; k++) {
        uint8_t hash[PROTO_HASH_SIZE];
        proto_submit_block (&out, k, hash);
        assert_memory_equal (hash, hashes[k], PROTO_HASH_SIZE);
    }
    proto_msg_reset (&msg);
    proto_msg_reset (&out);
    /* None named; and text that is no list of hashes. */
    proto_msg_init (&msg, PROTO_SUBMIT);
    assert_int_equal (proto_submit_blocks_get (&msg, &count), PROTO_OK);
    assert_int_equal (count, 0);
    proto_msg_set_text (&msg, "%s", "not hex");
    assert_int_equal (proto_submit_blocks_get (&msg, &count), PROTO_EMALFORMED);
    proto_msg_set_text (&msg, "%064d", 0);
    assert_int_equal (proto_submit_blocks_get (&msg, &count), PROTO_OK);
    assert_int_equal (count, 1);
    proto_msg_set_text (&msg, "%063d", 0);
    assert_int_equal (proto_submit_blocks_get (&msg, &count), PROTO_EMALFORMED);
    proto_msg_set_text (&msg, "%063dG", 0);
    assert_int_equal (proto_submit_blocks_get (&msg, &count), PROTO_EMALFORMED);
    assert_int_equal (proto_submit_blocks_set (&msg, NULL, PROTO_SUBMIT_BLOCKS_MAX + 1),
                      PROTO_EMALFORMED);
    proto_msg_reset (&msg);

    uint8_t frame[2 * PROTO_HELD_ENTRY];
    proto_held_t held = { .size = 123456789012ull }, gone = { .size = PROTO_HELD_GONE };
    memcpy (held.hash, hashes[0], PROTO_HASH_SIZE);
    memcpy (gone.hash, hashes[1], PROTO_HASH_SIZE);
    proto_held_put (frame, &held);
    proto_held_put (frame + PROTO_HELD_ENTRY, &gone);
    assert_int_equal (proto_held_count (sizeof frame, &count), PROTO_OK);
    assert_int_equal (count, 2);
    assert_int_equal (proto_held_count (sizeof frame - 1, &count), PROTO_EMALFORMED);
    proto_held_t back;
    proto_held_get (frame, &back);
    assert_memory_equal (back.hash, held.hash, PROTO_HASH_SIZE);
    assert_true (back.size == held.size);
    proto_held_get (frame + PROTO_HELD_ENTRY, &back);
    assert_memory_equal (back.hash, gone.hash, PROTO_HASH_SIZE);
    assert_true (back.size == PROTO_HELD_GONE);
}

/*  STATUS counts, a refused update, a kill and a RESULT's timings read
    back as they were set; an ERROR that is not a refusal is not read as
    one. */
static void
test_status_refusal_kill_timing_views_round_trip (void **state)
{
    (void)state;
    proto_status_t in = { .nodes = 2,
                          .workers = 8,
                          .pools = 1,
                          .pool_workers = 4,
                          .insecure = true,
                          .largest_gpu = 80ull << 30,
                          .gpu_workers = 3,
                          .text = "report" };
    proto_msg_t msg, out;
    proto_msg_init (&msg, PROTO_STATUS);
    proto_msg_init (&out, 0);
    assert_int_equal (proto_status_set (&msg, &in), PROTO_OK);
    assert_int_equal (s_round_trip (&msg, &out), PROTO_OK);
    proto_msg_reset (&msg); /* its fields; the frames went */
    proto_status_t got;
    char reason[128];
    assert_int_equal (proto_status_get (&out, &got, reason, sizeof reason), PROTO_OK);
    assert_int_equal (got.nodes, 2);
    assert_int_equal (got.pool_workers, 4);
    assert_true (got.insecure);
    assert_int_equal (got.largest_gpu, 80ull << 30);
    assert_int_equal (got.gpu_workers, 3);
    assert_string_equal (got.text, "report");
    proto_msg_reset (&out);

    proto_msg_init (&msg, PROTO_ERROR);
    assert_int_equal (proto_refusal_set (&msg, 4, 2, "update refused: custom"), PROTO_OK);
    uint64_t pool = 0, seq = 0;
    const char *why = NULL;
    assert_true (proto_refusal_get (&msg, &pool, &seq, &why));
    assert_int_equal (pool, 4);
    assert_int_equal (seq, 2);
    assert_string_equal (why, "update refused: custom");
    proto_msg_reset (&msg);
    proto_msg_init (&msg, PROTO_ERROR);
    proto_msg_set_code (&msg, PROTO_CODE_EWORKER);
    proto_msg_set_text (&msg, "init failed");
    assert_false (proto_refusal_get (&msg, &pool, &seq, &why));
    proto_msg_reset (&msg);

    proto_kill_t kill = { .id = "n1/w2", .pid = 31337, .why = "stuck" };
    proto_msg_init (&msg, PROTO_WORKER_KILL);
    assert_int_equal (proto_kill_set (&msg, &kill), PROTO_OK);
    proto_kill_t order;
    assert_int_equal (proto_kill_get (&msg, &order), PROTO_OK);
    assert_string_equal (order.id, "n1/w2");
    assert_int_equal (order.pid, 31337);
    assert_string_equal (order.why, "stuck");
    proto_msg_reset (&msg);

    proto_timing_t timing = { .busy_us = 1500, .residence_us = 40 }, took;
    proto_msg_init (&msg, PROTO_RESULT);
    assert_false (proto_timing_get (&msg, &took));
    assert_int_equal (proto_timing_set (&msg, &timing), PROTO_OK);
    assert_true (proto_timing_get (&msg, &took));
    assert_int_equal (took.busy_us, 1500);
    assert_int_equal (took.residence_us, 40);
    proto_msg_reset (&msg);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_message_type_round_trips_with_fields_and_frames),
        cmocka_unit_test (test_minimal_messages_round_trip),
        cmocka_unit_test (test_type_names_are_known),
        cmocka_unit_test (test_setters_refuse_what_does_not_fit),
        cmocka_unit_test (test_hand_built_valid_header_decodes),
        cmocka_unit_test (test_truncated_header_is_malformed),
        cmocka_unit_test (test_wrong_typed_fields_are_malformed),
        cmocka_unit_test (test_unknown_type_is_malformed),
        cmocka_unit_test (test_unknown_key_is_malformed),
        cmocka_unit_test (test_duplicated_key_is_malformed),
        cmocka_unit_test (test_missing_required_field_is_malformed),
        cmocka_unit_test (test_wrong_frame_count_is_malformed),
        cmocka_unit_test (test_small_payloads_travel_packed),
        cmocka_unit_test (test_recycled_message_sends_as_a_fresh_one),
        cmocka_unit_test (test_oversized_id_and_text_are_malformed),
        cmocka_unit_test (test_bad_jobs_bin_is_malformed),
        cmocka_unit_test (test_runs_of_jobs_travel_in_a_few_bytes),
        cmocka_unit_test (test_bad_job_runs_are_malformed),
        cmocka_unit_test (test_bad_job_segments_are_malformed),
        cmocka_unit_test (test_uniform_sizes_must_fill_the_frame),
        cmocka_unit_test (test_header_that_is_not_a_map_is_malformed),
        cmocka_unit_test (test_other_version_is_refused_with_its_number),
        cmocka_unit_test (test_random_bytes_are_malformed_not_a_crash),
        cmocka_unit_test (test_keys_are_derived_from_the_password_alone),
        cmocka_unit_test (test_keys_export_import_round_trip),
        cmocka_unit_test (test_endpoint_accepts_host_port_and_rejects_the_rest),
        cmocka_unit_test (test_frame_references_are_sent_and_kept),
        cmocka_unit_test (test_big_payloads_travel_in_pieces),
        cmocka_unit_test (test_relayed_payloads_keep_their_pieces),
        cmocka_unit_test (test_pool_open_view_round_trips_and_applies_defaults),
        cmocka_unit_test (test_hello_welcome_assign_views_round_trip),
        cmocka_unit_test (test_worker_died_view_says_where_it_died),
        cmocka_unit_test (test_status_refusal_kill_timing_views_round_trip),
        cmocka_unit_test (test_locality_views_round_trip),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
