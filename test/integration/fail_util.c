/*  test/integration/fail_util.c - helpers of the failure tests. */
#include "fail_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What fu_inputs and fu_once_init allocate lives until the process ends:
   kept here, so that LeakSanitizer sees it reachable. */
static void *s_kept[256];
static int s_nkept;

static void
s_keep (void *block)
{
    if (s_nkept < 256)
        s_kept[s_nkept++] = block;
}

pool_bytes_t *
fu_inputs (size_t count, const char *suffix)
{
    pool_bytes_t *inputs = calloc (count, sizeof *inputs);
    size_t room = strlen (suffix) + 24;
    char *texts = calloc (count, room);
    H_CHECK (inputs && texts, "out of memory");
    s_keep (inputs);
    s_keep (texts);
    for (size_t i = 0; i < count; i++) {
        char *text = texts + i * room;
        int len = snprintf (text, room, "%zu%s", i, suffix);
        inputs[i] = (pool_bytes_t){ text, (size_t)len };
    }
    return inputs;
}

bool
fu_value_is (const pool_result_t *result, long long n)
{
    if (result->status != 0 || !result->value.data)
        return false;
    char want[32];
    int len = snprintf (want, sizeof want, "%" PRId64, h_square ((int64_t)n));
    const char *value = result->value.data;
    if (result->value.size < (size_t)len || memcmp (value, want, (size_t)len))
        return false;
    return result->value.size == (size_t)len || value[len] == '@' || value[len] == '#';
}

void
fu_check_value (const pool_result_t *result, long long n, const char *what)
{
    H_CHECK (result->status == 0, "%s: input %zu: status %d (%s): %s", what,
             result->index, result->status, pool_strerror (result->status),
             result->error ? result->error : "");
    H_CHECK (fu_value_is (result, n), "%s: input %zu: got '%.*s', want %" PRId64, what,
             result->index, (int)result->value.size, (const char *)result->value.data,
             h_square ((int64_t)n));
}

int
fu_status (const h_proc_t *head, int *nodes, int *workers, int *pools)
{
    char port[16], host[64];
    snprintf (port, sizeof port, "%d", head->port);
    /* Its address as clients see it (loopback, or in a namespace). */
    snprintf (host, sizeof host, "%s", head->server);
    char *colon = strrchr (host, ':');
    if (colon)
        *colon = 0;
    const char *args[] = { "--status", "-a",          host,        "-p", port,
                           "-r",       h_password (), "--timeout", "5",  NULL };
    char *out = NULL;
    int rc = h_run_start_node (args, h_timeout (30), &out);
    *nodes = *workers = *pools = -1;
    const char *line = strstr (out, "nodes: ");
    if (line)
        sscanf (line, "nodes: %d, workers: %d, pools: %d", nodes, workers, pools);
    free (out);
    return rc;
}

void
fu_wait_status (const h_proc_t *head, int nodes, int workers, int pools, double timeout)
{
    double deadline = h_now () + h_timeout (timeout);
    int n = -1, w = -1, p = -1;
    while (true) {
        fu_status (head, &n, &w, &p);
        if ((nodes < 0 || n == nodes) && (workers < 0 || w == workers)
            && (pools < 0 || p == pools))
            return;
        if (h_now () > deadline)
            H_FAIL ("start_node --status still says nodes %d, workers %d, pools "
                    "%d after %.0f s; want %d, %d, %d (-1: any)",
                    n, w, p, h_timeout (timeout), nodes, workers, pools);
        /* A poll, not a wait for time to pass: the condition decides. */
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep (&ts, NULL);
    }
}

int
fu_workers (const h_proc_t *node, pid_t *out, int max)
{
    return h_children (node->pid, "pool-worker", out, max);
}

void
fu_once_init (fu_once_t *once, size_t count)
{
    once->count = count;
    once->results = 0;
    once->seen = calloc (count ? count : 1, sizeof *once->seen);
    H_CHECK (once->seen, "out of memory");
    s_keep (once->seen);
}

void
fu_once_add (fu_once_t *once, const pool_result_t *result)
{
    H_CHECK (result->index < once->count, "result for index %zu of a map of %zu",
             result->index, once->count);
    H_CHECK (once->seen[result->index] == 0,
             "input %zu got a second result (after %zu results): '%.*s'", result->index,
             once->results, result->status == 0 ? (int)result->value.size : 0,
             result->status == 0 ? (const char *)result->value.data : "");
    once->seen[result->index]++;
    once->results++;
}

void
fu_once_check (const fu_once_t *once)
{
    size_t missing = 0, first = 0;
    for (size_t i = 0; i < once->count; i++)
        if (once->seen[i] != 1 && missing++ == 0)
            first = i;
    H_CHECK (missing == 0, "%zu of %zu inputs have no result (the first: %zu)", missing,
             once->count, first);
    H_CHECK (once->results == once->count, "%zu results for %zu inputs", once->results,
             once->count);
}

void
fu_worker_of (const pool_result_t *result, char *id, size_t size)
{
    id[0] = 0;
    if (result->status != 0 || !result->value.data)
        return;
    const char *at = memchr (result->value.data, '@', result->value.size);
    if (!at)
        return;
    size_t len = result->value.size - (size_t)(at + 1 - (const char *)result->value.data);
    if (len >= size)
        len = size - 1;
    memcpy (id, at + 1, len);
    id[len] = 0;
}

bool
fu_on_node (const char *worker_id, const h_proc_t *node)
{
    size_t len = strlen (node->id);
    return len > 0 && strncmp (worker_id, node->id, len) == 0 && worker_id[len] == '/';
}

pool_iter_t *
fu_imap_once (pool_t *pool, size_t count, const char *suffix, fu_once_t *once,
              const char *what)
{
    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, fu_inputs (count, suffix), count, &iter);
    H_CHECK (rc == 0, "%s: pool_imap_unordered: %s", what, pool_strerror (rc));
    fu_once_init (once, count);
    return iter;
}

void
fu_map_once (pool_t *pool, size_t count, const char *suffix, const char *what)
{
    fu_once_t once;
    pool_iter_t *iter = fu_imap_once (pool, count, suffix, &once, what);
    double started = h_now ();
    pool_result_t result;
    int rc;
    while ((rc = pool_iter_next (iter, &result)) == 1) {
        fu_once_add (&once, &result);
        fu_check_value (&result, (long long)result.index, what);
    }
    H_CHECK (rc == 0, "%s: pool_iter_next: %s: %s", what, pool_strerror (rc),
             pool_last_error (pool));
    fu_once_check (&once);
    pool_iter_destroy (&iter);
    h_log ("%s: %zu results, each once, in %.2f s", what, count, h_now () - started);
}

int
fu_count_lines (const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    int lines = 0, c;
    while ((c = fgetc (f)) != EOF)
        lines += c == '\n';
    fclose (f);
    return lines;
}

bool
fu_node_serves (pool_t *pool, const h_proc_t *node, const char *suffix, const char *what)
{
    bool served = false;
    for (int round = 0; round < 20 && !served; round++) {
        static pool_result_t results[40];
        int rc = pool_map (pool, fu_inputs (40, suffix), 40, results);
        H_CHECK (rc == 0, "%s: %s", what, pool_strerror (rc));
        for (size_t i = 0; i < 40; i++) {
            fu_check_value (&results[i], (long long)i, what);
            char id[128];
            fu_worker_of (&results[i], id, sizeof id);
            served |= fu_on_node (id, node);
        }
        pool_results_release (pool, results, 40);
    }
    return served;
}
