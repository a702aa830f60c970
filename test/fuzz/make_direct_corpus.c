/*  test/fuzz/make_direct_corpus.c - writes the seed corpus of fuzz_direct
    (test/fuzz/corpus/direct), in the fuzz target's frame format: one valid
    message of every kind (GET, DATA, PUT, ACK, ERR, made by
    proto_direct_encode) and near-valid ones, each breaking one rule of
    the decoder (wrong magic, unknown kinds, a short header, a frame too
    many or too few, length over a chunk, offset + length past total or
    wrapping around, total over PROTO_DIRECT_TOTAL_MAX, a body that is not
    `length` bytes).  Run by hand after a change of the wire format:
        cc -Iproto test/fuzz/make_direct_corpus.c proto/direct.c -lczmq -lzmq
        ./a.out test/fuzz/corpus/direct
*/
#include <stdio.h>
#include <string.h>

#include "direct.h"

/* Writes frames (sizes[i] bytes of frames[i]) as the file dir/name. */
static void
s_write_frames (const char *dir, const char *name, int nframes, const void *const *frames,
                const size_t *sizes)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *out = fopen (path, "wb");
    for (int f = 0; out && f < nframes; f++) {
        uint8_t hdr[2] = { (uint8_t)sizes[f], (uint8_t)(sizes[f] >> 8) };
        fwrite (hdr, 1, 2, out);
        fwrite (frames[f], 1, sizes[f], out);
    }
    if (out)
        fclose (out);
}

/* A message proto_direct_encode makes, body (when not NULL) of size bytes. */
static void
s_write_encoded (const char *dir, const char *name, proto_direct_t head, const char *body,
                 size_t size)
{
    zframe_t *frame = body ? zframe_new (body, size) : NULL;
    zmsg_t *msg = proto_direct_encode (&head, frame ? &frame : NULL);
    if (!msg) {
        fprintf (stderr, "%s: proto_direct_encode refused it\n", name);
        return;
    }
    const void *frames[2];
    size_t sizes[2];
    int n = 0;
    for (zframe_t *f = zmsg_first (msg); f && n < 2; f = zmsg_next (msg), n++) {
        frames[n] = zframe_data (f);
        sizes[n] = zframe_size (f);
    }
    s_write_frames (dir, name, n, frames, sizes);
    zmsg_destroy (&msg);
}

static void
s_put (uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A header written field by field, whatever the fields say, then up to
   two more frames. */
static void
s_write_raw (const char *dir, const char *name, uint32_t magic, uint32_t kind,
             proto_direct_t fields, size_t header_size, const char *body, size_t size,
             bool extra)
{
    uint8_t header[PROTO_DIRECT_HEADER + 8] = { 0 };
    s_put (header, magic, 4);
    s_put (header + 4, kind, 4);
    s_put (header + 8, fields.key, 8);
    s_put (header + 16, fields.attempt, 8);
    s_put (header + 24, fields.offset, 8);
    s_put (header + 32, fields.length, 8);
    s_put (header + 40, fields.total, 8);
    const void *frames[3] = { header, body, "extra" };
    size_t sizes[3] = { header_size, size, 5 };
    s_write_frames (dir, name, 1 + (body != NULL) + extra, frames, sizes);
}

int
main (int argc, char *argv[])
{
    const char *dir = argc > 1 ? argv[1] : ".";
    const uint64_t M = PROTO_DIRECT_MAGIC, C = PROTO_DIRECT_CHUNK;

    /* Valid, one of every kind. */
    s_write_encoded (dir, "GET", (proto_direct_t){ PROTO_DIRECT_GET, 4242, 0, 0, 16, 40 },
                     NULL, 0);
    s_write_encoded (dir, "GET_LAST",
                     (proto_direct_t){ PROTO_DIRECT_GET, 4242, 0, 3 * C, C, 4 * C }, NULL,
                     0);
    s_write_encoded (dir, "GET_EMPTY",
                     (proto_direct_t){ PROTO_DIRECT_GET, 1, 0, 0, 0, 0 }, NULL, 0);
    s_write_encoded (dir, "DATA",
                     (proto_direct_t){ PROTO_DIRECT_DATA, 4242, 0, 16, 16, 40 },
                     "0123456789abcdef", 16);
    s_write_encoded (dir, "PUT", (proto_direct_t){ PROTO_DIRECT_PUT, 7, 2, 0, 12, 24 },
                     "output bytes", 12);
    s_write_encoded (dir, "ACK", (proto_direct_t){ PROTO_DIRECT_ACK, 7, 2, 12, 12, 24 },
                     NULL, 0);
    s_write_encoded (dir, "ERR", (proto_direct_t){ PROTO_DIRECT_ERR, 4242, 0, 16, 0, 0 },
                     "no such input here", 18);
    s_write_encoded (dir, "ERR_EMPTY",
                     (proto_direct_t){ PROTO_DIRECT_ERR, 0, 0, 0, 0, 0 }, "", 0);

    /* Near-valid: each breaks one rule. */
    proto_direct_t get = { PROTO_DIRECT_GET, 4242, 0, 0, 16, 40 };
    proto_direct_t put = { PROTO_DIRECT_PUT, 7, 2, 0, 4, 24 };
    s_write_raw (dir, "bad_magic", M ^ 1, PROTO_DIRECT_GET, get, 48, NULL, 0, false);
    s_write_raw (dir, "bad_kind_0", M, 0, get, 48, NULL, 0, false);
    s_write_raw (dir, "bad_kind_6", M, 6, get, 48, NULL, 0, false);
    s_write_raw (dir, "bad_kind_high", M, 0x80000001u, get, 48, NULL, 0, false);
    s_write_raw (dir, "bad_header_47", M, PROTO_DIRECT_GET, get, 47, NULL, 0, false);
    s_write_raw (dir, "bad_header_56", M, PROTO_DIRECT_GET, get, 56, NULL, 0, false);
    s_write_raw (dir, "bad_get_with_body", M, PROTO_DIRECT_GET, get, 48,
                 "0123456789abcdef", 16, false);
    s_write_raw (dir, "bad_ack_with_body", M, PROTO_DIRECT_ACK, put, 48, "data", 4,
                 false);
    s_write_raw (dir, "bad_put_no_body", M, PROTO_DIRECT_PUT, put, 48, NULL, 0, false);
    s_write_raw (dir, "bad_put_extra_frame", M, PROTO_DIRECT_PUT, put, 48, "data", 4,
                 true);
    s_write_raw (dir, "bad_err_no_body", M, PROTO_DIRECT_ERR, get, 48, NULL, 0, false);
    s_write_raw (dir, "bad_put_short_body", M, PROTO_DIRECT_PUT, put, 48, "dat", 3,
                 false);
    s_write_raw (dir, "bad_put_long_body", M, PROTO_DIRECT_PUT, put, 48, "data!", 5,
                 false);
    proto_direct_t f = get;
    f.length = C + 1;
    f.total = 2 * C;
    s_write_raw (dir, "bad_length_over_chunk", M, PROTO_DIRECT_GET, f, 48, NULL, 0,
                 false);
    f = get;
    f.offset = 30; /* 30 + 16 > 40 */
    s_write_raw (dir, "bad_past_total", M, PROTO_DIRECT_GET, f, 48, NULL, 0, false);
    f.offset = 41;
    f.length = 0;
    s_write_raw (dir, "bad_offset_past_total", M, PROTO_DIRECT_GET, f, 48, NULL, 0,
                 false);
    f = get;
    f.offset = UINT64_MAX - 8; /* wraps around with length */
    f.total = UINT64_MAX;
    s_write_raw (dir, "bad_wrapping", M, PROTO_DIRECT_GET, f, 48, NULL, 0, false);
    f = get;
    f.total = PROTO_DIRECT_TOTAL_MAX + 1;
    s_write_raw (dir, "bad_total_over_max", M, PROTO_DIRECT_GET, f, 48, NULL, 0, false);
    f = get;
    f.length = 0;
    s_write_raw (dir, "bad_empty_of_some", M, PROTO_DIRECT_GET, f, 48, NULL, 0, false);
    s_write_frames (dir, "bad_no_frames", 0, NULL, NULL);
    return 0;
}
