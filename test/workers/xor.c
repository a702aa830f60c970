/*  test/workers/xor.c - byte strings of any size, for the shared-memory
    path of big inputs and outputs.

    Input:   a mode byte, then any bytes.
    Output:  mode 'A': every input byte XOR 0x5A, written in place into a
                       buffer from pool_output_alloc;
             mode 'S': the same, built in a buffer of its own that is freed
                       right after pool_output_set (which must copy);
             mode 'C': 8 bytes, the little-endian sum of the input's bytes;
             mode 'P': "page" when input.data is page aligned (the input was
                       mapped from shared memory), "bytes" otherwise.
    Anything else is an error result.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool_worker.h"

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    (void) init_data;
    (void) ctx;
    static int dummy;
    return &dummy;
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    (void) self;
    const uint8_t *in = input.data;
    if (input.size == 0) {
        pool_worker_error (ctx, "xor: empty input");
        return -1;
    }
    switch (in [0]) {
        case 'A': {
            uint8_t *out = pool_output_alloc (output, input.size);
            if (!out)
                return -1;
            for (size_t i = 0; i < input.size; i++)
                out [i] = in [i] ^ 0x5A;
            return 0;
        }
        case 'S': {
            uint8_t *out = malloc (input.size);
            if (!out)
                return -1;
            for (size_t i = 0; i < input.size; i++)
                out [i] = in [i] ^ 0x5A;
            int rc = pool_output_set (output, out, input.size);
            memset (out, 0, input.size);
            free (out);
            return rc;
        }
        case 'C': {
            uint64_t sum = 0;
            for (size_t i = 0; i < input.size; i++)
                sum += in [i];
            uint8_t le [8];
            for (int b = 0; b < 8; b++)
                le [b] = (uint8_t) (sum >> (8 * b));
            return pool_output_set (output, le, sizeof le);
        }
        case 'P': {
            long page = sysconf (_SC_PAGESIZE);
            const char *what = ((uintptr_t) input.data % (uintptr_t) page) == 0
                             ? "page" : "bytes";
            return pool_output_set (output, what, strlen (what));
        }
        default:
            pool_worker_error (ctx, "xor: unknown mode %d", in [0]);
            return -1;
    }
}

const pool_worker_class_t pool_worker = {
    POOL_WORKER_ABI, "xor", s_init, s_run, NULL, NULL
};
