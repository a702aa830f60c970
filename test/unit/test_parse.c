/*  test/unit/test_parse.c - command-line numbers (proto/parse.c).

    A number is taken only when the whole text is one number inside the
    range; everything else (empty, trailing bytes, overflow, out of range,
    nan and inf) is refused and leaves the output alone.
*/
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parse.h"

static void
test_whole_numbers_in_range_are_taken (void **state)
{
    (void)state;
    long long value = 0;
    assert_int_equal (proto_parse_int ("42", 0, 100, &value), 0);
    assert_int_equal (value, 42);
    assert_int_equal (proto_parse_int ("0", 0, 100, &value), 0);
    assert_int_equal (value, 0);
    assert_int_equal (proto_parse_int ("100", 0, 100, &value), 0);
    assert_int_equal (value, 100);
    assert_int_equal (proto_parse_int ("-5", -10, 10, &value), 0);
    assert_int_equal (value, -5);
    assert_int_equal (proto_parse_int ("1099511627776", 1, 1LL << 40, &value), 0);
    assert_true (value == 1LL << 40);
    assert_int_equal (proto_parse_int ("9223372036854775807", 0, LLONG_MAX, &value), 0);
    assert_true (value == LLONG_MAX);
}

static void
test_anything_else_is_refused_and_leaves_the_output (void **state)
{
    (void)state;
    const char *bad[]
        = { "", "abc", "12abc", "1.5", "0x10", "99999999999999999999", "-1", "101", " " };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long value = 7;
        assert_int_equal (proto_parse_int (bad[i], 0, 100, &value), -1);
        assert_int_equal (value, 7);
    }
    long long value = 7;
    assert_int_equal (proto_parse_int (NULL, 0, 100, &value), -1);
    assert_int_equal (value, 7);
}

static void
test_doubles_are_finite_and_in_range (void **state)
{
    (void)state;
    double value = 0;
    assert_int_equal (proto_parse_double ("2.5", 0, 3600, &value), 0);
    assert_true (value == 2.5);
    assert_int_equal (proto_parse_double ("3600", 0, 3600, &value), 0);
    assert_true (value == 3600);
    const char *bad[] = { "", "x", "1s", "3601", "-1", "nan", "inf", NULL };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        value = 7;
        assert_int_equal (proto_parse_double (bad[i], 0, 3600, &value), -1);
        assert_true (value == 7);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_whole_numbers_in_range_are_taken),
        cmocka_unit_test (test_anything_else_is_refused_and_leaves_the_output),
        cmocka_unit_test (test_doubles_are_finite_and_in_range),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
