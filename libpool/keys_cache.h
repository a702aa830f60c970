/*  libpool/keys_cache.h - a password's CURVE keys, derived once a process.

    Keys come from the password through Argon2id with 64 MiB of memory
    (proto/keys.c), slow on purpose: about 90 ms of pool_open on a 2-core
    VM, paid by every pool_open of a program that opens pool after pool.
    The keys of the last password are kept, behind a BLAKE2b hash of it
    (never the password itself), and handed out again while the password
    stays the same; another password is derived anew and replaces them.
    The keys stay in the process's memory after pool_close, as the
    password itself does in the caller's.
*/
#ifndef DCPOOL_LIBPOOL_KEYS_CACHE_H
#define DCPOOL_LIBPOOL_KEYS_CACHE_H

#include "proto/keys.h"

#include <stdbool.h>

/*  proto_keys_derive, from the cache when password is the last one
    derived.  0, or -1 when libsodium fails.  Any thread. */
int pool_keys_derive (proto_keys_t *keys, const char *password, bool insecure);

#endif
