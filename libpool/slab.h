/*  libpool/slab.h - small result values carved out of shared blocks.

    A map of a million tiny outputs used to make a million malloc'd copies,
    and freeing them again cost as much as the rest of taking a result in.
    Values of at most POOL_SLAB_VALUE_MAX bytes are instead carved, 16-byte
    aligned, out of blocks of POOL_SLAB_SIZE bytes that a pool fills one
    after the other.  A block counts the values it still holds (and its
    pool's hold while the pool fills it) and is freed with the last.
    Values are released from any thread, so the blocks in use are listed
    under a lock; it is taken only while some block is in use.
*/
#ifndef DCPOOL_LIBPOOL_SLAB_H
#define DCPOOL_LIBPOOL_SLAB_H

#include <stdbool.h>
#include <stddef.h>

#define POOL_SLAB_SIZE ((size_t)64 << 10)
#define POOL_SLAB_VALUE_MAX ((size_t)512)

typedef struct pool_slab pool_slab_t;

/*  Room for a value of size bytes (at most POOL_SLAB_VALUE_MAX) in
    *current, the block its owner fills; a full block is let go and a new
    one started.  NULL when out of memory. */
void *pool_slab_alloc (pool_slab_t **current, size_t size);
/*  The owner lets go of *current (nulled): it is freed with its last
    value, or now when it holds none. */
void pool_slab_retire (pool_slab_t **current);
/*  Values are given back through a cursor, which holds on to the last
    block it found: a run of values from one block is given back without
    the lock.  Start it zeroed, end it with pool_slab_cursor_end. */
typedef struct {
    pool_slab_t *slab;
} pool_slab_cursor_t;
/*  Gives data back when it lies in a block: true, else false (it is not a
    slab value, or NULL). */
bool pool_slab_release_at (pool_slab_cursor_t *cursor, const void *data);
/*  Lets go of the cursor's block. */
void pool_slab_cursor_end (pool_slab_cursor_t *cursor);

#endif
