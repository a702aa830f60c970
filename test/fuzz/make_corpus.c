/*  test/fuzz/make_corpus.c - writes one valid message of every type, in
    the fuzz target's frame format, as the seed corpus (test/fuzz/corpus).
    Run by hand after a protocol change: make_corpus DIR. */
#include <msgpack.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"

static void
s_write (const char *dir, proto_msg_t *msg, const char *suffix)
{
    zmsg_t *wire = NULL;
    if (proto_msg_encode (msg, &wire) != PROTO_OK)
        return;
    char path[512];
    snprintf (path, sizeof path, "%s/%s%s", dir, proto_type_name (msg->type), suffix);
    FILE *out = fopen (path, "wb");
    for (zframe_t *f = zmsg_first (wire); out && f; f = zmsg_next (wire)) {
        size_t len = zframe_size (f);
        uint8_t hdr[2] = { (uint8_t)len, (uint8_t)(len >> 8) };
        fwrite (hdr, 1, 2, out);
        fwrite (zframe_data (f), 1, len, out);
    }
    if (out)
        fclose (out);
    zmsg_destroy (&wire);
}

/*  A message of type with two jobs whose payloads travel in pieces ("w":
    [0, npieces], [2, 2] after a small payload at 1): the header of an
    encoded message with the key added, then the pieces.  With `cut` the
    first payload is "pay" and "load" (the decoder joins any cut); without,
    it is cut as proto_msg_send cuts, PROTO_PIECE_MAX bytes of 'x' (the
    frame length 0xFFFF and the byte, see fuzz_msg.c) then "xxxxx", which
    a decoder with keep_pieces keeps apart. */
static void
s_write_pieces (const char *dir, proto_type_t type, bool cut, const char *name)
{
    proto_msg_t m;
    proto_msg_init (&m, type);
    proto_msg_set_pool (&m, 7);
    static const uint8_t big[PROTO_PACK_ITEM_MAX + 1]; /* too big to pack */
    for (int i = 0; i < 3; i++) {
        proto_msg_add_job (&m)->id = (uint64_t)(1 + i);
        proto_msg_add_bytes (&m, big, sizeof big);
    }
    zmsg_t *wire = NULL;
    if (proto_msg_encode (&m, &wire) != PROTO_OK)
        return;
    proto_msg_reset (&m);
    zframe_t *header = zmsg_first (wire);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t off = 0;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    if (msgpack_unpack_next (&unpacked, (const char *)zframe_data (header),
                             zframe_size (header), &off)
        == MSGPACK_UNPACK_SUCCESS) {
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        const msgpack_object_map *map = &unpacked.data.via.map;
        msgpack_pack_map (&pk, map->size + 1);
        for (uint32_t i = 0; i < map->size; i++) {
            msgpack_pack_object (&pk, map->ptr[i].key);
            msgpack_pack_object (&pk, map->ptr[i].val);
        }
        msgpack_pack_str (&pk, 1);
        msgpack_pack_str_body (&pk, "w", 1);
        const uint8_t pairs[16] = { 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0 };
        msgpack_pack_bin (&pk, sizeof pairs);
        msgpack_pack_bin_body (&pk, pairs, sizeof pairs);
        char path[512];
        snprintf (path, sizeof path, "%s/%s", dir, name);
        FILE *out = fopen (path, "wb");
        /* A length of 0xFFFF with the byte "x": PROTO_PIECE_MAX of them. */
        const void *frames[6]
            = { sbuf.data, cut ? "pay" : "x", cut ? "load" : "xxxxx", "small", "x", "x" };
        size_t sizes[6] = { sbuf.size, cut ? 3 : 0xFFFF, cut ? 4 : 5, 5, 0xFFFF, 0xFFFF };
        for (int f = 0; out && f < 6; f++) {
            uint8_t hdr[2] = { (uint8_t)sizes[f], (uint8_t)(sizes[f] >> 8) };
            fwrite (hdr, 1, 2, out);
            fwrite (frames[f], 1, sizes[f] == 0xFFFF ? 1 : sizes[f], out);
        }
        if (out)
            fclose (out);
    }
    msgpack_sbuffer_destroy (&sbuf);
    msgpack_unpacked_destroy (&unpacked);
    zmsg_destroy (&wire);
}

int
main (int argc, char *argv[])
{
    const char *dir = argc > 1 ? argv[1] : ".";
    uint8_t hash[PROTO_HASH_SIZE];
    proto_hash ("x", 1, hash);
    for (int t = PROTO_HELLO; t < PROTO_TYPE_COUNT; t++) {
        proto_msg_t m;
        proto_msg_init (&m, (proto_type_t)t);
        proto_msg_set_role (&m, PROTO_ROLE_WORKER);
        proto_msg_set_id (&m, "host-01234567/w0");
        proto_msg_set_node (&m, "host-01234567");
        proto_msg_set_pool (&m, 7);
        proto_msg_set_seq (&m, 3);
        proto_msg_set_code (&m, -11);
        proto_msg_set_text (&m, "some text");
        proto_msg_add_hash (&m, hash);
        if (t == PROTO_POOL_OPEN || t == PROTO_ASSIGN)
            proto_msg_add_hash (&m, hash);
        if (t == PROTO_POOL_OPEN) /* the relay key */
            proto_msg_add_hash (&m, hash);
        for (int i = 0; i < 4; i++)
            proto_msg_add_num (&m, (uint64_t)i * 1000);
        int frames = 0;
        if (t == PROTO_SUBMIT || t == PROTO_RESULT || t == PROTO_JOB) {
            for (int i = 0; i < 3; i++) {
                proto_job_t *job = proto_msg_add_job (&m);
                job->id = (uint64_t)i;
                job->attempt = 1;
                job->status = i ? -11 : 0;
            }
            frames = 3;
        } else if (t == PROTO_POOL_OPEN)
            frames = 2;
        else if (t == PROTO_UPDATE || t == PROTO_BLOCK_PUT || t == PROTO_BLOCK
                 || t == PROTO_BLOCKS_HELD)
            frames = 1;
        for (int i = 0; i < frames; i++)
            proto_msg_add_bytes (&m, "payload", 7);
        s_write (dir, &m, "");
        proto_msg_reset (&m);
        if (t == PROTO_SUBMIT || t == PROTO_RESULT || t == PROTO_JOB) {
            /* A run of jobs (the short "j") with payloads of other sizes. */
            proto_msg_init (&m, (proto_type_t)t);
            proto_msg_set_pool (&m, 7);
            for (int i = 0; i < 4; i++) {
                proto_job_t *job = proto_msg_add_job (&m);
                job->id = (uint64_t)(100 + i);
                job->attempt = 2;
                proto_msg_add_bytes (&m, "payload", (size_t)(7 - i));
            }
            s_write (dir, &m, "_RUN");
            proto_msg_reset (&m);
            /* Runs of jobs with gaps between them (the segments "j"). */
            proto_msg_init (&m, (proto_type_t)t);
            proto_msg_set_pool (&m, 7);
            for (int i = 0; i < 12; i++) {
                proto_job_t *job = proto_msg_add_job (&m);
                job->id = (uint64_t)(100 + (i / 4) * 10 + i % 4);
                job->attempt = 1;
                proto_msg_add_bytes (&m, "payload", 7);
            }
            s_write (dir, &m, "_RUNS");
            proto_msg_reset (&m);
        }
    }
    s_write_pieces (dir, PROTO_JOB, true, "JOB_PIECES");
    s_write_pieces (dir, PROTO_JOB, false, "JOB_KEPT_PIECES");
    s_write_pieces (dir, PROTO_RESULT, false, "RESULT_KEPT_PIECES");
    return 0;
}
