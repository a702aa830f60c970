/*  test/unit/test_worker_results.c - when a worker's batch of results goes
    to the head (node/worker_results.c), with a fake worker_link_send (and
    worker_link_send_kept) that keeps what was sent: half a window goes
    early only when the jobs left run a millisecond or more, so a window of
    no-op jobs goes as one RESULT; jobs of 1 ms that would run out before a
    refill could come go early, once per message of jobs received, and
    no-op jobs do not; a full batch, an old first result and a job run
    again go at once.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <czmq.h>

#include "views.h"
#include "worker_results.h"

#define POOL 7

/* What the fake link was given: the RESULTs' job counts and busy times. */
static size_t s_sent;
static size_t s_sent_jobs[16];
static uint64_t s_sent_busy_us[16];

int
worker_link_send_kept (worker_link_t *self, proto_msg_t *msg)
{
    (void)self;
    assert_int_equal (msg->type, PROTO_RESULT);
    assert_true (s_sent < sizeof s_sent_jobs / sizeof s_sent_jobs[0]);
    proto_timing_t timing = { 0 };
    assert_true (proto_timing_get (msg, &timing));
    s_sent_jobs[s_sent] = msg->njobs;
    s_sent_busy_us[s_sent] = timing.busy_us;
    s_sent++;
    return 0;
}

int
worker_link_send (worker_link_t *self, proto_msg_t *msg)
{
    int rc = worker_link_send_kept (self, msg);
    proto_msg_reset (msg);
    return rc;
}

static int
s_setup (void **state)
{
    s_sent = 0;
    /* The link is never looked at by the fake: any non-NULL pointer. */
    *state = worker_results_new ((worker_link_t *)&s_sent, "test/w0");
    return *state ? 0 : -1;
}

static int
s_teardown (void **state)
{
    worker_results_t *results = *state;
    worker_results_destroy (&results);
    assert_null (results);
    return 0;
}

/* Adds count results of 8 bytes, ids from first, attempt given. */
static void
s_add (worker_results_t *results, uint64_t first, size_t count, uint32_t attempt)
{
    for (size_t k = 0; k < count; k++) {
        proto_job_t job = { .id = first + k, .attempt = attempt };
        uint64_t out = first + k;
        worker_results_busy (results);
        assert_int_equal (worker_results_add (results, POOL, &job, &out, sizeof out), 0);
    }
}

/* Spins (a job's work) for us microseconds. */
static void
s_spin (int64_t us)
{
    int64_t until = zclock_usecs () + us;
    while (zclock_usecs () < until)
        ;
}

/* 32 jobs of 100 us done, 32 more queued: those take 3.2 ms, so the
   half window goes now and the head can refill the worker meanwhile. */
static void
test_half_window_of_slow_jobs_goes_early (void **state)
{
    worker_results_t *results = *state;
    int64_t young = zclock_mono (); /* never due by age */
    for (uint64_t k = 0; k < 32; k++) {
        worker_results_busy (results);
        s_spin (100);
        s_add (results, k, 1, 0);
    }
    assert_false (worker_results_due (results, young, 33));
    assert_true (worker_results_due (results, young, 32));
    assert_int_equal (worker_results_flush (results, POOL), 0);
    assert_int_equal (s_sent, 1);
    assert_int_equal (s_sent_jobs[0], 32);
    assert_true (s_sent_busy_us[0] >= 3200);
}

/* 512 no-op jobs done, 32 queued: those run dry in microseconds, long
   before a refill could arrive, so the batch waits for them (one RESULT
   for the window, not two); it still goes at RESULTS_MAX. */
static void
test_half_window_of_noop_jobs_waits (void **state)
{
    worker_results_t *results = *state;
    int64_t young = zclock_mono (); /* never due by age */
    s_add (results, 0, 512, 0);
    assert_false (worker_results_due (results, young, 32));
    /* Once too brief, the batch does not split later in its queue. */
    assert_false (worker_results_due (results, young, 8));
    s_add (results, 512, 511, 0);
    assert_false (worker_results_due (results, young, 1));
    s_add (results, 1023, 1, 0);
    assert_true (worker_results_due (results, young, 1));
    assert_int_equal (worker_results_flush (results, POOL), 0);
    assert_int_equal (s_sent, 1);
    assert_int_equal (s_sent_jobs[0], 1024);
}

/* Runs count jobs of us microseconds that arrived at arrived_us. */
static void
s_run_jobs (worker_results_t *results, uint64_t first, size_t count, int64_t us,
            int64_t arrived_us)
{
    for (size_t k = 0; k < count; k++) {
        worker_results_busy (results);
        s_spin (us);
        s_add (results, first + k, 1, 0);
        worker_results_arrived (results, arrived_us);
    }
}

/* The head's answer to a batch came 90 ms after it went (a slow link,
   and room for a loaded machine to slow the jobs): a batch of 1 ms jobs
   goes while the jobs left run for about that long (at most 112 ms of
   them; 200 and more are too many), not when the queue has emptied and
   the worker would wait 90 ms for more; once per message of jobs
   received (the refill then on its way is not asked for again), and
   again after a newer one came.  No-op jobs never go early (not worth a
   message), nor does a worker whose refill took more than
   RESULTS_REFILL_MAX_US (the pool had no work then).  The batches are
   judged at a time just after the last one went, so that none is due by
   age however slowly this machine runs the test; a job slowed down
   only makes the ones left look longer, which asks for fewer early. */
static void
test_jobs_that_run_dry_before_a_refill_go_early (void **state)
{
    worker_results_t *results = *state;
    int64_t before = zclock_usecs ();
    s_run_jobs (results, 0, 1, 0, before);
    assert_int_equal (worker_results_flush (results, POOL), 0);
    int64_t flushed = zclock_usecs ();
    int64_t young = zclock_mono ();
    /* Not known yet: no early batch however short the queue. */
    s_run_jobs (results, 1, 2, 1000, before);
    assert_false (worker_results_due (results, young, 1));
    /* The refill: its first job came 90 ms after the batch went. */
    int64_t refill_at = flushed + 90000;
    s_run_jobs (results, 3, 2, 1000, refill_at);
    assert_false (worker_results_due (results, young, 400));
    assert_false (worker_results_due (results, young, 200));
    assert_true (worker_results_due (results, young, 5));
    assert_int_equal (worker_results_flush (results, POOL), 0);
    flushed = zclock_usecs ();
    young = zclock_mono ();
    size_t sent = s_sent;
    /* A job of the message already answered early (it came before). */
    s_run_jobs (results, 5, 1, 1000, before);
    assert_false (worker_results_due (results, young, 5));
    /* The refill that answer brought, 90 ms after it went. */
    s_run_jobs (results, 6, 1, 1000, flushed + 90000);
    assert_true (worker_results_due (results, young, 5));
    assert_int_equal (worker_results_flush (results, POOL), 0);
    assert_int_equal (s_sent, sent + 1);

    young = zclock_mono ();
    s_add (results, 7, 64, 0);
    worker_results_arrived (results, zclock_usecs () + 60000);
    assert_false (worker_results_due (results, young, 1));
}

static void
test_slow_refills_are_not_counted (void **state)
{
    worker_results_t *results = *state;
    s_run_jobs (results, 0, 1, 0, zclock_usecs ());
    assert_int_equal (worker_results_flush (results, POOL), 0);
    int64_t young = zclock_mono ();
    s_run_jobs (results, 1, 2, 1000, zclock_usecs () + 200000);
    assert_false (worker_results_due (results, young, 1));
}

/* The next batch is judged afresh: no-op jobs, then slow ones. */
static void
test_each_batch_judged_afresh (void **state)
{
    worker_results_t *results = *state;
    int64_t young = zclock_mono (); /* never due by age */
    s_add (results, 0, 256, 0);
    assert_false (worker_results_due (results, young, 32));
    assert_int_equal (worker_results_flush (results, POOL), 0);
    for (uint64_t k = 256; k < 320; k++) {
        worker_results_busy (results);
        s_spin (100);
        s_add (results, k, 1, 0);
    }
    assert_true (worker_results_due (results, young, 64));
    assert_int_equal (worker_results_flush (results, POOL), 0);
    assert_int_equal (s_sent, 2);
    assert_int_equal (s_sent_jobs[1], 64);
}

/* A first result PROTO_RESULTS_AGE_MS old goes, however few; a job run
   again goes at once. */
static void
test_old_or_rerun_goes (void **state)
{
    worker_results_t *results = *state;
    s_add (results, 0, 1, 0);
    int64_t now = zclock_mono ();
    assert_false (worker_results_due (results, now, 100));
    assert_true (worker_results_due (results, now + PROTO_RESULTS_AGE_MS + 1, 100));
    assert_int_equal (worker_results_flush (results, POOL), 0);
    s_add (results, 1, 1, 1);
    assert_true (worker_results_due (results, zclock_mono (), 100));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_half_window_of_slow_jobs_goes_early,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_half_window_of_noop_jobs_waits, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_each_batch_judged_afresh, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_old_or_rerun_goes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_jobs_that_run_dry_before_a_refill_go_early,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_slow_refills_are_not_counted, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
