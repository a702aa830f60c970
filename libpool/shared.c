/*  libpool/shared.c - a map's big inputs and outputs through shared memory.
    See shared.h. */
#include "shared.h"
#include "values.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

size_t
pool_kept_min (bool host, size_t shared_min, bool direct, size_t direct_min, bool *local)
{
    *local = host && shared_min;
    if (!direct)
        return *local ? shared_min : 0;
    return *local && shared_min < direct_min ? shared_min : direct_min;
}

int
pool_kept_make (pool_kept_t *self, pool_direct_t *direct, pool_bytes_t input, bool local)
{
    proto_shm_ref_t where;
    self->fd = -1;
    if (local) {
        if (proto_shm_create (input.data, input.size, &self->fd, &where))
            return POOL_EIO;
    } else {
        /* Only for workers elsewhere: served from the caller's memory
           under a key no inode has. */
        static _Atomic uint64_t keys;
        where = (proto_shm_ref_t){ .pid = (uint32_t)getpid (),
                                   .ino = (1ull << 63) | ++keys,
                                   .size = input.size };
    }
    self->key = where.ino;
    proto_shm_ref_encode (&where, self->ref);
    /* A worker elsewhere fetches it from the data endpoint; should a
       memfd's offer fail, that worker answers RESEND and gets the bytes. */
    int offered
        = !direct ? -1
          : local ? pool_direct_offer (direct, where.ino, self->fd, input.size)
                  : pool_direct_offer_memory (direct, where.ino, input.data, input.size);
    return local || offered == 0 ? 0 : POOL_EIO;
}

void
pool_kept_drop (pool_kept_t *self, pool_direct_t *direct)
{
    if (direct)
        pool_direct_withdraw (direct, self->key);
    if (self->fd >= 0)
        close (self->fd);
    self->fd = -1;
}

void
pool_shared_init (pool_shared_t *self)
{
    memset (self, 0, sizeof *self);
}

void
pool_shared_detach (pool_shared_t *self)
{
    for (size_t i = 0; self->direct && i < POOL_SHARED_MAX; i++)
        if (self->slots[i].taken)
            pool_direct_withdraw (self->direct, self->slots[i].kept.key);
    self->direct = NULL;
}

void
pool_shared_free (pool_shared_t *self)
{
    pool_shared_detach (self);
    for (size_t i = 0; i < POOL_SHARED_MAX; i++)
        if (self->slots[i].taken)
            pool_kept_drop (&self->slots[i].kept, NULL);
    free (self->resend);
    pool_shared_init (self);
}

int
pool_shared_admits (const pool_shared_t *self, size_t size, size_t min, bool off)
{
    if (off || min == 0 || size < min)
        return -1;
    if (self->used == POOL_SHARED_MAX
        || (self->used && self->bytes + size > POOL_SHARED_BYTES))
        return 0;
    return 1;
}

static pool_shared_slot_t *
s_find (const pool_shared_t *self, uint64_t index)
{
    if (!self->used)
        return NULL;
    for (size_t i = 0; i < POOL_SHARED_MAX; i++)
        if (self->slots[i].taken && self->slots[i].index == index)
            return (pool_shared_slot_t *)&self->slots[i];
    return NULL;
}

int
pool_shared_add (pool_shared_t *self, uint64_t index, pool_bytes_t input, bool local,
                 const uint8_t **ref)
{
    pool_shared_slot_t *slot = NULL;
    for (size_t i = 0; i < POOL_SHARED_MAX && !slot; i++)
        if (!self->slots[i].taken)
            slot = &self->slots[i];
    if (!slot)
        return POOL_ENOMEM;
    if (pool_kept_make (&slot->kept, self->direct, input, local))
        return POOL_EIO;
    slot->index = index;
    slot->taken = true;
    slot->size = input.size;
    self->used++;
    self->bytes += input.size;
    self->sent++;
    *ref = slot->kept.ref;
    return 0;
}

const uint8_t *
pool_shared_ref (const pool_shared_t *self, uint64_t index)
{
    pool_shared_slot_t *slot = s_find (self, index);
    return slot ? slot->kept.ref : NULL;
}

static void
s_release (pool_shared_t *self, pool_shared_slot_t *slot)
{
    pool_kept_drop (&slot->kept, self->direct);
    slot->taken = false;
    self->used--;
    self->bytes -= slot->size;
}

void
pool_shared_release (pool_shared_t *self, uint64_t index)
{
    pool_shared_slot_t *slot = s_find (self, index);
    if (slot)
        s_release (self, slot);
}

int
pool_shared_bounce (pool_shared_t *self, uint64_t index)
{
    pool_shared_release (self, index);
    if (self->nresend == self->resend_cap) {
        size_t cap = self->resend_cap ? 2 * self->resend_cap : 16;
        uint64_t *grown = realloc (self->resend, cap * sizeof *grown);
        if (!grown)
            return POOL_ENOMEM;
        self->resend = grown;
        self->resend_cap = cap;
    }
    self->resend[self->nresend++] = index;
    self->bounced++;
    return 0;
}

bool
pool_shared_futile (const pool_shared_t *self)
{
    return self->bounced >= 8 && 2 * self->bounced > self->sent;
}

int
pool_shared_map_output (int fd, const uint8_t in_ref[PROTO_SHM_REF_SIZE], const void *ref,
                        size_t size, pool_bytes_t *data, const char **why)
{
    proto_shm_ref_t out, in;
    if (fd < 0 || proto_shm_ref_decode (ref, size, &out)
        || proto_shm_ref_decode (in_ref, PROTO_SHM_REF_SIZE, &in) || out.pid != in.pid
        || out.fd != in.fd || out.ino != in.ino) {
        *why = "the worker's output reference names no memory of this client";
        return POOL_EPROTO;
    }
    struct stat st;
    if (fstat (fd, &st) || (uint64_t)st.st_size < out.offset + out.size) {
        *why = "the worker's output lies past the end of its shared memory";
        return POOL_EPROTO;
    }
    void *at, *base;
    size_t length;
    if (proto_shm_map (fd, out.offset, (size_t)out.size, false, &at, &base, &length)) {
        *why = "cannot map the worker's output from shared memory";
        return POOL_ENOMEM;
    }
    if (!at) { /* empty: any pointer will do */
        *data = (pool_bytes_t){ NULL, 0 };
        return 0;
    }
    if (pool_values_keep_mapping (at, base, length)) {
        munmap (base, length);
        *why = "out of memory";
        return POOL_ENOMEM;
    }
    *data = (pool_bytes_t){ at, (size_t)out.size };
    return 0;
}

int
pool_shared_output (pool_shared_t *self, uint64_t index, const void *ref, size_t size,
                    pool_bytes_t *data, const char **why)
{
    pool_shared_slot_t *slot = s_find (self, index);
    if (!slot) {
        *why = "the worker's output reference names no memory of this map";
        return POOL_EPROTO;
    }
    /* The mapping keeps the memfd alive: the slot goes either way. */
    int rc = pool_shared_map_output (slot->kept.fd, slot->kept.ref, ref, size, data, why);
    s_release (self, slot);
    return rc;
}
