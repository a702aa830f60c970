/*  head/store_limit.c - the block store's cap (store_limit.h). */
#include "store_limit.h"

#include <czmq.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "codes.h"
#include "shards.h"

/*  What a put of size bytes may cost Redis at most, for the estimate
    between two reads: jemalloc rounds a value up to its size class (at
    most a quarter more: four classes per doubling), and a key has its
    dict entry, object and header besides.  Over-counting is corrected
    by the next read; under-counting would let a burst of puts pass the
    cap. */
static uint64_t
s_cost (size_t size)
{
    return (uint64_t)size + (uint64_t)size / 4 + 1024;
}

struct head_store_limit {
    head_store_t *store;
    uint64_t max;
    uint64_t read;   /* used_memory at the last read */
    uint64_t since;  /* what the puts since cost (s_cost) */
    int64_t read_at; /* zclock_mono of the last read; 0: never */
};

head_store_limit_t *
head_store_limit_new (head_store_t *store, uint64_t max_bytes)
{
    head_store_limit_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->max = max_bytes;
    return self;
}

void
head_store_limit_destroy (head_store_limit_t **self)
{
    if (!self || !*self)
        return;
    free (*self);
    *self = NULL;
}

/*  Reads used_memory from INFO memory: 0, or -1 (head_store_error). */
static int
s_read (head_store_limit_t *self)
{
    const char *argv[] = { "INFO", "memory" };
    struct redisReply *reply = head_store_command (self->store, 2, argv, NULL);
    if (!reply)
        return -1;
    const char *line
        = reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS
              ? strstr (reply->str, "used_memory:")
              : NULL;
    unsigned long long used = 0;
    int rc = line && sscanf (line, "used_memory:%llu", &used) == 1 ? 0 : -1;
    freeReplyObject (reply);
    if (rc)
        return -1;
    self->read = used;
    self->since = 0;
    self->read_at = zclock_mono ();
    return 0;
}

int
head_store_limit_used (head_store_limit_t *self, uint64_t *used)
{
    if (!self->read_at || zclock_mono () - self->read_at >= HEAD_STORE_LIMIT_REFRESH_MS)
        if (s_read (self))
            return -1;
    *used = self->read + self->since;
    return 0;
}

uint64_t
head_store_limit_max (head_store_limit_t *self)
{
    return self->max;
}

void
head_store_limit_full_text (head_store_limit_t *self, size_t size, char *error,
                            size_t error_size)
{
    char used[32] = "?", max[32] = "?", need[32];
    if (self->read_at)
        proto_bytes_text (self->read + self->since, used, sizeof used);
    if (self->max)
        proto_bytes_text (self->max, max, sizeof max);
    proto_bytes_text (size, need, sizeof need);
    snprintf (error, error_size,
              "block store full: %s used of %s, this block needs %s "
              "(start_node --store-max-memory)",
              used, max, need);
}

int
head_store_limit_check (head_store_limit_t *self, size_t size, char *error,
                        size_t error_size)
{
    if (!self->max)
        return 0;
    uint64_t used = 0;
    if (head_store_limit_used (self, &used)) {
        snprintf (error, error_size, "cannot read the block store's memory: %s",
                  head_store_error (self->store));
        return PROTO_CODE_EIO;
    }
    uint64_t need = s_cost (size);
    if (used + need > self->max && self->since) {
        /* An estimate: what was put since the last read may have been
           there already, and the sweep may have freed room. */
        if (s_read (self)) {
            snprintf (error, error_size, "cannot read the block store's memory: %s",
                      head_store_error (self->store));
            return PROTO_CODE_EIO;
        }
        used = self->read;
    }
    if (used + need <= self->max)
        return 0;
    head_store_limit_full_text (self, size, error, error_size);
    return PROTO_CODE_ENOSPACE;
}

void
head_store_limit_added (head_store_limit_t *self, size_t size)
{
    self->since += s_cost (size);
}

bool
head_store_limit_is_oom (const char *store_error)
{
    return store_error && strstr (store_error, "OOM ") != NULL;
}

/*  Checks one store's figures against the cap at start: 0, or -1 with
    the reason in error.  name: the block server's id, or "" for the
    head's own Redis. */
static int
s_start_one (head_t *head, head_store_limit_t *limit, const char *name, char *error,
             size_t error_size)
{
    char where[400] = "the block store";
    if (*name)
        snprintf (where, sizeof where, "block store %s", name);
    uint64_t used = 0;
    if (head_store_limit_used (limit, &used)) {
        snprintf (error, error_size, "cannot read %s's memory: %s", where,
                  head_store_error (limit->store));
        return -1;
    }
    uint64_t max = head->config.store_max_memory;
    char used_text[32], max_text[32];
    proto_bytes_text (used, used_text, sizeof used_text);
    proto_bytes_text (max, max_text, sizeof max_text);
    if (max && used >= max && !head->config.restarted) {
        snprintf (error, error_size,
                  "--store-max-memory %s is below what %s already uses "
                  "(%s): give more, or delete blocks first",
                  max_text, where, used_text);
        return -1;
    }
    if (max && used >= max)
        zsys_warning ("pool-head: %s uses %s, past its cap of %s: puts "
                      "are refused until blocks are deleted",
                      where, used_text, max_text);
    if (max)
        zsys_info ("pool-head: %s: %s used of %s (--store-max-memory)", where, used_text,
                   max_text);
    return 0;
}

int
head_store_limit_start (head_t *head, char *error, size_t error_size)
{
    uint64_t max = head->config.store_max_memory;
    head->store_limit = head_store_limit_new (head->store, max);
    if (!head->store_limit) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    size_t servers = head_shards_count (head->shards);
    if (servers == 0)
        return s_start_one (head, head->store_limit, "", error, error_size);
    /* With block servers the head's Redis keeps only the bookkeeping:
       the cap is on each block server, which holds the bytes. */
    head->server_limits = calloc (servers, sizeof *head->server_limits);
    if (!head->server_limits) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < servers; i++) {
        head->server_limits[i]
            = head_store_limit_new (head_shards_store (head->shards, i), max);
        if (!head->server_limits[i]) {
            snprintf (error, error_size, "out of memory");
            return -1;
        }
        if (s_start_one (head, head->server_limits[i], head_shards_name (head->shards, i),
                         error, error_size))
            return -1;
    }
    return 0;
}

void
head_store_limit_stop (head_t *head)
{
    if (head->server_limits) {
        size_t servers = head->shards ? head_shards_count (head->shards) : 0;
        for (size_t i = 0; i < servers; i++)
            head_store_limit_destroy (&head->server_limits[i]);
        free (head->server_limits);
        head->server_limits = NULL;
    }
    head_store_limit_destroy (&head->store_limit);
}

/*  The cap the block named hash counts against (that of the Redis it
    lives in) and, with block servers, the server's id in *name ("" for
    the head's Redis). */
static head_store_limit_t *
s_limit_of (head_t *head, const uint8_t hash[PROTO_HASH_SIZE], const char **name)
{
    *name = "";
    if (head_shards_count (head->shards) == 0)
        return head->store_limit;
    size_t index = head_shards_pick (head->shards, hash);
    *name = head_shards_name (head->shards, index);
    return head->server_limits[index];
}

int
head_store_limit_put (head_t *head, const uint8_t hash[PROTO_HASH_SIZE], const void *data,
                      size_t size, char *error, size_t error_size)
{
    const char *name;
    head_store_limit_t *self = s_limit_of (head, hash, &name);
    int rc = head_store_limit_check (self, size, error, error_size);
    bool there = false;
    if (rc == PROTO_CODE_ENOSPACE
        && head_shards_block_exists (head->shards, hash, &there) == 0 && there)
        return 0; /* there already: a put costs nothing (a library
                     reopened, a result computed again) */
    if (rc == PROTO_CODE_EIO && *name) {
        char why[512];
        snprintf (why, sizeof why, "%s", error);
        snprintf (error, error_size, "block store %s failed: %s", name, why);
    }
    if (rc)
        return rc;
    if (head_shards_block_put (head->shards, hash, data, size) == 0) {
        head_store_limit_added (self, size);
        return 0;
    }
    const char *why = head_shards_error (head->shards);
    if (head_store_limit_is_oom (why)) {
        /* Redis's maxmemory came first (the store is shared with
           something else, or the figure was stale): the same answer. */
        char used[32] = "?", need[32];
        if (self->read_at)
            proto_bytes_text (self->read + self->since, used, sizeof used);
        snprintf (error, error_size,
                  "block store full: Redis is at its maxmemory (%s used), this block "
                  "needs %s (%s)",
                  used, proto_bytes_text (size, need, sizeof need), why);
        return PROTO_CODE_ENOSPACE;
    }
    snprintf (error, error_size, "%s", why);
    return PROTO_CODE_EIO;
}

int
head_store_limit_count (head_t *head, uint64_t *blocks, uint64_t *unheld, bool *more)
{
    *blocks = *unheld = 0;
    *more = false;
    const char *zcard[] = { "ZCARD", "dcpool:unheld" };
    struct redisReply *reply = head_store_command (head->store, 2, zcard, NULL);
    if (!reply)
        return -1;
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
        *unheld = (uint64_t)reply->integer;
    freeReplyObject (reply);
    /* Two key shapes name a block (store.c): dcpool:block:<hex> and the
       manifest dcpool:chunked:<hex>; "dcpool:[bc]h*" would take chunks. */
    static const char *patterns[] = { "dcpool:block:*", "dcpool:chunked:*" };
    for (size_t p = 0; p < 2; p++) {
        char cursor[32] = "0";
        int rounds = 0;
        do {
            if (++rounds > HEAD_STORE_LIMIT_SCAN_ROUNDS) {
                *more = true;
                break;
            }
            const char *argv[]
                = { "SCAN", cursor, "MATCH", patterns[p], "COUNT", "1000" };
            reply = head_store_command (head->store, 6, argv, NULL);
            if (!reply)
                return -1;
            bool ok = reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
                      && reply->element[0]->type == REDIS_REPLY_STRING
                      && reply->element[1]->type == REDIS_REPLY_ARRAY;
            if (ok) {
                snprintf (cursor, sizeof cursor, "%s", reply->element[0]->str);
                *blocks += reply->element[1]->elements;
            }
            freeReplyObject (reply);
            if (!ok)
                return -1;
        } while (strcmp (cursor, "0") != 0);
    }
    return 0;
}
