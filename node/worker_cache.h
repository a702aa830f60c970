/*  node/worker_cache.h - the node's block cache on disk (DATA/cache).

    Worker libraries and init data arrive from the head as blocks named by
    their BLAKE2b-256 hash.  A worker keeps them in DATA/cache/<hex><suffix>
    so that the next worker on the same node (after a respawn or a pool
    change) loads them without asking the head again.  Several workers of a
    node share the directory: a file is written under a temporary name and
    renamed into place, so a reader sees a whole block or none, and a file
    is trusted only when its bytes hash to its name.
*/
#ifndef DCPOOL_NODE_WORKER_CACHE_H
#define DCPOOL_NODE_WORKER_CACHE_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

/*  Creates dir (and its parent) when missing: 0, or -1 with the reason. */
int worker_cache_prepare (const char *dir, char *error, size_t error_size);

/*  The file name of a block: dir/<hex><suffix> into out[size]; 0 or -1
    when it does not fit. */
int worker_cache_path (const char *dir, const uint8_t hash[PROTO_HASH_SIZE],
                       const char *suffix, char *out, size_t size);

/*  Reads the block at path.  0 and a fresh frame in *bytes (caller owns)
    when the file exists and hashes to hash; 1 when it is absent or damaged
    (a damaged one is removed); -1 when it cannot be read (error says why). */
int worker_cache_read (const char *path, const uint8_t hash[PROTO_HASH_SIZE],
                       zframe_t **bytes, char *error, size_t error_size);

/*  Writes size bytes as the file path, atomically (temporary file in the
    same directory, then rename): 0, or -1 with the reason. */
int worker_cache_write (const char *path, const void *data, size_t size, char *error,
                        size_t error_size);

#endif
