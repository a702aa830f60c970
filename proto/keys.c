/*  proto/keys.c - password to CURVE keypairs, and socket set-up. */
#include "keys.h"

#include <sodium.h>
#include <string.h>

/* Changing the salt or the limits changes every key: bump the version. */
static const unsigned char s_salt[crypto_pwhash_SALTBYTES] = "dcpool-curve-v1";

static int
s_keypair (const unsigned char seed[crypto_box_SEEDBYTES], char public_z85[41],
           char secret_z85[41])
{
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    if (crypto_box_seed_keypair (pk, sk, seed))
        return -1;
    int rc = (zmq_z85_encode (public_z85, pk, sizeof pk)
              && zmq_z85_encode (secret_z85, sk, sizeof sk))
                 ? 0
                 : -1;
    sodium_memzero (sk, sizeof sk);
    return rc;
}

int
proto_keys_derive (proto_keys_t *keys, const char *password, bool insecure)
{
    memset (keys, 0, sizeof *keys);
    keys->insecure = insecure;
    if (insecure)
        return 0;
    if (sodium_init () < 0)
        return -1;
    unsigned char seeds[2 * crypto_box_SEEDBYTES];
    if (crypto_pwhash (seeds, sizeof seeds, password, strlen (password), s_salt,
                       crypto_pwhash_OPSLIMIT_INTERACTIVE,
                       crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13))
        return -1;
    int rc = s_keypair (seeds, keys->server_public, keys->server_secret);
    if (rc == 0)
        rc = s_keypair (seeds + crypto_box_SEEDBYTES, keys->client_public,
                        keys->client_secret);
    sodium_memzero (seeds, sizeof seeds);
    return rc;
}

int
proto_keys_export (const proto_keys_t *keys, char *out, size_t size)
{
    int n = keys->insecure ? snprintf (out, size, "insecure")
                           : snprintf (out, size, "%s:%s:%s", keys->server_public,
                                       keys->client_public, keys->client_secret);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int
proto_keys_import (proto_keys_t *keys, const char *text)
{
    memset (keys, 0, sizeof *keys);
    if (streq (text, "insecure")) {
        keys->insecure = true;
        return 0;
    }
    if (strlen (text) != 3 * 40 + 2 || text[40] != ':' || text[81] != ':')
        return -1;
    memcpy (keys->server_public, text, 40);
    memcpy (keys->client_public, text + 41, 40);
    memcpy (keys->client_secret, text + 82, 40);
    return 0;
}

int
proto_keys_apply_server (const proto_keys_t *keys, zsock_t *sock)
{
    if (keys->insecure)
        return 0;
    zsock_set_curve_server (sock, 1);
    zsock_set_curve_secretkey (sock, keys->server_secret);
    /* A ZAP domain makes libzmq ask our handler about every client key. */
    zsock_set_zap_domain (sock, "dcpool");
    return 0;
}

int
proto_keys_apply_client (const proto_keys_t *keys, zsock_t *sock)
{
    if (keys->insecure)
        return 0;
    zsock_set_curve_serverkey (sock, keys->server_public);
    zsock_set_curve_publickey (sock, keys->client_public);
    zsock_set_curve_secretkey (sock, keys->client_secret);
    return 0;
}
