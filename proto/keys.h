/*  proto/keys.h - CURVE keys derived from the cluster password.

    Argon2id (crypto_pwhash, interactive limits, a fixed versioned salt)
    turns the password into 64 bytes: the seed of the head's keypair and the
    seed of the one client keypair every peer shares.  Knowing the password
    is the only way to know either.  Derivation costs ~0.1 s and 64 MiB, so
    a process does it once; start_node hands the result to its workers in
    the environment (proto_keys_export / proto_keys_import).
*/
#ifndef DCPOOL_PROTO_KEYS_H
#define DCPOOL_PROTO_KEYS_H

#include <czmq.h>
#include <stdbool.h>

#define PROTO_KEYS_ENV "DCPOOL_KEYS" /* where a parent hands keys down */

typedef struct {
    bool insecure;          /* plain TCP: no keys */
    char server_public[41]; /* Z85 */
    char server_secret[41];
    char client_public[41];
    char client_secret[41];
} proto_keys_t;

/* 0, or -1 when libsodium fails (out of memory). */
int proto_keys_derive (proto_keys_t *keys, const char *password, bool insecure);
/* Writes keys as one string (the client half only: a worker never needs
   the server's secret) into out[size]; 0 or -1 when it does not fit. */
int proto_keys_export (const proto_keys_t *keys, char *out, size_t size);
/* Reads what proto_keys_export wrote: 0, or -1 when malformed. */
int proto_keys_import (proto_keys_t *keys, const char *text);

/* Makes sock a CURVE server (head side): 0 or -1. */
int proto_keys_apply_server (const proto_keys_t *keys, zsock_t *sock);
/* Makes sock a CURVE client of the head: 0 or -1. */
int proto_keys_apply_client (const proto_keys_t *keys, zsock_t *sock);

#endif
