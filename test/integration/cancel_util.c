/*  test/integration/cancel_util.c - see cancel_util.h. */
#include "cancel_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Input arrays, kept reachable until the process ends. */
static pool_bytes_t *s_inputs[16];

pool_bytes_t *
cu_inputs (size_t count, const char *text)
{
    static size_t used;
    H_CHECK (used < 16, "too many input sets");
    pool_bytes_t *set = calloc (count ? count : 1, sizeof *set);
    H_CHECK (set, "out of memory");
    for (size_t i = 0; i < count; i++)
        set[i] = (pool_bytes_t){ text, strlen (text) };
    s_inputs[used++] = set;
    return set;
}

const char *
cu_dir (const char *name)
{
    static char paths[8][400];
    static int used;
    H_CHECK (used < 8, "too many directories");
    char *path = paths[used++];
    snprintf (path, 400, "%s/%s", h_tmpdir (), name);
    H_CHECK (mkdir (path, 0700) == 0, "mkdir %s", path);
    return path;
}

pool_t *
cu_open (const h_proc_t *head, const char *dir, double grace, int max_attempts,
         int workers)
{
    pool_options_t options;
    h_options (&options, head, "sleepy");
    options.init_data = (pool_bytes_t){ dir, strlen (dir) };
    options.cancel_grace = grace;
    options.max_attempts = max_attempts;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    rc = pool_wait_for_workers (pool, workers, h_timeout (60));
    H_CHECK (rc == 0, "the pool has %d of %d workers", pool_workers_count (pool),
             workers);
    return pool;
}

int
cu_count (const char *dir, const char *part)
{
    DIR *d = opendir (dir);
    if (!d)
        return 0;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir (d)))
        count += strstr (entry->d_name, part) != NULL;
    closedir (d);
    return count;
}

void
cu_wait_files (const char *dir, const char *part, int count, double timeout)
{
    double deadline = h_now () + h_timeout (timeout);
    while (cu_count (dir, part) < count) {
        H_CHECK (h_now () < deadline, "%d files *%s* in %s after %.0f s, want %d",
                 cu_count (dir, part), part, dir, timeout, count);
        usleep (5000);
    }
}

pid_t
cu_pid_of (const pool_result_t *result)
{
    if (result->status != 0 || !result->value.data)
        return -1;
    const char *at = memchr (result->value.data, '@', result->value.size);
    if (!at)
        return -1;
    char text[32];
    size_t len = result->value.size - (size_t)(at + 1 - (const char *)result->value.data);
    if (len == 0 || len >= sizeof text)
        return -1;
    memcpy (text, at + 1, len);
    text[len] = 0;
    return (pid_t)atoi (text);
}

size_t
cu_drain_cancelled (pool_iter_t *iter, size_t count, const char *text,
                    const size_t *taken, size_t ntaken)
{
    fu_once_t once;
    fu_once_init (&once, count);
    for (size_t k = 0; k < ntaken; k++) {
        pool_result_t seen = { .index = taken[k] };
        fu_once_add (&once, &seen);
    }
    size_t done = 0;
    pool_result_t result;
    int rc;
    while ((rc = pool_iter_next (iter, &result)) == 1) {
        fu_once_add (&once, &result);
        if (result.status == 0 && !text)
            done++;
        else if (result.status == 0) {
            size_t len = strlen (text);
            H_CHECK (result.value.size > len && memcmp (result.value.data, text, len) == 0
                         && ((const char *)result.value.data)[len] == '@',
                     "input %zu: value '%.*s', want '%s@PID'", result.index,
                     (int)result.value.size, (const char *)result.value.data, text);
            done++;
        } else {
            H_CHECK (result.status == POOL_ECANCELED,
                     "input %zu: status %d (%s), want 0 or POOL_ECANCELED", result.index,
                     result.status, pool_strerror (result.status));
            H_CHECK (result.error && strcmp (result.error, "cancelled") == 0,
                     "input %zu: error '%s', want 'cancelled'", result.index,
                     result.error ? result.error : "(null)");
        }
    }
    H_CHECK (rc == 0, "pool_iter_next after the cancel: %d (%s)", rc, pool_strerror (rc));
    fu_once_check (&once);
    return done;
}

pid_t
cu_map_right (pool_t *pool, size_t count, pid_t only_pid)
{
    pool_bytes_t *inputs = cu_inputs (count, "0");
    pool_result_t *results = calloc (count, sizeof *results);
    H_CHECK (results, "out of memory");
    int rc = pool_map (pool, inputs, count, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    pid_t first = -1;
    for (size_t i = 0; i < count; i++) {
        H_CHECK (results[i].status == 0 && results[i].value.size > 2
                     && memcmp (results[i].value.data, "0@", 2) == 0,
                 "input %zu: status %d, '%.*s', want '0@PID'", i, results[i].status,
                 results[i].status == 0 ? (int)results[i].value.size : 0,
                 results[i].status == 0 ? (const char *)results[i].value.data : "");
        pid_t pid = cu_pid_of (&results[i]);
        if (i == 0)
            first = pid;
        H_CHECK (only_pid <= 0 || pid == only_pid, "input %zu ran in process %d, want %d",
                 i, (int)pid, (int)only_pid);
    }
    pool_results_release (pool, results, count);
    free (results);
    return first;
}
