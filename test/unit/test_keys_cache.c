/*  test/unit/test_keys_cache.c - libpool/keys_cache.c alone: a password's
    keys are derived once, and another password never gets them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "keys_cache.h"

static bool
s_same (const proto_keys_t *a, const proto_keys_t *b)
{
    return strcmp (a->server_public, b->server_public) == 0
           && strcmp (a->client_public, b->client_public) == 0
           && strcmp (a->client_secret, b->client_secret) == 0
           && strcmp (a->server_secret, b->server_secret) == 0;
}

/*  The cache gives the keys proto_keys_derive gives, for the password
    asked for, whatever was asked before. */
static void
test_each_password_gets_its_own_keys (void **state)
{
    (void)state;
    proto_keys_t a, b, again, direct_a, direct_b;
    assert_int_equal (proto_keys_derive (&direct_a, "alpha", false), 0);
    assert_int_equal (proto_keys_derive (&direct_b, "beta", false), 0);
    assert_false (s_same (&direct_a, &direct_b));

    assert_int_equal (pool_keys_derive (&a, "alpha", false), 0);
    assert_true (s_same (&a, &direct_a));
    assert_int_equal (pool_keys_derive (&again, "alpha", false), 0); /* kept */
    assert_true (s_same (&again, &direct_a));
    assert_int_equal (pool_keys_derive (&b, "beta", false), 0); /* another */
    assert_true (s_same (&b, &direct_b));
    assert_int_equal (pool_keys_derive (&again, "alpha", false), 0); /* anew */
    assert_true (s_same (&again, &direct_a));
    /* A password that only starts like the kept one is another. */
    assert_int_equal (pool_keys_derive (&again, "alph", false), 0);
    assert_false (s_same (&again, &direct_a));
}

/*  --insecure has no keys, cached or not, and leaves the cache alone. */
static void
test_insecure_has_no_keys (void **state)
{
    (void)state;
    proto_keys_t keys, direct;
    assert_int_equal (proto_keys_derive (&direct, "gamma", false), 0);
    assert_int_equal (pool_keys_derive (&keys, "gamma", false), 0);
    assert_int_equal (pool_keys_derive (&keys, "gamma", true), 0);
    assert_true (keys.insecure);
    assert_string_equal (keys.client_secret, "");
    assert_int_equal (pool_keys_derive (&keys, "gamma", false), 0);
    assert_false (keys.insecure);
    assert_true (s_same (&keys, &direct));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_each_password_gets_its_own_keys),
        cmocka_unit_test (test_insecure_has_no_keys),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
