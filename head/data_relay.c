/*  head/data_relay.c - the data plane through the head.  See
    data_relay.h. */
#include "data_relay.h"
#include "direct.h"
#include "relay.h"

#include <sodium.h>
#include <string.h>

static head_pool_t *
s_pool (head_t *head, uint64_t id)
{
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools))
        if (pool->id == id)
            return pool;
    return NULL;
}

/*  Sends msg (destroyed) to rid, its size counted out: 0, or -1 when rid
    is gone (the ROUTER is mandatory) or the socket failed. */
static int
s_send (head_t *head, zframe_t *rid, zmsg_t **msg)
{
    size_t bytes = zmsg_content_size (*msg);
    zframe_t *to = zframe_dup (rid);
    if (!to || zmsg_prepend (*msg, &to) || zmsg_send (msg, head->router)) {
        zframe_destroy (&to);
        zmsg_destroy (msg);
        return -1;
    }
    head->metrics.bytes_out += bytes;
    return 0;
}

/*  Tells the requester at rid that pool has no relay: it gets its bytes
    the old way. */
static void
s_noroute (head_t *head, zframe_t *rid, uint64_t pool)
{
    uint8_t frame[PROTO_RELAY_FRAME];
    proto_relay_frame (PROTO_RELAY_NOROUTE, pool, frame);
    zmsg_t *msg = zmsg_new ();
    if (msg && zmsg_addmem (msg, frame, sizeof frame) == 0)
        s_send (head, rid, &msg);
    zmsg_destroy (&msg);
}

/*  Whether the frames of msg after the first `from` are a data plane
    message of sizes the endpoints take: a header frame of
    PROTO_DIRECT_HEADER bytes and at most one body of at most a chunk (a
    bigger one would make libzmq cut the receiver's connection, its
    ZMQ_MAXMSGSIZE, breaking every transfer on it). */
static bool
s_sized (zmsg_t *msg, size_t from)
{
    size_t frames = zmsg_size (msg);
    if (frames < from + 1 || frames > from + 2)
        return false;
    zframe_t *frame = zmsg_first (msg);
    for (size_t i = 0; i < from; i++)
        frame = zmsg_next (msg);
    if (zframe_size (frame) != PROTO_DIRECT_HEADER)
        return false;
    frame = zmsg_next (msg);
    return !frame || zframe_size (frame) <= PROTO_DIRECT_CHUNK;
}

/*  A worker's request: on to its pool's client relay, behind the
    worker's routing id. */
static void
s_request (head_t *head, zframe_t *rid, zmsg_t **msg, uint64_t id)
{
    head_pool_t *pool = s_pool (head, id);
    if (!s_sized (*msg, 1) || !pool || !pool->relay) {
        s_noroute (head, rid, id);
        zmsg_destroy (msg);
        return;
    }
    /* [REQUEST pool] stays first; the requester goes second. */
    zframe_t *relay = zmsg_pop (*msg);
    zframe_t *from = zframe_dup (rid);
    if (!from || zmsg_prepend (*msg, &from) || zmsg_prepend (*msg, &relay)) {
        zframe_destroy (&from);
        zframe_destroy (&relay);
        zmsg_destroy (msg);
        return;
    }
    if (s_send (head, pool->relay, msg)) {
        /* The client's relay is gone (its client too, or it comes back
           with its next HELLO). */
        zframe_destroy (&pool->relay);
        s_noroute (head, rid, id);
    }
}

/*  A client relay's answer: on to the requester it names, when it comes
    from the relay the pool has. */
static void
s_reply (head_t *head, zframe_t *rid, zmsg_t **msg, uint64_t id)
{
    head_pool_t *pool = s_pool (head, id);
    if (!s_sized (*msg, 2) || !pool || !pool->relay || !zframe_eq (pool->relay, rid)) {
        zmsg_destroy (msg);
        return;
    }
    zframe_t *relay = zmsg_pop (*msg);
    zframe_destroy (&relay);
    zframe_t *to = zmsg_pop (*msg);
    if (zframe_size (to) > 0 && zframe_size (to) <= 255) /* a routing id's size */
        s_send (head, to, msg); /* a requester gone asks again elsewhere */
    zframe_destroy (&to);
    zmsg_destroy (msg);
}

bool
head_data_relay_take (head_t *head, zframe_t *rid, zmsg_t **msg)
{
    proto_relay_t relay;
    if (!proto_relay_read (zmsg_first (*msg), &relay))
        return false;
    head->metrics.bytes_in += zmsg_content_size (*msg);
    if (relay.kind == PROTO_RELAY_REQUEST)
        s_request (head, rid, msg, relay.pool);
    else if (relay.kind == PROTO_RELAY_REPLY)
        s_reply (head, rid, msg, relay.pool);
    else if (relay.kind == PROTO_RELAY_HELLO && zmsg_size (*msg) == 2) {
        head_pool_t *pool = s_pool (head, relay.pool);
        zframe_t *key = zmsg_next (*msg);
        /* Only the pool's client knows its key (it sent it in POOL_OPEN,
           encrypted unless the cluster runs --insecure); any other HELLO
           is dropped, unanswered. */
        bool keyed
            = pool && pool->has_relay_key && zframe_size (key) == PROTO_RELAY_KEY
              && sodium_memcmp (zframe_data (key), pool->relay_key, PROTO_RELAY_KEY) == 0;
        if (keyed && !(pool->relay && zframe_eq (pool->relay, rid))) {
            zframe_destroy (&pool->relay);
            pool->relay = zframe_dup (rid);
            if (head->config.verbose)
                zsys_info ("pool-head: pool %llu's client relays data chunks",
                           (unsigned long long)pool->id);
        }
    }
    zmsg_destroy (msg);
    return true;
}
