/*  node/worker_held.h - what this worker's block cache holds, told to the
    head (BLOCKS_HELD) so that jobs naming those blocks come here
    (head/locality.h).

    The cache (worker_ctx.c) says each block it takes in and lets go;
    the changes are batched: they go when HELD_BATCH of them wait, when
    the oldest is HELD_AGE_MS old at a results flush, or when the
    worker's queue empties, before the results of the jobs that made
    them (so a client that has a result knows the head has heard of the
    blocks its job fetched).  The head forgets them all when the worker
    goes, so nothing is said at the end; after a reconnection the whole
    cache is said again (worker_ctx_replay_blocks), since the head may
    have forgotten it.
*/
#ifndef DCPOOL_NODE_WORKER_HELD_H
#define DCPOOL_NODE_WORKER_HELD_H

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"
#include "worker_link.h"

#define HELD_BATCH 64  /* changes per BLOCKS_HELD at most */
#define HELD_AGE_MS 50 /* a change waits at most this long at a flush */

typedef struct worker_held worker_held_t;

/*  Reports go on link (borrowed).  NULL when out of memory. */
worker_held_t *worker_held_new (worker_link_t *link);
void worker_held_destroy (worker_held_t **self);

/*  The cache took in the block (size bytes), or let it go (size
    PROTO_HELD_GONE); arg is the worker_held_t.  A full batch goes at
    once. */
void worker_held_changed (void *arg, const uint8_t hash[PROTO_HASH_SIZE], uint64_t size);

/*  Sends the waiting changes when a batch is due (idle: the worker's
    queue is empty, so they go now); with none waiting it costs a test.
    0, or -1 when the send failed (the worker must end). */
int worker_held_report (worker_held_t *self, bool idle);

#endif
