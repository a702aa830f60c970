/*  head/holds.c - block holders in Redis (holds.h): one Lua script per
    operation, so each is one round trip and never seen half done. */
#include "holds.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *s_add_script
    = "local h = ARGV[2]\n"
      "if ARGV[4] == '1' and redis.call('EXISTS', 'dcpool:block:' .. h,\n"
      "                                 'dcpool:chunked:' .. h) == 0 then\n"
      "  return -1\n"
      "end\n"
      "if ARGV[1] == '' then\n"
      "  if redis.call('HLEN', 'dcpool:holders:' .. h) == 0 then\n"
      "    redis.call('ZADD', 'dcpool:unheld', 'NX', ARGV[3], h)\n"
      "  end\n"
      "  return 0\n"
      "end\n"
      "redis.call('HSET', 'dcpool:holders:' .. h, ARGV[1], 1)\n"
      "redis.call('SADD', 'dcpool:holds:' .. ARGV[1], h)\n"
      "redis.call('SADD', 'dcpool:holder-names', ARGV[1])\n"
      "redis.call('ZREM', 'dcpool:unheld', h)\n"
      "return 1\n";

/* -1: not held by ARGV[1]; 0: released. */
static const char *s_release_script
    = "local holder, h = ARGV[1], ARGV[2]\n"
      "local k = 'dcpool:holders:' .. h\n"
      "if redis.call('HDEL', k, holder) == 0 then return -1 end\n"
      "redis.call('SREM', 'dcpool:holds:' .. holder, h)\n"
      "if redis.call('SCARD', 'dcpool:holds:' .. holder) == 0 then\n"
      "  redis.call('SREM', 'dcpool:holder-names', holder)\n"
      "end\n"
      "if redis.call('HLEN', k) == 0 then\n"
      "  redis.call('ZADD', 'dcpool:unheld', ARGV[3], h)\n"
      "end\n"
      "return 0\n";

static const char *s_release_all_script
    = "local holder = ARGV[1]\n"
      "local hk = 'dcpool:holds:' .. holder\n"
      "local blocks = redis.call('SMEMBERS', hk)\n"
      "for _, h in ipairs (blocks) do\n"
      "  local k = 'dcpool:holders:' .. h\n"
      "  redis.call('HDEL', k, holder)\n"
      "  if redis.call('HLEN', k) == 0 then\n"
      "    redis.call('ZADD', 'dcpool:unheld', ARGV[2], h)\n"
      "  end\n"
      "end\n"
      "redis.call('DEL', hk)\n"
      "redis.call('SREM', 'dcpool:holder-names', holder)\n"
      "return #blocks\n";

/*  Holders gone past their deadline let go of everything (as
    s_release_all_script, with the blocks due now); then unheld blocks
    past theirs are deleted, a chunked block's chunks with its manifest
    (store.c's layout); when ARGV[3] is '1' their bytes are on block
    servers (shards.h): they are only listed, for the caller to delete.
    Returns {blocks deleted, holders released, blocks listed}. */
static const char *s_sweep_script
    = "local now, most = ARGV[1], tonumber (ARGV[2])\n"
      "local holders = redis.call('ZRANGEBYSCORE', 'dcpool:gone', '-inf', now,\n"
      "                           'LIMIT', 0, most)\n"
      "for _, holder in ipairs (holders) do\n"
      "  redis.call('ZREM', 'dcpool:gone', holder)\n"
      "  local hk = 'dcpool:holds:' .. holder\n"
      "  for _, h in ipairs (redis.call('SMEMBERS', hk)) do\n"
      "    local k = 'dcpool:holders:' .. h\n"
      "    redis.call('HDEL', k, holder)\n"
      "    if redis.call('HLEN', k) == 0 then\n"
      "      redis.call('ZADD', 'dcpool:unheld', now, h)\n"
      "    end\n"
      "  end\n"
      "  redis.call('DEL', hk)\n"
      "  redis.call('SREM', 'dcpool:holder-names', holder)\n"
      "end\n"
      "local due = redis.call('ZRANGEBYSCORE', 'dcpool:unheld', '-inf', now,\n"
      "                       'LIMIT', 0, most)\n"
      "local gone, listed = 0, {}\n"
      "for _, h in ipairs (due) do\n"
      "  redis.call('ZREM', 'dcpool:unheld', h)\n"
      "  if redis.call('HLEN', 'dcpool:holders:' .. h) == 0 and ARGV[3] == '1' then\n"
      "    listed[#listed + 1] = h\n"
      "  elseif redis.call('HLEN', 'dcpool:holders:' .. h) == 0 then\n"
      "    local n = redis.call('DEL', 'dcpool:block:' .. h)\n"
      "    local m = redis.call('GET', 'dcpool:chunked:' .. h)\n"
      "    if m then\n"
      "      local chunks = tonumber (string.match (m, '^(%d+):')) or 0\n"
      "      for i = 0, chunks - 1 do\n"
      "        redis.call('DEL', 'dcpool:chunk:' .. h .. ':' .. i)\n"
      "      end\n"
      "      n = n + redis.call('DEL', 'dcpool:chunked:' .. h)\n"
      "    end\n"
      "    if n > 0 then gone = gone + 1 end\n"
      "  end\n"
      "end\n"
      "return {gone, #holders, listed}\n";

/* Every holder not gone yet is gone at ARGV[1] unless back before. */
static const char *s_depart_all_script
    = "local names = redis.call('SMEMBERS', 'dcpool:holder-names')\n"
      "for _, holder in ipairs (names) do\n"
      "  redis.call('ZADD', 'dcpool:gone', 'NX', ARGV[1], holder)\n"
      "end\n"
      "return #names\n";

/*  EVAL script 0 args...: the integer it returns in *out, 0; or -1. */
static int
s_eval (head_store_t *store, const char *script, int nargs, const char **args,
        long long *out)
{
    const char *argv[8] = { "EVAL", script, "0" };
    for (int i = 0; i < nargs && i < 5; i++)
        argv[3 + i] = args[i];
    redisReply *reply = head_store_command (store, 3 + nargs, argv, NULL);
    if (!reply)
        return -1;
    long long value = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
    freeReplyObject (reply);
    if (out)
        *out = value;
    return 0;
}

/* The add script; *exists false when must_exist and the block is not. */
static int
s_add (head_store_t *store, const char *holder, const uint8_t hash[PROTO_HASH_SIZE],
       int64_t deadline_ms, bool must_exist, bool *exists)
{
    char hex[2 * PROTO_HASH_SIZE + 1], deadline[24];
    proto_hash_hex (hash, hex);
    snprintf (deadline, sizeof deadline, "%" PRId64, deadline_ms);
    const char *args[] = { holder ? holder : "", hex, deadline, must_exist ? "1" : "0" };
    long long rc = 0;
    if (s_eval (store, s_add_script, 4, args, &rc))
        return -1;
    if (exists)
        *exists = rc >= 0;
    return 0;
}

int
head_holds_add (head_store_t *store, const char *holder,
                const uint8_t hash[PROTO_HASH_SIZE], int64_t deadline_ms)
{
    return s_add (store, holder, hash, deadline_ms, false, NULL);
}

int
head_holds_add_existing (head_store_t *store, const char *holder,
                         const uint8_t hash[PROTO_HASH_SIZE], int64_t deadline_ms,
                         bool *exists)
{
    return s_add (store, holder, hash, deadline_ms, true, exists);
}

int
head_holds_release (head_store_t *store, const char *holder,
                    const uint8_t hash[PROTO_HASH_SIZE], int64_t deadline_ms, bool *held)
{
    char hex[2 * PROTO_HASH_SIZE + 1], deadline[24];
    proto_hash_hex (hash, hex);
    snprintf (deadline, sizeof deadline, "%" PRId64, deadline_ms);
    const char *args[] = { holder, hex, deadline };
    long long left = 0;
    if (s_eval (store, s_release_script, 3, args, &left))
        return -1;
    *held = left >= 0;
    return 0;
}

int
head_holds_release_all (head_store_t *store, const char *holder, int64_t deadline_ms,
                        size_t *count)
{
    char deadline[24];
    snprintf (deadline, sizeof deadline, "%" PRId64, deadline_ms);
    const char *args[] = { holder, deadline };
    long long n = 0;
    if (s_eval (store, s_release_all_script, 2, args, &n))
        return -1;
    if (count)
        *count = n > 0 ? (size_t)n : 0;
    return 0;
}

int
head_holds_sweep (head_store_t *store, int64_t now_ms, size_t most, zlist_t *due,
                  size_t *deleted, size_t *released)
{
    char now[24], limit[24];
    snprintf (now, sizeof now, "%" PRId64, now_ms);
    snprintf (limit, sizeof limit, "%zu", most);
    const char *argv[] = { "EVAL", s_sweep_script, "0", now, limit, due ? "1" : "0" };
    redisReply *reply = head_store_command (store, 6, argv, NULL);
    if (!reply)
        return -1;
    long long counts[2] = { 0, 0 };
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements && i < 2;
         i++)
        if (reply->element[i]->type == REDIS_REPLY_INTEGER)
            counts[i] = reply->element[i]->integer;
    if (due && reply->type == REDIS_REPLY_ARRAY && reply->elements > 2
        && reply->element[2]->type == REDIS_REPLY_ARRAY) {
        zlist_autofree (due);
        for (size_t i = 0; i < reply->element[2]->elements; i++)
            if (reply->element[2]->element[i]->type == REDIS_REPLY_STRING)
                zlist_append (due, reply->element[2]->element[i]->str);
    }
    freeReplyObject (reply);
    if (deleted)
        *deleted = counts[0] > 0 ? (size_t)counts[0] : 0;
    if (released)
        *released = counts[1] > 0 ? (size_t)counts[1] : 0;
    return 0;
}

int
head_holds_depart (head_store_t *store, const char *holder, int64_t at_ms)
{
    char at[24];
    snprintf (at, sizeof at, "%" PRId64, at_ms);
    const char *argv[] = { "ZADD", "dcpool:gone", at, holder };
    redisReply *reply = head_store_command (store, 4, argv, NULL);
    if (!reply)
        return -1;
    freeReplyObject (reply);
    return 0;
}

int
head_holds_back (head_store_t *store, const char *holder)
{
    const char *argv[] = { "ZREM", "dcpool:gone", holder };
    redisReply *reply = head_store_command (store, 3, argv, NULL);
    if (!reply)
        return -1;
    freeReplyObject (reply);
    return 0;
}

int
head_holds_depart_all (head_store_t *store, int64_t at_ms, size_t *count)
{
    char at[24];
    snprintf (at, sizeof at, "%" PRId64, at_ms);
    const char *args[] = { at };
    long long n = 0;
    if (s_eval (store, s_depart_all_script, 1, args, &n))
        return -1;
    if (count)
        *count = n > 0 ? (size_t)n : 0;
    return 0;
}
