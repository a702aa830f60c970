/*  node/worker_link.h - a pool-worker's connection to the head.

    The worker talks to the head straight, on one DEALER (proto/link.c):
    HELLO as a worker (and, with a pool loaded, the pool it asks to
    rejoin), then messages both ways, a HEARTBEAT whenever it has sent
    nothing for heartbeat_ms, and a watch on the head's silence.  A head
    that does not answer is tried again until it does (it may be
    restarting); a refused handshake is not.

    Everything runs on the worker's one thread: the link is sent on
    between jobs and while a job waits for a block (worker_blocks.c).
*/
#ifndef DCPOOL_NODE_WORKER_LINK_H
#define DCPOOL_NODE_WORKER_LINK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "msg.h"
#include "worker_args.h"

typedef struct worker_link worker_link_t;

/*  What a worker with a pool loaded says in its HELLO to rejoin it: the
    pool, its library's and init data's hashes, the updates it applied and
    the epoch of the head that assigned the pool. */
typedef struct {
    uint64_t pool;
    uint8_t lib_hash[PROTO_HASH_SIZE];
    uint8_t init_hash[PROTO_HASH_SIZE];
    uint64_t useq_applied;
    uint64_t pool_epoch;
} worker_rejoin_t;

/*  How long the head may stay silent while a block is on its way to this
    worker: a big block holds the head's heartbeats back behind it on the
    one connection. */
#define WORKER_LINK_FETCH_SILENCE_MS 60000

/* Results of worker_link_connect, beside 0. */
#define WORKER_LINK_EFAILED -1  /* a bad address, DENIED, out of memory */
#define WORKER_LINK_EAUTH -2    /* the handshake was refused (wrong password) */
#define WORKER_LINK_ESTOPPED -3 /* *stop was set while trying */

/*  A link, not connected yet, for the worker args describes (borrowed: they
    must outlive the link), with the keys start_node handed down in
    DCPOOL_KEYS.  stop (borrowed) is the flag SIGTERM sets: connecting
    gives up once it is set.  NULL with the reason in error[error_size]. */
worker_link_t *worker_link_new (const worker_args_t *args,
                                const volatile sig_atomic_t *stop, char *error,
                                size_t error_size);
/*  Disconnects and frees the link; nulls *self. */
void worker_link_destroy (worker_link_t **self);

/*  Connects and says HELLO until the head welcomes us: with rejoin (or
    NULL) the HELLO asks to rejoin that pool.  A head that does not answer
    is tried again, a second apart when its machine refuses connections.
    0 when connected, else a WORKER_LINK_E* code (logged). */
int worker_link_connect (worker_link_t *self, const worker_rejoin_t *rejoin);
/*  Drops the connection (what is queued on it is lost). */
void worker_link_disconnect (worker_link_t *self);
/*  True while connected. */
bool worker_link_connected (const worker_link_t *self);

/*  Sends msg (consumed: reset afterwards).  0, or -1 (logged): the socket
    failed, which only happens when the context is going down; the worker
    must end. */
int worker_link_send (worker_link_t *self, proto_msg_t *msg);
/*  worker_link_send that leaves msg to the caller to reset or recycle (a
    batch built again in the same message). */
int worker_link_send_kept (worker_link_t *self, proto_msg_t *msg);
/*  Sends a message that has only a type: 0 or -1, as worker_link_send. */
int worker_link_send_bare (worker_link_t *self, proto_type_t type);
/*  Sends ERROR {code, text}: 0 or -1, as worker_link_send. */
int worker_link_send_error (worker_link_t *self, int64_t code, const char *text);
/*  Sends a HEARTBEAT when nothing went for heartbeat_ms by now (a
    zclock_mono reading): 1 when one went, 0 when none was due, -1 as
    worker_link_send. */
int worker_link_heartbeat (worker_link_t *self, int64_t now);
/*  Milliseconds from now until a HEARTBEAT is due (<= 0: it is). */
int64_t worker_link_heartbeat_in (const worker_link_t *self, int64_t now);

/*  True when a message waits to be read (no system call when libzmq
    already knows). */
bool worker_link_readable (worker_link_t *self);
/*  Reads one message into msg (reset first by the caller): PROTO_OK;
    PROTO_EIO when interrupted or nothing came; another PROTO_E* code with
    the reason in reason[reason_size] when the bytes were no valid message.
    Anything but PROTO_EIO counts as hearing from the head. */
int worker_link_recv (worker_link_t *self, proto_msg_t *msg, char *reason,
                      size_t reason_size);
/*  Waits up to ms for a message (or a signal): true when one waits to be
    read (the caller may read it without asking worker_link_readable). */
bool worker_link_wait (worker_link_t *self, int ms);

/*  Milliseconds since the head was last heard, at now. */
int64_t worker_link_silence (const worker_link_t *self, int64_t now);
/*  True when bytes still reached this connection within the last
    heartbeat: the head's heartbeats are queued behind a big message on
    its way here.  It then counts as heard when those bytes came. */
bool worker_link_still_receiving (worker_link_t *self, int64_t now);

/*  What the head's WELCOME said: its heartbeat, liveness and epoch (a
    number of its own, new at each start of the head). */
int worker_link_heartbeat_ms (const worker_link_t *self);
int worker_link_liveness (const worker_link_t *self);
uint64_t worker_link_head_epoch (const worker_link_t *self);
/*  The keys start_node handed down (the data plane uses them too). */
const proto_keys_t *worker_link_keys (const worker_link_t *self);
/*  The head's address, as the worker's arguments name it. */
const char *worker_link_server (const worker_link_t *self);

#endif
