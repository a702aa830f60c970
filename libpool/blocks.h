/*  libpool/blocks.h - block transfers shared by blocks.c and matrix.c,
    never installed.  Requests are pipelined: up to a window of BLOCK_PUT,
    BLOCK_GET or BLOCK_RELEASE in flight on the pool's connection, answers
    matched by hash.

    Lifetimes: the head holds a block for the client that put it (or
    whose pool's worker put it) until the client releases it or goes.
    The head keeps one hold per client and block; the client counts its
    references (each pool_put, each block of each live matrix) and
    releases a block when its count reaches 0. */
#ifndef DCPOOL_LIBPOOL_BLOCKS_H
#define DCPOOL_LIBPOOL_BLOCKS_H

#include "pool.h"
#include <stddef.h>
#include <stdint.h>

/*  Stores count blocks; hashes[i] gets the name of blocks[i].  0, or <0
    with the detail in pool_last_error. */
int pool_blocks_put (pool_t *pool, const pool_bytes_t *blocks, size_t count,
                     uint8_t (*hashes)[POOL_HASH_SIZE]);

/*  Counts one more reference to each block (the head holds it for us):
    0, or POOL_ENOMEM. */
int pool_blocks_ref (pool_t *pool, const uint8_t (*hashes)[POOL_HASH_SIZE], size_t count);

/*  Drops one reference to each block; a block whose count reaches 0, or
    that was never counted here (a worker put it), is released at the
    head.  0, or the first failure (<0, POOL_EINVAL: the head says we
    did not hold it) with the detail in pool_last_error; the others are
    still released. */
int pool_blocks_release (pool_t *pool, const uint8_t (*hashes)[POOL_HASH_SIZE],
                         size_t count);

/*  Fetches count blocks and hands each to take (i, bytes borrowed for the
    call) as it arrives, in any order; take returns 0, or <0 to stop.  0, or
    <0 with the detail in pool_last_error. */
int pool_blocks_get (pool_t *pool, const uint8_t (*hashes)[POOL_HASH_SIZE], size_t count,
                     int (*take) (void *arg, size_t index, const void *data, size_t size),
                     void *arg);

#endif
