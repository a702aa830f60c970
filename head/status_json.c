/*  head/status_json.c - GET /api/status (status_json.h). */
#include "status_json.h"

/* Writes text as a JSON string. */
static void
s_string (FILE *out, const char *text)
{
    fputc ('"', out);
    for (const unsigned char *c = (const unsigned char *)(text ? text : ""); *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf (out, "\\%c", *c);
        else if (*c < 0x20 || *c == 0x7f)
            fprintf (out, "\\u%04x", *c);
        else
            fputc (*c, out);
    }
    fputc ('"', out);
}

static const char *
s_state (head_worker_state_t state)
{
    static const char *states[]
        = { "idle", "loading", "ready", "releasing", "closing", "parked" };
    return (unsigned)state < 6 ? states[state] : "?";
}

static void
s_workers (head_t *head, FILE *out)
{
    fputs ("\"workers\":[", out);
    bool first = true;
    for (head_peer_t *w = zhashx_first (head->workers); w;
         w = zhashx_next (head->workers)) {
        fputs (first ? "{" : ",{", out);
        first = false;
        fputs ("\"id\":", out);
        s_string (out, w->id);
        fputs (",\"node\":", out);
        s_string (out, w->node);
        fputs (",\"device\":", out);
        s_string (out, w->text);
        fprintf (out, ",\"gpu\":%s,\"gpu_memory\":%llu,\"gpu_used\":",
                 w->has_gpu ? "true" : "false", (unsigned long long)w->gpu_memory);
        if (w->has_gpu && w->gpu_used != UINT64_MAX)
            fprintf (out, "%llu", (unsigned long long)w->gpu_used);
        else
            fputs ("null", out);
        fputs (",\"state\":", out);
        s_string (out, s_state (w->state));
        if (w->pool)
            fprintf (out, ",\"pool\":%llu", (unsigned long long)w->pool->id);
        else
            fputs (",\"pool\":null", out);
        fprintf (out, ",\"held\":%zu,\"done\":%llu,\"rate\":%.2f}", w->inflight.count,
                 (unsigned long long)w->jobs_done, w->pool ? w->rate : 0.0);
    }
    fputs ("]", out);
}

static void
s_pools (head_t *head, FILE *out)
{
    fputs ("\"pools\":[", out);
    bool first = true;
    int64_t now = zclock_mono ();
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools)) {
        double rate = head_metrics_pool_rate (pool);
        uint64_t left = pool->submitted > pool->done ? pool->submitted - pool->done : 0;
        fputs (first ? "{" : ",{", out);
        first = false;
        fprintf (out, "\"id\":%llu,\"name\":", (unsigned long long)pool->id);
        s_string (out, pool->name);
        fputs (",\"client\":", out);
        s_string (out, pool->client ? pool->client->id : "");
        fprintf (out,
                 ",\"workers\":%zu,\"ready\":%d,\"pending\":%zu,\"running\":%zu,"
                 "\"submitted\":%llu,\"done\":%llu,\"failed\":%llu,\"requeued\":%llu,"
                 "\"cancelled\":%llu,\"rate\":%.2f,\"age_s\":%.1f,\"eta_s\":",
                 pool->members.count, pool->ready, pool->pending.count, pool->running,
                 (unsigned long long)pool->submitted, (unsigned long long)pool->done,
                 (unsigned long long)pool->stats.failed,
                 (unsigned long long)pool->stats.requeued,
                 (unsigned long long)pool->stats.cancelled, rate,
                 (double)(now - pool->stats.opened_at) / 1000.0);
        if (left == 0)
            fputs ("0", out);
        else if (rate > 0)
            fprintf (out, "%.1f", (double)left / rate);
        else
            fputs ("null", out);
        fputs ("}", out);
    }
    fputs ("]", out);
}

int
head_status_json (head_t *head, FILE *out)
{
    fprintf (out, "{\"head\":{\"port\":%d,\"secure\":%s,\"time\":%.3f},",
             head->config.port, head->keys.insecure ? "false" : "true",
             (double)zclock_time () / 1000.0);
    fputs ("\"nodes\":[", out);
    bool first = true;
    for (head_peer_t *node = zhashx_first (head->nodes); node;
         node = zhashx_next (head->nodes)) {
        fputs (first ? "{" : ",{", out);
        first = false;
        fputs ("\"id\":", out);
        s_string (out, node->id);
        fputs (",\"host\":", out);
        s_string (out, node->text);
        fprintf (out, ",\"slots\":%d}", node->worker_slots);
    }
    fputs ("],", out);
    s_workers (head, out);
    fputs (",", out);
    s_pools (head, out);
    const head_metrics_t *m = &head->metrics;
    uint64_t done_total = head_metrics_done_total (head);
    /* The last minutes of throughput, oldest first: [seconds, jobs done]. */
    fputs (",\"history\":[", out);
    for (unsigned i = 0; i < m->history_count; i++) {
        unsigned at = (m->history_next + HEAD_METRICS_HISTORY - m->history_count + i)
                      % HEAD_METRICS_HISTORY;
        fprintf (out, "%s[%.3f,%llu]", i ? "," : "", (double)m->history[at].at / 1000.0,
                 (unsigned long long)m->history[at].done);
    }
    fputs ("]", out);
    long long used = head_metrics_store_used (head);
    fprintf (out, ",\"jobs_done\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu,\"store\":{",
             (unsigned long long)done_total, (unsigned long long)m->bytes_in,
             (unsigned long long)m->bytes_out);
    if (used >= 0)
        fprintf (out, "\"used_bytes\":%lld}}\n", used);
    else
        fputs ("\"used_bytes\":null}}\n", out);
    return ferror (out) ? -1 : 0;
}
