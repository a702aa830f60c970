/*  proto/msg_internal.h - what the message model (msg.c), the codec
    (codec.c) and the wire (wire.c) share; nothing outside proto/ includes
    it.  The public interface is msg.h. */
#ifndef DCPOOL_PROTO_MSG_INTERNAL_H
#define DCPOOL_PROTO_MSG_INTERNAL_H

#include "msg.h"

/* How many payload frames a type carries. */
enum { FR_NONE, FR_ONE, FR_TWO, FR_JOBS, FR_ANY };

typedef struct {
    const char *name;
    uint32_t required; /* PROTO_F_* that must be present */
    int frames;        /* FR_* */
} proto_type_spec_t;

/* Each type's name, required fields and payload frames, by type. */
extern const proto_type_spec_t proto_msg_types[PROTO_TYPE_COUNT];

/* Room for count job entries: PROTO_OK or PROTO_EMALFORMED (too many). */
int proto_msg_jobs_reserve (proto_msg_t *self, size_t count);

/*  Encodes self into *out.  stream: borrowed payloads are left in self for
    the sender to stream after the frames of *out (wire.c). */
int proto_msg_encode_to (proto_msg_t *self, zmsg_t **out, bool stream);

/*  Big payloads in pieces (pieces.c).  canonical: first and tail are cut
    as proto_msg_send cuts (PROTO_PIECE_MAX each, the last 1 to that), so
    the header's "w" can be worked out from the size.  join copies them
    into a new frame and destroys them (NULL when out of memory). */
bool proto_pieces_canonical (zframe_t *first, zmsg_t *tail);
zframe_t *proto_pieces_join (zframe_t **first, zmsg_t **tail);
/*  The tail of frames' first frame, taken out of self (NULL for a whole
    payload); call it as that frame is popped. */
zmsg_t *proto_msg_take_tail (proto_msg_t *self);
/*  Sets (owned, nulled) the tail of frames' index'th frame. */
int proto_msg_put_tail (proto_msg_t *self, size_t index, zmsg_t **tail);
/*  Joins every payload still in pieces, in place: PROTO_OK, or PROTO_EIO
    when out of memory (the payloads are then gone). */
int proto_msg_join_pieces (proto_msg_t *self);
void proto_msg_free_tails (proto_msg_t *self);

/* Writes the reason and returns rc: `return proto_msg_fail (...)`. */
int proto_msg_fail (char *reason, size_t reason_size, int rc, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

#endif
