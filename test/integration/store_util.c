/*  test/integration/store_util.c - a head's Redis, read with hiredis
    (store_util.h). */
#include "store_util.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A connection to the head's Redis, authenticated; fails the test. */
static redisContext *
s_connect (const h_proc_t *head)
{
    char path[512], pass_path[512], password[128] = "";
    snprintf (path, sizeof path, "%s/redis/redis.sock", head->dir);
    snprintf (pass_path, sizeof pass_path, "%s/redis.pass", head->dir);
    FILE *f = fopen (pass_path, "r");
    H_CHECK (f, "cannot read %s", pass_path);
    if (!fgets (password, sizeof password, f))
        password[0] = 0;
    fclose (f);
    password[strcspn (password, "\r\n")] = 0;
    redisContext *ctx = redisConnectUnix (path);
    H_CHECK (ctx && !ctx->err, "cannot connect to %s: %s", path,
             ctx ? ctx->errstr : "out of memory");
    redisReply *reply = redisCommand (ctx, "AUTH %s", password);
    H_CHECK (reply && reply->type != REDIS_REPLY_ERROR, "AUTH refused: %s",
             reply ? reply->str : ctx->errstr);
    freeReplyObject (reply);
    return ctx;
}

long long
su_used_memory (const h_proc_t *head)
{
    redisContext *ctx = s_connect (head);
    redisReply *reply = redisCommand (ctx, "INFO memory");
    H_CHECK (reply && reply->type == REDIS_REPLY_STRING, "INFO memory failed");
    const char *at = strstr (reply->str, "used_memory:");
    H_CHECK (at, "INFO memory has no used_memory");
    long long used = atoll (at + strlen ("used_memory:"));
    freeReplyObject (reply);
    redisFree (ctx);
    return used;
}

long long
su_scan_count (struct redisContext *ctx, const char *pattern)
{
    long long count = 0;
    char cursor[32] = "0";
    do {
        redisReply *reply
            = redisCommand (ctx, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        H_CHECK (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2,
                 "SCAN failed");
        snprintf (cursor, sizeof cursor, "%s", reply->element[0]->str);
        count += (long long)reply->element[1]->elements;
        freeReplyObject (reply);
    } while (strcmp (cursor, "0") != 0);
    return count;
}

long long
su_count_keys (const h_proc_t *head, const char *pattern)
{
    redisContext *ctx = s_connect (head);
    long long count = su_scan_count (ctx, pattern);
    redisFree (ctx);
    return count;
}

bool
su_block_exists (const h_proc_t *head, const uint8_t hash[POOL_HASH_SIZE])
{
    char key[96] = "dcpool:block:";
    for (int i = 0; i < POOL_HASH_SIZE; i++)
        snprintf (key + 13 + 2 * i, 3, "%02x", hash[i]);
    redisContext *ctx = s_connect (head);
    redisReply *reply = redisCommand (ctx, "EXISTS %s", key);
    H_CHECK (reply && reply->type == REDIS_REPLY_INTEGER, "EXISTS failed");
    bool there = reply->integer == 1;
    freeReplyObject (reply);
    redisFree (ctx);
    return there;
}

long long
su_wait_keys (const h_proc_t *head, const char *pattern, long long want, double timeout)
{
    double deadline = h_now () + h_timeout (timeout);
    long long count;
    while ((count = su_count_keys (head, pattern)) != want && h_now () < deadline)
        usleep (100 * 1000);
    return count;
}

char *
su_config_get (const h_proc_t *head, const char *name)
{
    redisContext *ctx = s_connect (head);
    redisReply *reply = redisCommand (ctx, "CONFIG GET %s", name);
    H_CHECK (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
                 && reply->element[1]->type == REDIS_REPLY_STRING,
             "CONFIG GET %s failed", name);
    char *value = strdup (reply->element[1]->str);
    H_CHECK (value, "out of memory");
    freeReplyObject (reply);
    redisFree (ctx);
    return value;
}

long long
su_command_calls (const h_proc_t *head, const char *command)
{
    redisContext *ctx = s_connect (head);
    redisReply *reply = redisCommand (ctx, "INFO commandstats");
    H_CHECK (reply && reply->type == REDIS_REPLY_STRING, "INFO commandstats failed");
    char key[64];
    snprintf (key, sizeof key, "cmdstat_%s:calls=", command);
    const char *at = strstr (reply->str, key);
    long long calls = at ? atoll (at + strlen (key)) : 0;
    freeReplyObject (reply);
    redisFree (ctx);
    return calls;
}

void
su_config_set (const h_proc_t *head, const char *name, const char *value)
{
    redisContext *ctx = s_connect (head);
    redisReply *reply = redisCommand (ctx, "CONFIG SET %s %s", name, value);
    H_CHECK (reply && reply->type == REDIS_REPLY_STATUS, "CONFIG SET %s %s: %s", name,
             value, reply && reply->str ? reply->str : ctx->errstr);
    freeReplyObject (reply);
    redisFree (ctx);
}
