/*  The status page in a real browser: while a map runs, headless chromium
    (Debian's `chromium`) loads GET / from a head started with --http; once
    the page's script has read /api/status, the DOM shows the nodes, the
    workers (one with a simulated GPU and its memory) and the map's pool
    with its progress (done / total); a
    screenshot is taken (kept where DCPOOL_TEST_SCREENSHOT says, to look
    at).  /api/status itself is JSON naming the same pool.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_util.h"

/* On three workers the map lasts some 7 s: past the DOM dump and the
   screenshot (at a third done), which take 5 s here. */
#define JOBS 54

/*  Runs chromium headless on url with one more flag (--dump-dom or
    --screenshot=FILE); its stdout in *out when out is not NULL. */
static void
s_chromium (const char *chromium, const char *url, const char *flag, char **out)
{
    char profile[512], data_dir[600], stdout_file[512], stderr_file[512];
    snprintf (profile, sizeof profile, "%s/chromium", h_tmpdir ());
    snprintf (data_dir, sizeof data_dir, "--user-data-dir=%s", profile);
    snprintf (stdout_file, sizeof stdout_file, "%s/chromium.out", h_tmpdir ());
    snprintf (stderr_file, sizeof stderr_file, "%s/chromium.err", h_tmpdir ());
    pid_t pid = fork ();
    H_CHECK (pid >= 0, "fork: %s", strerror (errno));
    if (pid == 0) {
        FILE *o = freopen (stdout_file, "w", stdout);
        FILE *e = freopen (stderr_file, "w", stderr);
        (void)o, (void)e;
        /* --no-sandbox: the tests may run as root, where chromium's sandbox
           refuses to start. */
        execl (chromium, "chromium", "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
               "--window-size=1100,900", data_dir, "--virtual-time-budget=4000", flag,
               url, (char *)NULL);
        _exit (127);
    }
    int code = h_wait (pid, h_timeout (120));
    H_CHECK (code == 0, "chromium %s exited %d; see %s", flag, code, stderr_file);
    if (out) {
        FILE *in = fopen (stdout_file, "r");
        H_CHECK (in, "no chromium output");
        size_t cap = 1 << 20;
        *out = calloc (1, cap);
        size_t len = fread (*out, 1, cap - 1, in);
        (*out)[len] = 0;
        fclose (in);
    }
}

static void
s_expect (const char *dom, const char *what)
{
    H_CHECK (strstr (dom, what), "the page does not show '%s'; its DOM:\n%s", what, dom);
}

static void
s_body (void)
{
    char chromium[512];
    if (!hu_which ("chromium", chromium, sizeof chromium))
        h_skip ("chromium is not installed (scripts/install-deps installs it)");
    int http_port;
    h_proc_t *head = hu_start_head (2, NULL, &http_port);
    char url[128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/", http_port);
    /* A second node with one (simulated) GPU: the page shows its memory. */
    const char *const gpu[] = { "--simulate-gpus", "1", NULL };
    h_proc_t *gpu_node = h_start_node_with (head, 1, gpu); /* 1: its worker */

    /* A map that runs for a while: JOBS jobs of 400 ms on three workers. */
    pool_t *pool = h_open (head, "sleepy", 2);
    pool_future_t *futures[JOBS];
    for (int i = 0; i < JOBS; i++) {
        int rc = pool_submit (pool, (pool_bytes_t){ "400", 3 }, &futures[i]);
        H_CHECK (rc == 0, "pool_submit: %s", pool_strerror (rc));
    }

    /* The JSON names the pool and its jobs. */
    char api[160], *json = NULL;
    snprintf (api, sizeof api, "%sapi/status", url);
    int code = hu_get (api, NULL, &json);
    H_CHECK (code == 200 && json, "GET /api/status: %d", code);
    char total[64], total_key[64];
    snprintf (total, sizeof total, "\"submitted\":%d", JOBS);
    snprintf (total_key, sizeof total_key, "\"submitted\":%d,\"done\":", JOBS);
    H_CHECK (strstr (json, total) && strstr (json, "\"nodes\":[{"),
             "/api/status does not show the pool's %d jobs: %s", JOBS, json);
    h_log ("/api/status: %s", json);
    free (json);
    /* The chart draws a line between two of the head's samples, taken
       once a second: wait for the second (chromium's virtual time runs
       the page's polls at once, not a second apart). */
    double sampled = h_now () + h_timeout (30);
    for (bool two = false; !two;) {
        H_CHECK (h_now () < sampled, "the head's history has fewer than two samples");
        code = hu_get (api, NULL, &json);
        const char *history = json ? strstr (json, "\"history\":[[") : NULL;
        two = history && strstr (history, "],[");
        free (json);
        if (!two)
            usleep (100 * 1000);
    }

    char *dom = NULL;
    s_chromium (chromium, url, "--dump-dom", &dom);
    h_log ("the page's DOM (%zu bytes):\n%s", strlen (dom), dom);
    s_expect (dom, "dcpool cluster");
    s_expect (dom, "class=\"pool\""); /* a row per pool, made by the script */
    snprintf (total, sizeof total, " / %d</td>", JOBS);
    s_expect (dom, total);
    s_expect (dom, head->id); /* the node */
    char worker[200];
    snprintf (worker, sizeof worker, "%s/w0", head->id);
    s_expect (dom, worker);
    snprintf (worker, sizeof worker, "%s/w0", gpu_node->id);
    s_expect (dom, worker);
    s_expect (dom, "Simulated GPU 0");
    s_expect (dom, "1.0 GiB");
    s_expect (dom, "<svg id=\"chart\"");
    s_expect (dom, "<path d=\"M");              /* the chart has a line (two polls) */
    s_expect (dom, "<div id=\"error\"></div>"); /* the script read the JSON */
    free (dom);

    /* The screenshot once a third of the map is done: the chart then has
       some seconds of history to draw. */
    double deadline = h_now () + h_timeout (60);
    for (int done = 0; done < JOBS / 3 && h_now () < deadline;) {
        code = hu_get (api, NULL, &json);
        const char *at = json ? strstr (json, total_key) : NULL;
        done = at ? atoi (at + strlen (total_key)) : 0;
        free (json);
        if (done < JOBS / 3)
            usleep (200 * 1000);
    }
    const char *keep = getenv ("DCPOOL_TEST_SCREENSHOT");
    char shot[600], flag[700];
    snprintf (shot, sizeof shot, "%s", keep && *keep ? keep : "");
    if (!shot[0])
        snprintf (shot, sizeof shot, "%s/page.png", h_tmpdir ());
    snprintf (flag, sizeof flag, "--screenshot=%s", shot);
    s_chromium (chromium, url, flag, NULL);
    struct stat st;
    H_CHECK (stat (shot, &st) == 0 && st.st_size > 1000, "no screenshot at %s", shot);
    h_log ("screenshot: %s (%lld bytes)", shot, (long long)st.st_size);

    int rc = pool_wait_all (futures, JOBS, h_timeout (120));
    H_CHECK (rc == 0, "pool_wait_all: %s", pool_strerror (rc));
    for (int i = 0; i < JOBS; i++)
        pool_future_destroy (&futures[i]);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_http_status_page_in_chromium_shows_the_map", s_body);
}
