/*  A run that crashes on the first attempt of some inputs only (every
    thirtieth): the crashed jobs are requeued and their second attempt gives
    the value, so every input gets a value and no error reaches the client.
    The marker files prove the first attempts did crash.
*/
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fail_util.h"

enum { N = 300, WORKERS = 2 };

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (WORKERS, false, fast);
    char dir[300];
    snprintf (dir, sizeof dir, "%s/markers", h_tmpdir ());
    H_CHECK (mkdir (dir, 0700) == 0, "mkdir %s", dir);

    pool_options_t options;
    h_options (&options, head, "crash_once");
    options.init_data = (pool_bytes_t){ dir, strlen (dir) };
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());

    static char texts[N][16];
    static pool_bytes_t inputs[N];
    size_t crashing = 0;
    for (size_t i = 0; i < N; i++) {
        bool crash = i % 30 == 3;
        crashing += crash;
        int len = snprintf (texts[i], sizeof texts[i], "%zu%s", i, crash ? "!" : "");
        inputs[i] = (pool_bytes_t){ texts[i], (size_t)len };
    }
    static pool_result_t results[N];
    rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (size_t i = 0; i < N; i++)
        fu_check_value (&results[i], (long long)i, "crash_once");
    pool_results_release (pool, results, N);

    size_t markers = 0;
    DIR *d = opendir (dir);
    H_CHECK (d, "opendir %s", dir);
    for (struct dirent *de; (de = readdir (d));)
        markers += de->d_name[0] != '.';
    closedir (d);
    H_CHECK (markers == crashing, "%zu first attempts crashed, want %zu", markers,
             crashing);
    h_log ("%zu inputs crashed once, all %d results are values", crashing, N);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_fail_crash_once_every_result_a_value", s_body);
}
