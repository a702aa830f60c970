/*  libpool/cancel.c - CANCEL: the head drops queued jobs of a range of
    ids and stops running ones (DESIGN.md section 12).  The client gives
    the cancelled inputs their POOL_ECANCELED results itself, so nothing
    needs to come back. */
#include "pool_private.h"

int
pool_cancel_send (pool_t *self, uint64_t from, uint64_t to)
{
    if (self->broken || !self->has_pool || from >= to)
        return 0; /* nothing at a head to stop */
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_CANCEL);
    proto_cancel_t cancel = { .pool = self->pool_id, .from = from, .to = to };
    if (proto_cancel_set (&msg, &cancel) != PROTO_OK) {
        proto_msg_reset (&msg);
        return pool_fail (self, POOL_ENOMEM, "out of memory building CANCEL");
    }
    return pool_session_send (self, &msg);
}
