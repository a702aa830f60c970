/*  test/unit/test_heartbeat.c - proto/heartbeat.c, the bookkeeping every
    peer uses: a HEARTBEAT is due after heartbeat_ms without sending, the
    other side is lost after silence_ms without hearing, a wait sleeps
    until the first of those, and time nobody listened is not silence.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "heartbeat.h"

static void
test_a_heartbeat_is_due_after_heartbeat_ms_without_sending (void **state)
{
    (void)state;
    proto_heartbeat_t beat;
    proto_heartbeat_init (&beat, 300, 900, 1000);
    assert_false (proto_heartbeat_due (&beat, 1299));
    assert_true (proto_heartbeat_due (&beat, 1300));
    proto_heartbeat_sent (&beat, 1300);
    assert_false (proto_heartbeat_due (&beat, 1500));
    assert_true (proto_heartbeat_due (&beat, 1600));
}

static void
test_the_other_side_is_lost_after_silence_ms (void **state)
{
    (void)state;
    proto_heartbeat_t beat;
    proto_heartbeat_init (&beat, 300, 900, 1000);
    assert_false (proto_heartbeat_lost (&beat, 1899));
    proto_heartbeat_heard (&beat, 1800);
    assert_false (proto_heartbeat_lost (&beat, 2600));
    assert_int_equal (proto_heartbeat_silence (&beat, 2600), 800);
    assert_true (proto_heartbeat_lost (&beat, 2700));
    /* Told it is forgotten: lost at once, whatever was heard. */
    proto_heartbeat_heard (&beat, 2700);
    proto_heartbeat_lose (&beat);
    assert_true (proto_heartbeat_lost (&beat, 2700));
}

static void
test_a_wait_wakes_for_the_first_thing_due (void **state)
{
    (void)state;
    proto_heartbeat_t beat;
    proto_heartbeat_init (&beat, 300, 900, 1000);
    assert_int_equal (proto_heartbeat_wake (&beat, 5000), 1300); /* a beat */
    assert_int_equal (proto_heartbeat_wake (&beat, 1100), 1100); /* the deadline */
    proto_heartbeat_sent (&beat, 1850);
    assert_int_equal (proto_heartbeat_wake (&beat, 5000), 1900); /* the loss */
}

static void
test_time_nobody_listened_is_not_silence (void **state)
{
    (void)state;
    proto_heartbeat_t beat;
    proto_heartbeat_init (&beat, 300, 900, 1000);
    proto_heartbeat_pause (&beat, 1100);  /* the application left the library */
    proto_heartbeat_resume (&beat, 9100); /* and came back 8 s later */
    assert_int_equal (proto_heartbeat_silence (&beat, 9100), 100);
    assert_false (proto_heartbeat_lost (&beat, 9100));
    proto_heartbeat_resume (&beat, 9500); /* not paused: nothing moves */
    assert_int_equal (proto_heartbeat_silence (&beat, 9500), 500);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_heartbeat_is_due_after_heartbeat_ms_without_sending),
        cmocka_unit_test (test_the_other_side_is_lost_after_silence_ms),
        cmocka_unit_test (test_a_wait_wakes_for_the_first_thing_due),
        cmocka_unit_test (test_time_nobody_listened_is_not_silence),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
