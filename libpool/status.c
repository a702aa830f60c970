/*  libpool/status.c - STATUS_REQ and its answer: the counts the head
    gives (nodes, workers, this pool's ready workers, GPUs), for pool.c's
    counts and waits and for map.c's window. */
#include "pool_private.h"

int
pool_status (pool_t *self, proto_status_t *counts)
{
    proto_msg_t msg, reply;
    proto_msg_init (&msg, PROTO_STATUS_REQ);
    proto_msg_init (&reply, 0);
    if (self->has_pool)
        proto_msg_set_pool (&msg, self->pool_id);
    int rc = pool_session_send (self, &msg);
    if (rc)
        goto cleanup;
    rc = pool_wait (self, PROTO_STATUS, &reply, zclock_mono () + self->connect_ms);
    if (rc == POOL_ETIMEOUT)
        rc = pool_fail (self, POOL_ETIMEOUT,
                        "the head did not answer STATUS_REQ within %.1f s",
                        (double)self->connect_ms / 1000.0);
    if (rc)
        goto cleanup;
    char reason[128];
    if (proto_status_get (&reply, counts, reason, sizeof reason) != PROTO_OK) {
        rc = pool_fail (self, POOL_EPROTO, "%s", reason);
        goto cleanup;
    }
    counts->text = NULL; /* it goes with the reply */
cleanup:
    proto_msg_reset (&msg);
    proto_msg_reset (&reply);
    return rc;
}
