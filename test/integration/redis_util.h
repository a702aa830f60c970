/*  test/integration/redis_util.h - redis-servers a test starts itself: the
    block servers of `start_node --head --block-store URL,...` (the
    test_shards_* tests).  Each listens on 127.0.0.1 at a free port, with a
    password and an append-only file in its own directory under the
    test's, and is tracked (h_track), so the end stops exactly what the
    test started.  The test looks into it with hiredis as an operator with
    redis-cli would.  A failure fails the test like H_CHECK.
*/
#ifndef DCPOOL_TEST_REDIS_UTIL_H
#define DCPOOL_TEST_REDIS_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"

typedef struct {
    pid_t pid; /* 0 while stopped */
    int port;
    char dir[512];
    char password[40];
    char url[128]; /* redis://:PW@127.0.0.1:PORT */
    char name[64]; /* the head's name for it: redis://127.0.0.1:PORT */
} ru_redis_t;

/* Starts a redis-server (`redis-server`, or $DCPOOL_REDIS_BIN) in
   h_tmpdir()/NAME and waits until it answers PING. */
void ru_start (ru_redis_t *redis, const char *name);
/* Starts it again on the same port and directory (its append-only file
   brings back what it had); waits until it answers. */
void ru_restart (ru_redis_t *redis);
/* SIGTERM (it writes its append-only file out) or SIGKILL, and waits. */
void ru_stop (ru_redis_t *redis);
void ru_kill (ru_redis_t *redis);
/* Whether block hash is on it (dcpool:block:<hex> or dcpool:chunked:<hex>). */
bool ru_has_block (ru_redis_t *redis, const uint8_t hash[POOL_HASH_SIZE]);
/* Keys that match pattern (SCAN MATCH). */
long long ru_count_keys (ru_redis_t *redis, const char *pattern);

#endif
