/*  libpool/shared.h - a map's big inputs and outputs through shared memory.

    An input of at least pool_options_t.shared_memory_min bytes goes to the
    head as a reference to a memfd holding a copy of it (proto/shm.h).  A
    worker on this host reads it there and writes a big output after it;
    the result the caller gets is then a read-only mapping of that output,
    unmapped by pool_results_release or the next pool_iter_next (values.h).  A worker
    elsewhere cannot: the head answers PROTO_CODE_RESEND and the input goes
    again as bytes.  At most POOL_SHARED_MAX inputs (and POOL_SHARED_BYTES,
    or one) are in shared memory at a time per map.
*/
#ifndef DCPOOL_LIBPOOL_SHARED_H
#define DCPOOL_LIBPOOL_SHARED_H

#include "direct_server.h"
#include "pool.h"
#include "proto/shm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POOL_SHARED_MAX 64
#define POOL_SHARED_BYTES ((size_t)1 << 30)

/*  One big input kept by reference (a map's slot, a future): in a memfd
    that workers on this host map and the data endpoint also serves, or
    only at the data endpoint, from the caller's own bytes. */
typedef struct {
    int fd;                          /* its memfd, or -1 */
    uint64_t key;                    /* what the data endpoint serves it as: the inode */
    uint8_t ref[PROTO_SHM_REF_SIZE]; /* what SUBMIT carries */
} pool_kept_t;

/*  The smallest input that goes by reference, 0 for none, and in *local
    whether such inputs go in memfds: they must whenever workers on this
    host may be sent them (host: the client shares memory), since the head
    picks the worker.  direct: the pool has a data endpoint. */
size_t pool_kept_min (bool host, size_t shared_min, bool direct, size_t direct_min,
                      bool *local);
/*  Keeps input by reference (local: in a new memfd; else served from
    input's bytes, which must outlive it) and offers it at direct (or
    NULL).  0, or <0 (send the bytes). */
int pool_kept_make (pool_kept_t *self, pool_direct_t *direct, pool_bytes_t input,
                    bool local);
/*  The endpoint stops serving it and its memfd closes (no-op when fd is -1
    and direct NULL). */
void pool_kept_drop (pool_kept_t *self, pool_direct_t *direct);

typedef struct {
    uint64_t index; /* the input's index in its map */
    bool taken;     /* the slot holds an input */
    pool_kept_t kept;
    size_t size;
} pool_shared_slot_t;

typedef struct {
    pool_shared_slot_t slots[POOL_SHARED_MAX];
    size_t used;      /* slots taken */
    size_t bytes;     /* their sizes */
    uint64_t *resend; /* indexes to send again as bytes */
    size_t nresend, resend_cap;
    size_t sent;           /* inputs sent by reference */
    size_t bounced;        /* ... that came back PROTO_CODE_RESEND */
    pool_direct_t *direct; /* the pool's data endpoint (borrowed), which
                              serves every memfd here to workers on other
                              hosts; NULL: none */
} pool_shared_t;

void pool_shared_init (pool_shared_t *self);
/*  Closes every memfd; forgets the resend list. */
void pool_shared_free (pool_shared_t *self);
/*  The pool goes: its data endpoint stops serving these inputs and is
    forgotten. */
void pool_shared_detach (pool_shared_t *self);

/*  Whether an input of size bytes may go by reference now (min: the
    smallest that may, 0 for none; off: none may): 1 yes, 0 not now (a
    slot must free up first), -1 never (send the bytes). */
int pool_shared_admits (const pool_shared_t *self, size_t size, size_t min, bool off);
/*  Keeps the input by reference: with local (workers on this host may map
    it), a copy in a new memfd, which the data endpoint also serves; else
    only the data endpoint serves it, from input's own bytes (which must
    outlive the slot).  0 with *ref (PROTO_SHM_REF_SIZE bytes, valid until
    the slot is released), or <0 (send the bytes). */
int pool_shared_add (pool_shared_t *self, uint64_t index, pool_bytes_t input, bool local,
                     const uint8_t **ref);
/*  The reference of input index when it is still in shared memory. */
const uint8_t *pool_shared_ref (const pool_shared_t *self, uint64_t index);
/*  Closes input index's memfd, if it has one. */
void pool_shared_release (pool_shared_t *self, uint64_t index);
/*  The head or a worker sent input index back: it goes again as bytes.
    0, or POOL_ENOMEM. */
int pool_shared_bounce (pool_shared_t *self, uint64_t index);
/*  Whether shared memory is not paying: most inputs came back. */
bool pool_shared_futile (const pool_shared_t *self);

/*  Maps the output a worker wrote into input index's memfd (reference
    ref of size bytes) and releases the slot: 0 with *data, a mapping
    pool_values_release undoes (values.h), or <0 with a reason in why. */
int pool_shared_output (pool_shared_t *self, uint64_t index, const void *ref, size_t size,
                        pool_bytes_t *data, const char **why);
/*  The same for any memfd fd whose input reference is in_ref: 0 with
 *data, or <0 with why (fd stays open). */
int pool_shared_map_output (int fd, const uint8_t in_ref[PROTO_SHM_REF_SIZE],
                            const void *ref, size_t size, pool_bytes_t *data,
                            const char **why);

#endif
