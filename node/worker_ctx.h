/*  node/worker_ctx.h - the state behind pool_worker.h's opaque types.

    pool-worker owns one pool_worker_ctx_t (who this worker is, which GPU it
    has, the error message of the current init, run or update) and one
    pool_output_t (the output buffer of the current job, reused from job to
    job).  The pool_output_* and pool_worker_* functions a worker library
    calls are defined in worker_ctx.c and exported from the pool-worker
    executable (export_dynamic), so a dlopen'd library resolves them.
*/
#ifndef DCPOOL_NODE_WORKER_CTX_H
#define DCPOOL_NODE_WORKER_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "pool_worker.h"
#include "scoreboard.h"

#define WORKER_CTX_ID_MAX 64
#define WORKER_CTX_NAME_MAX 96
#define WORKER_CTX_ERROR_MAX 4096

/*  How the block functions reach the head: pool-worker fills these in
    (worker_ctx_set_block_io).  get: 0 and a fresh frame in *bytes (caller
    owns), checked against hash; put: 0 once the head said BLOCK_STORED;
    hold: the same for a block the store has (BLOCK_HOLD, no bytes),
    POOL_EIO when it has it not.  All <0 (a POOL_E* code) with the reason
    in error on failure. */
typedef struct {
    void *arg;
    int (*get) (void *arg, const uint8_t hash[POOL_HASH_SIZE], zframe_t **bytes,
                char *error, size_t error_size);
    int (*put) (void *arg, const uint8_t hash[POOL_HASH_SIZE], const void *data,
                size_t size, char *error, size_t error_size);
    int (*hold) (void *arg, const uint8_t hash[POOL_HASH_SIZE], char *error,
                 size_t error_size);
} worker_block_io_t;

/*  Told of every block the cache takes in (size: its bytes) and lets go
    (size UINT64_MAX): how the head learns where blocks are
    (node/worker_held.h). */
typedef struct {
    void *arg;
    void (*changed) (void *arg, const uint8_t hash[POOL_HASH_SIZE], uint64_t size);
} worker_block_watch_t;

typedef struct worker_block worker_block_t;

struct pool_worker_ctx {
    char id[WORKER_CTX_ID_MAX + 1];
    int gpu_index; /* -1: this worker runs on CPU */
    char gpu_name[WORKER_CTX_NAME_MAX];
    char gpu_uuid[WORKER_CTX_NAME_MAX]; /* "GPU-...", or "" */
    uint64_t gpu_memory;
    char error[WORKER_CTX_ERROR_MAX]; /* set by pool_worker_error */
    bool error_set;
    /* Blocks fetched or stored by this process, least recently used
       first out; those handed out during the current call (generation)
       stay until it returns. */
    worker_block_io_t block_io;
    worker_block_watch_t block_watch; /* changed NULL: nobody is told */
    worker_block_t *blocks;           /* most recently used first */
    size_t blocks_bytes;
    size_t blocks_budget; /* bytes; DCPOOL_BLOCK_CACHE_MB, default 2048 MiB */
    uint64_t generation;  /* bumped before each init, run or update */
    /* The page shared with the node (scoreboard.h): the running job and
       the range of cancelled ones; NULL without one. */
    const node_scoreboard_t *board;
};

struct pool_output {
    unsigned char *data; /* owned; capacity bytes */
    size_t size;         /* bytes of the current output */
    size_t capacity;
    bool set; /* the run produced an output */
    /* A job whose input came through shared memory (proto/shm.h):
       pool_output_set writes a big output straight into that memfd. */
    int sink_fd; /* the input's memfd, or -1 */
    bool sunk;   /* the output is in the memfd, at sink_offset */
    uint64_t sink_offset;
    /* A big output lives in the frame it is sent in (no copy): set when
       it is there rather than in data. */
    zframe_t *frame;
    /* The frame of the last big output that was only read (it went to a
       client's memfd or data endpoint, not to libzmq): the next output of
       the same size is built in it, in warm pages, not in fresh ones that
       fault in one by one (64 MiB: about 50 ms on this project's VM). */
    zframe_t *spare;
};

/*  Outputs at least this big are built in a frame of their own. */
#define WORKER_OUTPUT_FRAME_MIN ((size_t)64 << 10)
/*  A spare frame (above) is kept only up to this size. */
#define WORKER_OUTPUT_SPARE_MAX ((size_t)256 << 20)

/*  Fills ctx for a CPU worker (gpu_index < 0) or a GPU worker.  0, or -1
    when id or name does not fit. */
int worker_ctx_init (pool_worker_ctx_t *ctx, const char *id, int gpu_index,
                     const char *gpu_name, uint64_t gpu_memory);
/*  Gives pool_worker_cancelled the scoreboard to read (borrowed). */
void worker_ctx_set_board (pool_worker_ctx_t *ctx, const node_scoreboard_t *board);
/*  Connects pool_worker_block_get/put to the head. */
void worker_ctx_set_block_io (pool_worker_ctx_t *ctx, const worker_block_io_t *io);
/*  Says every change of the block cache to watch (copied). */
void worker_ctx_set_block_watch (pool_worker_ctx_t *ctx,
                                 const worker_block_watch_t *watch);
/*  Says every block in the cache to the watch again, as taken in: after
    a reconnection the head may have forgotten them. */
void worker_ctx_replay_blocks (pool_worker_ctx_t *ctx);
/*  Frees the block cache. */
void worker_ctx_clear_blocks (pool_worker_ctx_t *ctx);
/*  Forgets the error message; call before each init, run or update (it
    also starts a new call for the block cache: blocks handed out during
    the previous one may now be evicted). */
void worker_ctx_clear_error (pool_worker_ctx_t *ctx);
/*  The message pool_worker_error stored since the last clear, or NULL. */
const char *worker_ctx_error (const pool_worker_ctx_t *ctx);

/*  Empties the output before a job; the buffer is kept for the next one.
    sink_fd: the memfd of a shared input (big outputs go there), or -1. */
void worker_output_reset (pool_output_t *output, int sink_fd);
/*  Frees the buffer and the spare (the struct itself is the caller's). */
void worker_output_free (pool_output_t *output);
/*  The frame holding a big output (the caller owns it), or NULL when the
    output is in the buffer. */
zframe_t *worker_output_take_frame (pool_output_t *output);
/*  Takes back (and nulls) a frame of worker_output_take_frame whose bytes
    were only read, as the spare for the next output of its size (freed
    instead when bigger than WORKER_OUTPUT_SPARE_MAX). */
void worker_output_keep_spare (pool_output_t *output, zframe_t **frame);

#endif
