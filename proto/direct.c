/*  proto/direct.c - the data plane's messages.  See direct.h. */
#include "direct.h"

#include <stdio.h>
#include <string.h>

static void
s_put64 (uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
s_get64 (const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t
s_get32 (const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
           | (uint32_t)p[3] << 24;
}

/* Whether kind carries a body frame: DATA and PUT the bytes, ERR text. */
static bool
s_has_body (proto_direct_kind_t kind)
{
    return kind == PROTO_DIRECT_DATA || kind == PROTO_DIRECT_PUT
           || kind == PROTO_DIRECT_ERR;
}

void
proto_direct_header (const proto_direct_t *head, uint8_t header[PROTO_DIRECT_HEADER])
{
    s_put64 (header, (uint64_t)PROTO_DIRECT_MAGIC | (uint64_t)head->kind << 32);
    s_put64 (header + 8, head->key);
    s_put64 (header + 16, head->attempt);
    s_put64 (header + 24, head->offset);
    s_put64 (header + 32, head->length);
    s_put64 (header + 40, head->total);
}

zmsg_t *
proto_direct_encode (const proto_direct_t *head, zframe_t **body)
{
    uint8_t header[PROTO_DIRECT_HEADER];
    proto_direct_header (head, header);
    zframe_t *frame = body ? *body : NULL;
    if (body)
        *body = NULL;
    bool wants = s_has_body (head->kind);
    zmsg_t *msg = NULL;
    if (wants != (frame != NULL)
        || (frame && head->kind != PROTO_DIRECT_ERR
            && zframe_size (frame) != head->length))
        goto done;
    msg = zmsg_new ();
    if (!msg || zmsg_addmem (msg, header, sizeof header)
        || (frame && zmsg_append (msg, &frame)))
        zmsg_destroy (&msg);
done:
    zframe_destroy (&frame);
    return msg;
}

static int
s_fail (char *reason, size_t reason_size, const char *what)
{
    snprintf (reason, reason_size, "data plane message: %s", what);
    return -1;
}

int
proto_direct_decode (zmsg_t *msg, proto_direct_t *head, zframe_t **body, char *reason,
                     size_t reason_size)
{
    memset (head, 0, sizeof *head);
    *body = NULL;
    zframe_t *header = zmsg_first (msg);
    if (!header || zframe_size (header) != PROTO_DIRECT_HEADER)
        return s_fail (reason, reason_size, "no 48-byte header");
    const uint8_t *p = zframe_data (header);
    if (s_get32 (p) != PROTO_DIRECT_MAGIC)
        return s_fail (reason, reason_size, "wrong magic");
    uint32_t kind = s_get32 (p + 4);
    if (kind < PROTO_DIRECT_GET || kind > PROTO_DIRECT_ERR)
        return s_fail (reason, reason_size, "unknown kind");
    head->kind = (proto_direct_kind_t)kind;
    head->key = s_get64 (p + 8);
    head->attempt = s_get64 (p + 16);
    head->offset = s_get64 (p + 24);
    head->length = s_get64 (p + 32);
    head->total = s_get64 (p + 40);
    size_t frames = zmsg_size (msg);
    if (frames != (s_has_body (head->kind) ? 2u : 1u))
        return s_fail (reason, reason_size, "wrong number of frames");
    if (head->kind == PROTO_DIRECT_ERR) {
        *body = zmsg_next (msg);
        return 0;
    }
    if (head->total > PROTO_DIRECT_TOTAL_MAX || head->length > PROTO_DIRECT_CHUNK
        || head->offset > head->total || head->length > head->total - head->offset
        || (head->length == 0 && head->total != 0))
        return s_fail (reason, reason_size, "offset, length and total disagree");
    if (s_has_body (head->kind)) {
        *body = zmsg_next (msg);
        if (zframe_size (*body) != head->length) {
            *body = NULL;
            return s_fail (reason, reason_size, "body is not `length` bytes");
        }
    }
    return 0;
}
