/*  proto/pieces.c - big payloads kept in the pieces they travelled in
    (msg.h, proto_msg_pop_pieces): the head passes a payload it only
    relays on without copying it into one fresh buffer of the whole size.
    The frames stay in proto_msg_t.frames (the first piece of each
    payload) and proto_msg_t.tails (the pieces after it); msg.c has the
    calls that pop and add them.
*/
#include "msg_internal.h"

#include <stdlib.h>
#include <string.h>

bool
proto_pieces_canonical (zframe_t *first, zmsg_t *tail)
{
    if (zframe_size (first) != PROTO_PIECE_MAX || !tail || !zmsg_size (tail))
        return false;
    size_t left = zmsg_size (tail);
    for (zframe_t *piece = zmsg_first (tail); piece; piece = zmsg_next (tail)) {
        size_t size = zframe_size (piece);
        if (--left ? size != PROTO_PIECE_MAX : (size == 0 || size > PROTO_PIECE_MAX))
            return false;
    }
    return true;
}

void
proto_pieces_copy (uint8_t *to, const void *first, size_t first_size, zmsg_t *tail)
{
    if (first_size)
        memcpy (to, first, first_size);
    to += first_size;
    for (zframe_t *piece = tail ? zmsg_first (tail) : NULL; piece;
         piece = zmsg_next (tail)) {
        if (zframe_size (piece))
            memcpy (to, zframe_data (piece), zframe_size (piece));
        to += zframe_size (piece);
    }
}

zframe_t *
proto_pieces_join (zframe_t **first, zmsg_t **tail)
{
    zframe_t *whole = zframe_new (NULL, zframe_size (*first) + zmsg_content_size (*tail));
    if (whole)
        proto_pieces_copy (zframe_data (whole), zframe_data (*first),
                           zframe_size (*first), *tail);
    zframe_destroy (first);
    zmsg_destroy (tail);
    return whole;
}

zmsg_t *
proto_msg_take_tail (proto_msg_t *self)
{
    if (!self->tails)
        return NULL;
    size_t at = self->tails_base++;
    if (at >= self->ntails)
        return NULL;
    zmsg_t *tail = self->tails[at];
    self->tails[at] = NULL;
    return tail;
}

void
proto_msg_free_tails (proto_msg_t *self)
{
    for (size_t i = 0; i < self->ntails; i++)
        zmsg_destroy (&self->tails[i]);
    free (self->tails);
    self->tails = NULL;
    self->ntails = 0;
    self->tails_base = 0;
}

int
proto_msg_join_pieces (proto_msg_t *self)
{
    if (!self->tails)
        return PROTO_OK;
    zmsg_t *joined = zmsg_new ();
    int rc = joined ? PROTO_OK : PROTO_EIO;
    zframe_t *frame;
    while (self->frames && (frame = zmsg_pop (self->frames))) {
        zmsg_t *tail = proto_msg_take_tail (self);
        if (tail)
            frame = proto_pieces_join (&frame, &tail);
        if (rc == PROTO_OK && (!frame || zmsg_append (joined, &frame)))
            rc = PROTO_EIO; /* the message is lost: its payloads go */
        zframe_destroy (&frame);
    }
    proto_msg_free_tails (self);
    zmsg_destroy (&self->frames);
    if (rc == PROTO_OK)
        self->frames = joined;
    else
        zmsg_destroy (&joined);
    return rc;
}

int
proto_msg_put_tail (proto_msg_t *self, size_t index, zmsg_t **tail)
{
    size_t at = self->tails_base + index;
    if (at >= self->ntails) {
        size_t cap = self->ntails ? 2 * self->ntails : 8;
        while (cap <= at)
            cap *= 2;
        zmsg_t **grown = realloc (self->tails, cap * sizeof *grown);
        if (!grown)
            return PROTO_EIO;
        memset (grown + self->ntails, 0, (cap - self->ntails) * sizeof *grown);
        self->tails = grown;
        self->ntails = cap;
    }
    self->tails[at] = *tail;
    *tail = NULL;
    return PROTO_OK;
}
