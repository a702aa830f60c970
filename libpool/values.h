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

#endif
