/*  libpool/values.h - result values the pool holds without a copy.

    A result's value is normally a malloc'd copy of the output.  Big ones
    are not copied: a mapping of the shared memory a worker wrote it to
    (shared.h), or the frame it arrived in.  The pool remembers those here,
    so pool_results_release and pool_iter_next give each back the right
    way.  Values are released from any thread that owns a pool, so the list
    has a lock; it is looked at only while it holds something.
*/
#ifndef DCPOOL_LIBPOOL_VALUES_H
#define DCPOOL_LIBPOOL_VALUES_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

/*  Outputs at least this big are kept in the frame they came in. */
#define POOL_VALUES_FRAME_MIN ((size_t)64 << 10)

/*  Remembers data as lying in the mapping base, length: 0 or POOL_ENOMEM. */
int pool_values_keep_mapping (const void *data, void *base, size_t length);
/*  Takes *frame (nulled) and remembers its data: 0 or POOL_ENOMEM (the
    frame is then the caller's still). */
int pool_values_keep_frame (zframe_t **frame);
/*  Gives back data when it is one of those: true, else false (a plain
    malloc'd value, or NULL). */
bool pool_values_release (const void *data);

/*  The last POOL_VALUES_SPARES frames of at least POOL_VALUES_SPARE_MIN
    bytes given back are kept: a frame for the next big output of the
    same size (the data endpoint's) then has its pages already, where a
    fresh one page-faults at a fraction of memcpy's speed. */
#define POOL_VALUES_SPARES 2
#define POOL_VALUES_SPARE_MIN ((size_t)1 << 20)
/*  A kept frame of exactly size bytes (the caller's), or NULL. */
zframe_t *pool_values_reuse_frame (size_t size);

#endif
