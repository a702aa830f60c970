/*  node/worker_cache.h - the node's block cache on disk (DATA/cache).

    Worker libraries and init data arrive from the head as blocks named by
    their BLAKE2b-256 hash.  A worker keeps them in DATA/cache/<hex><suffix>
    so that the next worker on the same node (after a respawn or a pool
    change) loads them without asking the head again.  Several workers of a
    node share the directory: a file is written under a temporary name and
    renamed into place, so a reader sees a whole block or none, and a file
    is trusted only when its bytes hash to its name.

    The directory is bounded: after each write the files used least
    recently (by mtime: a read that finds a file touches it) go until the
    directory holds at most DCPOOL_LIBRARY_CACHE_MB MiB (default
    WORKER_CACHE_DEFAULT_MB).  A file used in the last WORKER_CACHE_FRESH_S
    seconds stays (another worker of the node may be between writing its
    library and loading it), and so do the files the writer is loading; a
    library already loaded by dlopen is not affected by its file going.
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

#define WORKER_CACHE_DEFAULT_MB 1024
#define WORKER_CACHE_FRESH_S 10
#define WORKER_CACHE_STALE_TMP_S 3600 /* a temporary file older is a dead writer's */

/*  The cap in bytes: DCPOOL_LIBRARY_CACHE_MB (a whole number of MiB, 1 or
    more), or WORKER_CACHE_DEFAULT_MB when unset or not one. */
uint64_t worker_cache_max_bytes (void);

/*  Removes the least recently used files of dir, oldest first, until the
    rest hold at most max_bytes, sparing keep[0..nkeep) (paths), files
    used in the last WORKER_CACHE_FRESH_S seconds and temporary files
    (removed once older than WORKER_CACHE_STALE_TMP_S: their writer died).
    0, or -1 with the reason (dir cannot be read; a file that cannot be
    removed is skipped). */
int worker_cache_prune (const char *dir, uint64_t max_bytes, const char *const *keep,
                        size_t nkeep, char *error, size_t error_size);

#endif
