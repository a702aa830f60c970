/*  test/unit/test_output_lines.c - node/output_lines.c, how a worker's
    output is cut into lines and rate-limited before it goes to the head:
    lines at '\n', runs without one cut at 4 KiB, NULs sent as '?', each
    line in the log tagged with the worker id, batches of whole lines per
    stream, lines over the rate dropped and counted in one
    "[N lines dropped]" line.  The send function is a fake that keeps
    what it was given.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/output_lines.h"
#include "proto/views.h"

typedef struct {
    char text[2][1 << 22]; /* what each stream sent, batches joined */
    size_t size[2];
    int batches;
} s_sent_t;

static s_sent_t s_sent;

static int
s_send (void *arg, int stream, const char *text, size_t size)
{
    assert_ptr_equal (arg, &s_sent);
    assert_true (size > 0 && size <= PROTO_TEXT_MAX && text[size - 1] == '\n');
    assert_true (s_sent.size[stream - 1] + size < sizeof s_sent.text[0]);
    memcpy (s_sent.text[stream - 1] + s_sent.size[stream - 1], text, size);
    s_sent.size[stream - 1] += size;
    s_sent.text[stream - 1][s_sent.size[stream - 1]] = 0;
    s_sent.batches++;
    return 0;
}

static output_lines_t *
s_new (int log_fd)
{
    memset (&s_sent, 0, sizeof s_sent);
    output_lines_t *lines = output_lines_new ("n1/w0", log_fd, s_send, &s_sent);
    assert_non_null (lines);
    output_lines_reset (lines, 1000);
    return lines;
}

static void
test_lines_are_cut_at_newlines_per_stream (void **state)
{
    (void)state;
    output_lines_t *lines = s_new (-1);
    assert_int_equal (output_lines_feed (lines, 1, "one\ntw", 6, 1000), 0);
    assert_int_equal (output_lines_feed (lines, 2, "err\n", 4, 1000), 0);
    assert_int_equal (output_lines_feed (lines, 1, "o\n\nthree", 8, 1000), 0);
    assert_int_equal (output_lines_flush (lines), 0);
    assert_string_equal (s_sent.text[0], "one\ntwo\n\n");
    assert_string_equal (s_sent.text[1], "err\n");
    /* The unfinished line goes when the process ends. */
    assert_int_equal (output_lines_finish (lines, 1000), 0);
    assert_string_equal (s_sent.text[0], "one\ntwo\n\nthree\n");
    output_lines_destroy (&lines);
    assert_null (lines);
}

static void
test_a_run_without_newlines_is_cut_at_4_kib_and_nul_becomes_a_question_mark (void **state)
{
    (void)state;
    output_lines_t *lines = s_new (-1);
    static char data[PROTO_OUTPUT_LINE_MAX * 2 + 10];
    memset (data, 'x', sizeof data);
    data[5] = 0;
    data[PROTO_OUTPUT_LINE_MAX] = '\n'; /* right after a cut: ends nothing */
    assert_int_equal (output_lines_feed (lines, 1, data, sizeof data, 1000), 0);
    assert_int_equal (output_lines_finish (lines, 1000), 0);
    const char *text = s_sent.text[0];
    const char *first = strchr (text, '\n');
    assert_int_equal (first - text, PROTO_OUTPUT_LINE_MAX);
    assert_int_equal (text[5], '?');
    const char *second = strchr (first + 1, '\n');
    assert_int_equal (second - first - 1, PROTO_OUTPUT_LINE_MAX);
    assert_int_equal (strlen (second + 1), 10); /* 9 x and the newline */
    output_lines_destroy (&lines);
}

static void
test_lines_over_the_rate_are_dropped_and_counted (void **state)
{
    (void)state;
    output_lines_t *lines = s_new (-1);
    int total = OUTPUT_LINES_BURST + 500;
    for (int i = 0; i < total; i++) {
        char line[32];
        int n = snprintf (line, sizeof line, "line %d\n", i);
        assert_int_equal (output_lines_feed (lines, 1, line, (size_t)n, 1000), 0);
    }
    assert_int_equal (output_lines_flush (lines), 0);
    assert_int_equal (output_lines_dropped (lines), 500);
    assert_non_null (strstr (s_sent.text[0], "line 999\n"));
    assert_null (strstr (s_sent.text[0], "line 1000\n"));
    assert_true (s_sent.batches >= 1);
    /* A second later the rate allows more: the count goes first. */
    assert_int_equal (output_lines_feed (lines, 1, "again\n", 6, 2000), 0);
    assert_int_equal (output_lines_flush (lines), 0);
    assert_non_null (strstr (s_sent.text[0], "line 999\n[500 lines dropped]\nagain\n"));
    assert_int_equal (output_lines_dropped (lines), 0);
    output_lines_destroy (&lines);
}

static void
test_dropped_lines_are_reported_at_a_tick_when_output_stopped (void **state)
{
    (void)state;
    output_lines_t *lines = s_new (-1);
    for (int i = 0; i < OUTPUT_LINES_BURST + 3; i++)
        assert_int_equal (output_lines_feed (lines, 2, "e\n", 2, 1000), 0);
    assert_int_equal (output_lines_tick (lines, 1000), 0); /* no token yet */
    assert_null (strstr (s_sent.text[1], "dropped"));
    assert_int_equal (output_lines_tick (lines, 1100), 0);
    assert_non_null (strstr (s_sent.text[1], "e\n[3 lines dropped]\n"));
    output_lines_destroy (&lines);
}

static void
test_every_line_is_logged_with_the_worker_id (void **state)
{
    (void)state;
    char path[] = "/tmp/test_output_lines_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    output_lines_t *lines = s_new (fd);
    for (int i = 0; i < OUTPUT_LINES_BURST + 10; i++)
        assert_int_equal (output_lines_feed (lines, 1, "hello\n", 6, 1000), 0);
    assert_int_equal (output_lines_feed (lines, 2, "bye", 3, 1000), 0);
    assert_int_equal (output_lines_finish (lines, 1000), 0);
    output_lines_destroy (&lines);
    static char logged[1 << 16];
    ssize_t n = pread (fd, logged, sizeof logged - 1, 0);
    close (fd);
    unlink (path);
    assert_true (n > 0);
    logged[n] = 0;
    /* Dropped or not, every line is in the log. */
    size_t count = 0;
    for (const char *at = logged; (at = strstr (at, "(n1/w0) hello\n")); at++)
        count++;
    assert_int_equal (count, OUTPUT_LINES_BURST + 10);
    assert_non_null (strstr (logged, "(n1/w0) bye\n"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_lines_are_cut_at_newlines_per_stream),
        cmocka_unit_test (
            test_a_run_without_newlines_is_cut_at_4_kib_and_nul_becomes_a_question_mark),
        cmocka_unit_test (test_lines_over_the_rate_are_dropped_and_counted),
        cmocka_unit_test (test_dropped_lines_are_reported_at_a_tick_when_output_stopped),
        cmocka_unit_test (test_every_line_is_logged_with_the_worker_id),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
