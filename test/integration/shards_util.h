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
#include "pool_matrix.h"
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
/* The matrices of the tests: SH_N x SH_N doubles in SH_BS blocks. */
#define SH_N 96
#define SH_BS 32
/* Fills two SH_N x SH_N matrices from seed. */
void sh_fill (double *a_host, double *b_host, int seed);
/*  Multiplies a and b (made from a_host, b_host) on pool (a matrix pool,
    pool_matrix_open), checks every cell of the product and deletes it. */
void sh_product_check (pool_t *pool, const pool_matrix_t *a, const pool_matrix_t *b,
                       const double *a_host, const double *b_host);
/* sh_fill, pool_matrix_create and sh_product_check; deletes a and b. */
void sh_multiply_check (pool_t *pool, int seed);
/* What `start_node --status` says of head (caller frees). */
char *sh_status (const h_proc_t *head);

#endif
