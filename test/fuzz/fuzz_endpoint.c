/*  test/fuzz/fuzz_endpoint.c - libFuzzer target for proto_endpoint, which
    turns the user's "host:port" (pool_options_t.server, start_node -a/-p)
    into a ZeroMQ endpoint.  The first input byte picks the output buffer
    size, so short buffers are tried too; the output must be a terminated
    "tcp://..." within the buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t out_size = 1 + data[0];
    char *text = malloc (size);
    char *out = malloc (out_size);
    if (!text || !out)
        goto cleanup;
    memcpy (text, data + 1, size - 1);
    text[size - 1] = 0;
    memset (out, 0x55, out_size);
    if (proto_endpoint (text, out, out_size) == 0) {
        if (!memchr (out, 0, out_size) || strncmp (out, "tcp://", 6) != 0
            || !strchr (out + 6, ':'))
            __builtin_trap ();
    }
cleanup:
    free (text);
    free (out);
    return 0;
}
