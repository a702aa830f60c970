/*  libpool/recover.c - opening the pool again after the head lost it.

    When the head restarts (or declared us dead after missed heartbeats) it
    answers anything from us with ERROR UNKNOWN_PEER.  The client holds what
    it takes to start over: the library and init bytes, the POOL_OPEN
    numbers, every update it sent, and the running map's inputs.  So it says
    HELLO, opens the pool again (a new pool id; POOL_OPEN names the pool
    and head it had, so workers that still have that pool loaded serve the
    new one as they are), replays the updates in order, and resubmits
    every job that has no result.  Results the old
    head computed but never delivered are computed again; the map still
    yields exactly one result per input, since it drops ids it already has
    (user code runs at least once per job, as after any failure).
*/
#include "pool_private.h"

#include <string.h>

int
pool_recover (pool_t *self)
{
    int rc = 0;
    proto_msg_t msg, reply;
    proto_msg_init (&msg, PROTO_HELLO);
    proto_msg_init (&reply, 0);
    self->recovering = true;
    int64_t deadline = zclock_mono () + self->beat.silence_ms;

    proto_hello_t hello = { .role = PROTO_ROLE_CLIENT };
    snprintf (hello.id, sizeof hello.id, "%s", self->client_id);
    snprintf (hello.host, sizeof hello.host, "%s", self->host);
    rc = proto_hello_set (&msg, &hello) == PROTO_OK ? pool_session_send (self, &msg)
                                                    : POOL_ENOMEM;
    if (rc == 0)
        rc = pool_session_wait (self, PROTO_WELCOME, &reply, deadline);
    if (rc)
        goto cleanup;
    proto_welcome_t welcome;
    if (proto_welcome_get (&reply, &welcome) == PROTO_OK)
        self->head_epoch = welcome.epoch;

    rc = pool_open_remote (self, deadline);
    if (rc)
        goto cleanup;

    for (zframe_t *update = zlist_first (self->updates); update && rc == 0;
         update = zlist_next (self->updates)) {
        proto_msg_init (&msg, PROTO_UPDATE);
        proto_msg_set_pool (&msg, self->pool_id);
        if (proto_msg_add_bytes (&msg, zframe_data (update), zframe_size (update))
            != PROTO_OK)
            rc = pool_fail (self, POOL_ENOMEM, "out of memory replaying updates");
        else
            rc = pool_session_send (self, &msg);
    }
    if (rc == 0 && self->run)
        rc = self->run_ops->resubmit (self->run);
    if (rc == 0 && self->futures)
        rc = self->futures_ops->resubmit (self->futures);
    if (rc == 0)
        self->recoveries++;
cleanup:
    if (rc == POOL_ETIMEOUT)
        rc = pool_fail (self, POOL_ELOST,
                        "the head restarted, and opening the pool "
                        "again did not finish within reconnect_timeout (%.1f s)",
                        (double)self->beat.silence_ms / 1000.0);
    if (rc)
        self->broken = rc == POOL_ETIMEOUT ? POOL_ELOST : rc;
    proto_msg_reset (&msg);
    proto_msg_reset (&reply);
    self->recovering = false;
    return rc;
}

/* Sends POOL_OPEN from what the pool keeps and waits for POOL_READY or
   ERROR: the first open, and every open again after a head restart. */
int
pool_open_remote (pool_t *self, int64_t deadline)
{
    proto_msg_t msg, reply;
    proto_msg_init (&msg, PROTO_POOL_OPEN);
    proto_msg_init (&reply, 0);
    int rc = POOL_ENOMEM;
    /* Opened again after a head restart: the pool we had, so the workers
       that still have it loaded come back to it. */
    proto_pool_open_t open = self->open;
    open.previous_pool = self->has_pool ? self->pool_id : 0;
    open.previous_epoch = self->has_pool ? self->pool_epoch : 0;
    if (proto_pool_open_set (&msg, &open) != PROTO_OK)
        goto cleanup;
    if (proto_msg_add_bytes (&msg, self->lib, self->lib_size) != PROTO_OK
        || proto_msg_add_bytes (&msg, self->init, self->init_size) != PROTO_OK) {
        rc = pool_fail (self, POOL_ENOMEM, "out of memory building POOL_OPEN");
        goto cleanup;
    }
    rc = pool_session_send (self, &msg);
    if (rc)
        goto cleanup;
    rc = pool_session_wait (self, PROTO_POOL_READY, &reply, deadline);
    if (rc == POOL_ETIMEOUT)
        rc = pool_fail (self, POOL_ECONNECT,
                        "the head did not answer POOL_OPEN within %.1f s",
                        (double)(self->connect_ms) / 1000.0);
    if (rc)
        goto cleanup;
    self->pool_id = reply.pool;
    self->pool_epoch = self->head_epoch;
    self->has_pool = true;
    if (self->direct)
        pool_direct_relay (self->direct, self->pool_id);
cleanup:
    proto_msg_reset (&msg);
    proto_msg_reset (&reply);
    return rc;
}

int
pool_wait (pool_t *self, proto_type_t want, proto_msg_t *reply, int64_t deadline)
{
    while (true) {
        int rc = pool_session_wait (self, want, reply, deadline);
        if (rc != POOL_EFORGOTTEN)
            return rc;
        rc = pool_recover (self);
        if (rc)
            return rc;
    }
}

int
pool_wait_results (pool_t *self, size_t awaited, int64_t deadline)
{
    self->awaited = awaited;
    int rc = pool_wait (self, PROTO_RESULT, NULL, deadline);
    self->awaited = 0;
    return rc;
}
