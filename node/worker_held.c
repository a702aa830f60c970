/*  node/worker_held.c - the block cache's changes to the head, batched.
    See worker_held.h. */
#include "worker_held.h"
#include "views.h"

#include <stdlib.h>
#include <string.h>

struct worker_held {
    worker_link_t *link; /* borrowed */
    uint8_t entries[HELD_BATCH * PROTO_HELD_ENTRY];
    size_t count;
    int64_t since; /* zclock_mono of the oldest waiting change */
};

worker_held_t *
worker_held_new (worker_link_t *link)
{
    worker_held_t *self = calloc (1, sizeof *self);
    if (self)
        self->link = link;
    return self;
}

void
worker_held_destroy (worker_held_t **self)
{
    free (*self);
    *self = NULL;
}

/*  Sends what waits: 0, or -1 when the send failed. */
static int
s_send (worker_held_t *self)
{
    if (self->count == 0)
        return 0;
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_BLOCKS_HELD);
    int rc = proto_msg_add_bytes (&msg, self->entries, self->count * PROTO_HELD_ENTRY);
    self->count = 0;
    if (rc != PROTO_OK) {
        proto_msg_reset (&msg);
        return 0; /* memory short: the head only misses a hint */
    }
    return worker_link_send (self->link, &msg) ? -1 : 0;
}

void
worker_held_changed (void *arg, const uint8_t hash[PROTO_HASH_SIZE], uint64_t size)
{
    worker_held_t *self = arg;
    if (self->count == 0)
        self->since = zclock_mono ();
    proto_held_t held = { .size = size };
    memcpy (held.hash, hash, PROTO_HASH_SIZE);
    proto_held_put (self->entries + self->count * PROTO_HELD_ENTRY, &held);
    if (++self->count == HELD_BATCH)
        s_send (self); /* a failed link shows at the next send of the worker's */
}

int
worker_held_report (worker_held_t *self, bool idle)
{
    if (self->count == 0 || (!idle && zclock_mono () - self->since < HELD_AGE_MS))
        return 0;
    return s_send (self);
}
