/*  node/worker_ctx.c - the functions pool_worker.h gives a worker library.

    These are the only dcpool symbols a worker library uses; pool-worker is
    linked with export_dynamic so that a library loaded with dlopen finds
    them here.  They are called from the worker library's init, run and
    handle_update, always on pool-worker's one thread.
*/
#include "worker_ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
worker_ctx_init (pool_worker_ctx_t *ctx, const char *id, int gpu_index,
                 const char *gpu_name, uint64_t gpu_memory)
{
    memset (ctx, 0, sizeof *ctx);
    ctx->gpu_index = gpu_index < 0 ? -1 : gpu_index;
    if (!id || strlen (id) > WORKER_CTX_ID_MAX)
        return -1;
    strcpy (ctx->id, id);
    if (ctx->gpu_index >= 0) {
        const char *name = gpu_name ? gpu_name : "";
        if (strlen (name) >= sizeof ctx->gpu_name)
            return -1;
        strcpy (ctx->gpu_name, name);
        ctx->gpu_memory = gpu_memory;
    }
    return 0;
}

void
worker_ctx_clear_error (pool_worker_ctx_t *ctx)
{
    ctx->error[0] = 0;
    ctx->error_set = false;
}

const char *
worker_ctx_error (const pool_worker_ctx_t *ctx)
{
    return ctx->error_set ? ctx->error : NULL;
}

void
worker_output_reset (pool_output_t *output)
{
    output->size = 0;
    output->set = false;
}

void
worker_output_free (pool_output_t *output)
{
    free (output->data);
    memset (output, 0, sizeof *output);
}

/*  Grows the buffer to hold size bytes; the old contents are kept. */
static int
s_output_reserve (pool_output_t *output, size_t size)
{
    if (size <= output->capacity && output->data)
        return 0;
    size_t capacity = output->capacity ? output->capacity : 256;
    while (capacity < size) {
        if (capacity > SIZE_MAX / 2) {
            capacity = size;
            break;
        }
        capacity *= 2;
    }
    unsigned char *data = realloc (output->data, capacity);
    if (!data)
        return -1;
    output->data = data;
    output->capacity = capacity;
    return 0;
}

void *
pool_output_alloc (pool_output_t *output, size_t size)
{
    if (!output || s_output_reserve (output, size))
        return NULL;
    output->size = size;
    output->set = true;
    return output->data;
}

int
pool_output_set (pool_output_t *output, const void *data, size_t size)
{
    if (!output || (size && !data))
        return POOL_EINVAL;
    /* The library may hand back bytes of our own buffer (from an earlier
       pool_output_alloc): remember where they are before it moves. */
    const unsigned char *bytes = data;
    bool inside = output->data && bytes >= output->data
                  && bytes < output->data + output->capacity;
    size_t offset = inside ? (size_t)(bytes - output->data) : 0;
    if (inside && size > output->capacity - offset)
        return POOL_EINVAL;
    if (s_output_reserve (output, size))
        return POOL_ENOMEM;
    if (inside)
        bytes = output->data + offset;
    if (size)
        memmove (output->data, bytes, size);
    output->size = size;
    output->set = true;
    return 0;
}

void
pool_worker_error (pool_worker_ctx_t *ctx, const char *format, ...)
{
    if (!ctx || !format)
        return;
    va_list args;
    va_start (args, format);
    vsnprintf (ctx->error, sizeof ctx->error, format, args);
    va_end (args);
    ctx->error_set = true;
}

const char *
pool_worker_id (pool_worker_ctx_t *ctx)
{
    return ctx ? ctx->id : "";
}

int
pool_worker_gpu (pool_worker_ctx_t *ctx, int *index, const char **name, uint64_t *memory)
{
    if (!ctx || ctx->gpu_index < 0)
        return -1;
    if (index)
        *index = ctx->gpu_index;
    if (name)
        *name = ctx->gpu_name;
    if (memory)
        *memory = ctx->gpu_memory;
    return 0;
}
