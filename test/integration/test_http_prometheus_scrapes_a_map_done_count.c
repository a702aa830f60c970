/*  A real Prometheus (Debian's `prometheus`) scrapes a head started with
    --http every second; after a map of N jobs, a query through
    Prometheus' own HTTP API (/api/v1/query) gives N jobs submitted and
    done, none failed, and the scrape target is up (Prometheus parsed the
    text); after a second map whose inputs fail in part, its pool's series
    counts those failures and the sums over pools add both maps (closed
    pools keep their counters).  The metrics are served on loopback with no password.
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_util.h"
#include "sec_util.h"

#define N 300
#define FAILED_MAP 70 /* inputs 0 .. 69 to the failing worker */
#define FAILING 10    /* those divisible by 7 */

static h_proc_t *s_head;

/* Maps 0 .. FAILED_MAP - 1 with the failing worker: FAILING errors. */
static void
s_map_failing (void)
{
    pool_t *pool = h_open (s_head, "failing", 2);
    pool_bytes_t inputs[FAILED_MAP];
    pool_result_t results[FAILED_MAP];
    char texts[FAILED_MAP][8];
    for (int i = 0; i < FAILED_MAP; i++) {
        snprintf (texts[i], sizeof texts[i], "%d", i);
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    }
    int rc = pool_map (pool, inputs, FAILED_MAP, results);
    H_CHECK (rc == 0, "pool_map: %s", pool_strerror (rc));
    int errors = 0;
    for (int i = 0; i < FAILED_MAP; i++)
        errors += results[i].status != 0;
    H_CHECK (errors == FAILING, "%d errors, want %d", errors, FAILING);
    pool_results_release (pool, results, FAILED_MAP);
    pool_close (&pool);
}

/*  The value of a PromQL query with one result, as a number, or -1 when
    Prometheus has no such series (yet). */
static double
s_query (int prom_port, const char *promql)
{
    char url[1024], escaped[512];
    size_t j = 0;
    for (const char *c = promql; *c && j + 4 < sizeof escaped; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
            || (*c >= '0' && *c <= '9') || *c == '_')
            escaped[j++] = *c;
        else
            j += (size_t)snprintf (escaped + j, sizeof escaped - j, "%%%02X",
                                   (unsigned char)*c);
    }
    escaped[j] = 0;
    snprintf (url, sizeof url, "http://127.0.0.1:%d/api/v1/query?query=%s", prom_port,
              escaped);
    char *body = NULL;
    int code = hu_get (url, NULL, &body);
    double value = -1;
    /* {"status":"success","data":{"resultType":"vector","result":[{"metric":{...},
       "value":[1700000000.123,"300"]}]}} */
    const char *at = body && code == 200 ? strstr (body, "\"value\":[") : NULL;
    if (at) {
        at = strchr (at, ',');
        if (at && at[1] == '"')
            value = atof (at + 2);
    }
    free (body);
    return value;
}

static void
s_body (void)
{
    char prometheus[512];
    if (!hu_which ("prometheus", prometheus, sizeof prometheus))
        h_skip ("prometheus is not installed (scripts/install-deps installs it)");
    int http_port;
    h_proc_t *head = hu_start_head (2, NULL, &http_port);
    s_head = head;

    /* Prometheus, its storage and config in the test's directory. */
    char config[512], storage[512], listen[64];
    snprintf (config, sizeof config, "%s/prometheus.yml", h_tmpdir ());
    snprintf (storage, sizeof storage, "%s/prometheus-data", h_tmpdir ());
    int prom_port = h_free_port ();
    snprintf (listen, sizeof listen, "127.0.0.1:%d", prom_port);
    FILE *out = fopen (config, "w");
    H_CHECK (out, "cannot write %s", config);
    fprintf (out,
             "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
             "scrape_configs:\n  - job_name: dcpool\n    static_configs:\n"
             "      - targets: ['127.0.0.1:%d']\n",
             http_port);
    fclose (out);
    char config_flag[600], storage_flag[600], listen_flag[100];
    snprintf (config_flag, sizeof config_flag, "--config.file=%s", config);
    snprintf (storage_flag, sizeof storage_flag, "--storage.tsdb.path=%s", storage);
    snprintf (listen_flag, sizeof listen_flag, "--web.listen-address=%s", listen);
    char log[512];
    snprintf (log, sizeof log, "%s/prometheus.log", h_tmpdir ());
    pid_t pid = fork ();
    H_CHECK (pid >= 0, "fork: %s", strerror (errno));
    if (pid == 0) {
        FILE *l = freopen (log, "w", stderr);
        (void)l;
        execl (prometheus, "prometheus", config_flag, storage_flag, listen_flag,
               (char *)NULL);
        _exit (127);
    }
    h_track (pid, "prometheus");

    /* Prometheus is up and scrapes the head: up == 1. */
    double deadline = h_now () + h_timeout (60);
    while (s_query (prom_port, "up{job=\"dcpool\"}") != 1 && h_now () < deadline)
        usleep (200 * 1000);
    H_CHECK (s_query (prom_port, "up{job=\"dcpool\"}") == 1,
             "Prometheus does not scrape the head (up != 1); see %s", log);
    h_log ("Prometheus on port %d scrapes the head's port %d", prom_port, http_port);

    sec_map_square_ok (head, 2, N);

    /* The map's pool is closed now; its counters stay under its labels. */
    double done = -1, submitted = -1;
    deadline = h_now () + h_timeout (60);
    while (h_now () < deadline) {
        done = s_query (prom_port, "sum(dcpool_jobs_done_total)");
        submitted = s_query (prom_port, "sum(dcpool_jobs_submitted_total)");
        if (done == N && submitted == N)
            break;
        usleep (200 * 1000);
    }
    h_log ("Prometheus says: %g submitted, %g done", submitted, done);
    H_CHECK (done == N && submitted == N,
             "Prometheus says %g jobs done and %g submitted, want %d and %d", done,
             submitted, N, N);
    double failed = s_query (prom_port, "sum(dcpool_jobs_failed_total)");
    H_CHECK (failed == 0, "Prometheus says %g jobs failed, want 0", failed);
    double square = s_query (prom_port, "dcpool_jobs_done_total{name=\"square.so\"}");
    H_CHECK (square == N, "the square pool's own series says %g done, want %d", square,
             N);
    double rtts = s_query (prom_port, "dcpool_job_round_trip_seconds_count");
    H_CHECK (rtts == N, "the round-trip histogram counted %g jobs, want %d", rtts, N);
    /* A second map, FAILING inputs of which fail: its pool's series counts
       them, and the sums over pools add both maps. */
    s_map_failing ();
    deadline = h_now () + h_timeout (60);
    while (h_now () < deadline) {
        failed = s_query (prom_port, "dcpool_jobs_failed_total{name=\"failing.so\"}");
        done = s_query (prom_port, "sum(dcpool_jobs_done_total)");
        if (failed == FAILING && done == N + FAILED_MAP)
            break;
        usleep (200 * 1000);
    }
    h_log ("Prometheus says: %g failed in the failing map, %g done in all", failed, done);
    H_CHECK (failed == FAILING && done == N + FAILED_MAP,
             "Prometheus says %g failed and %g done, want %d and %d", failed, done,
             FAILING, N + FAILED_MAP);
    double nodes = s_query (prom_port, "dcpool_nodes");
    H_CHECK (nodes == 1, "Prometheus says %g nodes, want 1", nodes);
    double store = s_query (prom_port, "dcpool_store_used_bytes");
    H_CHECK (store > 0, "Prometheus has no store use (%g)", store);

    kill (pid, SIGTERM);
    h_wait (pid, h_timeout (30)); /* fails the test when it does not stop */
}

int
main (void)
{
    return h_main ("test_http_prometheus_scrapes_a_map_done_count", s_body);
}
