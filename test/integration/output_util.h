/*  test/integration/output_util.h - what the tests of output forwarding
    share: a pool of the printer worker (test/workers/printer.c) that
    collects the lines its workers wrote through pool_options_t.output,
    and a way to wait for them.

    Lines reach the client only inside libpool calls that wait, and may
    come after the results of the jobs that wrote them (they travel
    through the node, the results straight from the worker): ou_wait runs
    small maps (input "0": no line) until the lines wanted are there or a
    deadline passes.
*/
#ifndef DCPOOL_TEST_OUTPUT_UTIL_H
#define DCPOOL_TEST_OUTPUT_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"

typedef struct {
    char worker[128];
    int stream;
    char *text;
} ou_line_t;

typedef struct {
    ou_line_t *lines;
    size_t count;
    size_t cap;
} ou_lines_t;

/*  The output callback: appends to arg, an ou_lines_t. */
void ou_collect (const char *worker_id, int stream, const char *line, size_t size,
                 void *arg);
void ou_lines_free (ou_lines_t *lines);

/*  Opens a printer pool on head with init data tag, the callback ou_collect
    into lines (NULL: no callback) and forward_output as given; waits for
    workers workers. */
pool_t *ou_open (const h_proc_t *head, const char *tag, ou_lines_t *lines,
                 int forward_output, int workers);
/*  How many lines collected contain text (on stream, 0: either). */
size_t ou_count (const ou_lines_t *lines, const char *text, int stream);
/*  Runs maps of "0" until ou_count (lines, text, stream) >= count or
    seconds pass: true when it got there. */
bool ou_wait (pool_t *pool, const ou_lines_t *lines, const char *text, int stream,
              size_t count, double seconds);
/*  Runs pool_map of count inputs "N"-like texts; fails the test unless
    every result is the input back. */
void ou_map (pool_t *pool, const char *const *inputs, size_t count);

#endif
