/*  libpool/cancel.c - CANCEL to the head: the pool's jobs with ids in a
    range are dropped where queued and stopped where running.

    The caller has given those inputs their POOL_ECANCELED result already
    (map.c), so nothing waits for an answer: a RESULT of one of them that
    was on its way is dropped by id like any late result.
*/
#include "pool_private.h"

int
pool_cancel_send (pool_t *pool, uint64_t from, uint64_t to)
{
    if (!pool)
        return POOL_EINVAL;
    if (pool->broken)
        return pool->broken;
    if (!pool->has_pool || from >= to)
        return 0; /* nothing of it reached the head */
    proto_cancel_t cancel = { .pool = pool->pool_id, .from = from, .to = to };
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_CANCEL);
    if (proto_cancel_set (&msg, &cancel) != PROTO_OK) {
        proto_msg_reset (&msg);
        return pool_fail (pool, POOL_ENOMEM, "out of memory building CANCEL");
    }
    return pool_session_send (pool, &msg);
}
