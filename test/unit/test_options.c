/*  test/unit/test_options.c - pool_open refuses bad options before it
    touches the network.

    Every option a user can get wrong is refused with POOL_EINVAL, nothing
    is opened, and pool_open_error names the option, so the fix is plain;
    the defaults themselves pass that check (they fail later, at the
    connection, for a server nobody listens on).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pool.h"

static pool_options_t
s_good (void)
{
    pool_options_t options;
    pool_options_default (&options);
    options.password = "secret";
    options.worker_library = "./no-such-worker.so";
    return options;
}

static void
s_refused (const pool_options_t *options, const char *names)
{
    pool_t *pool = (pool_t *)&pool; /* must come back NULL */
    assert_int_equal (pool_open (&pool, options), POOL_EINVAL);
    assert_null (pool);
    assert_non_null (strstr (pool_open_error (), names));
}

static void
test_defaults_are_sane (void **state)
{
    (void)state;
    pool_options_t options;
    memset (&options, 0xff, sizeof options);
    pool_options_default (&options);
    assert_null (options.server); /* local mode */
    assert_int_equal (options.max_attempts, 3);
    assert_int_equal (options.min_workers, 1);
    assert_true (options.connect_timeout > 0);
    assert_true (options.reconnect_timeout > 0);
    assert_true (options.job_timeout == 0);
    assert_int_equal (options.insecure, 0);
    assert_int_equal (options.shared_memory_min, 64 << 10);
    assert_true (options.spin_wait > 0 && options.spin_wait <= 0.01);
    assert_null (options.password);
}

static void
test_bad_options_are_named (void **state)
{
    (void)state;
    /* A server needs a password (local mode does not: see below). */
    pool_options_t o = s_good ();
    o.server = "127.0.0.1:1";
    o.password = NULL;
    s_refused (&o, "password");
    o.password = "";
    s_refused (&o, "password");
    o = s_good ();
    o.worker_library = NULL;
    s_refused (&o, "worker_library");
    o = s_good ();
    o.max_attempts = 0;
    s_refused (&o, "max_attempts");
    o = s_good ();
    o.min_workers = -1;
    s_refused (&o, "min_workers");
    o = s_good ();
    o.job_timeout = -1;
    s_refused (&o, "job_timeout");
    o = s_good ();
    o.connect_timeout = 0;
    s_refused (&o, "connect_timeout");
    o = s_good ();
    o.reconnect_timeout = -5;
    s_refused (&o, "reconnect_timeout");
    o = s_good ();
    o.spin_wait = -0.001;
    s_refused (&o, "spin_wait");
    o = s_good ();
    o.spin_wait = 2;
    s_refused (&o, "spin_wait");
    o = s_good ();
    o.init_data = (pool_bytes_t){ NULL, 5 };
    s_refused (&o, "init_data");
    pool_t *pool = NULL;
    assert_int_equal (pool_open (&pool, NULL), POOL_EINVAL);
    assert_int_equal (pool_open (NULL, &o), POOL_EINVAL);
}

static void
test_good_options_pass_the_check (void **state)
{
    (void)state;
    /* Past the check, the library is read: a missing one is the error. */
    pool_options_t o = s_good ();
    o.spin_wait = 0;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &o);
    assert_int_equal (rc, POOL_ELIBRARY);
    assert_null (pool);
    assert_non_null (strstr (pool_open_error (), "no-such-worker.so"));
    /* Local mode without a password passes the check too (the library is
       read before any cluster would be started). */
    o.password = NULL;
    rc = pool_open (&pool, &o);
    assert_int_equal (rc, POOL_ELIBRARY);
    assert_null (pool);
    o.insecure = 1;
    o.password = NULL;
    o.spin_wait = 1;
    assert_int_equal (pool_open (&pool, &o), POOL_ELIBRARY);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_defaults_are_sane),
        cmocka_unit_test (test_bad_options_are_named),
        cmocka_unit_test (test_good_options_pass_the_check),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
