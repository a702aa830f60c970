/*  primes_worker.c - worker library of the primes example.

    Input:  one uint64, 8 bytes little-endian.
    Output: its distinct prime divisors in ascending order, each a uint64,
            8 bytes little-endian (empty for 1).  0 has no factorisation:
            the run fails with a message, which the client gets as an
            error result for that input.

    Build on its own:  cc -shared -fPIC $(pkg-config --cflags dcpool) \
                          -o primes_worker.so primes_worker.c
    It links against nothing of dcpool's: pool_output_alloc and
    pool_worker_error come from the pool-worker process that loads it.
*/
#include <stdint.h>
#include <string.h>

#include "pool_worker.h"

static uint64_t
get_u64 (const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void
put_u64 (unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

/*  Writes the distinct prime divisors of n (n >= 1) to divisors, which has
    room for 64 (a uint64 has at most 15 distinct ones); returns how many. */
static size_t
prime_divisors (uint64_t n, uint64_t *divisors)
{
    size_t count = 0;
    for (uint64_t d = 2; d <= n / d; d += (d == 2 ? 1 : 2)) {
        if (n % d == 0) {
            divisors[count++] = d;
            while (n % d == 0)
                n /= d;
        }
    }
    if (n > 1)
        divisors[count++] = n;
    return count;
}

static void *
primes_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    /* Nothing to prepare; any non-NULL pointer says "ready". */
    static int ready;
    return &ready;
}

static int
primes_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    if (input.size != 8) {
        pool_worker_error (ctx, "input is %zu bytes, expected 8", input.size);
        return -1;
    }
    uint64_t n = get_u64 (input.data);
    if (n == 0) {
        pool_worker_error (ctx, "0 has no prime factorisation");
        return -1;
    }
    uint64_t divisors[64];
    size_t count = prime_divisors (n, divisors);

    unsigned char *out = pool_output_alloc (output, count * 8);
    if (!out && count > 0) {
        pool_worker_error (ctx, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        put_u64 (out + 8 * i, divisors[i]);
    return 0;
}

static void
primes_destroy (void *self)
{
}

const pool_worker_class_t pool_worker = {
    .abi_version = POOL_WORKER_ABI,
    .name = "primes",
    .init = primes_init,
    .run = primes_run,
    .handle_update = NULL,
    .destroy = primes_destroy,
};
