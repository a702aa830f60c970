/*  test/net/xor_payloads.h - big inputs for the xor test worker (mode 'A':
    every byte XOR 0x5A) and the check of its outputs, for the tests of
    the data plane (DESIGN.md section 13) across namespaces.
*/
#ifndef DCPOOL_TEST_XOR_PAYLOADS_H
#define DCPOOL_TEST_XOR_PAYLOADS_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

/* count inputs of min..max bytes (spread evenly, each a different size),
   each of content of its own, mode byte 'A' first; the caller frees them
   with xp_inputs_free.  Their total size into *total when not NULL. */
pool_bytes_t *xp_inputs (size_t count, size_t min, size_t max, uint64_t *total);
/* Frees inputs from xp_inputs (count of them) and nulls *inputs. */
void xp_inputs_free (pool_bytes_t **inputs, size_t count);

/* Fails the test unless result is a value the xor worker computed from
   input (same size, every byte XOR 0x5A); what names the map. */
void xp_check (const pool_result_t *result, pool_bytes_t input, const char *what);

/* Maps the count inputs with pool_map and checks every result with
   xp_check; what names the map in a failure. */
void xp_map_checked (pool_t *pool, const pool_bytes_t *inputs, size_t count,
                     const char *what);

#endif
