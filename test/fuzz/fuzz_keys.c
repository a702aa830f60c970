/*  test/fuzz/fuzz_keys.c - libFuzzer target for proto_keys_import, which
    reads DCPOOL_KEYS from the environment a worker is started with.
    Any input: no crash, no overread; one that imports must export to the
    same text (the format has one spelling). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text[size] = 0;
    proto_keys_t keys;
    if (proto_keys_import (&keys, text) == 0) {
        char again[256];
        if (proto_keys_export (&keys, again, sizeof again) != 0
            || strcmp (again, text) != 0)
            __builtin_trap ();
    }
    free (text);
    return 0;
}
