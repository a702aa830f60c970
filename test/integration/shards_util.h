/*  test/integration/shards_util.h - shared by the block-server tests
    (test_shards_*): a head whose blocks live on three redis-servers the
    test started (redis_util.h), which server holds a block, a checked
    block-matrix multiply, and start_node --status.  A failure fails the
    test like H_CHECK.
*/
#ifndef DCPOOL_TEST_SHARDS_UTIL_H
#define DCPOOL_TEST_SHARDS_UTIL_H

#include <stdint.h>

#include "harness.h"
#include "redis_util.h"

#define SU_SERVERS 3

/*  Starts SU_SERVERS block servers into servers and `start_node --head
    --block-store URL,URL,URL` with workers CPU workers (and the extra
    arguments, NULL terminated, or NULL); returns the head. */
h_proc_t *sh_start (ru_redis_t servers[SU_SERVERS], int workers,
                    const char *const *extra);
/*  The index of the server that has block hash; fails the test when none
    or more than one has it. */
int sh_server_of (ru_redis_t servers[SU_SERVERS], const uint8_t hash[POOL_HASH_SIZE]);
/*  Creates two 96 x 96 matrices (from seed), multiplies them on pool
    (a matrix pool, pool_matrix_open), checks every cell of the product,
    and deletes the three. */
void sh_multiply_check (pool_t *pool, int seed);
/* What `start_node --status` says of head (caller frees). */
char *sh_status (const h_proc_t *head);

#endif
