/*  test/fuzz/fuzz_msg.c - libFuzzer target for the message decoder.

    The input is split into frames: each frame is a 2-byte little-endian
    length followed by that many bytes (a short tail is the last frame);
    the length 0xFFFF stands for a frame of PROTO_PIECE_MAX bytes, each the
    one byte that follows (so that big payloads' pieces can be spelt; the
    first BIG_FRAMES_MAX such, later ones are read as plain lengths).
    Every outcome is fine except a crash, a leak or undefined behaviour;
    a message that decodes must encode and decode again to the same type
    and the same jobs (ids, attempts, statuses, useqs, shared marks).
    Decoded as the head decodes (keep_pieces) it must give the same result
    and the same payloads, whether asked for in place or popped in pieces
    and added back.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/*  1 MiB frames an input may spell: enough for a payload in pieces and
    a piece out of place.  Each is fresh memory under ASan (its allocator
    maps every big block anew), and faulting it in is nearly all of a
    run's time: 8 such frames ran 1,770 inputs a second, 3 run 2,480. */
#define BIG_FRAMES_MAX 3

static zmsg_t *
s_frames (const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    int big = 0;
    while (size > 0) {
        size_t len = size >= 2 ? (size_t)(data[0] | (data[1] << 8)) : size;
        if (size >= 2) {
            data += 2;
            size -= 2;
        }
        if (len == 0xFFFF && size >= 1 && big++ < BIG_FRAMES_MAX) {
            zframe_t *piece = zframe_new (NULL, PROTO_PIECE_MAX);
            memset (zframe_data (piece), data[0], PROTO_PIECE_MAX);
            zmsg_append (msg, &piece);
            data++;
            size--;
            continue;
        }
        if (len > size)
            len = size;
        zmsg_addmem (msg, data, len);
        data += len;
        size -= len;
    }
    return msg;
}

/*  Traps unless payload i of a equals the bytes (data, size). */
static void
s_same_payload (proto_msg_t *a, size_t i, const void *data, size_t size)
{
    const void *mine;
    size_t mine_size = 0;
    if (proto_msg_payload (a, i, &mine, &mine_size) || mine_size != size
        || (size && memcmp (mine, data, size)))
        __builtin_trap ();
}

/*  The kept decode of the same frames against the plain one. */
static void
s_check_kept (proto_msg_t *plain, const uint8_t *data, size_t size)
{
    zmsg_t *msg = s_frames (data, size);
    proto_msg_t kept;
    proto_msg_init (&kept, 0);
    kept.keep_pieces = true;
    char reason[256];
    if (proto_msg_decode (&kept, &msg, reason, sizeof reason) != PROTO_OK
        || kept.type != plain->type || kept.njobs != plain->njobs)
        __builtin_trap ();
    size_t frames = proto_msg_frames (&kept);
    if (frames != proto_msg_frames (plain))
        __builtin_trap ();
    if (!kept.packed) {
        /* Popped in pieces, joined by hand, added back in pieces. */
        for (size_t i = 0; i < frames; i++) {
            zframe_t *first = NULL;
            zmsg_t *tail = NULL;
            if (proto_msg_pop_pieces (&kept, &first, &tail))
                __builtin_trap ();
            size_t whole = zframe_size (first) + (tail ? zmsg_content_size (tail) : 0);
            uint8_t *bytes = malloc (whole ? whole : 1);
            proto_pieces_copy (bytes, zframe_data (first), zframe_size (first), tail);
            s_same_payload (plain, i, bytes, whole);
            free (bytes);
            if (proto_msg_add_pieces (&kept, &first, &tail) != PROTO_OK)
                __builtin_trap ();
        }
    }
    for (size_t i = 0; i < frames; i++) {
        const void *bytes;
        size_t bytes_size = 0;
        if (proto_msg_payload (&kept, i, &bytes, &bytes_size))
            __builtin_trap ();
        s_same_payload (plain, i, bytes, bytes_size);
    }
    proto_msg_reset (&kept);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zmsg_t *msg = s_frames (data, size);
    proto_msg_t decoded;
    proto_msg_init (&decoded, 0);
    char reason[256];
    int decoded_rc = proto_msg_decode (&decoded, &msg, reason, sizeof reason);
    if (decoded_rc != PROTO_OK) {
        /* The head's decode refuses what the plain one refuses. */
        zmsg_t *again = s_frames (data, size);
        proto_msg_t kept;
        proto_msg_init (&kept, 0);
        kept.keep_pieces = true;
        if (proto_msg_decode (&kept, &again, reason, sizeof reason) != decoded_rc)
            __builtin_trap ();
        proto_msg_reset (&kept);
    } else {
        s_check_kept (&decoded, data, size);
        proto_type_t type = decoded.type;
        zmsg_t *again = NULL;
        if (proto_msg_encode (&decoded, &again) == PROTO_OK) {
            proto_msg_t second;
            proto_msg_init (&second, 0);
            int rc = proto_msg_decode (&second, &again, reason, sizeof reason);
            if (rc != PROTO_OK || second.type != type || second.njobs != decoded.njobs)
                __builtin_trap ();
            for (size_t i = 0; i < second.njobs; i++) {
                const proto_job_t *a = &decoded.jobs[i], *b = &second.jobs[i];
                if (a->id != b->id || a->attempt != b->attempt || a->status != b->status
                    || a->useq != b->useq || a->flags != b->flags)
                    __builtin_trap ();
            }
            proto_msg_reset (&second);
        }
        zmsg_destroy (&again);
    }
    proto_msg_reset (&decoded);
    zmsg_destroy (&msg);
    return 0;
}
