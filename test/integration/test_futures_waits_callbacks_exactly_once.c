/*  Futures (pool_submit and its waits), as a CluPy or Ray user relies on
    them:
    - pool_wait_all and pool_wait_any return POOL_ETIMEOUT when the time
      runs out, and nothing is lost: a later wait gets every result;
    - pool_wait_any names the future that finished first;
    - pool_future_then callbacks run exactly once each (success or
      failure as the status says), in the thread that waits, never inside
      pool_future_then itself, also for a future that was done already;
    - futures run while an iterator runs on the same pool, and both get
      all their results right;
    - 100,000 futures outstanding at once all get their result;
    - a timeout of 0 takes in what came; pool_wait_any over futures of
      two pools sees the second's; a callback may destroy the future its
      wait waits on;
    - bad input gets POOL_EINVAL: NULL futures, a negative timeout,
      callbacks set twice; a future destroyed from its own callback is
      freed when the callback returns (no leak under ASan).
*/
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static pthread_t s_main_thread;
static int s_ok_calls, s_fail_calls, s_wrong_thread, s_wrong_value;

static pool_bytes_t
s_text (char *buf, size_t size, const char *format, long long n)
{
    int len = snprintf (buf, size, format, n);
    return (pool_bytes_t){ buf, (size_t)len };
}

static void
s_on_success (pool_future_t *future, const pool_result_t *result, void *arg)
{
    if (!pthread_equal (pthread_self (), s_main_thread))
        s_wrong_thread++;
    if (!h_is_square (result, (long long)(intptr_t)arg))
        s_wrong_value++;
    s_ok_calls++;
}

static void
s_on_failure (pool_future_t *future, const pool_result_t *result, void *arg)
{
    if (!pthread_equal (pthread_self (), s_main_thread))
        s_wrong_thread++;
    if (result->status != POOL_EJOB || !result->error)
        s_wrong_value++;
    s_fail_calls++;
}

static int s_self_destroyed;

static void
s_destroy_self (pool_future_t *future, const pool_result_t *result, void *arg)
{
    pool_future_t **slot = arg;
    pool_future_destroy (slot); /* deferred until we return */
    H_CHECK (*slot == NULL, "pool_future_destroy must null the pointer");
    s_self_destroyed++;
}

static void
s_timeouts (pool_t *pool)
{
    char a[32], b[32];
    pool_future_t *slow[2] = { NULL, NULL };
    H_CHECK (pool_submit (pool, s_text (a, sizeof a, "%llds1500", 7), &slow[0]) == 0,
             "submit: %s", pool_last_error (pool));
    H_CHECK (pool_submit (pool, s_text (b, sizeof b, "%llds1500", 8), &slow[1]) == 0,
             "submit: %s", pool_last_error (pool));
    memset (a, 'x', sizeof a); /* the input was copied */
    double t0 = h_now ();
    int rc = pool_wait_all (slow, 2, 0.2);
    double took = h_now () - t0;
    H_CHECK (rc == POOL_ETIMEOUT, "pool_wait_all (0.2 s) on 1.5 s jobs: %s",
             pool_strerror (rc));
    H_CHECK (took < 1.4, "pool_wait_all (0.2 s) returned after %.2f s", took);
    pool_result_t r;
    H_CHECK (pool_future_result (slow[0], &r) == POOL_ETIMEOUT,
             "pool_future_result before the result came must say POOL_ETIMEOUT");
    rc = pool_wait_all (slow, 2, h_timeout (60));
    H_CHECK (rc == 0, "pool_wait_all after a timeout: %s", pool_strerror (rc));
    H_CHECK (pool_future_result (slow[0], &r) == 0 && h_is_square (&r, 7),
             "future 7: status %d", r.status);
    H_CHECK (pool_future_result (slow[1], &r) == 0 && h_is_square (&r, 8),
             "future 8: status %d", r.status);
    pool_future_destroy (&slow[0]);
    pool_future_destroy (&slow[1]);

    /* wait_any: the quick one, though it comes second. */
    pool_future_t *two[2] = { NULL, NULL };
    H_CHECK (pool_submit (pool, s_text (a, sizeof a, "%llds3000", 5), &two[0]) == 0,
             "submit");
    H_CHECK (pool_submit (pool, s_text (b, sizeof b, "%lld", 6), &two[1]) == 0, "submit");
    size_t index = 99;
    rc = pool_wait_any (two, 2, h_timeout (60), &index);
    H_CHECK (rc == 0 && index == 1, "pool_wait_any: rc %d, index %zu (want 1)", rc,
             index);
    H_CHECK (pool_future_result (two[1], &r) == 0 && h_is_square (&r, 6), "future 6");
    rc = pool_wait_any (two, 1, 0.1, &index);
    H_CHECK (rc == POOL_ETIMEOUT, "pool_wait_any (0.1 s) on a 3 s job: %s",
             pool_strerror (rc));
    H_CHECK (pool_future_wait (two[0], h_timeout (60)) == 0, "pool_future_wait");
    H_CHECK (pool_future_result (two[0], &r) == 0 && h_is_square (&r, 5), "future 5");
    pool_future_destroy (&two[0]);
    pool_future_destroy (&two[1]);
}

enum { NCALLBACKS = 1000 };

static void
s_callbacks (pool_t *pool)
{
    static pool_future_t *futures[NCALLBACKS];
    char text[32];
    int want_fail = 0;
    for (int i = 0; i < NCALLBACKS; i++) {
        /* Every 7th input is not a number: an error result. */
        pool_bytes_t in = i % 7 == 3 ? (pool_bytes_t){ "oops", 4 }
                                     : s_text (text, sizeof text, "%lld", i);
        want_fail += i % 7 == 3;
        H_CHECK (pool_submit (pool, in, &futures[i]) == 0, "submit %d: %s", i,
                 pool_last_error (pool));
        H_CHECK (
            pool_future_then (futures[i], s_on_success, s_on_failure, (void *)(intptr_t)i)
                == 0,
            "then %d", i);
    }
    H_CHECK (pool_future_then (futures[0], s_on_success, s_on_failure, NULL)
                 == POOL_EINVAL,
             "a second pool_future_then must be POOL_EINVAL");
    int rc = pool_wait_all (futures, NCALLBACKS, h_timeout (120));
    H_CHECK (rc == 0, "pool_wait_all: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    H_CHECK (s_ok_calls == NCALLBACKS - want_fail && s_fail_calls == want_fail,
             "callbacks: %d successes (want %d), %d failures (want %d)", s_ok_calls,
             NCALLBACKS - want_fail, s_fail_calls, want_fail);
    H_CHECK (!s_wrong_thread && !s_wrong_value,
             "%d callbacks in another thread, %d with a wrong result", s_wrong_thread,
             s_wrong_value);
    /* Waiting again runs nothing twice. */
    H_CHECK (pool_poll (pool, 0.05) == 0, "pool_poll ran callbacks twice");
    H_CHECK (s_ok_calls + s_fail_calls == NCALLBACKS, "callbacks ran twice");
    for (int i = 0; i < NCALLBACKS; i++)
        pool_future_destroy (&futures[i]);

    /* A callback set on a future that is done runs at the next wait, not
       inside pool_future_then. */
    pool_future_t *done = NULL;
    H_CHECK (pool_submit (pool, s_text (text, sizeof text, "%lld", 11), &done) == 0,
             "submit");
    H_CHECK (pool_future_wait (done, h_timeout (60)) == 0, "wait");
    int before = s_ok_calls;
    H_CHECK (pool_future_then (done, s_on_success, s_on_failure, (void *)(intptr_t)11)
                 == 0,
             "then");
    H_CHECK (s_ok_calls == before, "pool_future_then ran the callback itself");
    H_CHECK (pool_poll (pool, 1) == 1 && s_ok_calls == before + 1,
             "pool_poll did not run the due callback once");
    pool_future_destroy (&done);

    /* A future destroyed from its own callback. */
    pool_future_t *self = NULL;
    H_CHECK (pool_submit (pool, s_text (text, sizeof text, "%lld", 12), &self) == 0,
             "submit");
    H_CHECK (pool_future_then (self, s_destroy_self, s_destroy_self, &self) == 0, "then");
    double deadline = h_now () + h_timeout (60);
    while (!s_self_destroyed && h_now () < deadline)
        H_CHECK (pool_poll (pool, 1) >= 0, "pool_poll: %s", pool_last_error (pool));
    H_CHECK (s_self_destroyed == 1 && self == NULL,
             "the self-destroying callback ran %d times", s_self_destroyed);
}

enum { NITER = 2000, NSIDE = 300 };

static void
s_beside_an_iterator (pool_t *pool)
{
    static char texts[NITER][24];
    static pool_bytes_t inputs[NITER];
    for (int i = 0; i < NITER; i++)
        inputs[i] = s_text (texts[i], sizeof texts[i], "%lld", i);
    pool_iter_t *iter = NULL;
    H_CHECK (pool_imap (pool, inputs, NITER, &iter) == 0, "pool_imap: %s",
             pool_last_error (pool));
    static pool_future_t *side[NSIDE];
    int nside = 0, count = 0, rc;
    pool_result_t r;
    char text[32];
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        H_CHECK (r.index == (size_t)count && h_is_square (&r, count),
                 "imap result %d wrong (index %zu, status %d)", count, r.index, r.status);
        count++;
        if (nside < NSIDE && count % 5 == 0) {
            H_CHECK (pool_submit (pool,
                                  s_text (text, sizeof text, "%lld", 100000 + nside),
                                  &side[nside])
                         == 0,
                     "submit beside the iterator: %s", pool_last_error (pool));
            nside++;
        }
    }
    H_CHECK (rc == 0 && count == NITER, "imap: rc %d after %d results", rc, count);
    pool_iter_destroy (&iter);
    H_CHECK (pool_wait_all (side, (size_t)nside, h_timeout (60)) == 0, "wait_all side");
    for (int i = 0; i < nside; i++) {
        H_CHECK (pool_future_result (side[i], &r) == 0 && h_is_square (&r, 100000 + i),
                 "side future %d wrong", i);
        pool_future_destroy (&side[i]);
    }
}

enum { NMANY = 100000 };

static void
s_many (pool_t *pool)
{
    pool_future_t **many = calloc (NMANY, sizeof *many);
    H_CHECK (many, "calloc");
    char text[32];
    for (int i = 0; i < NMANY; i++)
        H_CHECK (pool_submit (pool, s_text (text, sizeof text, "%lld", i), &many[i]) == 0,
                 "submit %d: %s", i, pool_last_error (pool));
    int rc = pool_wait_all (many, NMANY, h_timeout (300));
    H_CHECK (rc == 0, "pool_wait_all of %d: %s", NMANY, pool_strerror (rc));
    pool_result_t r;
    for (int i = 0; i < NMANY; i++) {
        H_CHECK (pool_future_result (many[i], &r) == 0 && h_is_square (&r, i),
                 "future %d of %d wrong: status %d", i, NMANY, r.status);
        pool_future_destroy (&many[i]);
    }
    free (many);
}

static void
s_destroy_waited (pool_future_t *future, const pool_result_t *result, void *arg)
{
    pool_future_destroy ((pool_future_t **)arg);
}

/*  Timeouts of 0 still take in what came; wait_any over two pools sees
    the second; a callback may destroy the future being waited on. */
static void
s_edges (pool_t *pool, h_proc_t *head)
{
    pool_future_t *f = NULL;
    H_CHECK (pool_submit (pool, (pool_bytes_t){ "3", 1 }, &f) == 0, "submit");
    double deadline = h_now () + h_timeout (30);
    int rc;
    while ((rc = pool_future_wait (f, 0)) == POOL_ETIMEOUT && h_now () < deadline)
        ; /* busy elsewhere, looking now and then */
    H_CHECK (rc == 0, "pool_future_wait (f, 0) never took the result in: %d", rc);
    pool_future_destroy (&f);

    pool_t *other = h_open (head, "square", 1);
    pool_future_t *two[2] = { NULL, NULL };
    H_CHECK (pool_submit (pool, (pool_bytes_t){ "1s4000", 6 }, &two[0]) == 0, "submit");
    H_CHECK (pool_submit (other, (pool_bytes_t){ "4", 1 }, &two[1]) == 0, "submit");
    size_t index = 9;
    rc = pool_wait_any (two, 2, h_timeout (30), &index);
    H_CHECK (rc == 0 && index == 1, "wait_any over two pools: rc %d, index %zu", rc,
             index);
    pool_future_destroy (&two[0]);
    pool_future_destroy (&two[1]);
    pool_close (&other);

    pool_future_t *waited = NULL;
    H_CHECK (pool_submit (pool, (pool_bytes_t){ "5", 1 }, &waited) == 0, "submit");
    H_CHECK (pool_future_then (waited, s_destroy_waited, s_destroy_waited, &waited) == 0,
             "then");
    pool_future_t *alias = waited;
    rc = pool_future_wait (alias, h_timeout (30));
    H_CHECK (rc == 0 && waited == NULL,
             "a future destroyed by its callback inside its own wait: rc %d", rc);
}

static void
s_bad_input (pool_t *pool)
{
    pool_future_t *f = NULL;
    H_CHECK (pool_submit (NULL, (pool_bytes_t){ "1", 1 }, &f) == POOL_EINVAL && !f,
             "submit on NULL pool");
    H_CHECK (pool_submit (pool, (pool_bytes_t){ NULL, 3 }, &f) == POOL_EINVAL,
             "submit with size but no data");
    H_CHECK (pool_submit (pool, (pool_bytes_t){ "1", 1 }, NULL) == POOL_EINVAL,
             "submit without a future pointer");
    H_CHECK (pool_future_wait (NULL, 1) == POOL_EINVAL, "wait NULL");
    H_CHECK (pool_wait_all (NULL, 2, 1) == POOL_EINVAL, "wait_all NULL");
    pool_future_t *none[1] = { NULL };
    H_CHECK (pool_wait_all (none, 1, 1) == POOL_EINVAL, "wait_all of a NULL future");
    size_t index;
    H_CHECK (pool_wait_any (none, 1, 1, &index) == POOL_EINVAL, "wait_any of NULL");
    H_CHECK (pool_future_cancel (NULL) == POOL_EINVAL, "cancel NULL");
    H_CHECK (pool_future_then (NULL, NULL, NULL, NULL) == POOL_EINVAL, "then NULL");
    H_CHECK (pool_poll (NULL, 0) == POOL_EINVAL, "poll NULL");
    H_CHECK (pool_submit (pool, (pool_bytes_t){ "2", 1 }, &f) == 0, "submit");
    H_CHECK (pool_future_wait (f, -1) == POOL_EINVAL, "a negative timeout");
    H_CHECK (pool_poll (pool, -0.5) == POOL_EINVAL, "poll with a negative timeout");
    H_CHECK (pool_future_wait (f, h_timeout (60)) == 0, "wait");
    H_CHECK (pool_future_cancel (f) == POOL_EINVAL && *pool_last_error (pool),
             "cancelling a future that has its result must be POOL_EINVAL with a reason");
    pool_future_destroy (&f);
    pool_future_destroy (&f); /* NULL now: nothing */
    pool_future_destroy (NULL);
}

static void
s_body (void)
{
    s_main_thread = pthread_self ();
    h_proc_t *head = h_start_head (2, false);
    pool_t *pool = h_open (head, "square", 2);
    s_timeouts (pool);
    s_callbacks (pool);
    s_beside_an_iterator (pool);
    s_many (pool);
    s_edges (pool, head);
    s_bad_input (pool);
    /* A future left undestroyed at pool_close gets POOL_ECLOSED and
       stays the caller's to destroy. */
    pool_future_t *left = NULL;
    H_CHECK (pool_submit (pool, (pool_bytes_t){ "9s2000", 6 }, &left) == 0, "submit");
    pool_close (&pool);
    pool_result_t r;
    H_CHECK (pool_future_wait (left, 1) == 0 && pool_future_result (left, &r) == 0
                 && r.status == POOL_ECLOSED,
             "a future of a closed pool: status %d", r.status);
    pool_future_destroy (&left);
}

int
main (void)
{
    return h_main ("test_futures_waits_callbacks_exactly_once", s_body);
}
