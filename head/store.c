/*  head/store.c - Redis bookkeeping and block store (hiredis 0.14 API). */
#include "store.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct head_store {
    redisContext *ctx;
    char host[256];
    int port;
    char path[256]; /* unix socket, or "" */
    char password[256];
    int db;
    char error[256];
};

static void s_error (head_store_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_error (head_store_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (self->error, sizeof self->error, format, args);
    va_end (args);
}

/* Copies [start, end) into out[size]: 0, or -1 when it does not fit. */
static int
s_copy (char *out, size_t size, const char *start, const char *end)
{
    size_t len = (size_t)(end - start);
    if (len >= size)
        return -1;
    memcpy (out, start, len);
    out[len] = 0;
    return 0;
}

/*  A whole decimal number in [min, max] from [start, end): 0, or -1.
    (atoi took "6379abc" and overflowed on long digit strings.) */
static int
s_number (const char *start, const char *end, long min, long max, int *out)
{
    if (start >= end || end - start > 10)
        return -1;
    long value = 0;
    for (const char *p = start; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (*p - '0');
    }
    if (value < min || value > max)
        return -1;
    *out = (int)value;
    return 0;
}

int
head_store_url_parse (head_store_url_t *out, const char *url)
{
    memset (out, 0, sizeof *out);
    out->port = 6379;
    if (strncmp (url, "unix://", 7) == 0) {
        const char *path = url + 7;
        const char *query = strchr (path, '?');
        if (s_copy (out->path, sizeof out->path, path,
                    query ? query : path + strlen (path))
            || !out->path[0])
            return -1;
        while (query && *query) {
            query++;
            const char *amp = strchr (query, '&');
            const char *end = amp ? amp : query + strlen (query);
            if (strncmp (query, "password=", 9) == 0) {
                if (s_copy (out->password, sizeof out->password, query + 9, end))
                    return -1;
            } else if (strncmp (query, "db=", 3) == 0) {
                if (s_number (query + 3, end, 0, 1000000, &out->db))
                    return -1;
            }
            query = amp;
        }
        return 0;
    }
    if (strncmp (url, "redis://", 8) != 0)
        return -1;
    const char *rest = url + 8;
    const char *at = strrchr (rest, '@');
    if (at) {
        const char *colon = memchr (rest, ':', (size_t)(at - rest));
        const char *pw = colon ? colon + 1 : rest;
        if (s_copy (out->password, sizeof out->password, pw, at))
            return -1;
        rest = at + 1;
    }
    const char *slash = strchr (rest, '/');
    const char *hostend = slash ? slash : rest + strlen (rest);
    const char *colon = memchr (rest, ':', (size_t)(hostend - rest));
    if (s_copy (out->host, sizeof out->host, rest, colon ? colon : hostend)
        || !out->host[0])
        return -1;
    if (colon && s_number (colon + 1, hostend, 1, 65535, &out->port))
        return -1;
    if (slash && slash[1]
        && s_number (slash + 1, slash + 1 + strlen (slash + 1), 0, 1000000, &out->db))
        return -1;
    return 0;
}

static int
s_parse_url (head_store_t *self, const char *url)
{
    head_store_url_t parsed;
    int rc = head_store_url_parse (&parsed, url);
    if (rc == 0) {
        memcpy (self->host, parsed.host, sizeof self->host);
        memcpy (self->path, parsed.path, sizeof self->path);
        memcpy (self->password, parsed.password, sizeof self->password);
        self->port = parsed.port;
        self->db = parsed.db;
    }
    memset (parsed.password, 0, sizeof parsed.password);
    return rc;
}

/* Runs a command whose reply must not be an error; frees the reply. */
static int
s_simple (head_store_t *self, int argc, const char **argv, const size_t *lens)
{
    redisReply *reply = redisCommandArgv (self->ctx, argc, argv, lens);
    if (!reply) {
        s_error (self, "redis: %s", self->ctx->errstr);
        return -1;
    }
    int rc = reply->type == REDIS_REPLY_ERROR ? -1 : 0;
    if (rc)
        s_error (self, "redis: %s", reply->str);
    freeReplyObject (reply);
    return rc;
}

static int
s_connect (head_store_t *self)
{
    if (self->ctx) {
        redisFree (self->ctx);
        self->ctx = NULL;
    }
    struct timeval tv = { 2, 0 };
    self->ctx = self->path[0] ? redisConnectUnixWithTimeout (self->path, tv)
                              : redisConnectWithTimeout (self->host, self->port, tv);
    if (!self->ctx || self->ctx->err) {
        s_error (self, "cannot connect to redis: %s",
                 self->ctx ? self->ctx->errstr : "out of memory");
        goto fail;
    }
    struct timeval cmd = { 5, 0 };
    redisSetTimeout (self->ctx, cmd);
    if (self->password[0]) {
        const char *argv[] = { "AUTH", self->password };
        if (s_simple (self, 2, argv, NULL))
            goto fail;
    }
    if (self->db) {
        char db[16];
        snprintf (db, sizeof db, "%d", self->db);
        const char *argv[] = { "SELECT", db };
        if (s_simple (self, 2, argv, NULL))
            goto fail;
    }
    return 0;
fail:
    if (self->ctx)
        redisFree (self->ctx);
    self->ctx = NULL;
    return -1;
}

/* A reply to argv, reconnecting once when the connection is gone. */
static redisReply *
s_command (head_store_t *self, int argc, const char **argv, const size_t *lens)
{
    for (int tries = 0; tries < 2; tries++) {
        if (!self->ctx && s_connect (self))
            continue;
        redisReply *reply = redisCommandArgv (self->ctx, argc, argv, lens);
        if (reply) {
            if (reply->type == REDIS_REPLY_ERROR) {
                s_error (self, "redis: %s", reply->str);
                freeReplyObject (reply);
                return NULL;
            }
            return reply;
        }
        s_error (self, "redis: %s", self->ctx->errstr);
        redisFree (self->ctx);
        self->ctx = NULL;
    }
    return NULL;
}

struct redisReply *
head_store_command (head_store_t *self, int argc, const char **argv, const size_t *lens)
{
    return s_command (self, argc, argv, lens);
}

head_store_t *
head_store_new (const char *url, char *error, size_t error_size)
{
    head_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    if (!url || s_parse_url (self, url)) {
        snprintf (error, error_size,
                  "bad Redis URL (want redis://:PW@HOST:PORT/DB "
                  "or unix:///PATH?password=PW)");
        goto fail;
    }
    if (s_connect (self)) {
        snprintf (error, error_size, "%s", self->error);
        goto fail;
    }
    return self;
fail:
    head_store_destroy (&self);
    return NULL;
}

void
head_store_destroy (head_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    head_store_t *self = *self_p;
    if (self->ctx)
        redisFree (self->ctx);
    memset (self->password, 0, sizeof self->password);
    free (self);
    *self_p = NULL;
}

/*  Blocks up to HEAD_STORE_CHUNK bytes are one value, dcpool:block:<hex>.
    Larger ones are cut into chunks dcpool:chunk:<hex>:<i> and named by a
    manifest dcpool:chunked:<hex> = "<chunks>:<size>", written last, so no
    Redis value grows past a few MiB and a reader never sees half a block. */
#define HEAD_STORE_CHUNK (4u << 20)

int
head_store_block_put (head_store_t *self, const uint8_t hash[PROTO_HASH_SIZE],
                      const void *data, size_t size)
{
    char hex[2 * PROTO_HASH_SIZE + 1];
    proto_hash_hex (hash, hex);
    char key[96];
    if (size <= HEAD_STORE_CHUNK) {
        snprintf (key, sizeof key, "dcpool:block:%s", hex);
        const char *argv[] = { "SET", key, data, "NX" };
        size_t lens[] = { 3, strlen (key), size, 2 };
        redisReply *reply = s_command (self, 4, argv, lens);
        if (!reply)
            return -1;
        freeReplyObject (reply);
        return 0;
    }
    snprintf (key, sizeof key, "dcpool:chunked:%s", hex);
    const char *exists[] = { "EXISTS", key };
    redisReply *reply = s_command (self, 2, exists, NULL);
    if (!reply)
        return -1;
    bool there = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
    freeReplyObject (reply);
    if (there)
        return 0;
    size_t chunks = (size + HEAD_STORE_CHUNK - 1) / HEAD_STORE_CHUNK;
    for (size_t i = 0; i < chunks; i++) {
        char chunk_key[112];
        snprintf (chunk_key, sizeof chunk_key, "dcpool:chunk:%s:%zu", hex, i);
        size_t off = i * HEAD_STORE_CHUNK;
        size_t len = size - off < HEAD_STORE_CHUNK ? size - off : HEAD_STORE_CHUNK;
        const char *argv[] = { "SET", chunk_key, (const char *)data + off };
        size_t lens[] = { 3, strlen (chunk_key), len };
        reply = s_command (self, 3, argv, lens);
        if (!reply) {
            /* No chunk without its manifest stays behind (Redis full). */
            for (size_t j = 0; j < i; j++) {
                snprintf (chunk_key, sizeof chunk_key, "dcpool:chunk:%s:%zu", hex, j);
                const char *del[] = { "DEL", chunk_key };
                char saved[sizeof self->error];
                memcpy (saved, self->error, sizeof saved);
                redisReply *gone = s_command (self, 2, del, NULL);
                memcpy (self->error, saved, sizeof saved);
                if (gone)
                    freeReplyObject (gone);
            }
            return -1;
        }
        freeReplyObject (reply);
    }
    char manifest[64];
    snprintf (manifest, sizeof manifest, "%zu:%zu", chunks, size);
    const char *argv[] = { "SET", key, manifest };
    reply = s_command (self, 3, argv, NULL);
    if (!reply)
        return -1;
    freeReplyObject (reply);
    return 0;
}

zframe_t *
head_store_block_get (head_store_t *self, const uint8_t hash[PROTO_HASH_SIZE],
                      bool *missing)
{
    *missing = false;
    char hex[2 * PROTO_HASH_SIZE + 1];
    proto_hash_hex (hash, hex);
    char key[96];
    snprintf (key, sizeof key, "dcpool:block:%s", hex);
    const char *argv[] = { "GET", key };
    redisReply *reply = s_command (self, 2, argv, NULL);
    if (!reply)
        return NULL;
    zframe_t *frame = NULL;
    if (reply->type == REDIS_REPLY_STRING) {
        frame = zframe_new (reply->str, reply->len);
        freeReplyObject (reply);
        return frame;
    }
    freeReplyObject (reply);
    snprintf (key, sizeof key, "dcpool:chunked:%s", hex);
    reply = s_command (self, 2, argv, NULL);
    if (!reply)
        return NULL;
    size_t chunks = 0, size = 0;
    if (reply->type != REDIS_REPLY_STRING
        || sscanf (reply->str, "%zu:%zu", &chunks, &size) != 2
        || chunks != (size + HEAD_STORE_CHUNK - 1) / HEAD_STORE_CHUNK) {
        freeReplyObject (reply);
        *missing = true;
        s_error (self, "no such block");
        return NULL;
    }
    freeReplyObject (reply);
    frame = zframe_new (NULL, size);
    if (!frame) {
        s_error (self, "out of memory for a %zu-byte block", size);
        return NULL;
    }
    for (size_t i = 0; i < chunks; i++) {
        char chunk_key[112];
        snprintf (chunk_key, sizeof chunk_key, "dcpool:chunk:%s:%zu", hex, i);
        const char *get[] = { "GET", chunk_key };
        reply = s_command (self, 2, get, NULL);
        size_t off = i * HEAD_STORE_CHUNK;
        size_t len = size - off < HEAD_STORE_CHUNK ? size - off : HEAD_STORE_CHUNK;
        if (!reply || reply->type != REDIS_REPLY_STRING || reply->len != len) {
            if (reply)
                freeReplyObject (reply);
            s_error (self, "chunk %zu of block %s is missing or damaged", i, hex);
            zframe_destroy (&frame);
            return NULL;
        }
        memcpy (zframe_data (frame) + off, reply->str, len);
        freeReplyObject (reply);
    }
    return frame;
}

uint64_t
head_store_next_pool_id (head_store_t *self)
{
    const char *argv[] = { "INCR", "dcpool:pool-seq" };
    redisReply *reply = s_command (self, 2, argv, NULL);
    if (!reply)
        return 0;
    uint64_t id = reply->type == REDIS_REPLY_INTEGER && reply->integer > 0
                      ? (uint64_t)reply->integer
                      : 0;
    freeReplyObject (reply);
    return id;
}

static int
s_run (head_store_t *self, int argc, const char **argv)
{
    redisReply *reply = s_command (self, argc, argv, NULL);
    if (!reply)
        return -1;
    freeReplyObject (reply);
    return 0;
}

int
head_store_pool_save (head_store_t *self, uint64_t pool, const char *name,
                      const char *client)
{
    char key[64];
    snprintf (key, sizeof key, "dcpool:pool:%llu", (unsigned long long)pool);
    const char *argv[] = { "HSET", key, "name", name, "client", client };
    return s_run (self, 6, argv);
}

int
head_store_pool_forget (head_store_t *self, uint64_t pool)
{
    char key[64];
    snprintf (key, sizeof key, "dcpool:pool:%llu", (unsigned long long)pool);
    const char *argv[] = { "DEL", key };
    return s_run (self, 2, argv);
}

int
head_store_node_save (head_store_t *self, const char *node, const char *host)
{
    const char *argv[] = { "HSET", "dcpool:nodes", node, host };
    return s_run (self, 4, argv);
}

int
head_store_node_forget (head_store_t *self, const char *node)
{
    const char *argv[] = { "HDEL", "dcpool:nodes", node };
    return s_run (self, 3, argv);
}

const char *
head_store_error (head_store_t *self)
{
    return self->error;
}
