/*  head/metrics.c - the head's counters and their Prometheus text
    (metrics.h).  The text follows the exposition format 0.0.4: a # HELP
    and a # TYPE line per family, then its samples, label values escaped
    (backslash, double quote, newline). */
#include "head.h"
#include "store.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

static const int64_t s_bounds_us[HEAD_METRICS_BUCKETS]
    = { 100,   250,    500,    1000,   2500,    5000,    10000,    25000,
        50000, 100000, 250000, 500000, 1000000, 2500000, 10000000, 60000000 };

void
head_metrics_rtt (head_metrics_t *self, int64_t us, uint64_t jobs)
{
    if (us < 0)
        us = 0;
    int i = 0;
    while (i < HEAD_METRICS_BUCKETS && us > s_bounds_us[i])
        i++;
    self->rtt_buckets[i] += jobs;
    self->rtt_count += jobs;
    self->rtt_sum_us += (double)us * (double)jobs;
}

void
head_metrics_pool_closed (head_t *head, const head_pool_t *pool)
{
    head_metrics_t *self = &head->metrics;
    head_metrics_closed_t *slot = &self->closed[self->closed_next];
    self->closed_next = (self->closed_next + 1) % HEAD_METRICS_CLOSED;
    if (slot->id) { /* the oldest leaves the ring: into the sum */
        self->older.submitted += slot->submitted;
        self->older.done += slot->done;
        self->older.failed += slot->failed;
        self->older.requeued += slot->requeued;
        self->older.cancelled += slot->cancelled;
    }
    *slot = (head_metrics_closed_t){ .id = pool->id,
                                     .submitted = pool->submitted,
                                     .done = pool->done,
                                     .failed = pool->stats.failed,
                                     .requeued = pool->stats.requeued,
                                     .cancelled = pool->stats.cancelled };
    snprintf (slot->name, sizeof slot->name, "%s", pool->name);
}

double
head_metrics_pool_rate (head_pool_t *pool)
{
    head_pool_stats_t *stats = &pool->stats;
    int64_t now = zclock_mono ();
    if (!stats->rate_at) {
        stats->rate_at = stats->opened_at ? stats->opened_at : now;
        stats->rate_done = 0;
    }
    int64_t span = now - stats->rate_at;
    if (span >= 1000) {
        double recent = (double)(pool->done - stats->rate_done) * 1000.0 / (double)span;
        stats->rate = stats->rate > 0 ? 0.5 * stats->rate + 0.5 * recent : recent;
        stats->rate_done = pool->done;
        stats->rate_at = now;
    }
    return stats->rate;
}

uint64_t
head_metrics_done_total (head_t *head)
{
    uint64_t done = head->metrics.older.done;
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools))
        done += pool->done;
    for (int i = 0; i < HEAD_METRICS_CLOSED; i++)
        done += head->metrics.closed[i].done;
    return done;
}

void
head_metrics_sample (head_t *head)
{
    head_metrics_t *self = &head->metrics;
    self->history[self->history_next].at = zclock_time ();
    self->history[self->history_next].done = head_metrics_done_total (head);
    self->history_next = (self->history_next + 1) % HEAD_METRICS_HISTORY;
    if (self->history_count < HEAD_METRICS_HISTORY)
        self->history_count++;
}

long long
head_metrics_store_used (head_t *head)
{
    head_metrics_t *self = &head->metrics;
    int64_t now = zclock_mono ();
    if (self->store_at && now - self->store_at < 1000)
        return self->store_used;
    self->store_at = now;
    self->store_used = -1;
    const char *argv[] = { "INFO", "memory" };
    size_t lens[] = { 4, 6 };
    redisReply *reply = head_store_command (head->store, 2, argv, lens);
    if (!reply)
        return -1;
    if (reply->type == REDIS_REPLY_STRING) {
        const char *at = strstr (reply->str, "used_memory:");
        if (at)
            self->store_used = atoll (at + strlen ("used_memory:"));
    }
    freeReplyObject (reply);
    return self->store_used;
}

/* Writes text as a label value: \, " and newline escaped. */
static void
s_label (FILE *out, const char *text)
{
    for (const char *c = text; *c; c++) {
        if (*c == '\\' || *c == '"')
            fputc ('\\', out), fputc (*c, out);
        else if (*c == '\n')
            fputs ("\\n", out);
        else
            fputc (*c, out);
    }
}

static void
s_family (FILE *out, const char *name, const char *type, const char *help)
{
    fprintf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample of a per-pool family. */
static void
s_pool_sample (FILE *out, const char *family, uint64_t id, const char *name,
               unsigned long long value)
{
    fprintf (out, "%s{pool=\"", family);
    if (id)
        fprintf (out, "%llu", (unsigned long long)id);
    else
        fputs ("closed", out);
    fputs ("\",name=\"", out);
    s_label (out, name);
    fprintf (out, "\"} %llu\n", value);
}

/* The per-pool counter families: open pools, the ring, the older sum. */
static void
s_pool_counters (head_t *head, FILE *out)
{
    static const struct {
        const char *name;
        const char *help;
    } families[] = {
        { "dcpool_jobs_submitted_total", "Jobs submitted to the pool." },
        { "dcpool_jobs_done_total",
          "Jobs of the pool answered, whatever the outcome (result, error, cancel)." },
        { "dcpool_jobs_failed_total",
          "Jobs answered with an error: the job's own, or a crash or timeout on "
          "its last attempt." },
        { "dcpool_jobs_requeued_total",
          "Jobs put back in the queue because their worker was lost or released." },
        { "dcpool_jobs_cancelled_total", "Jobs cancelled by their client." },
    };
    head_metrics_t *self = &head->metrics;
    for (int f = 0; f < 5; f++) {
        s_family (out, families[f].name, "counter", families[f].help);
        for (head_pool_t *pool = zlistx_first (head->pools); pool;
             pool = zlistx_next (head->pools)) {
            uint64_t values[] = { pool->submitted, pool->done, pool->stats.failed,
                                  pool->stats.requeued, pool->stats.cancelled };
            s_pool_sample (out, families[f].name, pool->id, pool->name, values[f]);
        }
        for (int i = 0; i < HEAD_METRICS_CLOSED; i++) {
            const head_metrics_closed_t *c = &self->closed[i];
            uint64_t values[]
                = { c->submitted, c->done, c->failed, c->requeued, c->cancelled };
            if (c->id)
                s_pool_sample (out, families[f].name, c->id, c->name, values[f]);
        }
        const head_metrics_closed_t *o = &self->older;
        uint64_t values[]
            = { o->submitted, o->done, o->failed, o->requeued, o->cancelled };
        s_pool_sample (out, families[f].name, 0, "", values[f]);
    }
}

static void
s_workers (head_t *head, FILE *out)
{
    static const char *states[]
        = { "idle", "loading", "ready", "releasing", "closing", "parked" };
    unsigned long long counts[6][2] = { { 0 } };
    for (head_peer_t *w = zhashx_first (head->workers); w;
         w = zhashx_next (head->workers))
        if ((unsigned)w->state < 6)
            counts[w->state][w->has_gpu ? 1 : 0]++;
    s_family (out, "dcpool_workers", "gauge", "Workers by state and device.");
    for (int s = 0; s < 6; s++)
        for (int d = 0; d < 2; d++)
            fprintf (out, "dcpool_workers{state=\"%s\",device=\"%s\"} %llu\n", states[s],
                     d ? "gpu" : "cpu", counts[s][d]);
}

static void
s_histogram (head_t *head, FILE *out)
{
    const head_metrics_t *self = &head->metrics;
    s_family (out, "dcpool_job_round_trip_seconds", "histogram",
              "Jobs from their dispatch to a worker to their result, as the head "
              "sees it.");
    unsigned long long sum = 0;
    for (int i = 0; i < HEAD_METRICS_BUCKETS; i++) {
        sum += self->rtt_buckets[i];
        fprintf (out, "dcpool_job_round_trip_seconds_bucket{le=\"%g\"} %llu\n",
                 (double)s_bounds_us[i] / 1e6, sum);
    }
    fprintf (out, "dcpool_job_round_trip_seconds_bucket{le=\"+Inf\"} %llu\n",
             (unsigned long long)self->rtt_count);
    fprintf (out, "dcpool_job_round_trip_seconds_sum %.6f\n", self->rtt_sum_us / 1e6);
    fprintf (out, "dcpool_job_round_trip_seconds_count %llu\n",
             (unsigned long long)self->rtt_count);
}

int
head_metrics_text (head_t *head, FILE *out)
{
    s_pool_counters (head, out);
    s_family (out, "dcpool_queue_depth", "gauge",
              "Jobs of the pool waiting for a worker.");
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools))
        s_pool_sample (out, "dcpool_queue_depth", pool->id, pool->name,
                       pool->pending.count);
    s_family (out, "dcpool_jobs_running", "gauge", "Jobs of the pool held by workers.");
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools))
        s_pool_sample (out, "dcpool_jobs_running", pool->id, pool->name, pool->running);
    s_family (out, "dcpool_pools", "gauge", "Pools open.");
    fprintf (out, "dcpool_pools %zu\n", zlistx_size (head->pools));
    s_family (out, "dcpool_nodes", "gauge", "Nodes connected.");
    fprintf (out, "dcpool_nodes %zu\n", zhashx_size (head->nodes));
    s_workers (head, out);
    s_family (out, "dcpool_received_bytes_total", "counter",
              "Message bytes the head received.");
    fprintf (out, "dcpool_received_bytes_total %llu\n",
             (unsigned long long)head->metrics.bytes_in);
    s_family (out, "dcpool_sent_bytes_total", "counter", "Message bytes the head sent.");
    fprintf (out, "dcpool_sent_bytes_total %llu\n",
             (unsigned long long)head->metrics.bytes_out);
    s_histogram (head, out);
    long long used = head_metrics_store_used (head);
    if (used >= 0) {
        s_family (out, "dcpool_store_used_bytes", "gauge",
                  "used_memory of the head's Redis (blocks and bookkeeping).");
        fprintf (out, "dcpool_store_used_bytes %lld\n", used);
    }
    return ferror (out) ? -1 : 0;
}
