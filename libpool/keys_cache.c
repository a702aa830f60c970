/*  libpool/keys_cache.c - a password's CURVE keys, derived once a process.
    See keys_cache.h. */
#include "keys_cache.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static bool s_held;
static unsigned char s_hash[crypto_generichash_BYTES];
static proto_keys_t s_keys;

int
pool_keys_derive (proto_keys_t *keys, const char *password, bool insecure)
{
    if (insecure)
        return proto_keys_derive (keys, password, insecure);
    if (sodium_init () < 0)
        return -1;
    unsigned char hash[crypto_generichash_BYTES];
    if (crypto_generichash (hash, sizeof hash, (const unsigned char *)password,
                            strlen (password), NULL, 0))
        return -1;
    pthread_mutex_lock (&s_lock);
    bool hit = s_held && sodium_memcmp (hash, s_hash, sizeof hash) == 0;
    if (hit)
        *keys = s_keys;
    pthread_mutex_unlock (&s_lock);
    if (hit) {
        sodium_memzero (hash, sizeof hash);
        return 0;
    }
    /* Derived outside the lock: another thread's pool_open with another
       password does not wait for this one. */
    int rc = proto_keys_derive (keys, password, insecure);
    if (rc == 0) {
        pthread_mutex_lock (&s_lock);
        memcpy (s_hash, hash, sizeof hash);
        s_keys = *keys;
        s_held = true;
        pthread_mutex_unlock (&s_lock);
    }
    sodium_memzero (hash, sizeof hash);
    return rc;
}
