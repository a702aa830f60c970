/*  head/holds.c - block holders in Redis (holds.h): one Lua script per
    operation, so each is one round trip and never seen half done. */
#include "holds.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *s_add_script
    = "local h = ARGV[2]\n"
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

/* A chunked block's chunks go with its manifest (store.c's layout). */
static const char *s_sweep_script
    = "local due = redis.call('ZRANGEBYSCORE', 'dcpool:unheld', '-inf', ARGV[1],\n"
      "                       'LIMIT', 0, tonumber (ARGV[2]))\n"
      "local gone = 0\n"
      "for _, h in ipairs (due) do\n"
      "  redis.call('ZREM', 'dcpool:unheld', h)\n"
      "  if redis.call('HLEN', 'dcpool:holders:' .. h) == 0 then\n"
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
      "return gone\n";

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

int
head_holds_add (head_store_t *store, const char *holder,
                const uint8_t hash[PROTO_HASH_SIZE], int64_t deadline_ms)
{
    char hex[2 * PROTO_HASH_SIZE + 1], deadline[24];
    proto_hash_hex (hash, hex);
    snprintf (deadline, sizeof deadline, "%" PRId64, deadline_ms);
    const char *args[] = { holder ? holder : "", hex, deadline };
    return s_eval (store, s_add_script, 3, args, NULL);
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
head_holds_sweep (head_store_t *store, int64_t now_ms, size_t most, size_t *deleted)
{
    char now[24], limit[24];
    snprintf (now, sizeof now, "%" PRId64, now_ms);
    snprintf (limit, sizeof limit, "%zu", most);
    const char *args[] = { now, limit };
    long long n = 0;
    if (s_eval (store, s_sweep_script, 2, args, &n))
        return -1;
    if (deleted)
        *deleted = n > 0 ? (size_t)n : 0;
    return 0;
}

zlist_t *
head_holds_holders (head_store_t *store)
{
    const char *argv[] = { "SMEMBERS", "dcpool:holder-names" };
    redisReply *reply = head_store_command (store, 2, argv, NULL);
    if (!reply)
        return NULL;
    zlist_t *names = zlist_new ();
    if (names) {
        zlist_autofree (names);
        for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++)
            if (reply->element[i]->type == REDIS_REPLY_STRING)
                zlist_append (names, reply->element[i]->str);
    }
    freeReplyObject (reply);
    return names;
}
