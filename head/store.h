/*  head/store.h - the head's Redis: bookkeeping and the block store.

    Only the head talks to Redis.  Blocks are immutable byte strings named
    by their BLAKE2b-256 hash (dcpool:block:<hex>, or dcpool:chunked:<hex>
    and its dcpool:chunk:<hex>:<i> when big); pools and nodes are
    recorded as hashes so `redis-cli` shows what the cluster holds.  Who
    holds which block, and when an unheld block goes, is kept here too,
    by holds.c (its keys are listed there).  A lost
    connection is re-opened on the next command; a command that still fails
    returns -1 and the caller answers its peer with an error.
*/
#ifndef DCPOOL_HEAD_STORE_H
#define DCPOOL_HEAD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>
#include "msg.h"

typedef struct head_store head_store_t;

/*  url: redis://[:PASSWORD@]HOST[:PORT][/DB] or
    unix:///PATH[?password=PASSWORD][&db=DB].  NULL and error set when the
    URL is bad or Redis does not answer. */
head_store_t *head_store_new (const char *url, char *error, size_t error_size);

/*  The parts of such a URL.  head_store_url_parse: 0, or -1 when url is
    not one (a field too long, a port or db that is not a number in range).
    Used by head_store_new; public for the fuzz target. */
typedef struct {
    char host[256];
    int port;       /* 6379 unless given */
    char path[256]; /* unix socket, or "" */
    char password[256];
    int db;
} head_store_url_t;
int head_store_url_parse (head_store_url_t *out, const char *url);
void head_store_destroy (head_store_t **self);

/* Stores a block unless it is there: 0 or -1. */
int head_store_block_put (head_store_t *self, const uint8_t hash[PROTO_HASH_SIZE],
                          const void *data, size_t size);
/* A fresh frame with the block, or NULL (missing: *missing set). */
zframe_t *head_store_block_get (head_store_t *self, const uint8_t hash[PROTO_HASH_SIZE],
                                bool *missing);
/* The next pool id (INCR): >0, or 0 when Redis failed. */
uint64_t head_store_next_pool_id (head_store_t *self);
/* Records or forgets a pool or a node: 0 or -1. */
int head_store_pool_save (head_store_t *self, uint64_t pool, const char *name,
                          const char *client);
int head_store_pool_forget (head_store_t *self, uint64_t pool);
int head_store_node_save (head_store_t *self, const char *node, const char *host);
int head_store_node_forget (head_store_t *self, const char *node);
/* The last error in words. */
const char *head_store_error (head_store_t *self);

/*  A command whose reply is not an error (freeReplyObject it), or NULL
    with the error set; the connection is re-opened once when lost.  For
    the other files of the head that keep records here (holds.c). */
struct redisReply;
struct redisReply *head_store_command (head_store_t *self, int argc, const char **argv,
                                       const size_t *lens);

#endif
