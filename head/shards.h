/*  head/shards.h - where a block's bytes live: the head's own Redis, or
    one of several block servers (`--block-store URL,URL,...`).

    Without block servers every block is in the head's Redis (store.h), as
    before.  With them, a block goes to the server its name maps to by
    rendezvous hashing: each server scores the name with SipHash
    (crypto_shorthash, a fixed key) of its id || the block's hash, and the
    highest score wins.  A server's id is its URL without the password
    (redis://HOST:PORT[/DB] or unix:///PATH[?db=DB]), so the same list
    in any order places every block the same way, and adding a server
    moves only the blocks it now wins (about 1/n).  A big block's chunks
    stay with its name.  The bookkeeping (pools, nodes, holders, the
    unheld set) stays in the head's Redis; only the bytes move.

    Each block server is a connection of its own (a head_store_t, which
    re-opens a lost connection once per command).  A server that cannot
    be reached is not tried again for HEAD_SHARDS_RETRY_MS (doubling
    while it stays away, up to HEAD_SHARDS_RETRY_MAX_MS): commands
    meanwhile fail at once with its last error, so a dead server costs
    its blocks' requests, not the head's loop (a refused connection is
    immediate; an unreachable host costs store.c's connect timeout, 2 s,
    twice, at each retry).  Every failure names the server:
    "block store redis://127.0.0.1:6391 failed: ...".  Each block server
    keeps the names of its blocks in the set dcpool:blocks, which
    --status counts.
*/
#ifndef DCPOOL_HEAD_SHARDS_H
#define DCPOOL_HEAD_SHARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "msg.h"
#include "store.h"

typedef struct head_shards head_shards_t;

#define HEAD_SHARDS_MAX 64            /* block servers at most */
#define HEAD_SHARDS_RETRY_MS 1000     /* a failed server is left alone this long, */
#define HEAD_SHARDS_RETRY_MAX_MS 8000 /* doubling while it stays away, up to this */

/*  The blocks of the head's Redis store (borrowed: it outlives the
    result), spread over the servers of list (comma-separated URLs, the
    forms of --redis) when list is neither NULL nor "".  Every server must
    answer PING with its password.  NULL with error set ("block store
    redis://HOST:PORT does not answer: ...", or which URL is bad). */
head_shards_t *head_shards_new (head_store_t *store, const char *list, char *error,
                                size_t error_size);
void head_shards_destroy (head_shards_t **self);

/* How many block servers (0: the blocks are in the head's Redis). */
size_t head_shards_count (head_shards_t *self);
/*  Which server (index) the block named hash lives on; 0 without servers.
    Public for the unit test. */
size_t head_shards_pick (head_shards_t *self, const uint8_t hash[PROTO_HASH_SIZE]);
/* The id of server index (its URL without the password). */
const char *head_shards_name (head_shards_t *self, size_t index);
/*  The connection of server index (borrowed), for the cap's figures
    (store_limit.c); the head's Redis without servers. */
head_store_t *head_shards_store (head_shards_t *self, size_t index);

/* Stores a block unless it is there: 0 or -1. */
int head_shards_block_put (head_shards_t *self, const uint8_t hash[PROTO_HASH_SIZE],
                           const void *data, size_t size);
/* A fresh frame with the block, or NULL (missing: *missing set). */
zframe_t *head_shards_block_get (head_shards_t *self, const uint8_t hash[PROTO_HASH_SIZE],
                                 bool *missing);
/* Whether the block is stored: 0 and *exists, or -1. */
int head_shards_block_exists (head_shards_t *self, const uint8_t hash[PROTO_HASH_SIZE],
                              bool *exists);
/*  Deletes the block (hex: its hash in hex) with its chunks from the
    server it lives on: 0 (also when it was not there) or -1.  Without
    servers the sweep deletes in the head's Redis itself (holds.c). */
int head_shards_block_delete (head_shards_t *self, const char *hex);
/* The last error of the calls above, in words. */
const char *head_shards_error (head_shards_t *self);

/*  One line per block server for the status report: its id, used_memory
    and the number of blocks on it, or why it cannot say.  Nothing
    without servers. */
void head_shards_report (head_shards_t *self, FILE *out);

#endif
