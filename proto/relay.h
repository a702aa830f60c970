/*  proto/relay.h - the data plane through the head, for a worker that
    cannot reach its client's data endpoint (DESIGN.md section 13: what
    still crosses the head is streamed in chunks).

    The worker sends the same GET and PUT requests (proto/direct.h) on a
    DEALER of its own to the head, each behind a relay frame naming its
    pool; the head passes each on, as it comes, to the relay its pool's
    client keeps open to the head (a DEALER in the client's data thread,
    which says HELLO every PROTO_RELAY_HELLO_MS), behind the requester's
    routing id; the client answers as its endpoint would, behind the same
    two frames, and the head passes the answer back to that routing id.
    So a 64 MiB input crosses the head as 2 MiB chunks, a few in flight,
    each sent on when it came: no store and forward, and nothing of it
    held in the head.

        client relay -> head:   [HELLO pool] [relay key]
        worker       -> head:   [REQUEST pool] [direct header] [body?]
        head -> client relay:   [REQUEST pool] [worker's routing id]
                                [direct header] [body?]
        client relay -> head:   [REPLY pool] [worker's routing id]
                                [direct header] [body?]
        head -> worker:         [direct header] [body?]
        head -> worker:         [NOROUTE pool]  (no relay for that pool)

    The relay key is PROTO_RELAY_KEY random bytes the client drew for its
    data thread and sent in the pool's POOL_OPEN (proto/msg.h); the head
    takes a HELLO only with the key of the pool it names, so no other
    holder of the cluster's keys (nor a client of a pool that had the same
    id before a head restart) can take a pool's relay and with it the
    inputs and outputs of its jobs.

    The relay frame is 16 bytes, little-endian: u32 magic
    PROTO_RELAY_MAGIC, u32 kind, u64 pool.  Its magic is never the first
    bytes of a protocol message's header, so the head tells the two apart
    by the first frame alone.
*/
#ifndef DCPOOL_PROTO_RELAY_H
#define DCPOOL_PROTO_RELAY_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#define PROTO_RELAY_MAGIC 0x52504344u /* "DCPR" */
#define PROTO_RELAY_FRAME 16
#define PROTO_RELAY_KEY 32
/*  How often a client's relay says HELLO: after a head restart (or a
    pool opened again) the head knows it again within this. */
#define PROTO_RELAY_HELLO_MS 1000

typedef enum {
    PROTO_RELAY_HELLO = 1,
    PROTO_RELAY_REQUEST,
    PROTO_RELAY_REPLY,
    PROTO_RELAY_NOROUTE,
} proto_relay_kind_t;

typedef struct {
    proto_relay_kind_t kind;
    uint64_t pool;
} proto_relay_t;

/*  The relay frame of kind for pool. */
void proto_relay_frame (proto_relay_kind_t kind, uint64_t pool,
                        uint8_t frame[PROTO_RELAY_FRAME]);
/*  True when frame (may be NULL) is a relay frame of a known kind, read
    into *relay. */
bool proto_relay_read (zframe_t *frame, proto_relay_t *relay);

#endif
