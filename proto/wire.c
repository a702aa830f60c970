/*  proto/wire.c - a message onto a ZeroMQ socket and off it: the frames
    in order, big payloads in pieces (PROTO_PIECE_MAX) without a copy, the
    router's routing id, and the size limits on receipt.
*/
#include "msg_internal.h"

#include <stdlib.h>
#include <string.h>

/*  One big frame shared by the pieces libzmq still holds. */
typedef struct {
    zframe_t *frame;
    int refs;
} s_pieces_t;

/*  libzmq is done with a piece (its I/O thread, or zmq_msg_close). */
static void
s_piece_free (void *data, void *hint)
{
    (void)data;
    s_pieces_t *pieces = hint;
    if (__atomic_sub_fetch (&pieces->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        zframe_destroy (&pieces->frame);
        free (pieces);
    }
}

/*  Sends a payload frame (consumed): as it is, or over PROTO_PIECE_MAX in
    pieces that point into it (no copy), the frame freed with the last. */
static int
s_send_payload (void *handle, zframe_t **frame, bool more)
{
    size_t size = zframe_size (*frame);
    if (size <= PROTO_PIECE_MAX) {
        int rc = zframe_send (frame, handle, more ? ZFRAME_MORE : 0);
        if (rc)
            zframe_destroy (frame);
        return rc ? PROTO_EIO : PROTO_OK;
    }
    s_pieces_t *pieces = malloc (sizeof *pieces);
    if (!pieces) {
        zframe_destroy (frame);
        return PROTO_EIO;
    }
    pieces->frame = *frame;
    *frame = NULL;
    pieces->refs = 1; /* this loop's, dropped at the end */
    size_t count = (size + PROTO_PIECE_MAX - 1) / PROTO_PIECE_MAX;
    uint8_t *data = zframe_data (pieces->frame);
    int rc = PROTO_OK;
    for (size_t i = 0; i < count && rc == PROTO_OK; i++) {
        size_t off = i * PROTO_PIECE_MAX;
        size_t len = size - off < PROTO_PIECE_MAX ? size - off : PROTO_PIECE_MAX;
        zmq_msg_t piece;
        __atomic_add_fetch (&pieces->refs, 1, __ATOMIC_ACQ_REL);
        if (zmq_msg_init_data (&piece, data + off, len, s_piece_free, pieces)) {
            __atomic_sub_fetch (&pieces->refs, 1, __ATOMIC_ACQ_REL);
            rc = PROTO_EIO;
            break;
        }
        bool last = i + 1 == count;
        if (zmq_msg_send (&piece, handle, (!last || more) ? ZMQ_SNDMORE : 0) < 0) {
            zmq_msg_close (&piece); /* drops its reference */
            rc = PROTO_EIO;
        }
    }
    s_piece_free (NULL, pieces);
    return rc;
}

/*  Sends bytes the caller keeps (consumed by nobody): as one frame, or
    over PROTO_PIECE_MAX copied piece by piece into small buffers (warm
    memory: far cheaper than one fresh buffer of the whole size). */
static int
s_send_copied (void *handle, const void *data, size_t size, bool more)
{
    size_t off = 0;
    do {
        size_t len = size - off < PROTO_PIECE_MAX ? size - off : PROTO_PIECE_MAX;
        bool last = off + len >= size;
        if (zmq_send (handle, (const uint8_t *)data + off, len,
                      (!last || more) ? ZMQ_SNDMORE : 0)
            < 0)
            return PROTO_EIO;
        off += len;
    } while (off < size);
    return PROTO_OK;
}

/*  Sends the encoded frames of msg (consumed), lead of them before the
    payloads (the header, and a router's routing id), then, when self
    still has borrowed payloads (s_encode streamed them), each of them: a
    frame reference as a shared copy of the frame, other bytes copied by
    libzmq.  Payloads over PROTO_PIECE_MAX go in pieces, as s_encode
    announced in "w". */
static int
s_send (proto_msg_t *self, void *sock, zmsg_t **msg, size_t lead)
{
    size_t tail = self->nborrowed;
    void *handle = zsock_resolve (sock);
    self->wire_size = zmsg_content_size (*msg);
    for (size_t i = 0; i < tail; i++)
        self->wire_size += self->borrowed[i].size;
    int rc = PROTO_OK;
    zframe_t *frame;
    size_t position = 0;
    while (rc == PROTO_OK && (frame = zmsg_pop (*msg))) {
        bool more = zmsg_size (*msg) > 0 || tail > 0;
        if (position++ < lead) {
            if (zframe_send (&frame, handle, more ? ZFRAME_MORE : 0)) {
                zframe_destroy (&frame);
                rc = PROTO_EIO;
            }
        } else
            rc = s_send_payload (handle, &frame, more);
    }
    zmsg_destroy (msg);
    for (size_t i = 0; rc == PROTO_OK && i < tail; i++) {
        proto_slice_t *slice = &self->borrowed[i];
        bool more = i + 1 < tail;
        if (slice->frame && slice->tail) {
            /* Pieces as they came, each a shared copy (see below). */
            zframe_t *piece = slice->frame;
            for (zframe_t *next = zmsg_first (slice->tail); piece && rc == PROTO_OK;
                 piece = next, next = next ? zmsg_next (slice->tail) : NULL)
                if (zframe_send (&piece, handle,
                                 ZFRAME_REUSE | (next || more ? ZFRAME_MORE : 0)))
                    rc = PROTO_EIO;
        } else if (slice->frame && slice->size <= PROTO_PIECE_MAX) {
            /* A shared copy: libzmq counts references to the bytes. */
            if (zframe_send (&slice->frame, handle,
                             ZFRAME_REUSE | (more ? ZFRAME_MORE : 0)))
                rc = PROTO_EIO;
        } else
            rc = s_send_copied (handle, slice->data, slice->size, more);
    }
    self->nborrowed = 0;
    self->borrowed_tails = false;
    return rc;
}

int
proto_msg_send (proto_msg_t *self, void *sock)
{
    zmsg_t *msg = NULL;
    int rc = proto_msg_encode_to (self, &msg, true);
    if (rc != PROTO_OK)
        return rc;
    return s_send (self, sock, &msg, 1);
}

int
proto_msg_send_router (proto_msg_t *self, void *sock, zframe_t *routing_id)
{
    zmsg_t *msg = NULL;
    int rc = proto_msg_encode_to (self, &msg, true);
    if (rc != PROTO_OK)
        return rc;
    zframe_t *rid = zframe_dup (routing_id);
    if (!rid || zmsg_prepend (msg, &rid)) {
        zframe_destroy (&rid);
        zmsg_destroy (&msg);
        self->nborrowed = 0;
        self->borrowed_tails = false;
        return PROTO_EIO;
    }
    return s_send (self, sock, &msg, 2);
}

/*  ZMQ_MAXMSGSIZE bounds each frame (libzmq cuts a connection that sends a
    larger one); the same limit applies to the whole message here, so many
    frames each under it cannot add up to more.  0, or PROTO_EMALFORMED
    after destroying *msg. */
static int
s_check_size (void *sock, zmsg_t **msg, char *reason, size_t reason_size)
{
    int64_t max = 0;
    size_t len = sizeof max;
    if (zmq_getsockopt (zsock_resolve (sock), ZMQ_MAXMSGSIZE, &max, &len) || max <= 0)
        return 0;
    size_t total = zmsg_content_size (*msg);
    if ((uint64_t)total <= (uint64_t)max)
        return 0;
    zmsg_destroy (msg);
    return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED,
                           "message of %zu bytes is over the limit of %lld bytes "
                           "(--max-message)",
                           total, (long long)max);
}

/* Checks the whole message's size, then decodes it into self. */
static int
s_check_and_decode (proto_msg_t *self, void *sock, zmsg_t **msg, char *reason,
                    size_t reason_size)
{
    size_t wire_size = zmsg_content_size (*msg);
    if (s_check_size (sock, msg, reason, reason_size)) {
        proto_msg_reset (self);
        self->type = 0;
        return PROTO_EMALFORMED;
    }
    int rc = proto_msg_decode (self, msg, reason, reason_size);
    self->wire_size = wire_size;
    return rc;
}

int
proto_msg_recv (proto_msg_t *self, void *sock, char *reason, size_t reason_size)
{
    zmsg_t *msg = zmsg_recv (sock);
    if (!msg)
        return proto_msg_fail (reason, reason_size, PROTO_EIO, "receive failed");
    return s_check_and_decode (self, sock, &msg, reason, reason_size);
}

int
proto_msg_decode_limited (proto_msg_t *self, void *sock, zmsg_t **msg, size_t max_frames,
                          char *reason, size_t reason_size)
{
    if (zmsg_size (*msg) > max_frames) {
        size_t frames = zmsg_size (*msg);
        zmsg_destroy (msg);
        proto_msg_reset (self);
        self->type = 0;
        return proto_msg_fail (reason, reason_size, PROTO_EFRAMES,
                               "message of %zu frames, more than %zu", frames,
                               max_frames);
    }
    return s_check_and_decode (self, sock, msg, reason, reason_size);
}

int
proto_msg_recv_router_limited (proto_msg_t *self, void *sock, zframe_t **routing_id,
                               size_t max_frames, char *reason, size_t reason_size)
{
    *routing_id = NULL;
    zmsg_t *msg = zmsg_recv (sock);
    if (!msg)
        return proto_msg_fail (reason, reason_size, PROTO_EIO, "receive failed");
    *routing_id = zmsg_pop (msg);
    if (!*routing_id) {
        zmsg_destroy (&msg);
        return proto_msg_fail (reason, reason_size, PROTO_EMALFORMED, "no routing id");
    }
    return proto_msg_decode_limited (self, sock, &msg, max_frames, reason, reason_size);
}

int
proto_msg_recv_router (proto_msg_t *self, void *sock, zframe_t **routing_id, char *reason,
                       size_t reason_size)
{
    return proto_msg_recv_router_limited (self, sock, routing_id, SIZE_MAX, reason,
                                          reason_size);
}
