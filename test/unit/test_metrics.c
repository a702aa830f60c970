/*  test/unit/test_metrics.c - head/metrics.c and head/status_json.c alone:
    the Prometheus text of a head built by hand (a pool, workers of both
    kinds, a node), with the store faked away.

    What is proved: every family has its # HELP and # TYPE; label values
    are escaped (a pool name with a quote, a backslash and a newline); the
    round-trip histogram is cumulative with +Inf equal to the count; a
    closed pool keeps its counters under its labels, and past the ring's
    64 its counts go into pool="closed" so the sum over pools never drops;
    workers are counted by state and device; the JSON escapes the same
    name and carries done/total.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "head.h"
#include "status_json.h"
#include "store.h"

/* The store (head/store.c): not there, so the store's use is unknown. */
struct redisReply *
head_store_command (head_store_t *self, int argc, const char **argv, const size_t *lens)
{
    (void)self, (void)argc, (void)argv, (void)lens;
    return NULL;
}

typedef struct {
    head_t head;
    head_pool_t pool;
    head_peer_t workers[2];
    head_peer_t node;
} s_world_t;

static s_world_t *
s_world (void)
{
    s_world_t *w = calloc (1, sizeof *w);
    assert_non_null (w);
    w->head.pools = zlistx_new ();
    w->head.workers = zhashx_new ();
    w->head.nodes = zhashx_new ();
    w->pool.id = 7;
    snprintf (w->pool.name, sizeof w->pool.name, "a\"b\\c\nd");
    w->pool.submitted = 10;
    w->pool.done = 7;
    w->pool.stats.failed = 2;
    w->pool.stats.requeued = 3;
    w->pool.stats.cancelled = 1;
    w->pool.pending.count = 3;
    zlistx_add_end (w->head.pools, &w->pool);
    snprintf (w->workers[0].id, sizeof w->workers[0].id, "n/w0");
    w->workers[0].state = WORKER_READY;
    w->workers[0].has_gpu = true;
    w->workers[0].gpu_used = UINT64_MAX;
    w->workers[0].text = "Simulated GPU 0";
    snprintf (w->workers[1].id, sizeof w->workers[1].id, "n/w1");
    w->workers[1].state = WORKER_IDLE;
    w->workers[1].text = "cpu";
    zhashx_insert (w->head.workers, "n/w0", &w->workers[0]);
    zhashx_insert (w->head.workers, "n/w1", &w->workers[1]);
    snprintf (w->node.id, sizeof w->node.id, "n");
    w->node.text = "host";
    zhashx_insert (w->head.nodes, "n", &w->node);
    return w;
}

static void
s_world_free (s_world_t *w)
{
    zlistx_destroy (&w->head.pools);
    zhashx_destroy (&w->head.workers);
    zhashx_destroy (&w->head.nodes);
    free (w);
}

static char *
s_text (head_t *head, int (*fill) (head_t *, FILE *))
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert_non_null (out);
    assert_int_equal (fill (head, out), 0);
    fclose (out);
    return text;
}

static void
s_has (const char *text, const char *line)
{
    assert_non_null (text);
    if (!strstr (text, line)) {
        /* GCC's -Wformat-overflow in the ASan build (-O2) says text may
           be NULL when printed; it is not, but the placeholder settles it. */
        const char *shown = text ? text : "(none)";
        fail_msg ("no '%s' in:\n%s", line, shown);
    }
}

static void
test_families_counters_and_escaped_labels (void **state)
{
    (void)state;
    s_world_t *w = s_world ();
    char *text = s_text (&w->head, head_metrics_text);
    const char *families[] = { "dcpool_jobs_submitted_total counter",
                               "dcpool_jobs_done_total counter",
                               "dcpool_jobs_failed_total counter",
                               "dcpool_jobs_requeued_total counter",
                               "dcpool_jobs_cancelled_total counter",
                               "dcpool_queue_depth gauge",
                               "dcpool_jobs_running gauge",
                               "dcpool_pools gauge",
                               "dcpool_nodes gauge",
                               "dcpool_workers gauge",
                               "dcpool_received_bytes_total counter",
                               "dcpool_sent_bytes_total counter",
                               "dcpool_job_round_trip_seconds histogram" };
    for (size_t i = 0; i < sizeof families / sizeof *families; i++) {
        char line[128];
        snprintf (line, sizeof line, "# TYPE %s\n", families[i]);
        s_has (text, line);
        snprintf (line, sizeof line, "# HELP %.*s ", (int)strcspn (families[i], " "),
                  families[i]);
        s_has (text, line);
    }
    s_has (text, "dcpool_jobs_done_total{pool=\"7\",name=\"a\\\"b\\\\c\\nd\"} 7\n");
    s_has (text, "dcpool_jobs_failed_total{pool=\"7\",name=\"a\\\"b\\\\c\\nd\"} 2\n");
    s_has (text, "dcpool_jobs_requeued_total{pool=\"7\",name=\"a\\\"b\\\\c\\nd\"} 3\n");
    s_has (text, "dcpool_queue_depth{pool=\"7\",name=\"a\\\"b\\\\c\\nd\"} 3\n");
    s_has (text, "dcpool_workers{state=\"ready\",device=\"gpu\"} 1\n");
    s_has (text, "dcpool_workers{state=\"idle\",device=\"cpu\"} 1\n");
    s_has (text, "dcpool_workers{state=\"ready\",device=\"cpu\"} 0\n");
    s_has (text, "dcpool_nodes 1\n");
    /* The store is away: its family is left out, not given a false 0. */
    assert_null (strstr (text, "dcpool_store_used_bytes"));
    free (text);
    s_world_free (w);
}

static void
test_round_trips_are_a_cumulative_histogram (void **state)
{
    (void)state;
    s_world_t *w = s_world ();
    head_metrics_rtt (&w->head.metrics, 50, 1);        /* 0.00005 s */
    head_metrics_rtt (&w->head.metrics, 300, 3);       /* 0.0003 s, 3 jobs */
    head_metrics_rtt (&w->head.metrics, 2000000, 1);   /* 2 s */
    head_metrics_rtt (&w->head.metrics, 100000000, 1); /* 100 s: only +Inf */
    char *text = s_text (&w->head, head_metrics_text);
    s_has (text, "dcpool_job_round_trip_seconds_bucket{le=\"0.0001\"} 1\n");
    s_has (text, "dcpool_job_round_trip_seconds_bucket{le=\"0.00025\"} 1\n");
    s_has (text, "dcpool_job_round_trip_seconds_bucket{le=\"0.0005\"} 4\n");
    s_has (text, "dcpool_job_round_trip_seconds_bucket{le=\"1\"} 4\n");
    s_has (text, "dcpool_job_round_trip_seconds_bucket{le=\"2.5\"} 5\n");
    s_has (text, "dcpool_job_round_trip_seconds_bucket{le=\"60\"} 5\n");
    s_has (text, "dcpool_job_round_trip_seconds_bucket{le=\"+Inf\"} 6\n");
    s_has (text, "dcpool_job_round_trip_seconds_count 6\n");
    s_has (text, "dcpool_job_round_trip_seconds_sum 102.000950\n");
    free (text);
    s_world_free (w);
}

static void
test_closed_pools_keep_their_counts_and_the_sum_never_drops (void **state)
{
    (void)state;
    s_world_t *w = s_world ();
    head_pool_t closed = { .submitted = 2, .done = 2 };
    for (int i = 0; i < HEAD_METRICS_CLOSED + 1; i++) {
        closed.id = 100 + (uint64_t)i;
        snprintf (closed.name, sizeof closed.name, "p%d", i);
        head_metrics_pool_closed (&w->head, &closed);
    }
    char *text = s_text (&w->head, head_metrics_text);
    /* The first closed left the ring: its 2 are in pool="closed". */
    assert_null (strstr (text, "pool=\"100\""));
    s_has (text, "dcpool_jobs_done_total{pool=\"101\",name=\"p1\"} 2\n");
    s_has (text, "dcpool_jobs_done_total{pool=\"164\",name=\"p64\"} 2\n");
    s_has (text, "dcpool_jobs_done_total{pool=\"closed\",name=\"\"} 2\n");
    assert_int_equal (head_metrics_done_total (&w->head),
                      7 + 2 * (HEAD_METRICS_CLOSED + 1));
    free (text);
    s_world_free (w);
}

static void
test_status_json_escapes_and_counts (void **state)
{
    (void)state;
    s_world_t *w = s_world ();
    char *json = s_text (&w->head, head_status_json);
    s_has (json, "\"name\":\"a\\\"b\\\\c\\u000ad\"");
    s_has (json, "\"submitted\":10,\"done\":7,\"failed\":2");
    s_has (json, "\"device\":\"Simulated GPU 0\",\"gpu\":true");
    s_has (json, "\"gpu_used\":null");
    s_has (json, "\"store\":{\"used_bytes\":null}");
    s_has (json, "\"jobs_done\":7");
    free (json);
    s_world_free (w);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_families_counters_and_escaped_labels),
        cmocka_unit_test (test_round_trips_are_a_cumulative_histogram),
        cmocka_unit_test (test_closed_pools_keep_their_counts_and_the_sum_never_drops),
        cmocka_unit_test (test_status_json_escapes_and_counts),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
