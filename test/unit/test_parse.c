/*  test/unit/test_parse.c - command-line numbers (proto/parse.c) and byte
    counts (proto/bytes.c).

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

#include "bytes.h"
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

static void
test_byte_counts_take_binary_suffixes (void **state)
{
    (void)state;
    uint64_t value = 0;
    assert_int_equal (proto_parse_bytes ("4096", 1, UINT64_MAX, &value), 0);
    assert_true (value == 4096);
    assert_int_equal (proto_parse_bytes ("8M", 1, UINT64_MAX, &value), 0);
    assert_true (value == 8ULL << 20);
    assert_int_equal (proto_parse_bytes ("2GiB", 1, UINT64_MAX, &value), 0);
    assert_true (value == 2ULL << 30);
    assert_int_equal (proto_parse_bytes ("512k", 1, UINT64_MAX, &value), 0);
    assert_true (value == 512ULL << 10);
    assert_int_equal (proto_parse_bytes ("1T", 1, UINT64_MAX, &value), 0);
    assert_true (value == 1ULL << 40);
    const char *bad[] = { "",
                          "G",
                          "lots",
                          "-1",
                          " 5",
                          "1.5G",
                          "4X",
                          "4Gx",
                          "0",
                          "99999999999999999999",
                          "20000000000T",
                          NULL };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        value = 7;
        assert_int_equal (proto_parse_bytes (bad[i], 1, UINT64_MAX, &value), -1);
        assert_true (value == 7);
    }
    assert_int_equal (proto_parse_bytes ("512K", 1ULL << 20, UINT64_MAX, &value), -1);
}

static void
test_byte_counts_are_written_for_people (void **state)
{
    (void)state;
    char text[32];
    assert_string_equal (proto_bytes_text (512, text, sizeof text), "512 B");
    assert_string_equal (proto_bytes_text (256 << 10, text, sizeof text), "256 KiB");
    assert_string_equal (proto_bytes_text (64ULL << 20, text, sizeof text), "64 MiB");
    assert_string_equal (proto_bytes_text (2ULL << 30, text, sizeof text), "2.0 GiB");
    assert_string_equal (proto_bytes_text (1932735283ULL, text, sizeof text), "1.8 GiB");
    assert_string_equal (proto_bytes_text (12897484ULL, text, sizeof text), "12.3 MiB");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_whole_numbers_in_range_are_taken),
        cmocka_unit_test (test_anything_else_is_refused_and_leaves_the_output),
        cmocka_unit_test (test_doubles_are_finite_and_in_range),
        cmocka_unit_test (test_byte_counts_take_binary_suffixes),
        cmocka_unit_test (test_byte_counts_are_written_for_people),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
