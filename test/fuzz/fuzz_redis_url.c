/*  test/fuzz/fuzz_redis_url.c - libFuzzer target for the head's Redis URL
    parser (head_store_url_parse: start_node --redis URL, DCPOOL_REDIS_URL).
    Any input: no crash, no overread; a URL that parses has a terminated
    host or socket path, a port in range and a db that is not negative. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text[size] = 0;
    head_store_url_t url;
    if (head_store_url_parse (&url, text) == 0) {
        if (!memchr (url.host, 0, sizeof url.host)
            || !memchr (url.path, 0, sizeof url.path)
            || !memchr (url.password, 0, sizeof url.password)
            || (!url.host[0] && !url.path[0]) || url.port <= 0 || url.port > 65535
            || url.db < 0)
            __builtin_trap ();
    }
    free (text);
    return 0;
}
