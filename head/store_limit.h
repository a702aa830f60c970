/*  head/store_limit.h - the block store's cap (--store-max-memory).

    A put that would take the Redis that holds blocks past the cap is
    refused (with block servers, --block-store, the cap is on each of
    them: the block's own server counts) with PROTO_CODE_ENOSPACE and the figures ("block
   store full: 1.9 GiB used of 2.0 GiB, this block needs 64 MiB (start_node
    --store-max-memory)"); nothing is ever evicted to make room.  What is
    used is Redis's own figure, INFO memory's used_memory, read at most
    every HEAD_STORE_LIMIT_REFRESH_MS; between two reads the bytes put
    since are added to the last one, so a burst of puts cannot overrun the
    cap while the figure is stale.  A put refused on that estimate reads
    the figure again first (once per refresh period at most), so deletes
    swept since count at once.  Redis's own limit (the managed one runs
    with maxmemory a little above the cap and noeviction) is the backstop:
    its OOM error reply is ENOSPACE too (head_store_limit_is_oom).
*/
#ifndef DCPOOL_HEAD_STORE_LIMIT_H
#define DCPOOL_HEAD_STORE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "head.h"
#include "store.h"

#define HEAD_STORE_LIMIT_REFRESH_MS 100

typedef struct head_store_limit head_store_limit_t;

/*  A cap of max_bytes (0: no cap, only the figures) on store (borrowed).
    NULL when out of memory. */
head_store_limit_t *head_store_limit_new (head_store_t *store, uint64_t max_bytes);
void head_store_limit_destroy (head_store_limit_t **self);

/*  Whether size more bytes fit: 0; PROTO_CODE_ENOSPACE with the figures
    in error when they do not; PROTO_CODE_EIO with the reason when Redis
    cannot say what it uses. */
int head_store_limit_check (head_store_limit_t *self, size_t size, char *error,
                            size_t error_size);
/*  A put of size bytes went in: counted until the next read. */
void head_store_limit_added (head_store_limit_t *self, size_t size);

/*  The bytes used as last known (read now when stale): 0, or -1 when
    Redis cannot say (head_store_error). */
int head_store_limit_used (head_store_limit_t *self, uint64_t *used);
/* The cap in bytes; 0: none. */
uint64_t head_store_limit_max (head_store_limit_t *self);

/*  True when a failed store command's error (head_store_error) is Redis
    refusing to grow ("OOM command not allowed when used memory >
    'maxmemory'"): the caller answers ENOSPACE, not EIO. */
bool head_store_limit_is_oom (const char *store_error);

/*  The text of ENOSPACE for a put past the cap into error: the figures
    as last known. */
void head_store_limit_full_text (head_store_limit_t *self, size_t size, char *error,
                                 size_t error_size);

/*  The head's cap, from its config: on the head's Redis
    (head->store_limit) and, with block servers (head->shards, made
    first), on each of them (head->server_limits), since they hold the
    bytes.  0, or -1 with the reason in error (out of memory; a store
    cannot say how much it uses; one already uses more than the cap,
    unless the head was restarted by start_node (config.restarted: then
    a warning): the head does not start).  head_store_limit_stop frees
    what it made, also after a failed start. */
int head_store_limit_start (head_t *head, char *error, size_t error_size);
void head_store_limit_stop (head_t *head);

/*  Stores a block (head_shards_block_put: in the Redis its name maps
    to) if it fits under that Redis's cap: 0; PROTO_CODE_ENOSPACE (the cap, or Redis's own
   OOM) or PROTO_CODE_EIO, with the reason in error. */
int head_store_limit_put (head_t *head, const uint8_t hash[PROTO_HASH_SIZE],
                          const void *data, size_t size, char *error, size_t error_size);

/*  The store's figures for start_node --status: blocks stored (block
    keys and chunked manifests, counted by SCAN, at most
    HEAD_STORE_LIMIT_SCAN_ROUNDS rounds of 1000 keys: *more set when it
    stopped short) and how many wait for their grace, unheld.  0, or -1
    (head_store_error). */
#define HEAD_STORE_LIMIT_SCAN_ROUNDS 200
int head_store_limit_count (head_t *head, uint64_t *blocks, uint64_t *unheld, bool *more);

#endif
