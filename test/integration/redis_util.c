/*  test/integration/redis_util.c - redis-servers started by a test
    (redis_util.h). */
#include "redis_util.h"
#include "store_util.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A connection, authenticated, or NULL (when fail is false). */
static redisContext *
s_connect (ru_redis_t *redis, bool fail, char *why, size_t why_size)
{
    struct timeval tv = { 2, 0 };
    redisContext *ctx = redisConnectWithTimeout ("127.0.0.1", redis->port, tv);
    if (!ctx || ctx->err) {
        snprintf (why, why_size, "%s", ctx ? ctx->errstr : "out of memory");
        H_CHECK (!fail, "cannot connect to redis-server on port %d: %s", redis->port,
                 why);
        if (ctx)
            redisFree (ctx);
        return NULL;
    }
    redisReply *reply = redisCommand (ctx, "AUTH %s", redis->password);
    bool ok = reply && reply->type != REDIS_REPLY_ERROR;
    snprintf (why, why_size, "%s", reply ? (reply->str ? reply->str : "") : ctx->errstr);
    if (reply)
        freeReplyObject (reply);
    if (ok) {
        reply = redisCommand (ctx, "PING");
        ok = reply && reply->type != REDIS_REPLY_ERROR;
        snprintf (why, why_size, "%s",
                  reply ? (reply->str ? reply->str : "") : ctx->errstr);
        if (reply)
            freeReplyObject (reply);
    }
    if (!ok) {
        H_CHECK (!fail, "redis-server on port %d: %s", redis->port, why);
        redisFree (ctx);
        return NULL;
    }
    return ctx;
}

/*  Spawns redis-server with its config; true once it answers, false when
    it exited first (its port was taken meanwhile). */
static bool
s_spawn (ru_redis_t *redis)
{
    char conf[600], log[600];
    snprintf (conf, sizeof conf, "%s/redis.conf", redis->dir);
    snprintf (log, sizeof log, "%s/redis.log", redis->dir);
    FILE *f = fopen (conf, "w");
    H_CHECK (f, "cannot write %s: %s", conf, strerror (errno));
    fprintf (f,
             "port %d\nbind 127.0.0.1\nprotected-mode yes\nrequirepass %s\n"
             "appendonly yes\nappendfsync everysec\nsave \"\"\ndir %s\n"
             "logfile %s\ndaemonize no\n",
             redis->port, redis->password, redis->dir, log);
    fclose (f);
    const char *bin = getenv ("DCPOOL_REDIS_BIN");
    if (!bin || !*bin)
        bin = "redis-server";
    pid_t pid = fork ();
    H_CHECK (pid >= 0, "fork: %s", strerror (errno));
    if (pid == 0) {
        int null = open ("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2 (null, 0);
            dup2 (null, 1);
        }
        execlp (bin, bin, conf, (char *)NULL);
        _exit (127);
    }
    h_track (pid, "redis-server (block store)");
    redis->pid = pid;
    double deadline = h_now () + h_timeout (20);
    char why[256] = "";
    while (h_now () < deadline) {
        int status;
        if (waitpid (pid, &status, WNOHANG) == pid) {
            h_untrack (pid, status);
            redis->pid = 0;
            h_log ("redis-server on port %d exited at start (see %s)", redis->port, log);
            return false;
        }
        redisContext *ctx = s_connect (redis, false, why, sizeof why);
        if (ctx) {
            redisFree (ctx);
            h_log ("redis-server %s runs (pid %d) in %s", redis->name, (int)pid,
                   redis->dir);
            return true;
        }
        usleep (20 * 1000);
    }
    H_FAIL ("redis-server on port %d does not answer within %.0f s: %s", redis->port,
            h_timeout (20), why);
}

void
ru_start (ru_redis_t *redis, const char *name)
{
    memset (redis, 0, sizeof *redis);
    snprintf (redis->dir, sizeof redis->dir, "%s/%s", h_tmpdir (), name);
    H_CHECK (mkdir (redis->dir, 0700) == 0, "mkdir %s: %s", redis->dir, strerror (errno));
    unsigned char bytes[16];
    FILE *random = fopen ("/dev/urandom", "r");
    H_CHECK (random && fread (bytes, 1, sizeof bytes, random) == sizeof bytes,
             "/dev/urandom");
    fclose (random);
    for (size_t i = 0; i < sizeof bytes; i++)
        snprintf (redis->password + 2 * i, 3, "%02x", bytes[i]);
    for (int tries = 0; tries < 5; tries++) {
        redis->port = h_free_port ();
        snprintf (redis->url, sizeof redis->url, "redis://:%s@127.0.0.1:%d",
                  redis->password, redis->port);
        snprintf (redis->name, sizeof redis->name, "redis://127.0.0.1:%d", redis->port);
        if (s_spawn (redis))
            return;
    }
    H_FAIL ("redis-server %s did not start on 5 free ports", name);
}

void
ru_restart (ru_redis_t *redis)
{
    H_CHECK (redis->pid == 0, "ru_restart: %s still runs", redis->name);
    H_CHECK (s_spawn (redis), "redis-server %s did not start again", redis->name);
}

/* Sends sig and waits for the exit. */
static void
s_end (ru_redis_t *redis, int sig)
{
    H_CHECK (redis->pid > 0, "%s is not running", redis->name);
    H_CHECK (kill (redis->pid, sig) == 0, "kill %s: %s", redis->name, strerror (errno));
    double deadline = h_now () + h_timeout (30);
    int status = 0;
    while (waitpid (redis->pid, &status, WNOHANG) != redis->pid) {
        H_CHECK (h_now () < deadline, "%s did not exit after signal %d", redis->name,
                 sig);
        usleep (10 * 1000);
    }
    h_untrack (redis->pid, status);
    h_log ("redis-server %s (pid %d) stopped by signal %d", redis->name, (int)redis->pid,
           sig);
    redis->pid = 0;
}

void
ru_stop (ru_redis_t *redis)
{
    s_end (redis, SIGTERM);
}

void
ru_kill (ru_redis_t *redis)
{
    s_end (redis, SIGKILL);
}

bool
ru_has_block (ru_redis_t *redis, const uint8_t hash[POOL_HASH_SIZE])
{
    char hex[2 * POOL_HASH_SIZE + 1];
    for (int i = 0; i < POOL_HASH_SIZE; i++)
        snprintf (hex + 2 * i, 3, "%02x", hash[i]);
    char why[256];
    redisContext *ctx = s_connect (redis, true, why, sizeof why);
    redisReply *reply
        = redisCommand (ctx, "EXISTS dcpool:block:%s dcpool:chunked:%s", hex, hex);
    H_CHECK (reply && reply->type == REDIS_REPLY_INTEGER, "EXISTS failed");
    bool there = reply->integer > 0;
    freeReplyObject (reply);
    redisFree (ctx);
    return there;
}

long long
ru_count_keys (ru_redis_t *redis, const char *pattern)
{
    char why[256];
    redisContext *ctx = s_connect (redis, true, why, sizeof why);
    long long count = su_scan_count (ctx, pattern);
    redisFree (ctx);
    return count;
}
