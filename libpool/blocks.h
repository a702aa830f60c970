/*  libpool/blocks.h - block transfers shared by blocks.c and matrix.c,
    never installed.  Requests are pipelined: up to a window of BLOCK_PUT
    or BLOCK_GET in flight on the pool's connection, answers matched by
    hash. */
#ifndef DCPOOL_LIBPOOL_BLOCKS_H
#define DCPOOL_LIBPOOL_BLOCKS_H

#include "pool.h"
#include <stddef.h>
#include <stdint.h>

/*  Stores count blocks; hashes[i] gets the name of blocks[i].  0, or <0
    with the detail in pool_last_error. */
int pool_blocks_put (pool_t *pool, const pool_bytes_t *blocks, size_t count,
                     uint8_t (*hashes)[POOL_HASH_SIZE]);

/*  Fetches count blocks and hands each to take (i, bytes borrowed for the
    call) as it arrives, in any order; take returns 0, or <0 to stop.  0, or
    <0 with the detail in pool_last_error. */
int pool_blocks_get (pool_t *pool, const uint8_t (*hashes)[POOL_HASH_SIZE], size_t count,
                     int (*take) (void *arg, size_t index, const void *data, size_t size),
                     void *arg);

#endif
