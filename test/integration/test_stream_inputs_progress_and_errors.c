/*  Streaming inputs and progress, as a user of imap over a generator and
    of tqdm expects them:
    - pool_imap_stream pulls inputs from a callback: ordered, every result
      in input order; unordered, every input exactly once; the callback's
      buffer is reused at once (the input was copied);
    - an error from the callback ends the iteration with that code, after
      every input already sent got its result;
    - the progress callback is called during a map, with done rising to
      total and failures counted, and exactly once at the end; for a
      stream total is 0 until the end;
    - pool_iter_cancel on a stream: every input pulled yields exactly one
      result, the rest POOL_ECANCELED, and the pool serves the next map;
    - bad input: a NULL callback is POOL_EINVAL.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct {
    long long next, count; /* count < 0: endless */
    long long fail_at;     /* return POOL_EIO there, or -1 */
    char buf[32];
} source_t;

static int
s_next (void *arg, pool_bytes_t *input)
{
    source_t *src = arg;
    if (src->next == src->fail_at)
        return POOL_EIO;
    if (src->count >= 0 && src->next >= src->count)
        return 0;
    int len = snprintf (src->buf, sizeof src->buf, "%lld", src->next++);
    *input = (pool_bytes_t){ src->buf, (size_t)len };
    return 1;
}

enum { N = 20000 };

static void
s_ordered_and_unordered (pool_t *pool)
{
    for (int ordered = 1; ordered >= 0; ordered--) {
        source_t src = { .count = N, .fail_at = -1 };
        pool_iter_t *iter = NULL;
        int rc = pool_imap_stream (pool, s_next, &src, ordered, &iter);
        H_CHECK (rc == 0 && iter, "pool_imap_stream: %s", pool_last_error (pool));
        static unsigned char seen[N];
        memset (seen, 0, sizeof seen);
        long long count = 0;
        pool_result_t r;
        while ((rc = pool_iter_next (iter, &r)) == 1) {
            H_CHECK (r.index < N && !seen[r.index], "index %zu out of range or twice",
                     r.index);
            if (ordered)
                H_CHECK (r.index == (size_t)count, "ordered stream: index %zu as #%lld",
                         r.index, count);
            H_CHECK (h_is_square (&r, (long long)r.index), "result %zu wrong (status %d)",
                     r.index, r.status);
            seen[r.index] = 1;
            count++;
        }
        H_CHECK (rc == 0 && count == N, "%s stream: rc %d, %lld results of %d",
                 ordered ? "ordered" : "unordered", rc, count, N);
        pool_iter_destroy (&iter);
    }
}

static void
s_callback_error (pool_t *pool)
{
    source_t src = { .count = -1, .fail_at = 5000 };
    pool_iter_t *iter = NULL;
    H_CHECK (pool_imap_stream (pool, s_next, &src, 0, &iter) == 0, "stream");
    long long count = 0;
    pool_result_t r;
    int rc;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        H_CHECK (h_is_square (&r, (long long)r.index), "result %zu wrong", r.index);
        count++;
    }
    H_CHECK (rc == POOL_EIO, "a stream whose callback fails must end with its code: %d",
             rc);
    H_CHECK (count == 5000, "%lld results before the failing input (want 5000)", count);
    pool_iter_destroy (&iter);
}

typedef struct {
    int calls, finals;
    size_t last_done, total, failed;
    bool went_back, total_changed;
    double elapsed;
} seen_progress_t;

static void
s_progress (const pool_progress_t *p, void *arg)
{
    seen_progress_t *seen = arg;
    if (p->done < seen->last_done)
        seen->went_back = true;
    if (seen->calls && p->total != seen->total)
        seen->total_changed = true;
    seen->calls++;
    seen->last_done = p->done;
    seen->total = p->total;
    seen->failed = p->failed;
    seen->elapsed = p->elapsed;
    if (p->done == p->total && p->total)
        seen->finals++;
}

static void
s_progress_reported (h_proc_t *head)
{
    static seen_progress_t seen;
    pool_options_t options;
    h_options (&options, head, "square");
    options.progress = s_progress;
    options.progress_arg = &seen;
    options.progress_interval = 0.05;
    pool_t *pool = NULL;
    H_CHECK (pool_open (&pool, &options) == 0, "pool_open: %s", pool_open_error ());
    enum { M = 60 };
    static char texts[M][24];
    static pool_bytes_t inputs[M];
    static pool_result_t results[M];
    for (int i = 0; i < M; i++) {
        /* 20 ms each on 2 workers: about 0.6 s; every 10th fails. */
        int len = i % 10 == 9 ? snprintf (texts[i], sizeof texts[i], "bad")
                              : snprintf (texts[i], sizeof texts[i], "%ds20", i);
        inputs[i] = (pool_bytes_t){ texts[i], (size_t)len };
    }
    int rc = pool_map (pool, inputs, M, results);
    H_CHECK (rc == 0, "pool_map: %s", pool_last_error (pool));
    pool_results_release (pool, results, M);
    H_CHECK (seen.calls >= 2, "progress was called %d times during a 0.6 s map",
             seen.calls);
    H_CHECK (!seen.went_back && !seen.total_changed,
             "progress went back or changed total");
    H_CHECK (seen.last_done == M && seen.total == M && seen.failed == M / 10,
             "last progress: done %zu, total %zu, failed %zu (want %d, %d, %d)",
             seen.last_done, seen.total, seen.failed, M, M, M / 10);
    H_CHECK (seen.finals == 1, "the final progress call came %d times", seen.finals);

    /* A stream: total 0 until its end, then the count. */
    memset (&seen, 0, sizeof seen);
    source_t src = { .count = 3000, .fail_at = -1 };
    pool_iter_t *iter = NULL;
    H_CHECK (pool_imap_stream (pool, s_next, &src, 1, &iter) == 0, "stream");
    pool_result_t r;
    int n = 0;
    while ((rc = pool_iter_next (iter, &r)) == 1)
        n++;
    H_CHECK (rc == 0 && n == 3000, "stream of 3000: rc %d, %d results", rc, n);
    H_CHECK (seen.finals == 1 && seen.total == 3000 && seen.last_done == 3000,
             "stream's final progress: done %zu total %zu (%d finals)", seen.last_done,
             seen.total, seen.finals);
    pool_iter_destroy (&iter);
    pool_close (&pool);
}

/* An endless stream, cancelled after 1000 results. */
static void
s_cancel_stream (pool_t *pool)
{
    source_t src = { .count = -1, .fail_at = -1 };
    pool_iter_t *iter = NULL;
    H_CHECK (pool_imap_stream (pool, s_next, &src, 0, &iter) == 0, "stream");
    static unsigned char seen[1 << 20];
    size_t count = 0, cancelled = 0;
    pool_result_t r;
    int rc;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        H_CHECK (r.index < sizeof seen && !seen[r.index], "index %zu twice or too far",
                 r.index);
        seen[r.index] = 1;
        if (r.status == POOL_ECANCELED)
            cancelled++;
        else
            H_CHECK (h_is_square (&r, (long long)r.index), "result %zu wrong (status %d)",
                     r.index, r.status);
        if (++count == 1000) {
            H_CHECK (pool_iter_cancel (iter) == 0, "pool_iter_cancel: %s",
                     pool_last_error (pool));
            H_CHECK (pool_iter_cancel (iter) == POOL_EINVAL && *pool_last_error (pool),
                     "cancelling twice must be POOL_EINVAL with a reason");
        }
    }
    H_CHECK (rc == 0, "a cancelled stream ends with 0, not %d", rc);
    H_CHECK (count == (size_t)src.next,
             "%zu results for %lld inputs pulled: each must have exactly one", count,
             src.next);
    for (long long i = 0; i < src.next; i++)
        H_CHECK (seen[i], "input %lld pulled but never yielded", i);
    printf ("cancelled stream: %zu inputs pulled, %zu cancelled\n", count, cancelled);
    pool_iter_destroy (&iter);
}

static void
s_bad_input (pool_t *pool)
{
    pool_iter_t *iter = (pool_iter_t *)1;
    H_CHECK (pool_imap_stream (pool, NULL, NULL, 1, &iter) == POOL_EINVAL && !iter,
             "a NULL callback must be POOL_EINVAL");
    H_CHECK (pool_imap_stream (NULL, s_next, NULL, 1, &iter) == POOL_EINVAL,
             "a NULL pool must be POOL_EINVAL");
    H_CHECK (pool_iter_cancel (NULL) == POOL_EINVAL, "pool_iter_cancel (NULL)");
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    pool_t *pool = h_open (head, "square", 2);
    s_ordered_and_unordered (pool);
    s_callback_error (pool);
    s_cancel_stream (pool);
    s_bad_input (pool);
    /* The pool serves a plain map after the streams. */
    pool_result_t r[3];
    pool_bytes_t in[3] = { { "1", 1 }, { "2", 1 }, { "3", 1 } };
    H_CHECK (pool_map (pool, in, 3, r) == 0, "map after streams");
    for (int i = 0; i < 3; i++)
        H_CHECK (h_is_square (&r[i], i + 1), "map after streams: result %d", i);
    pool_results_release (pool, r, 3);
    pool_close (&pool);
    s_progress_reported (head);
}

int
main (void)
{
    return h_main ("test_stream_inputs_progress_and_errors", s_body);
}
