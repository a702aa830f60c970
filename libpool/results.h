/*  libpool/results.h - a pool_result_t built from a RESULT entry, and
    freed again; shared by maps and iterators (map.c) and futures
    (futures.c).
*/
#ifndef DCPOOL_LIBPOOL_RESULTS_H
#define DCPOOL_LIBPOOL_RESULTS_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "direct_server.h"
#include "pool.h"
#include "slab.h"

/*  Frees the value (however the pool holds it) and the error text, and
    zeroes the result. */
void pool_result_free (pool_result_t *result);
/*  The same, for a run of results freed one after another: cursor (zeroed
    before the first, pool_slab_cursor_end after the last) makes giving
    back values from one block cheap. */
void pool_result_free_at (pool_result_t *result, pool_slab_cursor_t *cursor);

/*  Fills *r from an entry's status (a wire code, 0 or > 0 for a run's own
    error) and its payload, copied: 0 or POOL_ENOMEM.  With slab (the
    pool's block being filled, slab.h), a small value goes there instead
    of into a malloc'd copy of its own. */
int pool_result_fill (pool_result_t *r, size_t index, int32_t status, const void *data,
                      size_t size, pool_slab_t **slab);

/*  The same from a payload that came as a frame of its own: a big output
    keeps the frame (*frame taken), a small one is copied. */
int pool_result_frame (pool_result_t *r, size_t index, int32_t status, zframe_t **frame);

/*  The output a worker put at the pool's data endpoint (direct, or NULL)
    for the entry job, whose payload ref[size] names its size: the value
    keeps the frame it arrived in.  Should it not be there, the result is
    POOL_EIO saying so.  0 or POOL_ENOMEM. */
int pool_result_direct (pool_direct_t *direct, pool_result_t *r, size_t index,
                        const proto_job_t *job, const void *ref, size_t size);
/*  A result with status code and text (or pool_strerror (code) when NULL)
    as its error: 0 or POOL_ENOMEM. */
int pool_result_error (pool_result_t *r, size_t index, int code, const char *text);

#endif
