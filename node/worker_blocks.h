/*  node/worker_blocks.h - blocks asked of the head from inside user code.

    pool_worker_block_get / _put (worker_ctx.c) reach the head through
    this: the request goes on the worker's link and the worker waits for
    the answer inside the user's call.  While it waits it keeps
    heartbeating and hands whatever else arrives (jobs, updates,
    POOL_CLOSE) to the worker's own message handler, exactly as its main
    loop would: they are queued, not lost, and their order holds.
*/
#ifndef DCPOOL_NODE_WORKER_BLOCKS_H
#define DCPOOL_NODE_WORKER_BLOCKS_H

#include <stdbool.h>

#include "msg.h"
#include "worker_ctx.h"
#include "worker_link.h"

/*  What the worker does, on its side, while a request waits. */
typedef struct {
    void *arg;
    /* A message that is not the answer: handle it as the main loop would. */
    void (*message) (void *arg, proto_msg_t *msg);
    /* Sending on the link failed: the worker must end. */
    void (*failed) (void *arg);
} worker_blocks_events_t;

typedef struct worker_blocks worker_blocks_t;

/*  Requests go on link and the worker hears of the rest through events
    (copied).  ending is the worker's "I am ending" flag, read before a
    request and after each message handled: once it is set, requests
    fail.  link and ending are borrowed.  NULL when out of memory. */
worker_blocks_t *worker_blocks_new (worker_link_t *link, const bool *ending,
                                    const worker_blocks_events_t *events);
/*  Frees it; nulls *self. */
void worker_blocks_destroy (worker_blocks_t **self);

/*  The get, put and hold functions for worker_ctx_set_block_io, bound to
    self. */
worker_block_io_t worker_blocks_io (worker_blocks_t *self);

#endif
