/*  test/integration/cancel_util.h - shared by the cancellation tests
    (test_cancel_*), which run the sleepy worker (test/workers/sleepy.c).
*/
#ifndef DCPOOL_TEST_CANCEL_UTIL_H
#define DCPOOL_TEST_CANCEL_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "fail_util.h"

/*  count inputs, each the text; the array lives until the process ends. */
pool_bytes_t *cu_inputs (size_t count, const char *text);
/*  A fresh directory under the test's temporary one, for the sleepy
    worker's markers; its path lives until the process ends. */
const char *cu_dir (const char *name);
/*  Opens a pool of the sleepy worker on head with dir as its init data,
    the cancel grace and max_attempts given, and waits for workers ready. */
pool_t *cu_open (const h_proc_t *head, const char *dir, double grace, int max_attempts,
                 int workers);
/*  Files in dir whose name contains part. */
int cu_count (const char *dir, const char *part);
/*  Waits until dir holds at least count files whose name contains part,
    or fails the test after timeout seconds (a generous, hang-only
    bound). */
void cu_wait_files (const char *dir, const char *part, int count, double timeout);
/*  The pid after '@' in a sleepy value, or -1. */
pid_t cu_pid_of (const pool_result_t *result);
/*  Takes every result of a cancelled iterator of count inputs, of which
    the indexes taken[ntaken] were handed out before: each index exactly
    once, status 0 (a right value for the sleepy input text; any value
    when text is NULL) or
    POOL_ECANCELED with the error "cancelled".  How many had status 0. */
size_t cu_drain_cancelled (pool_iter_t *iter, size_t count, const char *text,
                           const size_t *taken, size_t ntaken);
/*  Maps count inputs "0" (no sleep) and checks every value; returns the
    pid of the worker that ran the first (all of them when only_pid > 0
    must match it). */
pid_t cu_map_right (pool_t *pool, size_t count, pid_t only_pid);

#endif
