/*  node/worker_ctx.c - the functions pool_worker.h gives a worker library.

    These are the only dcpool symbols a worker library uses; pool-worker is
    linked with export_dynamic so that a library loaded with dlopen finds
    them here.  They are called from the worker library's init, run and
    handle_update, always on pool-worker's one thread.
*/
#include "worker_ctx.h"

#include "msg.h"
#include "shm.h"

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
    ctx->blocks_budget = (size_t)2048 << 20;
    const char *budget = getenv ("DCPOOL_BLOCK_CACHE_MB");
    if (budget && atol (budget) > 0)
        ctx->blocks_budget = (size_t)atol (budget) << 20;
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
    ctx->generation++;
}

const char *
worker_ctx_error (const pool_worker_ctx_t *ctx)
{
    return ctx->error_set ? ctx->error : NULL;
}

void
worker_output_reset (pool_output_t *output, int sink_fd)
{
    output->size = 0;
    output->set = false;
    output->sink_fd = sink_fd;
    output->sunk = false;
    zframe_destroy (&output->frame);
}

void
worker_output_free (pool_output_t *output)
{
    free (output->data);
    zframe_destroy (&output->frame);
    zframe_destroy (&output->spare);
    memset (output, 0, sizeof *output);
}

void
worker_output_keep_spare (pool_output_t *output, zframe_t **frame)
{
    if (!*frame)
        return;
    zframe_destroy (&output->spare);
    if (zframe_size (*frame) > WORKER_OUTPUT_SPARE_MAX) {
        zframe_destroy (frame); /* an idle worker does not hold that much */
        return;
    }
    output->spare = *frame;
    *frame = NULL;
}

/*  A frame for a big output of size bytes: the spare when it is that big,
    else a fresh one.  NULL when out of memory. */
static zframe_t *
s_output_frame (pool_output_t *output, const void *data, size_t size)
{
    if (output->spare && zframe_size (output->spare) == size) {
        zframe_t *frame = output->spare;
        output->spare = NULL;
        if (data)
            memcpy (zframe_data (frame), data, size);
        return frame;
    }
    return zframe_new (data, size);
}

zframe_t *
worker_output_take_frame (pool_output_t *output)
{
    zframe_t *frame = output->frame;
    output->frame = NULL;
    return frame;
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
    if (!output)
        return NULL;
    /* A big output is built in the frame it will be sent in. */
    if (size >= WORKER_OUTPUT_FRAME_MIN) {
        zframe_t *frame = s_output_frame (output, NULL, size);
        if (!frame)
            return NULL;
        zframe_destroy (&output->frame);
        output->frame = frame;
    } else {
        if (s_output_reserve (output, size))
            return NULL;
        zframe_destroy (&output->frame);
    }
    output->size = size;
    output->set = true;
    output->sunk = false;
    return output->frame ? zframe_data (output->frame) : output->data;
}

/*  Whether [bytes, bytes + size) starts inside [start, start + length):
    1 inside and fits, 0 outside, -1 starts inside but runs past it. */
static int
s_inside (const unsigned char *bytes, size_t size, const unsigned char *start,
          size_t length)
{
    if (!start || bytes < start || bytes >= start + length)
        return 0;
    return size <= length - (size_t)(bytes - start) ? 1 : -1;
}

int
pool_output_set (pool_output_t *output, const void *data, size_t size)
{
    if (!output || (size && !data))
        return POOL_EINVAL;
    /* The library may hand back bytes of our own buffer or frame (from an
       earlier pool_output_alloc): they stay valid until replaced below. */
    const unsigned char *bytes = data;
    int in_buffer = s_inside (bytes, size, output->data, output->capacity);
    int in_frame = output->frame ? s_inside (bytes, size, zframe_data (output->frame),
                                             zframe_size (output->frame))
                                 : 0;
    if (in_buffer < 0 || in_frame < 0)
        return POOL_EINVAL;
    /* Big, for a client on this host: one copy, into the client's memfd. */
    if (output->sink_fd >= 0 && size >= PROTO_SHM_OUTPUT_MIN
        && proto_shm_append (output->sink_fd, data, size, &output->sink_offset) == 0) {
        zframe_destroy (&output->frame);
        output->size = size;
        output->set = true;
        output->sunk = true;
        return 0;
    }
    output->sunk = false;
    if (size >= WORKER_OUTPUT_FRAME_MIN) {
        /* One copy, into the frame it will be sent in. */
        zframe_t *frame = s_output_frame (output, data, size);
        if (!frame)
            return POOL_ENOMEM;
        zframe_destroy (&output->frame);
        output->frame = frame;
    } else {
        size_t offset = in_buffer ? (size_t)(bytes - output->data) : 0;
        if (s_output_reserve (output, size))
            return POOL_ENOMEM;
        if (in_buffer)
            bytes = output->data + offset;
        if (size)
            memmove (output->data, bytes, size);
        zframe_destroy (&output->frame); /* after: bytes may lie in it */
    }
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

const char *
pool_worker_gpu_uuid (pool_worker_ctx_t *ctx)
{
    if (!ctx || ctx->gpu_index < 0)
        return NULL;
    return ctx->gpu_uuid;
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

void
worker_ctx_set_board (pool_worker_ctx_t *ctx, const node_scoreboard_t *board)
{
    ctx->board = board;
}

/*  The node writes the cancelled range into the scoreboard when the head
    says so, so this sees it while the run is in progress (the worker's
    own thread is inside the run and reads no messages). */
int
pool_worker_cancelled (pool_worker_ctx_t *ctx)
{
    return ctx && node_scoreboard_cancelled (ctx->board) ? 1 : 0;
}

/* ------------------------------------------------------------------------
    Blocks: pool_worker_block_get / pool_worker_block_put, with a cache of
    what this process has seen, so the blocks a worker needs job after job
    (a row of A in a block multiply) cross the network once per worker. */

struct worker_block {
    worker_block_t *next;
    uint8_t hash[POOL_HASH_SIZE];
    void *data; /* 64-byte aligned copy: user code reads floats from it */
    size_t size;
    uint64_t generation; /* of the last call that was handed it */
};

void
worker_ctx_set_block_io (pool_worker_ctx_t *ctx, const worker_block_io_t *io)
{
    ctx->block_io = *io;
}

void
worker_ctx_set_block_watch (pool_worker_ctx_t *ctx, const worker_block_watch_t *watch)
{
    ctx->block_watch = *watch;
}

/*  Tells the watcher the cache took in (size) or let go (UINT64_MAX) a
    block. */
static void
s_block_changed (pool_worker_ctx_t *ctx, const uint8_t hash[POOL_HASH_SIZE],
                 uint64_t size)
{
    if (ctx->block_watch.changed)
        ctx->block_watch.changed (ctx->block_watch.arg, hash, size);
}

void
worker_ctx_replay_blocks (pool_worker_ctx_t *ctx)
{
    for (const worker_block_t *block = ctx->blocks; block; block = block->next)
        s_block_changed (ctx, block->hash, block->size);
}

void
worker_ctx_clear_blocks (pool_worker_ctx_t *ctx)
{
    while (ctx->blocks) {
        worker_block_t *block = ctx->blocks;
        ctx->blocks = block->next;
        free (block->data);
        free (block);
    }
    ctx->blocks_bytes = 0;
}

/*  The cached block, moved to the front; NULL when absent. */
static worker_block_t *
s_block_find (pool_worker_ctx_t *ctx, const uint8_t hash[POOL_HASH_SIZE])
{
    worker_block_t **link = &ctx->blocks;
    for (worker_block_t *block = ctx->blocks; block; block = block->next) {
        if (memcmp (block->hash, hash, POOL_HASH_SIZE) == 0) {
            *link = block->next;
            block->next = ctx->blocks;
            ctx->blocks = block;
            return block;
        }
        link = &block->next;
    }
    return NULL;
}

/*  Frees least recently used blocks not handed out in this call until
    `more` bytes fit in the budget (or nothing else can go). */
static void
s_block_evict (pool_worker_ctx_t *ctx, size_t more)
{
    while (ctx->blocks_bytes + more > ctx->blocks_budget) {
        worker_block_t **victim = NULL;
        for (worker_block_t **link = &ctx->blocks; *link; link = &(*link)->next)
            if ((*link)->generation != ctx->generation)
                victim = link; /* the last such one: least recently used */
        if (!victim)
            return;
        worker_block_t *block = *victim;
        *victim = block->next;
        ctx->blocks_bytes -= block->size;
        s_block_changed (ctx, block->hash, UINT64_MAX);
        free (block->data);
        free (block);
    }
}

/*  Adds bytes (consumed) to the cache; the new entry, or NULL. */
static worker_block_t *
s_block_add (pool_worker_ctx_t *ctx, const uint8_t hash[POOL_HASH_SIZE], zframe_t **bytes)
{
    size_t size = zframe_size (*bytes);
    s_block_evict (ctx, size);
    worker_block_t *block = calloc (1, sizeof *block);
    /* A received frame may sit at any offset in libzmq's receive buffer:
       the cache keeps an aligned copy. */
    if (!block || posix_memalign (&block->data, 64, size ? size : 1)) {
        free (block);
        zframe_destroy (bytes);
        return NULL;
    }
    memcpy (block->data, zframe_data (*bytes), size);
    block->size = size;
    zframe_destroy (bytes);
    memcpy (block->hash, hash, POOL_HASH_SIZE);
    block->generation = ctx->generation;
    block->next = ctx->blocks;
    ctx->blocks = block;
    ctx->blocks_bytes += size;
    s_block_changed (ctx, hash, size);
    return block;
}

int
pool_worker_block_get (pool_worker_ctx_t *ctx, const uint8_t hash[POOL_HASH_SIZE],
                       pool_bytes_t *out)
{
    if (!ctx || !hash || !out)
        return POOL_EINVAL;
    out->data = NULL;
    out->size = 0;
    worker_block_t *block = s_block_find (ctx, hash);
    if (!block) {
        if (!ctx->block_io.get) {
            pool_worker_error (ctx, "no block store in this process");
            return POOL_EIO;
        }
        zframe_t *bytes = NULL;
        char error[512] = "";
        int rc = ctx->block_io.get (ctx->block_io.arg, hash, &bytes, error, sizeof error);
        if (rc) {
            pool_worker_error (ctx, "%s", error);
            return rc;
        }
        block = s_block_add (ctx, hash, &bytes);
        if (!block) {
            pool_worker_error (ctx, "out of memory caching a block");
            return POOL_ENOMEM;
        }
    }
    block->generation = ctx->generation;
    out->data = block->data;
    out->size = block->size;
    return 0;
}

int
pool_worker_block_put (pool_worker_ctx_t *ctx, const void *data, size_t size,
                       uint8_t hash[POOL_HASH_SIZE])
{
    if (!ctx || (size && !data) || !hash)
        return POOL_EINVAL;
    proto_hash (data, size, hash);
    char error[512] = "";
    bool cached = s_block_find (ctx, hash) != NULL;
    if (cached && ctx->block_io.hold) {
        /* Fetched or stored by us before: the store most likely has it,
           and the head need only hold it for our pool's client (a block
           nobody held may have gone since: then the bytes go). */
        int rc = ctx->block_io.hold (ctx->block_io.arg, hash, error, sizeof error);
        if (rc != POOL_EIO) {
            if (rc)
                pool_worker_error (ctx, "%s", error);
            return rc;
        }
    }
    if (!ctx->block_io.put) {
        pool_worker_error (ctx, "no block store in this process");
        return POOL_EIO;
    }
    int rc = ctx->block_io.put (ctx->block_io.arg, hash, data, size, error, sizeof error);
    if (rc) {
        pool_worker_error (ctx, "%s", error);
        return rc;
    }
    /* Kept: the same worker often needs its output next (a chain of
       operations); a copy is cheap beside the network. */
    zframe_t *bytes = cached ? NULL : zframe_new (data, size);
    if (bytes)
        s_block_add (ctx, hash, &bytes);
    return 0;
}
