/*  Locality (issue 16): a job that names the blocks it reads
    (pool_submit_with) runs on the worker of node B that holds them when
    B frees within the head's --locality-wait, on node A when B stays
    busy past it (no starvation), and while the holders run them the head
    serves no block bytes; once node B is killed the head forgets what
    its worker held and such jobs still run. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fail_util.h"

#define NBLOCKS 4
#define BLOCK_SIZE (256 * 1024)
#define WAIT_MS "2000" /* long enough for a loaded machine to free B */

static uint8_t s_hashes[NBLOCKS][POOL_HASH_SIZE];
static char s_names[NBLOCKS * (2 * POOL_HASH_SIZE + 1) + 1]; /* " HEX" each */

/*  What start_node --status says of locality: holdings (block, worker)
    known and block bytes served; false when the line is missing. */
static bool
s_locality (const h_proc_t *head, long long *holdings, long long *served)
{
    char port[16];
    snprintf (port, sizeof port, "%d", head->port);
    const char *args[]
        = { "--status", "-a", "127.0.0.1", "-p", port, "-r", h_password (), NULL };
    char *out = NULL;
    h_run_start_node (args, h_timeout (30), &out);
    const char *line = out ? strstr (out, "locality: ") : NULL;
    bool ok = line
              && sscanf (line,
                         "locality: wait %*d ms, %*d blocks held by workers (%lld "
                         "holdings), block bytes served %lld",
                         holdings, served)
                     == 2;
    free (out);
    return ok;
}

/*  Submits "MS WHERE" plus the block names; naming them (pool_submit_with)
    when named. */
static pool_future_t *
s_submit (pool_t *pool, long ms, const char *where, bool named)
{
    char input[4096];
    int len = snprintf (input, sizeof input, "%ld %s%s", ms, where, s_names);
    pool_future_t *f = NULL;
    pool_bytes_t bytes = { input, (size_t)len };
    int rc = named ? pool_submit_with (
                 pool, bytes, (const uint8_t (*)[POOL_HASH_SIZE])s_hashes, NBLOCKS, &f)
                   : pool_submit (pool, bytes, &f);
    H_CHECK (rc == 0, "submit: %s", pool_last_error (pool));
    return f;
}

/*  Waits for f's result: "<worker id> read|skipped" into out. */
static void
s_where (pool_future_t *f, char *out, size_t size)
{
    H_CHECK (pool_future_wait (f, h_timeout (60)) == 0, "a job did not finish");
    pool_result_t r;
    H_CHECK (pool_future_result (f, &r) == 0 && r.status == 0, "job failed: %s",
             r.error ? r.error : "?");
    snprintf (out, size, "%.*s", (int)r.value.size, (const char *)r.value.data);
}

/* True when a result says the job ran on node's worker. */
static bool
s_on (const char *where, const h_proc_t *node)
{
    return strncmp (where, node->id, strlen (node->id)) == 0
           && where[strlen (node->id)] == '/';
}

static void
s_body (void)
{
    /* The fast heartbeat: B's death is noticed in about 1 s, not 3. */
    const char *extra[] = { "--locality-wait", WAIT_MS, FU_FAST_HEARTBEAT, NULL };
    h_proc_t *a = h_start_head_with (1, false, extra);
    h_proc_t *b = h_start_node (a, 1);
    pool_t *pool = h_open (a, "blockreader", 2);

    /* Four blocks of the store, named in the inputs. */
    uint8_t *data = malloc (BLOCK_SIZE);
    H_CHECK (data, "malloc");
    size_t at = 0;
    for (int k = 0; k < NBLOCKS; k++) {
        for (size_t i = 0; i < BLOCK_SIZE; i++)
            data[i] = (uint8_t)(i * 31 + (size_t)k * 7 + i / 4096);
        H_CHECK (pool_put (pool, (pool_bytes_t){ data, BLOCK_SIZE }, s_hashes[k]) == 0,
                 "pool_put: %s", pool_last_error (pool));
        s_names[at++] = ' ';
        for (int i = 0; i < POOL_HASH_SIZE; i++)
            at += (size_t)snprintf (s_names + at, 3, "%02x", s_hashes[k][i]);
    }
    free (data);

    /* Only node B's worker reads them (jobs that name nothing go
       anywhere: until one lands on B).  Its report goes before its
       result, so the head knows once we have the result. */
    char where[256] = "";
    bool on_b = false;
    for (int round = 0; round < 50 && !on_b; round++) {
        pool_future_t *f[2]
            = { s_submit (pool, 100, b->id, false), s_submit (pool, 100, b->id, false) };
        for (int i = 0; i < 2; i++) {
            s_where (f[i], where, sizeof where);
            on_b |= s_on (where, b) && strstr (where, " read");
            pool_future_destroy (&f[i]);
        }
    }
    H_CHECK (on_b, "no job ran on node %s in 50 rounds", b->id);
    long long holdings = 0, served = 0, served_before = 0;
    H_CHECK (s_locality (a, &holdings, &served_before), "no locality line in --status");
    H_CHECK (holdings == NBLOCKS, "the head knows %lld holdings, want %d", holdings,
             NBLOCKS);

    /* B busy for a moment, A free: a job naming the blocks waits for B. */
    pool_future_t *busy = s_submit (pool, 600, "-", true);
    pool_future_t *job = s_submit (pool, 0, "-", true);
    s_where (busy, where, sizeof where);
    H_CHECK (s_on (where, b), "the job naming B's blocks ran on %s, not on %s", where,
             b->id);
    s_where (job, where, sizeof where);
    H_CHECK (s_on (where, b), "the job that waited for B ran on %s, not on %s", where,
             b->id);
    pool_future_destroy (&busy);
    pool_future_destroy (&job);
    /* Several at once: each goes to B in turn, none fetches anything. */
    pool_future_t *many[6];
    for (int i = 0; i < 6; i++)
        many[i] = s_submit (pool, 20, "-", true);
    for (int i = 0; i < 6; i++) {
        s_where (many[i], where, sizeof where);
        H_CHECK (s_on (where, b), "job %d of 6 ran on %s, not on %s", i, where, b->id);
        pool_future_destroy (&many[i]);
    }
    H_CHECK (s_locality (a, &holdings, &served), "no locality line in --status");
    H_CHECK (served == served_before,
             "the head served %lld block bytes while the holder ran the jobs",
             served - served_before);
    h_log ("block bytes served: %lld; none while B ran the jobs naming its blocks",
           served);

    /* B busy past the wait: A takes the job (and fetches the blocks). */
    double started = h_now ();
    busy = s_submit (pool, 3 * atol (WAIT_MS), "-", true);
    job = s_submit (pool, 0, "-", true);
    s_where (job, where, sizeof where);
    H_CHECK (s_on (where, a), "with B busy the job ran on %s, not on %s", where, a->id);
    pool_result_t r;
    H_CHECK (pool_future_result (busy, &r) == POOL_ETIMEOUT,
             "B's long job ended before the waiting job ran: not starved, not shown");
    h_log ("the job waited %.1f s, then ran on A", h_now () - started);
    s_where (busy, where, sizeof where);
    H_CHECK (s_on (where, b), "the long job ran on %s", where);
    pool_future_destroy (&busy);
    pool_future_destroy (&job);
    H_CHECK (s_locality (a, &holdings, &served), "no locality line in --status");
    H_CHECK (holdings == 2 * NBLOCKS, "the head knows %lld holdings, want %d", holdings,
             2 * NBLOCKS);

    /* B killed: its worker's blocks are forgotten; jobs still run. */
    h_kill (b, SIGKILL);
    double deadline = h_now () + h_timeout (30);
    while (s_locality (a, &holdings, &served) && holdings != NBLOCKS
           && h_now () < deadline) {
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep (&ts, NULL);
    }
    H_CHECK (holdings == NBLOCKS,
             "after node B died the head knows %lld holdings, want %d", holdings,
             NBLOCKS);
    for (int i = 0; i < 3; i++) {
        job = s_submit (pool, 0, "-", true);
        s_where (job, where, sizeof where);
        H_CHECK (s_on (where, a), "after B died a job ran on %s", where);
        pool_future_destroy (&job);
    }
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_locality_jobs_run_where_their_blocks_are", s_body);
}
