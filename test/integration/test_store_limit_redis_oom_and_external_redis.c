/*  Redis's own limit is ENOSPACE too, never EIO: with the managed Redis's
    maxmemory turned down below what it uses (as an operator could, with
    CONFIG SET), a put well under the head's cap is refused by Redis
    (OOM, noeviction) and pool_put says POOL_ENOSPACE, "block store full";
    with maxmemory back, the same put goes in.

    With --redis URL (a Redis the user runs) start_node sets nothing on
    it (maxmemory stays 0) and the head alone keeps the cap: puts go on
    until POOL_ENOSPACE with the figures. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "store_util.h"

#define BLOCK_SIZE (256 * 1024)

static char s_port[16];

static int
s_exec_redis (void *arg)
{
    (void)arg;
    execlp ("redis-server", "redis-server", "--port", s_port, "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--logfile", "", (char *)NULL);
    return 127;
}

/* A connection to the user's Redis, once it answers PING. */
static redisContext *
s_connect_external (void)
{
    double deadline = h_now () + h_timeout (20);
    while (h_now () < deadline) {
        redisContext *ctx = redisConnect ("127.0.0.1", atoi (s_port));
        if (ctx && !ctx->err) {
            redisReply *reply = redisCommand (ctx, "PING");
            bool pong = reply && reply->type == REDIS_REPLY_STATUS;
            freeReplyObject (reply);
            if (pong)
                return ctx;
        }
        if (ctx)
            redisFree (ctx);
        usleep (50 * 1000);
    }
    H_FAIL ("redis-server on port %s did not answer PING", s_port);
}

static int
s_put (pool_t *pool, uint8_t *bytes, int seed, uint8_t hash[POOL_HASH_SIZE])
{
    memset (bytes, seed, BLOCK_SIZE);
    bytes[0] = (uint8_t)(seed >> 8);
    return pool_put (pool, (pool_bytes_t){ bytes, BLOCK_SIZE }, hash);
}

static void
s_body (void)
{
    uint8_t *bytes = malloc (BLOCK_SIZE);
    H_CHECK (bytes, "malloc");
    uint8_t hash[POOL_HASH_SIZE];

    /* The managed Redis's own limit. */
    const char *extra[] = { "--store-max-memory", "64M", NULL };
    h_proc_t *head = h_start_head_with (1, false, extra);
    pool_t *pool = h_open (head, "blocks", 1);
    char *max = su_config_get (head, "maxmemory");
    su_config_set (head, "maxmemory", "1048576");
    int rc = s_put (pool, bytes, 1, hash);
    h_log ("put with Redis past its maxmemory: %d %s", rc, pool_last_error (pool));
    H_CHECK (rc == POOL_ENOSPACE, "put refused by Redis: %d (%s), want POOL_ENOSPACE", rc,
             pool_last_error (pool));
    H_CHECK (strstr (pool_last_error (pool), "block store full: "),
             "the refusal does not say the store is full: %s", pool_last_error (pool));
    su_config_set (head, "maxmemory", max);
    free (max);
    rc = s_put (pool, bytes, 1, hash);
    H_CHECK (rc == 0, "the same put with maxmemory back: %s", pool_last_error (pool));
    pool_close (&pool);
    h_stop (head);

    /* A Redis of the user's: nothing set on it, the cap kept by the head. */
    snprintf (s_port, sizeof s_port, "%d", h_free_port ());
    h_track (h_fork (s_exec_redis, NULL), "redis-server");
    redisContext *ctx = s_connect_external ();
    char url[64];
    snprintf (url, sizeof url, "redis://127.0.0.1:%s", s_port);
    const char *external[] = { "--redis", url, "--store-max-memory", "4M", NULL };
    head = h_start_head_with (1, false, external);
    H_CHECK (strstr (head->out, "Block store: up to 4.0 MiB"), "the banner:\n%s",
             head->out);
    pool = h_open (head, "blocks", 1);
    int i = 0;
    while ((rc = s_put (pool, bytes, i + 2, hash)) == 0 && i < 100)
        i++;
    h_log ("%d puts, then %d: %s", i, rc, pool_last_error (pool));
    H_CHECK (rc == POOL_ENOSPACE && strstr (pool_last_error (pool), " used of 4.0 MiB"),
             "the head's cap on the user's Redis: %d after %d puts (%s)", rc, i,
             pool_last_error (pool));
    H_CHECK (i >= 4, "only %d puts of 256 KiB under a 4 MiB cap", i);
    redisReply *reply = redisCommand (ctx, "CONFIG GET maxmemory");
    H_CHECK (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2,
             "CONFIG GET maxmemory");
    h_log ("the user's Redis: maxmemory %s", reply->element[1]->str);
    H_CHECK (strcmp (reply->element[1]->str, "0") == 0,
             "start_node set maxmemory %s on the user's Redis", reply->element[1]->str);
    freeReplyObject (reply);
    redisFree (ctx);
    pool_close (&pool);
    free (bytes);
}

int
main (void)
{
    return h_main ("test_store_limit_redis_oom_and_external_redis", s_body);
}
