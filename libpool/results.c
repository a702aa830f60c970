/*  libpool/results.c - a pool_result_t built from a RESULT entry. */
#include "results.h"
#include "pool_private.h"
#include "proto/shm.h"
#include "slab.h"
#include "values.h"

#include <stdlib.h>
#include <string.h>

void
pool_result_free_at (pool_result_t *result, pool_slab_cursor_t *cursor)
{
    if (!pool_slab_release_at (cursor, result->value.data)
        && !pool_values_release (result->value.data))
        free ((void *)result->value.data);
    free ((void *)result->error);
    memset (result, 0, sizeof *result);
}

void
pool_result_free (pool_result_t *result)
{
    pool_slab_cursor_t cursor = { NULL };
    pool_result_free_at (result, &cursor);
    pool_slab_cursor_end (&cursor);
}

int
pool_result_fill (pool_result_t *r, size_t index, int32_t status, const void *data,
                  size_t size, pool_slab_t **slab)
{
    memset (r, 0, sizeof *r);
    r->index = index;
    r->status = status == 0 ? 0 : status > 0 ? POOL_EJOB : pool_code_from_head (status);
    if (r->status == 0) {
        void *copy = slab && size <= POOL_SLAB_VALUE_MAX ? pool_slab_alloc (slab, size)
                                                         : malloc (size ? size : 1);
        if (!copy)
            return POOL_ENOMEM;
        if (size)
            memcpy (copy, data, size);
        r->value.data = copy;
        r->value.size = size;
    } else {
        char *text = size ? strndup (data, size) : strdup (pool_strerror (r->status));
        if (!text)
            return POOL_ENOMEM;
        r->error = text;
    }
    return 0;
}

int
pool_result_frame (pool_result_t *r, size_t index, int32_t status, zframe_t **frame)
{
    size_t size = zframe_size (*frame);
    if (status == 0 && size >= POOL_VALUES_FRAME_MIN) {
        memset (r, 0, sizeof *r);
        r->index = index;
        r->value = (pool_bytes_t){ zframe_data (*frame), size };
        if (pool_values_keep_frame (frame) == 0)
            return 0;
    }
    return pool_result_fill (r, index, status, zframe_data (*frame), size, NULL);
}

int
pool_result_direct (pool_direct_t *direct, pool_result_t *r, size_t index,
                    const proto_job_t *job, const void *ref, size_t size)
{
    proto_shm_ref_t out;
    zframe_t *frame = NULL;
    if (direct && proto_shm_ref_decode (ref, size, &out) == 0
        && pool_direct_take (direct, job->id, job->attempt, out.size, &frame) == 0) {
        int rc = pool_result_frame (r, index, 0, &frame);
        zframe_destroy (&frame);
        return rc;
    }
    return pool_result_error (r, index, POOL_EIO,
                              "the worker's output did not reach this client's data "
                              "endpoint");
}

int
pool_result_error (pool_result_t *r, size_t index, int code, const char *text)
{
    memset (r, 0, sizeof *r);
    r->index = index;
    r->status = code;
    r->error = strdup (text ? text : pool_strerror (code));
    return r->error ? 0 : POOL_ENOMEM;
}
