/*  test/net/xor_payloads.c - big inputs for the xor worker and the check
    of its outputs.  See xor_payloads.h. */
#include "xor_payloads.h"

#include <stdlib.h>
#include <string.h>

pool_bytes_t *
xp_inputs (size_t count, size_t min, size_t max, uint64_t *total)
{
    pool_bytes_t *inputs = calloc (count, sizeof *inputs);
    H_CHECK (inputs, "out of memory");
    uint64_t sum = 0;
    for (size_t i = 0; i < count; i++) {
        size_t size = min + (count > 1 ? (max - min) / (count - 1) * i : 0) + i;
        uint8_t *p = malloc (size);
        H_CHECK (p, "out of memory for input %zu (%zu bytes)", i, size);
        p[0] = 'A';
        /* A different sequence per input: a result given for the wrong
           input, or bytes from the wrong offset, fail the check. */
        uint32_t x = (uint32_t)(i * 2654435761u + 1);
        for (size_t k = 1; k < size; k++) {
            x = x * 1664525u + 1013904223u;
            p[k] = (uint8_t)(x >> 24);
        }
        inputs[i] = (pool_bytes_t){ p, size };
        sum += size;
    }
    if (total)
        *total = sum;
    return inputs;
}

void
xp_inputs_free (pool_bytes_t **inputs, size_t count)
{
    if (!*inputs)
        return;
    for (size_t i = 0; i < count; i++)
        free ((void *)(*inputs)[i].data);
    free (*inputs);
    *inputs = NULL;
}

void
xp_check (const pool_result_t *result, pool_bytes_t input, const char *what)
{
    H_CHECK (result->status == 0, "%s: input %zu: status %d: %s", what, result->index,
             result->status, result->error ? result->error : "");
    H_CHECK (result->value.size == input.size, "%s: input %zu: %zu bytes, want %zu", what,
             result->index, result->value.size, input.size);
    const uint8_t *in = input.data, *out = result->value.data;
    for (size_t k = 0; k < input.size; k++)
        if (out[k] != (in[k] ^ 0x5A))
            H_FAIL ("%s: input %zu: byte %zu of %zu is %u, want %u", what, result->index,
                    k, input.size, out[k], in[k] ^ 0x5A);
}

void
xp_map_checked (pool_t *pool, const pool_bytes_t *inputs, size_t count, const char *what)
{
    pool_result_t *results = calloc (count, sizeof *results);
    H_CHECK (results, "out of memory");
    int rc = pool_map (pool, inputs, count, results);
    H_CHECK (rc == 0, "%s: pool_map: %s: %s", what, pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < count; i++) {
        H_CHECK (results[i].index == i, "%s: result %zu has index %zu", what, i,
                 results[i].index);
        xp_check (&results[i], inputs[i], what);
    }
    pool_results_release (pool, results, count);
    free (results);
}
