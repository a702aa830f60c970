/*  test/integration/payload_util.h - what the big-payload tests share:
    counting the client's shared-memory payloads, the bytes the head has
    received, and inputs for the xor worker.
*/
#ifndef DCPOOL_TEST_PAYLOAD_UTIL_H
#define DCPOOL_TEST_PAYLOAD_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "harness.h"

/*  Mappings (links: false, path /proc/self/maps) or open fds (links: true,
    path /proc/self/fd) naming libpool's memfds ("memfd:dcpool-payload"). */
int pu_count_memfds (const char *path, bool links);
/*  Bytes the head has received on its port so far, over every connection
    open now (the kernel's count: `ss -ti`, bytes_received). */
unsigned long long pu_head_received (const h_proc_t *head);
/*  size bytes (malloc'd): mode, then bytes that depend on seed. */
uint8_t *pu_make (char mode, size_t size, unsigned seed);

#endif
