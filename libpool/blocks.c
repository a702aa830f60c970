/*  libpool/blocks.c - pool_put, pool_get and pool_delete: the client side
    of the block store (BLOCK_PUT -> BLOCK_STORED, BLOCK_GET -> BLOCK,
    BLOCK_RELEASE -> BLOCK_RELEASED), pipelined, and this client's
    references to the blocks it holds (blocks.h). */
#include "blocks.h"
#include "pool_private.h"

#include <stdlib.h>
#include <string.h>

#define BLOCKS_WINDOW 8           /* requests in flight */
#define BLOCKS_REPLY_MS_MIN 60000 /* wait for one answer at least this */

/*  How long one answer may take: a big block crosses Redis in chunks. */
static int64_t
s_reply_deadline (pool_t *self)
{
    int64_t wait
        = self->connect_ms > BLOCKS_REPLY_MS_MIN ? self->connect_ms : BLOCKS_REPLY_MS_MIN;
    return zclock_mono () + wait;
}

/*  The first request in [0, sent) not answered yet whose hash is hash. */
static size_t
s_match (const uint8_t (*hashes)[POOL_HASH_SIZE], const uint8_t *done, size_t sent,
         const uint8_t *hash)
{
    for (size_t i = 0; i < sent; i++)
        if (!done[i] && memcmp (hashes[i], hash, POOL_HASH_SIZE) == 0)
            return i;
    return SIZE_MAX;
}

int
pool_blocks_ref (pool_t *self, const uint8_t (*hashes)[POOL_HASH_SIZE], size_t count)
{
    if (!self->block_refs && !(self->block_refs = zhashx_new ()))
        return pool_fail (self, POOL_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        char hex[2 * POOL_HASH_SIZE + 1];
        proto_hash_hex (hashes[i], hex);
        uintptr_t refs = (uintptr_t)zhashx_lookup (self->block_refs, hex);
        if (refs)
            zhashx_update (self->block_refs, hex, (void *)(refs + 1));
        else if (zhashx_insert (self->block_refs, hex, (void *)(uintptr_t)1))
            return pool_fail (self, POOL_ENOMEM, "out of memory");
    }
    return 0;
}

/*  Drops one reference to hash: true when the head must be told (the last
    one went, or there was none here). */
static bool
s_unref (pool_t *self, const uint8_t *hash)
{
    char hex[2 * POOL_HASH_SIZE + 1];
    proto_hash_hex (hash, hex);
    uintptr_t refs
        = self->block_refs ? (uintptr_t)zhashx_lookup (self->block_refs, hex) : 0;
    if (refs > 1) {
        zhashx_update (self->block_refs, hex, (void *)(refs - 1));
        return false;
    }
    if (refs == 1)
        zhashx_delete (self->block_refs, hex);
    return true;
}

int
pool_blocks_release (pool_t *self, const uint8_t (*hashes)[POOL_HASH_SIZE], size_t count)
{
    if (!self || (count && !hashes))
        return POOL_EINVAL;
    /* Those to release at the head, in order. */
    size_t *todo = calloc (count ? count : 1, sizeof *todo);
    uint8_t *done = calloc (count ? count : 1, 1);
    if (!todo || !done) {
        free (todo);
        free (done);
        return pool_fail (self, POOL_ENOMEM, "out of memory");
    }
    size_t ntodo = 0;
    for (size_t i = 0; i < count; i++)
        if (s_unref (self, hashes[i]))
            todo[ntodo++] = i;
    /* s_match looks at [0, sent) of the hashes sent, in send order. */
    uint8_t (*sent_hashes)[POOL_HASH_SIZE]
        = calloc (ntodo ? ntodo : 1, sizeof *sent_hashes);
    if (!sent_hashes) {
        free (todo);
        free (done);
        return pool_fail (self, POOL_ENOMEM, "out of memory");
    }
    size_t sent = 0, answered = 0;
    int rc = 0, first = 0;
    proto_msg_t reply;
    proto_msg_init (&reply, 0);
    while (answered < ntodo) {
        while (sent < ntodo && sent - answered < BLOCKS_WINDOW) {
            memcpy (sent_hashes[sent], hashes[todo[sent]], POOL_HASH_SIZE);
            proto_msg_t release;
            proto_msg_init (&release, PROTO_BLOCK_RELEASE);
            proto_msg_add_hash (&release, sent_hashes[sent]);
            rc = pool_session_send (self, &release);
            if (rc)
                goto cleanup;
            sent++;
        }
        rc = pool_wait (self, PROTO_BLOCK_RELEASED, &reply, s_reply_deadline (self));
        if (rc == POOL_ETIMEOUT)
            rc = pool_fail (self, POOL_EIO, "the head did not confirm a released block");
        if (rc)
            goto cleanup;
        size_t i = proto_block_hash (&reply)
                       ? s_match ((const uint8_t (*)[POOL_HASH_SIZE])sent_hashes, done,
                                  sent, proto_block_hash (&reply))
                       : SIZE_MAX;
        if (i != SIZE_MAX) {
            done[i] = 1;
            answered++;
            if (reply.code && !first)
                first = pool_fail (self, pool_code_from_head (reply.code), "%s",
                                   reply.text && *reply.text
                                       ? reply.text
                                       : "the head did not release the block");
        }
        proto_msg_reset (&reply);
    }
    rc = first;
cleanup:
    proto_msg_reset (&reply);
    free (sent_hashes);
    free (todo);
    free (done);
    return rc;
}

/*  A put the head refused (an ERROR, which names no block: the store is
    full, or failed) leaves the others of the window in flight: waits for
    their answers (stored or refused alike), so that none is taken later
    for the answer to something else.  The first refusal stays the
    pool's error. */
static void
s_drain_puts (pool_t *self, size_t in_flight)
{
    char first[POOL_ERROR_MAX];
    memcpy (first, self->error, sizeof first);
    proto_msg_t reply;
    proto_msg_init (&reply, 0);
    for (size_t i = 0; i < in_flight; i++) {
        int rc = pool_wait (self, PROTO_BLOCK_STORED, &reply, s_reply_deadline (self));
        proto_msg_reset (&reply);
        if (rc && rc != POOL_ENOSPACE && rc != POOL_EIO && rc != POOL_EINVAL)
            break; /* lost, or timed out: nothing more will come */
    }
    memcpy (self->error, first, sizeof first);
}

int
pool_blocks_put (pool_t *self, const pool_bytes_t *blocks, size_t count,
                 uint8_t (*hashes)[POOL_HASH_SIZE])
{
    if (!self || (count && (!blocks || !hashes)))
        return POOL_EINVAL;
    uint8_t *done = calloc (count ? count : 1, 1);
    if (!done)
        return pool_fail (self, POOL_ENOMEM, "out of memory");
    size_t sent = 0, answered = 0;
    int rc = 0;
    proto_msg_t reply;
    proto_msg_init (&reply, 0);
    while (answered < count) {
        while (sent < count && sent - answered < BLOCKS_WINDOW) {
            proto_hash (blocks[sent].data, blocks[sent].size, hashes[sent]);
            proto_msg_t put;
            proto_msg_init (&put, PROTO_BLOCK_PUT);
            proto_msg_add_hash (&put, hashes[sent]);
            if (proto_msg_add_bytes (&put, blocks[sent].data, blocks[sent].size)
                != PROTO_OK) {
                proto_msg_reset (&put);
                rc = pool_fail (self, POOL_ENOMEM, "out of memory sending a block");
                goto cleanup;
            }
            rc = pool_session_send (self, &put);
            if (rc)
                goto cleanup;
            sent++;
        }
        rc = pool_wait (self, PROTO_BLOCK_STORED, &reply, s_reply_deadline (self));
        if (rc == POOL_ETIMEOUT)
            rc = pool_fail (self, POOL_EIO, "the head did not confirm a stored block");
        else if (rc)
            s_drain_puts (self, sent - answered - 1);
        if (rc)
            goto cleanup;
        size_t i = proto_block_hash (&reply)
                       ? s_match ((const uint8_t (*)[POOL_HASH_SIZE])hashes, done, sent,
                                  proto_block_hash (&reply))
                       : SIZE_MAX;
        if (i != SIZE_MAX) {
            done[i] = 1;
            answered++;
            /* Held for us now: one reference more. */
            rc = pool_blocks_ref (self, (const uint8_t (*)[POOL_HASH_SIZE])hashes + i, 1);
            if (rc)
                goto cleanup;
        }
        proto_msg_reset (&reply);
    }
cleanup:
    proto_msg_reset (&reply);
    free (done);
    return rc;
}

int
pool_blocks_get (pool_t *self, const uint8_t (*hashes)[POOL_HASH_SIZE], size_t count,
                 int (*take) (void *arg, size_t index, const void *data, size_t size),
                 void *arg)
{
    if (!self || (count && (!hashes || !take)))
        return POOL_EINVAL;
    uint8_t *done = calloc (count ? count : 1, 1);
    if (!done)
        return pool_fail (self, POOL_ENOMEM, "out of memory");
    size_t sent = 0, answered = 0;
    int rc = 0;
    proto_msg_t reply;
    proto_msg_init (&reply, 0);
    while (answered < count) {
        while (sent < count && sent - answered < BLOCKS_WINDOW) {
            proto_msg_t get;
            proto_msg_init (&get, PROTO_BLOCK_GET);
            proto_msg_add_hash (&get, hashes[sent]);
            rc = pool_session_send (self, &get);
            if (rc)
                goto cleanup;
            sent++;
        }
        rc = pool_wait (self, PROTO_BLOCK, &reply, s_reply_deadline (self));
        if (rc == POOL_ETIMEOUT)
            rc = pool_fail (self, POOL_EIO, "the head did not send a block asked for");
        if (rc)
            goto cleanup;
        size_t i = proto_block_hash (&reply)
                       ? s_match (hashes, done, sent, proto_block_hash (&reply))
                       : SIZE_MAX;
        zframe_t *frame = i != SIZE_MAX ? proto_msg_pop_frame (&reply) : NULL;
        if (frame) {
            uint8_t actual[POOL_HASH_SIZE];
            proto_hash (zframe_data (frame), zframe_size (frame), actual);
            if (memcmp (actual, hashes[i], POOL_HASH_SIZE) != 0) {
                zframe_destroy (&frame);
                rc = pool_fail (self, POOL_EIO,
                                "a block from the head does not match its hash");
                goto cleanup;
            }
            done[i] = 1;
            answered++;
            rc = take (arg, i, zframe_data (frame), zframe_size (frame));
            zframe_destroy (&frame);
            if (rc)
                goto cleanup;
        }
        proto_msg_reset (&reply);
    }
cleanup:
    proto_msg_reset (&reply);
    free (done);
    return rc;
}

int
pool_put (pool_t *self, pool_bytes_t bytes, uint8_t hash[POOL_HASH_SIZE])
{
    if (!self || !hash || (bytes.size && !bytes.data))
        return POOL_EINVAL;
    return pool_blocks_put (self, &bytes, 1, (uint8_t (*)[POOL_HASH_SIZE])hash);
}

typedef struct {
    void *data;
    size_t size;
} s_copy_t;

static int
s_take_copy (void *arg, size_t index, const void *data, size_t size)
{
    (void)index;
    s_copy_t *copy = arg;
    copy->data = malloc (size ? size : 1);
    if (!copy->data)
        return POOL_ENOMEM;
    memcpy (copy->data, data, size);
    copy->size = size;
    return 0;
}

int
pool_get (pool_t *self, const uint8_t hash[POOL_HASH_SIZE], void **data, size_t *size)
{
    if (!self || !hash || !data || !size)
        return POOL_EINVAL;
    *data = NULL;
    *size = 0;
    s_copy_t copy = { NULL, 0 };
    int rc = pool_blocks_get (self, (const uint8_t (*)[POOL_HASH_SIZE])hash, 1,
                              s_take_copy, &copy);
    if (rc == POOL_ENOMEM && !copy.data)
        pool_fail (self, rc, "out of memory for a block");
    if (rc) {
        free (copy.data);
        return rc;
    }
    *data = copy.data;
    *size = copy.size;
    return 0;
}

int
pool_delete (pool_t *self, const uint8_t hash[POOL_HASH_SIZE])
{
    if (!self || !hash)
        return POOL_EINVAL;
    return pool_blocks_release (self, (const uint8_t (*)[POOL_HASH_SIZE])hash, 1);
}
