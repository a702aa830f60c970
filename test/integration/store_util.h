/*  test/integration/store_util.h - looks into a head's Redis (the one
    start_node --head manages: DIR/redis/redis.sock, password in
    DIR/redis.pass) with hiredis, as an operator with redis-cli would: the
    block-lifetime tests (test_blocks_*) count keys and read used_memory.
    A failure to reach it fails the test like H_CHECK.
*/
#ifndef DCPOOL_TEST_STORE_UTIL_H
#define DCPOOL_TEST_STORE_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

/* INFO memory's used_memory, in bytes. */
long long su_used_memory (const h_proc_t *head);
/* Keys that match pattern (SCAN MATCH), e.g. "dcpool:block:*". */
long long su_count_keys (const h_proc_t *head, const char *pattern);
/*  The keys matching pattern on the Redis of ctx (a hiredis context), by
    SCAN; fails the test when SCAN does. */
struct redisContext;
long long su_scan_count (struct redisContext *ctx, const char *pattern);
/* Whether block hash is in the store (dcpool:block:<hex>). */
bool su_block_exists (const h_proc_t *head, const uint8_t hash[POOL_HASH_SIZE]);
/*  Polls until the number of keys matching pattern is want, or timeout
    seconds passed: the last count seen. */
long long su_wait_keys (const h_proc_t *head, const char *pattern, long long want,
                        double timeout);

/* CONFIG GET name: the value (malloc'd; the caller frees). */
char *su_config_get (const h_proc_t *head, const char *name);
/* CONFIG SET name value; fails the test when Redis refuses. */
void su_config_set (const h_proc_t *head, const char *name, const char *value);
/* INFO commandstats' calls of command (lower case, e.g. "get"); 0 when
   it was never called. */
long long su_command_calls (const h_proc_t *head, const char *command);

#endif
