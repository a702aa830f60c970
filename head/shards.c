/*  head/shards.c - block servers and rendezvous placement (shards.h). */
#include "shards.h"

#include <hiredis/hiredis.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* One block server: its connection, its id, and when it may be tried again. */
typedef struct {
    head_store_t *store;
    char name[300];
    int64_t retry_at;   /* zclock_mono ms; 0: try at once */
    int64_t backoff_ms; /* the pause after its last failure; 0: none */
    char failure[256];  /* its last connection failure */
} s_server_t;

struct head_shards {
    head_store_t *store; /* the head's Redis: the blocks when count is 0 */
    size_t count;
    s_server_t servers[HEAD_SHARDS_MAX];
    char error[512];
};

/* The fixed key of the placement hash: changing it moves every block. */
static const unsigned char s_key[crypto_shorthash_KEYBYTES] = "dcpool-shards-v1";

/*  A block's bytes and its chunks off a block server, and its name out of
    dcpool:blocks (store.c's layout, as in holds.c's sweep). */
static const char *s_delete_script
    = "local h = ARGV[1]\n"
      "local n = redis.call('DEL', 'dcpool:block:' .. h)\n"
      "local m = redis.call('GET', 'dcpool:chunked:' .. h)\n"
      "if m then\n"
      "  local chunks = tonumber (string.match (m, '^(%d+):')) or 0\n"
      "  for i = 0, chunks - 1 do\n"
      "    redis.call('DEL', 'dcpool:chunk:' .. h .. ':' .. i)\n"
      "  end\n"
      "  n = n + redis.call('DEL', 'dcpool:chunked:' .. h)\n"
      "end\n"
      "redis.call('SREM', 'dcpool:blocks', h)\n"
      "return n\n";

static void s_error (head_shards_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_error (head_shards_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (self->error, sizeof self->error, format, args);
    va_end (args);
}

/*  url as it may be shown: what lies between "://" and the last '@', and
    a password= value, replaced by "***". */
static void
s_redact (const char *url, char *out, size_t size)
{
    snprintf (out, size, "%s", url);
    char *scheme = strstr (out, "://");
    char *at = strrchr (out, '@');
    if (scheme && at && at > scheme + 3) {
        char rest[600];
        snprintf (rest, sizeof rest, "%s", at);
        snprintf (scheme + 3, size - (size_t)(scheme + 3 - out), "***%s", rest);
    }
    char *pw = strstr (out, "password=");
    if (pw) {
        char rest[600];
        const char *amp = strchr (pw, '&');
        snprintf (rest, sizeof rest, "%s", amp ? amp : "");
        snprintf (pw + 9, size - (size_t)(pw + 9 - out), "***%s", rest);
    }
}

/* The id of a parsed URL: the URL without its password, port always. */
static void
s_name (const head_store_url_t *url, char *out, size_t size)
{
    if (url->path[0]) {
        if (url->db)
            snprintf (out, size, "unix://%s?db=%d", url->path, url->db);
        else
            snprintf (out, size, "unix://%s", url->path);
    } else if (url->db)
        snprintf (out, size, "redis://%s:%d/%d", url->host, url->port, url->db);
    else
        snprintf (out, size, "redis://%s:%d", url->host, url->port);
}

/*  Opens the block server of url as servers[count]: 0, or -1 with the
    error set. */
static int
s_open (head_shards_t *self, const char *url)
{
    char shown[600];
    s_redact (url, shown, sizeof shown);
    if (!*url) {
        s_error (self, "bad --block-store: an empty URL in the list");
        return -1;
    }
    if (self->count >= HEAD_SHARDS_MAX) {
        s_error (self, "bad --block-store: more than %d block servers", HEAD_SHARDS_MAX);
        return -1;
    }
    head_store_url_t parsed;
    int rc = head_store_url_parse (&parsed, url);
    s_server_t *server = &self->servers[self->count];
    if (rc == 0)
        s_name (&parsed, server->name, sizeof server->name);
    sodium_memzero (parsed.password, sizeof parsed.password);
    if (rc) {
        s_error (self,
                 "bad --block-store URL '%s' (want redis://:PW@HOST:PORT/DB "
                 "or unix:///PATH?password=PW)",
                 shown);
        return -1;
    }
    for (size_t i = 0; i < self->count; i++)
        if (streq (self->servers[i].name, server->name)) {
            s_error (self, "bad --block-store: %s is in the list twice", server->name);
            return -1;
        }
    char error[256];
    server->store = head_store_new (url, error, sizeof error);
    if (!server->store) {
        s_error (self, "block store %s does not answer: %s", server->name, error);
        return -1;
    }
    self->count++;
    const char *ping[] = { "PING" };
    redisReply *reply = head_store_command (server->store, 1, ping, NULL);
    if (!reply) {
        s_error (self, "block store %s does not answer: %s", server->name,
                 head_store_error (server->store));
        return -1;
    }
    freeReplyObject (reply);
    return 0;
}

head_shards_t *
head_shards_new (head_store_t *store, const char *list, char *error, size_t error_size)
{
    head_shards_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->store = store;
    if (!list || !*list)
        return self;
    char *copy = strdup (list);
    if (!copy) {
        snprintf (error, error_size, "out of memory");
        goto fail;
    }
    int rc = 0;
    char *item = copy;
    while (rc == 0) {
        char *comma = strchr (item, ',');
        if (comma)
            *comma = 0;
        rc = s_open (self, item);
        if (!comma)
            break;
        item = comma + 1;
    }
    sodium_memzero (copy, strlen (list));
    free (copy);
    if (rc == 0) {
        for (size_t i = 0; i < self->count; i++)
            zsys_info ("pool-head: block server %zu of %zu: %s", i + 1, self->count,
                       self->servers[i].name);
        return self;
    }
    snprintf (error, error_size, "%s", self->error);
fail:
    head_shards_destroy (&self);
    return NULL;
}

void
head_shards_destroy (head_shards_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    head_shards_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        head_store_destroy (&self->servers[i].store);
    free (self);
    *self_p = NULL;
}

size_t
head_shards_count (head_shards_t *self)
{
    return self->count;
}

size_t
head_shards_pick (head_shards_t *self, const uint8_t hash[PROTO_HASH_SIZE])
{
    size_t best = 0;
    uint64_t best_score = 0;
    for (size_t i = 0; i < self->count; i++) {
        unsigned char in[sizeof self->servers[i].name + PROTO_HASH_SIZE];
        size_t len = strlen (self->servers[i].name);
        memcpy (in, self->servers[i].name, len);
        memcpy (in + len, hash, PROTO_HASH_SIZE);
        unsigned char out[crypto_shorthash_BYTES];
        crypto_shorthash (out, in, len + PROTO_HASH_SIZE, s_key);
        uint64_t score = 0;
        for (size_t b = 0; b < crypto_shorthash_BYTES; b++)
            score = score << 8 | out[b];
        if (i == 0 || score > best_score) {
            best = i;
            best_score = score;
        }
    }
    return best;
}

const char *
head_shards_name (head_shards_t *self, size_t index)
{
    return index < self->count ? self->servers[index].name : "";
}

head_store_t *
head_shards_store (head_shards_t *self, size_t index)
{
    return index < self->count ? self->servers[index].store : self->store;
}

/*  The store the block lives in, or NULL (error set) when it is a block
    server that failed less than HEAD_SHARDS_RETRY_MS ago. */
static head_store_t *
s_target (head_shards_t *self, const uint8_t hash[PROTO_HASH_SIZE], s_server_t **server)
{
    *server = NULL;
    if (self->count == 0)
        return self->store;
    *server = &self->servers[head_shards_pick (self, hash)];
    if ((*server)->retry_at && zclock_mono () < (*server)->retry_at) {
        s_error (self, "block store %s failed: %s", (*server)->name, (*server)->failure);
        return NULL;
    }
    return (*server)->store;
}

/*  A server that cannot be reached (store.c says "cannot connect" when
    its second try could not open a connection, not for an error reply)
    is left alone for a while: HEAD_SHARDS_RETRY_MS, doubling while it
    stays away, at most HEAD_SHARDS_RETRY_MAX_MS. */
static void
s_unreachable (s_server_t *server, const char *why)
{
    if (strncmp (why, "cannot connect", 14) != 0)
        return;
    snprintf (server->failure, sizeof server->failure, "%s", why);
    server->backoff_ms
        = server->backoff_ms ? server->backoff_ms * 2 : HEAD_SHARDS_RETRY_MS;
    if (server->backoff_ms > HEAD_SHARDS_RETRY_MAX_MS)
        server->backoff_ms = HEAD_SHARDS_RETRY_MAX_MS;
    server->retry_at = zclock_mono () + server->backoff_ms;
}

/* After a command on target failed: the error names the server. */
static void
s_failed (head_shards_t *self, head_store_t *target, s_server_t *server)
{
    const char *why = head_store_error (target);
    if (!server) {
        s_error (self, "%s", why);
        return;
    }
    s_unreachable (server, why);
    s_error (self, "block store %s failed: %s", server->name, why);
}

/* A server that answered is tried at once next time. */
static void
s_answered (s_server_t *server)
{
    if (server)
        server->retry_at = server->backoff_ms = 0;
}

int
head_shards_block_put (head_shards_t *self, const uint8_t hash[PROTO_HASH_SIZE],
                       const void *data, size_t size)
{
    s_server_t *server;
    head_store_t *target = s_target (self, hash, &server);
    if (!target)
        return -1;
    if (head_store_block_put (target, hash, data, size)) {
        s_failed (self, target, server);
        return -1;
    }
    if (server) {
        char hex[2 * PROTO_HASH_SIZE + 1];
        proto_hash_hex (hash, hex);
        const char *argv[] = { "SADD", "dcpool:blocks", hex };
        redisReply *reply = head_store_command (target, 3, argv, NULL);
        if (!reply) {
            s_failed (self, target, server);
            return -1;
        }
        freeReplyObject (reply);
    }
    s_answered (server);
    return 0;
}

zframe_t *
head_shards_block_get (head_shards_t *self, const uint8_t hash[PROTO_HASH_SIZE],
                       bool *missing)
{
    *missing = false;
    s_server_t *server;
    head_store_t *target = s_target (self, hash, &server);
    if (!target)
        return NULL;
    zframe_t *frame = head_store_block_get (target, hash, missing);
    if (!frame && !*missing) {
        s_failed (self, target, server);
        return NULL;
    }
    s_answered (server);
    if (!frame)
        s_error (self, "no such block");
    return frame;
}

int
head_shards_block_exists (head_shards_t *self, const uint8_t hash[PROTO_HASH_SIZE],
                          bool *exists)
{
    *exists = false;
    s_server_t *server;
    head_store_t *target = s_target (self, hash, &server);
    if (!target)
        return -1;
    char hex[2 * PROTO_HASH_SIZE + 1], block[96], chunked[96];
    proto_hash_hex (hash, hex);
    snprintf (block, sizeof block, "dcpool:block:%s", hex);
    snprintf (chunked, sizeof chunked, "dcpool:chunked:%s", hex);
    const char *argv[] = { "EXISTS", block, chunked };
    redisReply *reply = head_store_command (target, 3, argv, NULL);
    if (!reply) {
        s_failed (self, target, server);
        return -1;
    }
    *exists = reply->type == REDIS_REPLY_INTEGER && reply->integer > 0;
    freeReplyObject (reply);
    s_answered (server);
    return 0;
}

int
head_shards_block_delete (head_shards_t *self, const char *hex)
{
    uint8_t hash[PROTO_HASH_SIZE];
    if (strlen (hex) != 2 * PROTO_HASH_SIZE
        || sodium_hex2bin (hash, sizeof hash, hex, strlen (hex), NULL, NULL, NULL)) {
        s_error (self, "'%s' is not a block name", hex);
        return -1;
    }
    s_server_t *server;
    head_store_t *target = s_target (self, hash, &server);
    if (!target)
        return -1;
    const char *argv[] = { "EVAL", s_delete_script, "0", hex };
    redisReply *reply = head_store_command (target, 4, argv, NULL);
    if (!reply) {
        s_failed (self, target, server);
        return -1;
    }
    freeReplyObject (reply);
    s_answered (server);
    return 0;
}

const char *
head_shards_error (head_shards_t *self)
{
    return self->error;
}

/* A number after field in an INFO reply, or -1. */
static long long
s_info_field (const char *info, const char *field)
{
    const char *at = strstr (info, field);
    return at ? atoll (at + strlen (field)) : -1;
}

void
head_shards_report (head_shards_t *self, FILE *out)
{
    for (size_t i = 0; i < self->count; i++) {
        s_server_t *server = &self->servers[i];
        if (server->retry_at && zclock_mono () < server->retry_at) {
            fprintf (out, "block server %s: failed: %s\n", server->name, server->failure);
            continue;
        }
        const char *info[] = { "INFO", "memory" };
        const char *card[] = { "SCARD", "dcpool:blocks" };
        redisReply *memory = head_store_command (server->store, 2, info, NULL);
        redisReply *blocks
            = memory ? head_store_command (server->store, 2, card, NULL) : NULL;
        if (!memory || !blocks) {
            const char *why = head_store_error (server->store);
            s_unreachable (server, why);
            fprintf (out, "block server %s: failed: %s\n", server->name, why);
        } else {
            s_answered (server);
            long long used = memory->type == REDIS_REPLY_STRING
                                 ? s_info_field (memory->str, "used_memory:")
                                 : -1;
            long long count = blocks->type == REDIS_REPLY_INTEGER ? blocks->integer : -1;
            fprintf (out,
                     "block server %s: used_memory %lld bytes (%.1f MiB), %lld blocks\n",
                     server->name, used, used / 1048576.0, count);
        }
        if (memory)
            freeReplyObject (memory);
        if (blocks)
            freeReplyObject (blocks);
    }
}
