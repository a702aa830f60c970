/*  node/worker_load.h - the pool a worker serves, and loading it.

    A worker is given one pool in its life (ASSIGN).  It looks for the
    pool's library and init data in DATA/cache (worker_cache.h), asks the
    head for the blocks it lacks (BLOCK_GET, answered by BLOCK), loads the
    library and calls init (worker_host.h), and answers WORKER_READY: code
    0, or the reason it could not.  After a head restart the head gives a
    worker that has a pool loaded the pool its client opened again (a new
    id): the worker serves it as it is, with the updates it applied.

    States: IDLE (connected, no pool yet), LOADING (ASSIGN received,
    fetching blocks), READY (library loaded, running the pool).
*/
#ifndef DCPOOL_NODE_WORKER_LOAD_H
#define DCPOOL_NODE_WORKER_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "scoreboard.h"
#include "worker_ctx.h"
#include "worker_host.h"
#include "worker_link.h"

typedef enum {
    WORKER_IDLE,    /* connected, no pool yet */
    WORKER_LOADING, /* ASSIGN received, fetching blocks */
    WORKER_READY    /* library loaded, running the pool */
} worker_state_t;

typedef struct worker_load worker_load_t;

/*  No pool yet, for the worker named id (borrowed), whose block cache is
    DATA_DIR/cache (created when missing).  ctx, board (may be NULL) and
    link are borrowed: init runs with ctx, the scoreboard says "loading"
    while it does, and BLOCK_GET and WORKER_READY go on link.  NULL with
    the reason in error[error_size]. */
worker_load_t *worker_load_new (const char *id, const char *data_dir,
                                pool_worker_ctx_t *ctx, node_scoreboard_t *board,
                                worker_link_t *link, char *error, size_t error_size);
/*  Frees it; a library still loaded is let go without its destroy (the
    process is ending after a failure, or the head was lost).  Nulls
    *self. */
void worker_load_destroy (worker_load_t **self);

/*  ASSIGN: starts loading the pool, or takes a pool back (see above).
    An ASSIGN to a worker that has another pool is answered ERROR.  0, or
    -1 when the worker must end: the pool could not be loaded (WORKER_READY
    said why) or the link failed. */
int worker_load_assign (worker_load_t *self, const proto_msg_t *msg);
/*  BLOCK: a block asked for (its frame is taken from msg); loads the pool
    once both are here.  An unexpected BLOCK is ignored.  0, or -1 as
    worker_load_assign. */
int worker_load_block (worker_load_t *self, proto_msg_t *msg);
/*  True while a block asked for is awaited. */
bool worker_load_fetching (const worker_load_t *self);
/*  The head could not give the block awaited (its ERROR said text):
    WORKER_READY says so.  -1: the worker must end. */
int worker_load_fetch_failed (worker_load_t *self, const char *text);

worker_state_t worker_load_state (const worker_load_t *self);
/*  True when this worker has a pool (loading or ready) and it is pool. */
bool worker_load_serves (const worker_load_t *self, uint64_t pool);
/*  The pool's id (0 before ASSIGN). */
uint64_t worker_load_pool (const worker_load_t *self);
/*  The pool's job_timeout in ms (0: none). */
uint64_t worker_load_job_timeout_ms (const worker_load_t *self);
/*  The pool's client's data endpoint ("" when it has none), and in
 *direct_min the size from which outputs go there (proto/direct.h). */
const char *worker_load_data_endpoint (const worker_load_t *self, uint64_t *direct_min);
/*  The loaded library (NULL unless READY, or after worker_load_unload). */
worker_host_t *worker_load_host (worker_load_t *self);
/*  The last update applied to the loaded instance (0: none), and its
    setter for the code that applies them. */
uint64_t worker_load_applied (const worker_load_t *self);
void worker_load_set_applied (worker_load_t *self, uint64_t seq);
/*  What a HELLO says to rejoin the pool loaded: 0, or -1 unless READY. */
int worker_load_rejoin (const worker_load_t *self, worker_rejoin_t *rejoin);
/*  Calls the class's destroy and lets the library go: the worker is
    leaving (its pool closed, SIGTERM, an update refused). */
void worker_load_unload (worker_load_t *self);

#endif
