/*  head/metrics.h - the head's counters and their Prometheus text.

    What the head counts for GET /metrics and GET /api/status (http.c):
    per pool, what became of its jobs (head_pool_stats_t, kept in each
    pool); for the head, the bytes it moved and a histogram of job round
    trips (head_metrics_t, kept in head_t).  The counters are bumped where
    the head already handles those events, one line each, so counting
    costs an addition; the text is made only when someone asks for it.

    A closed pool's counters are kept, under its own labels, for the
    HEAD_METRICS_CLOSED pools closed last (a scrape after a short map
    still sees it); older ones are added into one series labelled
    pool="closed", so every sum over pools only ever grows.
*/
#ifndef DCPOOL_HEAD_METRICS_H
#define DCPOOL_HEAD_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "msg.h"

/*  What became of a pool's jobs beyond head_pool_t's submitted and done
    (done counts every job answered: result, error or cancel). */
typedef struct {
    uint64_t failed;    /* answered with an error: the job's own, or a
                           crash or timeout on its last attempt */
    uint64_t requeued;  /* put back in the queue: their worker was lost or
                           released by a rebalance */
    uint64_t cancelled; /* cancelled by the client */
    int64_t opened_at;  /* zclock_mono */
    /* The recent rate (jobs/s) of /api/status, moved on when asked. */
    uint64_t rate_done;
    int64_t rate_at;
    double rate;
} head_pool_stats_t;

/* Upper bounds of the round-trip buckets, microseconds (last: +Inf). */
#define HEAD_METRICS_BUCKETS 16
#define HEAD_METRICS_CLOSED 64
/* Seconds of throughput history the status page's chart starts with. */
#define HEAD_METRICS_HISTORY 120

/* A closed pool's final counts. */
typedef struct {
    uint64_t id; /* 0: unused slot */
    char name[PROTO_ID_MAX + 1];
    uint64_t submitted, done, failed, requeued, cancelled;
} head_metrics_closed_t;

typedef struct {
    uint64_t bytes_in;  /* message bytes received on the ROUTER */
    uint64_t bytes_out; /* ... sent */
    uint64_t rtt_buckets[HEAD_METRICS_BUCKETS + 1]; /* not cumulative */
    uint64_t rtt_count;
    double rtt_sum_us;
    head_metrics_closed_t closed[HEAD_METRICS_CLOSED]; /* a ring */
    unsigned closed_next;
    head_metrics_closed_t older; /* pools that left the ring, added up */
    /* Jobs done since the head started, once a second (with --http): a
       ring of (zclock_time ms, jobs done). */
    struct {
        int64_t at;
        uint64_t done;
    } history[HEAD_METRICS_HISTORY];
    unsigned history_next;
    unsigned history_count;
    /* The store's used_memory, asked of Redis at most once a second. */
    int64_t store_at;     /* zclock_mono of the last ask, 0: never */
    long long store_used; /* bytes, -1: unknown */
} head_metrics_t;

/*  The round trip (dispatch to result, as the head sees it) of jobs
    sent and answered together: each of them counts once. */
void head_metrics_rtt (head_metrics_t *self, int64_t us, uint64_t jobs);

#endif
