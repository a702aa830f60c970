/*  test/unit/test_sched.c - the head's scheduler (head/scheduler.c) driven
    through a fake send.

    Only the scheduler (head/scheduler.c, balance.c, feed.c, members.c,
    cancel.c), its counters (metrics.c) and head/queue.c are linked: this file defines
    head_send and head_send_error (head/server.c), the head_store_*
    calls the scheduler makes (head/store.c) and the pools' block holds
    (head/lifetimes.c).  The fake send encodes each
    message and decodes it again, as its peer would, and keeps it in a log
    (checking on the way that the head never sends anything malformed);
    the tests read the log, as a worker or a client would read its socket.
    Peers are built by hand as server.c's s_hello builds them, and the
    tests play server.c's part: a worker told POOL_CLOSE leaves and its
    node starts a fresh one with the same id, which joins idle.

    What is proved: busy pools share the workers fairly, moving one worker
    per pass; a pool still in pool_open gets its min_workers; an idle pool
    lends its workers out; a lost worker's running job is charged and the
    rest requeued in order; jobs fail with the cause once out of attempts;
    updates reach every worker in order and before the jobs that need
    them; a CANCEL drops queued jobs, tells the workers holding others and
    their nodes, drops those jobs' answers and charges nothing for a
    worker killed in one; closed pools free their workers; rejoining and parked workers
    are served only with the pool they have loaded; GPU pools get only
    workers with the memory; SUBMITs are spread over the ready workers,
    but a worker holding tiny jobs gets no batch too small to be worth a
    message;
    stale RESULTs are dropped.

    Four cases were written against bugs in the fair share and failed
    until head/scheduler.c was mended: the spare worker of an uneven split,
    workers released while earlier ones were still leaving, a pool nobody
    may run, and parked workers in the share.
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
#include "pool.h"
#include "cancel.h"
#include "lifetimes.h"
#include "results_out.h"
#include "scheduler.h"
#include "shards.h"
#include "store.h"

/* ---------------------------------------------------------------------
   The log of what the head sent
   --------------------------------------------------------------------- */

#define LOG_MAX 8192

typedef struct {
    char to[24];     /* the key of the peer it went to */
    proto_msg_t msg; /* as that peer decodes it */
    char **payload;  /* NUL-terminated copies of its payloads */
    size_t npayload;
} sent_t;

static sent_t s_log[LOG_MAX];
static size_t s_nlog;

static void
s_log_clear (void)
{
    for (size_t i = 0; i < s_nlog; i++) {
        proto_msg_reset (&s_log[i].msg);
        for (size_t k = 0; k < s_log[i].npayload; k++)
            free (s_log[i].payload[k]);
        free (s_log[i].payload);
    }
    memset (s_log, 0, sizeof s_log);
    s_nlog = 0;
}

/*  The fake of head/server.c's send: the message is encoded (its frames
    are gone afterwards, as after a real send), decoded as its peer would
    decode it, and logged. */
int
head_send (head_t *head, head_peer_t *peer, proto_msg_t *msg)
{
    (void)head;
    zmsg_t *wire = NULL;
    int rc = proto_msg_encode (msg, &wire);
    if (!peer) { /* as server.c: nobody to send to */
        zmsg_destroy (&wire);
        return -1;
    }
    if (rc != PROTO_OK)
        fail_msg ("the head cannot encode %s for %s", proto_type_name (msg->type),
                  peer->id);
    if (s_nlog >= LOG_MAX)
        fail_msg ("the head sent more than %d messages", LOG_MAX);
    sent_t *sent = &s_log[s_nlog++];
    snprintf (sent->to, sizeof sent->to, "%s", peer->key);
    proto_msg_init (&sent->msg, 0);
    char reason[256] = "";
    rc = proto_msg_decode (&sent->msg, &wire, reason, sizeof reason);
    if (rc != PROTO_OK)
        fail_msg ("the head sent %s a malformed %s: %s", peer->id,
                  proto_type_name (msg->type), reason);
    size_t count = proto_msg_frames (&sent->msg);
    sent->payload = calloc (count ? count : 1, sizeof *sent->payload);
    assert_non_null (sent->payload);
    for (size_t i = 0; i < count; i++) {
        const void *data;
        size_t size;
        assert_int_equal (proto_msg_payload (&sent->msg, i, &data, &size), 0);
        char *copy = malloc (size + 1);
        assert_non_null (copy);
        memcpy (copy, data, size);
        copy[size] = '\0';
        sent->payload[sent->npayload++] = copy;
    }
    return 0;
}

/* The fake of head/server.c's error: an ERROR {pool, code, text}, logged. */
void
head_send_error (head_t *head, head_peer_t *peer, uint64_t pool, int code,
                 const char *format, ...)
{
    char text[1024];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_ERROR);
    if (pool)
        proto_msg_set_pool (&msg, pool);
    proto_msg_set_code (&msg, code);
    proto_msg_set_text (&msg, "%s", text);
    head_send (head, peer, &msg);
    proto_msg_reset (&msg);
}

/* ---------------------------------------------------------------------
   The store: always there, pool ids from 100 on
   --------------------------------------------------------------------- */

static uint64_t s_last_pool_id;

/* The cap (head/store_limit.c): everything fits. */
int
head_store_limit_put (head_t *head, const uint8_t hash[PROTO_HASH_SIZE], const void *data,
                      size_t size, char *error, size_t error_size)
{
    (void)head, (void)hash, (void)data, (void)size, (void)error, (void)error_size;
    return 0;
}

const char *
head_shards_error (head_shards_t *self)
{
    (void)self;
    return "the fake store never fails";
}

uint64_t
head_store_next_pool_id (head_store_t *self)
{
    (void)self;
    return ++s_last_pool_id;
}

int
head_store_pool_save (head_store_t *self, uint64_t pool, const char *name,
                      const char *client)
{
    (void)self, (void)pool, (void)name, (void)client;
    return 0;
}

int
head_store_pool_forget (head_store_t *self, uint64_t pool)
{
    (void)self, (void)pool;
    return 0;
}

const char *
head_store_error (head_store_t *self)
{
    (void)self;
    return "the fake store never fails";
}

/* The store's use (head/metrics.c asks it): unknown here. */
struct redisReply *
head_store_command (head_store_t *self, int argc, const char **argv, const size_t *lens)
{
    (void)self, (void)argc, (void)argv, (void)lens;
    return NULL;
}

/* Block holds of pools (head/lifetimes.c): nothing to hold here. */
int
head_lifetimes_pool_open (head_t *head, head_pool_t *pool)
{
    (void)head, (void)pool;
    return 0;
}

void
head_lifetimes_pool_close (head_t *head, head_pool_t *pool)
{
    (void)head, (void)pool;
}

/* ---------------------------------------------------------------------
   A head and its peers, built by hand
   --------------------------------------------------------------------- */

#define PEERS_MAX 64
#define PREFETCH 64 /* config.prefetch: the most a worker's window grows to */

typedef struct {
    head_t head;
    head_peer_t *peers[PEERS_MAX]; /* every peer still here (owned) */
    size_t npeers;
    int serial; /* makes each peer's key unique */
} fx_t;

static int
s_setup (void **state)
{
    fx_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    head_t *head = &fx->head;
    head->config.heartbeat_ms = 1000;
    head->config.liveness = 3;
    head->config.prefetch = PREFETCH;
    head->config.max_message = 1 << 30;
    head->config.max_frames = 100000;
    head->config.max_pools_per_client = 8;
    head->config.max_pending_per_pool = 100000;
    head->epoch = 0xE2;
    head->peers = zhashx_new ();
    head->workers = zhashx_new ();
    head->nodes = zhashx_new ();
    head->clients = zhashx_new ();
    head->pools = zlistx_new ();
    assert_true (head->peers && head->workers && head->nodes && head->clients
                 && head->pools);
    s_last_pool_id = 100;
    *state = fx;
    return 0;
}

static void
s_peer_free (head_peer_t *peer)
{
    zframe_destroy (&peer->rid);
    head_queue_purge (&peer->inflight);
    zlist_destroy (&peer->pools);
    free (peer->text);
    free (peer);
}

static int
s_teardown (void **state)
{
    fx_t *fx = *state;
    head_t *head = &fx->head;
    head->stopping = true; /* closing pools rebalances nothing */
    head_pool_t *pool;
    while ((pool = zlistx_first (head->pools)))
        head_sched_pool_close (head, pool);
    for (size_t i = 0; i < fx->npeers; i++)
        s_peer_free (fx->peers[i]);
    zhashx_destroy (&head->peers);
    zhashx_destroy (&head->workers);
    zhashx_destroy (&head->nodes);
    zhashx_destroy (&head->clients);
    head_results_out_destroy (head);
    zlistx_destroy (&head->pools);
    free (fx);
    s_log_clear ();
    head_job_cache_free ();
    return 0;
}

/* A peer as server.c's s_hello makes it, in the head's tables. */
static head_peer_t *
s_peer_new (fx_t *fx, proto_role_t role, const char *id)
{
    assert_true (fx->npeers < PEERS_MAX);
    head_peer_t *peer = calloc (1, sizeof *peer);
    assert_non_null (peer);
    snprintf (peer->key, sizeof peer->key, "peer%d", ++fx->serial);
    peer->rid = zframe_new (peer->key, strlen (peer->key));
    peer->role = role;
    snprintf (peer->id, sizeof peer->id, "%s", id);
    snprintf (peer->node, sizeof peer->node, "node1");
    peer->text = strdup ("cpu");
    peer->gpu_used = UINT64_MAX;
    peer->last_seen = zclock_mono ();
    peer->pools = zlist_new ();
    assert_true (peer->rid && peer->text && peer->pools);
    assert_int_equal (zhashx_insert (fx->head.peers, peer->key, peer), 0);
    if (role == PROTO_ROLE_WORKER)
        zhashx_update (fx->head.workers, peer->id, peer);
    else if (role == PROTO_ROLE_CLIENT)
        zhashx_update (fx->head.clients, peer->id, peer);
    fx->peers[fx->npeers++] = peer;
    return peer;
}

static head_peer_t *
s_client_new (fx_t *fx, const char *id)
{
    return s_peer_new (fx, PROTO_ROLE_CLIENT, id);
}

/* A fresh worker says HELLO: it joins idle. */
static head_peer_t *
s_worker_new (fx_t *fx, const char *id)
{
    head_peer_t *worker = s_peer_new (fx, PROTO_ROLE_WORKER, id);
    head_sched_worker_join (&fx->head, worker);
    return worker;
}

/* A fresh worker with a GPU of mb MiB, used_mb of them in use (or unknown). */
static head_peer_t *
s_gpu_worker_new (fx_t *fx, const char *id, uint64_t mb, uint64_t used_mb)
{
    head_peer_t *worker = s_peer_new (fx, PROTO_ROLE_WORKER, id);
    worker->has_gpu = true;
    worker->gpu_memory = mb << 20;
    worker->gpu_used = used_mb == UINT64_MAX ? UINT64_MAX : used_mb << 20;
    head_sched_worker_join (&fx->head, worker);
    return worker;
}

/* The worker is gone, as server.c forgets it; its struct is freed. */
static void
s_worker_lost (fx_t *fx, head_peer_t *worker, int code, const char *why, int job_error,
               head_charge_t charge, const proto_job_t *culprit)
{
    head_sched_worker_lost (&fx->head, worker, code, why, job_error, charge, culprit);
    if (zhashx_lookup (fx->head.workers, worker->id) == worker)
        zhashx_delete (fx->head.workers, worker->id);
    zhashx_delete (fx->head.peers, worker->key);
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i] == worker) {
            fx->peers[i] = fx->peers[--fx->npeers];
            break;
        }
    s_peer_free (worker);
}

/* A worker's process died of signal 11 running its jobs. */
static void
s_worker_crashed (fx_t *fx, head_peer_t *worker)
{
    s_worker_lost (fx, worker, 11, "worker crashed (signal 11)", POOL_ECRASHED,
                   HEAD_CHARGE_OLDEST, NULL);
}

/*  Every worker told POOL_CLOSE leaves (BYE) and its node starts a fresh
    one with the same id and device, which joins idle.  Returns how many. */
static int
s_respawn_closed (fx_t *fx)
{
    head_peer_t *closed[PEERS_MAX];
    size_t count = 0;
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->role == PROTO_ROLE_WORKER
            && fx->peers[i]->state == WORKER_CLOSED)
            closed[count++] = fx->peers[i];
    for (size_t i = 0; i < count; i++) {
        head_peer_t old = *closed[i]; /* id and device, for the new one */
        s_worker_lost (fx, closed[i], 0, "left", POOL_ECRASHED, HEAD_CHARGE_OLDEST, NULL);
        head_peer_t *fresh = s_peer_new (fx, PROTO_ROLE_WORKER, old.id);
        fresh->has_gpu = old.has_gpu;
        fresh->gpu_memory = old.gpu_memory;
        fresh->gpu_used = old.gpu_used;
        head_sched_worker_join (&fx->head, fresh);
    }
    return (int)count;
}

/* The worker loaded its pool (code 0) or could not (code < 0, why). */
static void
s_worker_ready_code (fx_t *fx, head_peer_t *worker, int code, const char *why)
{
    assert_non_null (worker->pool);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_WORKER_READY);
    proto_msg_set_pool (&msg, worker->pool->id);
    proto_msg_set_code (&msg, code);
    if (why)
        proto_msg_set_text (&msg, "%s", why);
    head_sched_worker_ready (&fx->head, worker, &msg);
    proto_msg_reset (&msg);
}

static void
s_worker_ready (fx_t *fx, head_peer_t *worker)
{
    s_worker_ready_code (fx, worker, 0, NULL);
}

/* Every loading worker reports ready.  Returns how many. */
static int
s_ready_loading (fx_t *fx)
{
    head_peer_t *loading[PEERS_MAX];
    size_t count = 0;
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->role == PROTO_ROLE_WORKER
            && fx->peers[i]->state == WORKER_LOADING)
            loading[count++] = fx->peers[i];
    for (size_t i = 0; i < count; i++)
        if (loading[i]->state == WORKER_LOADING)
            s_worker_ready (fx, loading[i]);
    return (int)count;
}

/*  A RESULT {pool} of one job (id, attempt) with status and output. */
static void
s_result (fx_t *fx, head_peer_t *worker, uint64_t pool, uint64_t id, uint32_t attempt,
          int32_t status, const char *output)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_RESULT);
    proto_msg_set_pool (&msg, pool);
    proto_job_t *entry = proto_msg_add_job (&msg);
    assert_non_null (entry);
    entry->id = id;
    entry->attempt = attempt;
    entry->status = status;
    proto_msg_add_bytes (&msg, output, strlen (output));
    head_sched_result (&fx->head, worker, &msg);
    head_results_out_flush (&fx->head); /* as the loop does after a pass */
    proto_msg_reset (&msg);
}

/*  The worker answers the oldest `most` jobs it holds ("out:ID"); with
    run_us >= 0 the RESULT says each ran run_us (nums [total, 0]). */
static size_t
s_answer (fx_t *fx, head_peer_t *worker, size_t most, int64_t run_us)
{
    assert_non_null (worker->pool);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_RESULT);
    proto_msg_set_pool (&msg, worker->pool->id);
    size_t count = 0;
    for (head_job_t *job = worker->inflight.first; job && count < most; job = job->next)
        for (uint32_t i = 0; i < job->count && count < most; i++, count++) {
            proto_job_t *entry = proto_msg_add_job (&msg);
            assert_non_null (entry);
            entry->id = job->id + i;
            entry->attempt = job->attempt;
            char out[32];
            snprintf (out, sizeof out, "out:%llu", (unsigned long long)(job->id + i));
            proto_msg_add_bytes (&msg, out, strlen (out));
        }
    if (run_us >= 0) {
        proto_msg_add_num (&msg, (uint64_t)run_us * count);
        proto_msg_add_num (&msg, 0);
    }
    if (count) {
        head_sched_result (&fx->head, worker, &msg);
        head_results_out_flush (&fx->head); /* as the loop does after a pass */
    }
    proto_msg_reset (&msg);
    return count;
}

/* Releasing workers finish the job they run.  Returns how many did. */
static int
s_finish_releasing (fx_t *fx)
{
    head_peer_t *releasing[PEERS_MAX];
    size_t count = 0;
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->role == PROTO_ROLE_WORKER
            && fx->peers[i]->state == WORKER_RELEASING)
            releasing[count++] = fx->peers[i];
    for (size_t i = 0; i < count; i++)
        s_answer (fx, releasing[i], SIZE_MAX, -1);
    return (int)count;
}

/*  Plays server.c and the nodes until nothing moves: released workers
    finish their job and leave, fresh ones join, loading ones report
    ready; when all is quiet, a heartbeat's rebalance pass.  Jobs here are
    short next to a heartbeat: a released worker is gone before the next
    pass.  Returns the rounds that moved something. */
static int
s_settle (fx_t *fx)
{
    int rounds = 0;
    for (int i = 0; i < 100; i++) {
        int moved = s_finish_releasing (fx);
        moved += s_respawn_closed (fx);
        moved += s_ready_loading (fx);
        if (!moved) {
            head_sched_rebalance (&fx->head);
            moved = s_finish_releasing (fx);
            moved += s_respawn_closed (fx);
            moved += s_ready_loading (fx);
            if (!moved)
                return rounds;
        }
        rounds++;
    }
    fail_msg ("the workers never settle");
    return rounds;
}

/* ---------------------------------------------------------------------
   A client's messages
   --------------------------------------------------------------------- */

#define LIB "ELF... the worker library's bytes"
#define INIT "init data"

typedef struct {
    uint64_t max_attempts; /* 0: the head's default (3) */
    uint64_t min_workers;
    uint64_t gpu_mb; /* min_gpu_memory */
    uint64_t previous_id;
    uint64_t previous_epoch;
    const char *lib;  /* NULL: LIB */
    const char *init; /* NULL: INIT */
    bool bad_hash;    /* the init hash is not of the init bytes */
} open_t;

/* POOL_OPEN; the pool, or NULL when the head did not answer POOL_READY. */
static head_pool_t *
s_open_with (fx_t *fx, head_peer_t *client, const open_t *o)
{
    const char *lib = o->lib ? o->lib : LIB;
    const char *init = o->init ? o->init : INIT;
    uint8_t hash[PROTO_HASH_SIZE];
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_POOL_OPEN);
    proto_msg_set_text (&msg, "square");
    proto_hash (lib, strlen (lib), hash);
    proto_msg_add_hash (&msg, hash);
    proto_hash (init, strlen (init) - (o->bad_hash ? 1 : 0), hash);
    proto_msg_add_hash (&msg, hash);
    proto_msg_add_num (&msg, o->max_attempts);
    proto_msg_add_num (&msg, 0); /* job_timeout_ms */
    proto_msg_add_num (&msg, o->min_workers);
    proto_msg_add_num (&msg, o->gpu_mb);
    proto_msg_add_num (&msg, o->previous_id);
    proto_msg_add_num (&msg, o->previous_epoch);
    proto_msg_add_bytes (&msg, lib, strlen (lib));
    proto_msg_add_bytes (&msg, init, strlen (init));
    size_t before = s_nlog;
    head_sched_pool_open (&fx->head, client, &msg);
    proto_msg_reset (&msg);
    for (size_t i = before; i < s_nlog; i++)
        if (streq (s_log[i].to, client->key) && s_log[i].msg.type == PROTO_POOL_READY)
            return head_sched_pool (&fx->head, client, s_log[i].msg.pool);
    return NULL;
}

static head_pool_t *
s_open (fx_t *fx, head_peer_t *client, uint64_t min_workers)
{
    head_pool_t *pool = s_open_with (fx, client, &(open_t){ .min_workers = min_workers });
    assert_non_null (pool);
    return pool;
}

/* SUBMIT of count jobs, ids from first on, inputs "in:ID". */
static void
s_submit (fx_t *fx, head_pool_t *pool, uint64_t first, size_t count)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_SUBMIT);
    proto_msg_set_pool (&msg, pool->id);
    for (size_t i = 0; i < count; i++) {
        proto_job_t *entry = proto_msg_add_job (&msg);
        assert_non_null (entry);
        entry->id = first + i;
        char in[32];
        snprintf (in, sizeof in, "in:%llu", (unsigned long long)(first + i));
        proto_msg_add_bytes (&msg, in, strlen (in));
    }
    /* Through the codec, as from a client: small inputs arrive packed,
       and the head keeps consecutive jobs as one record. */
    zmsg_t *wire = NULL;
    assert_int_equal (proto_msg_encode (&msg, &wire), PROTO_OK);
    char reason[128];
    assert_int_equal (proto_msg_decode (&msg, &wire, reason, sizeof reason), PROTO_OK);
    head_sched_submit (&fx->head, pool, &msg);
    proto_msg_reset (&msg);
}

/*  Jobs 1..n, one per worker (n workers ready), each answered as taking
    run_us: every worker's window grows, and its run time is known. */
static void
s_one_each (fx_t *fx, head_pool_t *pool, size_t n, int64_t run_us)
{
    s_submit (fx, pool, 1, n);
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->role == PROTO_ROLE_WORKER)
            assert_int_equal (s_answer (fx, fx->peers[i], SIZE_MAX, run_us), 1);
}

static void
s_update (fx_t *fx, head_pool_t *pool, const char *bytes)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_UPDATE);
    proto_msg_set_pool (&msg, pool->id);
    proto_msg_add_bytes (&msg, bytes, strlen (bytes));
    head_sched_update (&fx->head, pool, &msg);
    proto_msg_reset (&msg);
}

/* ---------------------------------------------------------------------
   Reading the log
   --------------------------------------------------------------------- */

/* Messages of type sent to peer since log index `from`. */
static size_t
s_count_since (size_t from, const head_peer_t *peer, proto_type_t type)
{
    size_t count = 0;
    for (size_t i = from; i < s_nlog; i++)
        count += streq (s_log[i].to, peer->key) && s_log[i].msg.type == type;
    return count;
}

static size_t
s_count (const head_peer_t *peer, proto_type_t type)
{
    return s_count_since (0, peer, type);
}

/* Jobs answered to a client, in all its RESULT messages. */
static size_t
s_results (const head_peer_t *client)
{
    size_t count = 0;
    for (size_t i = 0; i < s_nlog; i++)
        if (streq (s_log[i].to, client->key) && s_log[i].msg.type == PROTO_RESULT)
            count += s_log[i].msg.njobs;
    return count;
}

/* The n'th (from 0) message of type sent to peer, or NULL. */
static const sent_t *
s_nth (const head_peer_t *peer, proto_type_t type, size_t n)
{
    for (size_t i = 0; i < s_nlog; i++)
        if (streq (s_log[i].to, peer->key) && s_log[i].msg.type == type && n-- == 0)
            return &s_log[i];
    return NULL;
}

/* The jobs peer was sent in JOB messages, in order: their count. */
static size_t
s_jobs_sent (const head_peer_t *peer, proto_job_t *jobs, size_t most)
{
    size_t count = 0;
    for (size_t i = 0; i < s_nlog; i++) {
        const sent_t *sent = &s_log[i];
        if (!streq (sent->to, peer->key) || sent->msg.type != PROTO_JOB)
            continue;
        for (size_t k = 0; k < sent->msg.njobs && count < most; k++)
            jobs[count++] = sent->msg.jobs[k];
    }
    return count;
}

/* Workers serving pool (ready for it). */
static int
s_serving (const fx_t *fx, const head_pool_t *pool)
{
    int count = 0;
    for (size_t i = 0; i < fx->npeers; i++)
        count += fx->peers[i]->role == PROTO_ROLE_WORKER && fx->peers[i]->pool == pool
                 && fx->peers[i]->state == WORKER_READY;
    return count;
}

/* n workers, "w0".."w<n-1>", idle. */
static void
s_workers (fx_t *fx, int n)
{
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf (id, sizeof id, "w%d", i);
        s_worker_new (fx, id);
    }
}

/* The one worker peer with that id. */
static head_peer_t *
s_worker (fx_t *fx, const char *id)
{
    head_peer_t *worker = zhashx_lookup (fx->head.workers, id);
    assert_non_null (worker);
    return worker;
}

/* ---------------------------------------------------------------------
   Fair share
   --------------------------------------------------------------------- */

static void
test_two_busy_pools_split_the_workers_evenly (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 4);
    head_peer_t *alice = s_client_new (fx, "alice"), *bob = s_client_new (fx, "bob");
    head_pool_t *a = s_open (fx, alice, 1);
    s_ready_loading (fx);
    s_submit (fx, a, 1, 200);
    assert_int_equal (s_serving (fx, a), 4); /* alone, it has them all */

    head_pool_t *b = s_open (fx, bob, 1);
    s_submit (fx, b, 1, 200);
    /* At most one worker moves per pass (the open's, the submit's): it gets
       no new jobs, gives back those it had queued, runs the one it has, and
       only then is told to close. */
    int releasing = 0;
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->state == WORKER_RELEASING) {
            releasing++;
            assert_int_equal (s_count (fx->peers[i], PROTO_POOL_CLOSE), 0);
            assert_int_equal (fx->peers[i]->inflight.count, 1);
        }
    assert_in_range (releasing, 1, 2);
    assert_true (s_settle (fx) >= 1);
    assert_int_equal (s_serving (fx, a), 2);
    assert_int_equal (s_serving (fx, b), 2);
    /* Nobody flaps: another pass moves nothing. */
    assert_int_equal (s_settle (fx), 0);
}

static void
test_three_busy_pools_split_six_workers_two_each (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 6);
    head_pool_t *pools[3];
    const char *names[3] = { "alice", "bob", "carol" };
    for (int i = 0; i < 3; i++) {
        pools[i] = s_open (fx, s_client_new (fx, names[i]), 1);
        s_submit (fx, pools[i], 1, 200);
        s_settle (fx);
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal (s_serving (fx, pools[i]), 2);
    assert_int_equal (s_settle (fx), 0);
}

/*  With workers that do not divide evenly, only `spare` busy pools may
    keep share + 1 (it was every one of them).  7 workers: alice and bob
    settle at 4 and 3; carol's SUBMIT takes one from alice; alice and bob
    must not both keep 3 while carol is stuck with 1 and her share is 2.
    (min_workers 0: the open itself wants nothing, so no second worker is
    released before the first has left.) */
static void
test_three_busy_pools_split_seven_workers_within_one (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 7);
    head_pool_t *pools[3];
    const char *names[3] = { "alice", "bob", "carol" };
    for (int i = 0; i < 3; i++) {
        pools[i] = s_open (fx, s_client_new (fx, names[i]), 0);
        s_submit (fx, pools[i], 1, 200);
        s_settle (fx);
    }
    int most = 0, least = 7;
    for (int i = 0; i < 3; i++) {
        int n = s_serving (fx, pools[i]);
        most = n > most ? n : most;
        least = n < least ? n : least;
    }
    assert_true (least >= 2); /* 3, 2, 2 */
    assert_true (most - least <= 1);
}

static void
test_a_pool_in_pool_open_gets_its_min_workers (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 4);
    head_pool_t *a = s_open (fx, s_client_new (fx, "alice"), 1);
    s_ready_loading (fx);
    s_submit (fx, a, 1, 200);
    /* bob waits in pool_open for one worker: he gets it, and no more. */
    head_pool_t *b = s_open (fx, s_client_new (fx, "bob"), 1);
    s_settle (fx);
    assert_int_equal (s_serving (fx, b), 1);
    assert_int_equal (s_serving (fx, a), 3);
    /* carol wants three but gets her share of three pools, one. */
    head_pool_t *c = s_open (fx, s_client_new (fx, "carol"), 3);
    s_settle (fx);
    assert_int_equal (s_serving (fx, c), 1);
    assert_int_equal (s_serving (fx, b), 1);
    assert_int_equal (s_serving (fx, a), 2);
}

static void
test_an_idle_pool_gives_its_workers_to_a_busy_one (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 4);
    head_pool_t *a = s_open (fx, s_client_new (fx, "alice"), 1);
    s_ready_loading (fx);
    s_submit (fx, a, 1, 4);
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->pool == a)
            s_answer (fx, fx->peers[i], SIZE_MAX, -1);
    assert_int_equal (a->done, 4); /* alice is idle now, with 4 workers */
    assert_int_equal (s_serving (fx, a), 4);

    head_pool_t *b = s_open (fx, s_client_new (fx, "bob"), 1);
    s_submit (fx, b, 1, 100);
    s_settle (fx);
    assert_int_equal (s_serving (fx, b), 4);
    assert_int_equal (s_serving (fx, a), 0);
    /* alice comes back with work: they share again. */
    s_submit (fx, a, 5, 100);
    s_settle (fx);
    assert_int_equal (s_serving (fx, a), 2);
    assert_int_equal (s_serving (fx, b), 2);
}

/*  A releasing worker is already given: it used to count in its old
    pool's workers and not yet in the pool it goes to, so every pass before
    it had finished its job released one more (with jobs longer than a
    heartbeat, five passes released all four of alice's workers to give
    bob his two, and alice took two back as fresh processes). */
static void
test_passes_before_a_released_worker_leaves_release_no_more (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 4);
    head_pool_t *a = s_open (fx, s_client_new (fx, "alice"), 1);
    s_ready_loading (fx);
    s_submit (fx, a, 1, 200);
    head_pool_t *b = s_open (fx, s_client_new (fx, "bob"), 1);
    s_submit (fx, b, 1, 200);
    /* alice's jobs take minutes: heartbeats come, nothing finishes. */
    for (int i = 0; i < 5; i++)
        head_sched_rebalance (&fx->head);
    int releasing = 0;
    for (size_t i = 0; i < fx->npeers; i++)
        releasing += fx->peers[i]->state == WORKER_RELEASING;
    assert_in_range (releasing, 1, 2); /* bob's share, no more */
}

/*  A pool no worker may run does not stop the others: the starved pool
    used to be the first with the fewest workers, even one nobody could
    serve, and the pass ended there.  Here: CPU workers only, a GPU pool
    opened before bob's; bob must get a worker while alice has four.  (The
    GPU pool still counts in the share, 4 / 3 pools, so bob may get 1.) */
static void
test_a_pool_no_worker_can_run_does_not_starve_the_others (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 4);
    head_pool_t *a = s_open (fx, s_client_new (fx, "alice"), 1);
    s_ready_loading (fx);
    s_submit (fx, a, 1, 200);
    head_pool_t *gpu
        = s_open_with (fx, s_client_new (fx, "gina"),
                       &(open_t){ .min_workers = 1, .gpu_mb = 1024, .lib = "gpu lib" });
    assert_non_null (gpu);
    s_submit (fx, gpu, 1, 200);
    head_pool_t *b = s_open (fx, s_client_new (fx, "bob"), 1);
    s_submit (fx, b, 1, 200);
    s_settle (fx);
    assert_int_equal (s_serving (fx, gpu), 0); /* nobody can run it */
    assert_true (s_serving (fx, b) >= 1);
}

/*  Parked workers serve no pool until theirs opens again (up to
    HEAD_PARK_MS), so they are not in the total the share is cut from.
    After a head restart: two free workers, one parked for a client that
    is not back, two busy pools: bob must not wait 30 s with none while
    alice keeps both. */
static void
test_parked_workers_do_not_count_in_the_fair_share (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 2);
    head_peer_t *parked = s_peer_new (fx, PROTO_ROLE_WORKER, "w9");
    head_parked_t what = { .pool_id = 9, .epoch = 0xE1, .useq = 0 };
    proto_hash ("other lib", 9, what.lib_hash);
    proto_hash (INIT, strlen (INIT), what.init_hash);
    head_sched_worker_park (&fx->head, parked, &what);

    head_pool_t *a = s_open (fx, s_client_new (fx, "alice"), 1);
    s_ready_loading (fx);
    s_submit (fx, a, 1, 200);
    head_pool_t *b = s_open (fx, s_client_new (fx, "bob"), 1);
    s_submit (fx, b, 1, 200);
    s_settle (fx);
    assert_int_equal (parked->state, WORKER_PARKED);
    assert_int_equal (s_serving (fx, a), 1);
    assert_int_equal (s_serving (fx, b), 1);
}

/* ---------------------------------------------------------------------
   Lost workers, attempts
   --------------------------------------------------------------------- */

/*  One worker with a window of 4 holds jobs 2..5 of 10 (job 1 answered);
    returns it. */
static head_peer_t *
s_worker_holding_2_to_5 (fx_t *fx, head_pool_t **pool_p, uint64_t max_attempts)
{
    fx->head.config.prefetch = 4;
    head_peer_t *worker = s_worker_new (fx, "w1");
    head_pool_t *pool
        = s_open_with (fx, s_client_new (fx, "alice"),
                       &(open_t){ .min_workers = 1, .max_attempts = max_attempts });
    assert_non_null (pool);
    s_worker_ready (fx, worker);
    s_submit (fx, pool, 1, 10);
    s_answer (fx, worker, 1, 0); /* fast: its window grows to 4 */
    assert_int_equal (worker->inflight.count, 4);
    assert_int_equal (worker->inflight.first->id, 2);
    *pool_p = pool;
    return worker;
}

/* A fresh worker runs the pool to the end: the jobs it was sent, in order. */
static size_t
s_drain_with_fresh_worker (fx_t *fx, const char *id, proto_job_t *jobs, size_t most)
{
    head_peer_t *worker = s_worker_new (fx, id);
    assert_int_equal (s_count (worker, PROTO_ASSIGN), 1);
    s_worker_ready (fx, worker);
    for (int i = 0; i < 100 && s_answer (fx, worker, SIZE_MAX, 0); i++)
        ;
    return s_jobs_sent (worker, jobs, most);
}

static void
test_a_lost_worker_charges_only_its_oldest_job (void **state)
{
    fx_t *fx = *state;
    head_pool_t *pool;
    head_peer_t *w1 = s_worker_holding_2_to_5 (fx, &pool, 3);
    s_worker_crashed (fx, w1);
    proto_job_t jobs[32];
    size_t count = s_drain_with_fresh_worker (fx, "w2", jobs, 32);
    /* Job 2 ran when it died: charged.  3..5 only waited: uncharged, in
       order, before 6..10. */
    assert_int_equal (count, 9);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal (jobs[i].id, 2 + i);
        assert_int_equal (jobs[i].attempt, i == 0 ? 1 : 0);
    }
    assert_int_equal (pool->done, 10);
}

static void
test_a_lost_worker_charges_the_job_its_node_names (void **state)
{
    fx_t *fx = *state;
    head_pool_t *pool;
    head_peer_t *w1 = s_worker_holding_2_to_5 (fx, &pool, 3);
    proto_job_t culprit = { .id = 4, .attempt = 0 };
    s_worker_lost (fx, w1, 11, "worker crashed (signal 11)", POOL_ECRASHED,
                   HEAD_CHARGE_JOB, &culprit);
    proto_job_t jobs[32];
    size_t count = s_drain_with_fresh_worker (fx, "w2", jobs, 32);
    assert_int_equal (count, 9);
    uint64_t expect[] = { 2, 3, 5, 6, 7, 8, 9, 10 }; /* the others, in order */
    size_t k = 0, charged = 0;
    for (size_t i = 0; i < count; i++) {
        if (jobs[i].id == 4) {
            assert_int_equal (jobs[i].attempt, 1);
            charged++;
            continue;
        }
        assert_int_equal (jobs[i].attempt, 0);
        assert_int_equal (jobs[i].id, expect[k++]);
    }
    assert_int_equal (charged, 1);
    assert_int_equal (pool->done, 10);
}

/* The worker's node, in the head's table, and the worker's pid. */
static head_peer_t *
s_node_of (fx_t *fx, head_peer_t *worker)
{
    head_peer_t *node = s_peer_new (fx, PROTO_ROLE_NODE, "node1");
    zhashx_update (fx->head.nodes, node->id, node);
    worker->pid = 4321;
    return node;
}

static void
test_cancel_drops_queued_jobs_and_stops_held_ones (void **state)
{
    fx_t *fx = *state;
    head_pool_t *pool;
    head_peer_t *w1 = s_worker_holding_2_to_5 (fx, &pool, 3);
    head_peer_t *node = s_node_of (fx, w1);
    head_peer_t *client = pool->client;
    pool->cancel_grace_ms = 700;
    head_cancel (&fx->head, pool, 4, 8);
    /* 6 and 7 were queued: gone.  4 and 5 are held: the worker and its
       node are told, with the worker's pid and the pool's grace. */
    assert_int_equal (pool->pending.count, 3);
    assert_int_equal (pool->pending.first->id, 8);
    const sent_t *to_worker = s_nth (w1, PROTO_CANCEL, 0);
    assert_non_null (to_worker);
    assert_int_equal (to_worker->msg.pool, pool->id);
    assert_int_equal (to_worker->msg.nnums, 2);
    assert_int_equal (to_worker->msg.nums[0], 4);
    assert_int_equal (to_worker->msg.nums[1], 8);
    const sent_t *to_node = s_nth (node, PROTO_CANCEL, 0);
    assert_non_null (to_node);
    assert_string_equal (to_node->msg.id, "w1");
    assert_int_equal (to_node->msg.seq, 4321);
    assert_int_equal (to_node->msg.nnums, 3);
    assert_int_equal (to_node->msg.nums[2], 700);
    /* Cancelling the same range again tells nobody anything new. */
    head_cancel (&fx->head, pool, 4, 8);
    assert_int_equal (s_count (w1, PROTO_CANCEL), 1);
    /* The worker answers all four (4 and 5 ECANCELED): only 2 and 3 reach
       the client, and the window slots of all four are free. */
    size_t before = s_results (client);
    s_result (fx, w1, pool->id, 2, 0, 0, "out:2");
    s_result (fx, w1, pool->id, 3, 0, 0, "out:3");
    s_result (fx, w1, pool->id, 4, 0, PROTO_CODE_ECANCELED, "cancelled");
    s_result (fx, w1, pool->id, 5, 0, 0, "ran anyway");
    assert_int_equal (s_results (client) - before, 2);
    for (int i = 0; i < 100 && s_answer (fx, w1, SIZE_MAX, 0); i++)
        ;
    /* 1, 2, 3, 8, 9, 10 answered; the four cancelled ones never. */
    assert_int_equal (s_results (client), 6);
    assert_int_equal (pool->done, 10);
    assert_int_equal (pool->running, 0);
    assert_int_equal (w1->inflight.count, 0);
}

static void
test_a_worker_killed_in_a_cancelled_job_charges_nothing (void **state)
{
    fx_t *fx = *state;
    head_pool_t *pool;
    /* One attempt: a charge would fail the job with POOL_ECRASHED. */
    head_peer_t *w1 = s_worker_holding_2_to_5 (fx, &pool, 1);
    s_node_of (fx, w1);
    head_peer_t *client = pool->client;
    head_cancel (&fx->head, pool, 2, 4);
    /* Its node killed it in job 2 after the grace. */
    proto_job_t culprit = { .id = 2, .attempt = 0 };
    s_worker_lost (fx, w1, 9, "worker crashed (signal 9)", POOL_ECRASHED, HEAD_CHARGE_JOB,
                   &culprit);
    proto_job_t jobs[32];
    size_t count = s_drain_with_fresh_worker (fx, "w2", jobs, 32);
    /* 2 and 3 are not run again; 4 and 5 go back uncharged, in order. */
    assert_int_equal (count, 7);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal (jobs[i].id, 4 + i);
        assert_int_equal (jobs[i].attempt, 0);
    }
    for (size_t i = 0; i < s_nlog; i++)
        if (streq (s_log[i].to, client->key) && s_log[i].msg.type == PROTO_RESULT)
            for (size_t k = 0; k < s_log[i].msg.njobs; k++)
                assert_int_equal (s_log[i].msg.jobs[k].status, 0);
    assert_int_equal (s_results (client), 8);
    assert_int_equal (pool->done, 10);
}

static void
test_a_worker_that_ran_nothing_charges_nothing (void **state)
{
    fx_t *fx = *state;
    head_pool_t *pool;
    /* A clean leave (BYE, exit 0) ... */
    head_peer_t *w1 = s_worker_holding_2_to_5 (fx, &pool, 3);
    s_worker_lost (fx, w1, 0, "left", POOL_ECRASHED, HEAD_CHARGE_OLDEST, NULL);
    /* ... and a death its node says was outside any job. */
    head_peer_t *w2 = s_worker_new (fx, "w2");
    s_worker_ready (fx, w2);
    assert_int_equal (w2->inflight.first->id, 2);
    s_worker_lost (fx, w2, 9, "worker crashed (signal 9)", POOL_ECRASHED,
                   HEAD_CHARGE_NONE, NULL);
    proto_job_t jobs[32];
    size_t count = s_drain_with_fresh_worker (fx, "w3", jobs, 32);
    assert_int_equal (count, 9);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal (jobs[i].id, 2 + i);
        assert_int_equal (jobs[i].attempt, 0);
    }
}

static void
test_a_job_out_of_attempts_fails_with_its_cause (void **state)
{
    fx_t *fx = *state;
    head_peer_t *alice = s_client_new (fx, "alice");
    head_pool_t *pool
        = s_open_with (fx, alice, &(open_t){ .min_workers = 1, .max_attempts = 2 });
    assert_non_null (pool);
    head_peer_t *w1 = s_worker_new (fx, "w1");
    s_worker_ready (fx, w1);
    s_submit (fx, pool, 1, 3);
    s_worker_crashed (fx, w1); /* job 1: attempt 1 of 2 */
    head_peer_t *w2 = s_worker_new (fx, "w2");
    s_worker_ready (fx, w2);
    proto_job_t jobs[8];
    assert_int_equal (s_jobs_sent (w2, jobs, 8), 2);
    assert_int_equal (jobs[0].id, 1);
    assert_int_equal (jobs[0].attempt, 1);
    assert_int_equal (s_count (alice, PROTO_RESULT), 0);
    s_worker_crashed (fx, w2); /* job 1: attempt 2 of 2 */

    assert_int_equal (s_count (alice, PROTO_RESULT), 1);
    const sent_t *result = s_nth (alice, PROTO_RESULT, 0);
    assert_int_equal (result->msg.pool, pool->id);
    assert_int_equal (result->msg.njobs, 1);
    assert_int_equal (result->msg.jobs[0].id, 1);
    assert_int_equal (result->msg.jobs[0].status, POOL_ECRASHED);
    assert_non_null (strstr (result->payload[0], "worker crashed (signal 11)"));
    assert_non_null (strstr (result->payload[0], "2 attempts"));
    /* The others run on; job 1 is never sent again. */
    size_t count = s_drain_with_fresh_worker (fx, "w3", jobs, 8);
    assert_int_equal (count, 2);
    assert_int_equal (jobs[0].id, 2);
    assert_int_equal (jobs[1].id, 3);
    assert_int_equal (s_results (alice), 3);
    assert_int_equal (pool->done, 3);
}

static void
test_a_job_that_times_out_on_its_only_attempt_fails_with_etimedout (void **state)
{
    fx_t *fx = *state;
    head_peer_t *alice = s_client_new (fx, "alice");
    head_pool_t *pool
        = s_open_with (fx, alice, &(open_t){ .min_workers = 1, .max_attempts = 1 });
    assert_non_null (pool);
    head_peer_t *w1 = s_worker_new (fx, "w1");
    s_worker_ready (fx, w1);
    s_submit (fx, pool, 7, 1);
    proto_job_t culprit = { .id = 7, .attempt = 0 };
    s_worker_lost (fx, w1, 14, "job timed out after 2 s", POOL_ETIMEDOUT, HEAD_CHARGE_JOB,
                   &culprit);
    const sent_t *result = s_nth (alice, PROTO_RESULT, 0);
    assert_non_null (result);
    assert_int_equal (result->msg.jobs[0].id, 7);
    assert_int_equal (result->msg.jobs[0].status, POOL_ETIMEDOUT);
    assert_string_equal (result->payload[0], "job timed out after 2 s on 1 attempt");
}

/* ---------------------------------------------------------------------
   Updates
   --------------------------------------------------------------------- */

/*  What peer was sent, as one line: "U1:u1 J3@2 ..." (UPDATE seq:bytes,
    JOB id@useq), so that order can be read at a glance. */
static void
s_trace (const head_peer_t *peer, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s_nlog && used < size; i++) {
        const sent_t *sent = &s_log[i];
        if (!streq (sent->to, peer->key))
            continue;
        if (sent->msg.type == PROTO_UPDATE)
            used += snprintf (out + used, size - used, "%sU%llu:%s", used ? " " : "",
                              (unsigned long long)sent->msg.seq, sent->payload[0]);
        else if (sent->msg.type == PROTO_JOB)
            for (size_t k = 0; k < sent->msg.njobs && used < size; k++)
                used
                    += snprintf (out + used, size - used, "%sJ%llu@%llu", used ? " " : "",
                                 (unsigned long long)sent->msg.jobs[k].id,
                                 (unsigned long long)sent->msg.jobs[k].useq);
    }
}

static void
test_updates_reach_ready_workers_in_order_before_later_jobs (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 2);
    head_pool_t *pool = s_open (fx, s_client_new (fx, "alice"), 2);
    s_ready_loading (fx);
    s_submit (fx, pool, 1, 2); /* one each, before any update */
    s_update (fx, pool, "u1");
    s_update (fx, pool, "u2");
    s_submit (fx, pool, 3, 2);
    for (int i = 0; i < 2; i++) {
        head_peer_t *worker = s_worker (fx, i ? "w1" : "w0");
        const sent_t *before = s_nth (worker, PROTO_JOB, 0);
        const sent_t *after = s_nth (worker, PROTO_JOB, 1);
        assert_true (before && after);
        uint64_t first = before->msg.jobs[0].id, second = after->msg.jobs[0].id;
        assert_true (first == 1 || first == 2);
        assert_true (second == 3 || second == 4);
        char trace[256], expect[256];
        s_trace (worker, trace, sizeof trace);
        snprintf (expect, sizeof expect, "J%llu@0 U1:u1 U2:u2 J%llu@2",
                  (unsigned long long)first, (unsigned long long)second);
        assert_string_equal (trace, expect);
    }
}

static void
test_a_worker_ready_late_gets_every_earlier_update_before_any_job (void **state)
{
    fx_t *fx = *state;
    head_peer_t *w0 = s_worker_new (fx, "w0");
    head_pool_t *pool = s_open (fx, s_client_new (fx, "alice"), 1);
    s_worker_ready (fx, w0);
    s_update (fx, pool, "u1");
    s_submit (fx, pool, 1, 2);
    s_update (fx, pool, "u2");
    s_update (fx, pool, "u3");
    s_submit (fx, pool, 3, 6);
    head_peer_t *late = s_worker_new (fx, "late");
    assert_int_equal (s_count (late, PROTO_ASSIGN), 1);
    s_update (fx, pool, "u4"); /* while it loads: it gets none yet */
    assert_int_equal (s_count (late, PROTO_UPDATE), 0);
    s_worker_ready (fx, late);
    char trace[256];
    s_trace (late, trace, sizeof trace);
    assert_string_equal (trace, "U1:u1 U2:u2 U3:u3 U4:u4 J3@3 J4@3");
    /* w0 got them one by one as they came, each before the jobs after it
       (the last four in two halves: late holds jobs too). */
    for (int turn = 0; turn < 4 && pool->pending.count; turn++)
        s_answer (fx, w0, SIZE_MAX, -1);
    assert_int_equal (pool->pending.count, 0);
    s_trace (w0, trace, sizeof trace);
    assert_string_equal (trace, "U1:u1 J1@1 J2@1 U2:u2 U3:u3 U4:u4 J5@3 J6@3 J7@3 J8@3");
}

static void
test_an_update_every_worker_refuses_fails_the_pool (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 2);
    head_peer_t *alice = s_client_new (fx, "alice");
    head_pool_t *pool
        = s_open_with (fx, alice, &(open_t){ .min_workers = 2, .max_attempts = 2 });
    assert_non_null (pool);
    uint64_t id = pool->id;
    s_ready_loading (fx);
    s_update (fx, pool, "u1");
    s_submit (fx, pool, 1, 4);
    /* One refusal: the worker goes, its jobs go back uncharged. */
    head_peer_t *w0 = s_worker (fx, "w0");
    assert_int_equal (w0->inflight.count, 2);
    uint64_t held[2] = { w0->inflight.first->id,
                         w0->inflight.last->id + w0->inflight.last->count - 1 };
    assert_false (head_sched_update_refused (&fx->head, w0, 1, "bad update"));
    assert_int_equal (s_count (alice, PROTO_ERROR), 0);
    s_respawn_closed (fx);
    s_ready_loading (fx);
    head_peer_t *fresh = s_worker (fx, "w0");
    char trace[256], expect[256];
    s_trace (fresh, trace, sizeof trace);
    /* Its share of the two requeued (w1 holds jobs too): the first; the
       other waits at the head for whichever answers first. */
    snprintf (expect, sizeof expect, "U1:u1 J%llu@1", (unsigned long long)held[0]);
    assert_string_equal (trace, expect);
    assert_int_equal (fresh->inflight.first->attempt, 0);
    assert_int_equal (pool->pending.count, 1);
    assert_int_equal (pool->pending.first->id, held[1]);
    /* The second in a row: the pool cannot go on. */
    head_peer_t *w1 = s_worker (fx, "w1");
    assert_true (head_sched_update_refused (&fx->head, w1, 1, "bad update"));
    const sent_t *error = s_nth (alice, PROTO_ERROR, 0);
    assert_non_null (error);
    assert_int_equal (error->msg.pool, id);
    assert_int_equal (error->msg.code, POOL_EWORKER);
    assert_non_null (strstr (error->msg.text, "update 1 refused by 2 workers"));
    assert_null (head_sched_pool (&fx->head, alice, id));
    assert_int_equal (s_count (fresh, PROTO_POOL_CLOSE), 1);
}

/* ---------------------------------------------------------------------
   Pools opening and closing
   --------------------------------------------------------------------- */

static void
test_closing_a_pool_closes_its_workers_and_frees_them (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 4);
    head_peer_t *alice = s_client_new (fx, "alice");
    head_pool_t *a = s_open (fx, alice, 1);
    s_ready_loading (fx);
    s_submit (fx, a, 1, 100);
    head_pool_t *b = s_open (fx, s_client_new (fx, "bob"), 1);
    s_submit (fx, b, 1, 100);
    s_settle (fx);
    assert_int_equal (s_serving (fx, a), 2);
    head_peer_t *mine[2];
    size_t n = 0;
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->pool == a)
            mine[n++] = fx->peers[i];
    uint64_t id = a->id;
    size_t mark = s_nlog;

    head_sched_pool_close (&fx->head, a);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal (s_count_since (mark, mine[i], PROTO_POOL_CLOSE), 1);
        assert_int_equal (s_nth (mine[i], PROTO_POOL_CLOSE, 0)->msg.pool, id);
    }
    assert_null (head_sched_pool (&fx->head, alice, id));
    s_settle (fx);
    assert_int_equal (s_serving (fx, b), 4);
    /* alice's queued jobs went with her pool: nobody is sent one. */
    for (size_t i = 0; i < s_nlog; i++)
        if (i >= mark && s_log[i].msg.type == PROTO_JOB)
            assert_int_equal (s_log[i].msg.pool, b->id);
}

static void
test_a_pool_open_whose_frames_do_not_match_their_hashes_is_refused (void **state)
{
    fx_t *fx = *state;
    head_peer_t *alice = s_client_new (fx, "alice");
    assert_null (
        s_open_with (fx, alice, &(open_t){ .min_workers = 1, .bad_hash = true }));
    const sent_t *error = s_nth (alice, PROTO_ERROR, 0);
    assert_non_null (error);
    assert_int_equal (error->msg.code, POOL_EINVAL);
    assert_non_null (strstr (error->msg.text, "hashes"));
    assert_int_equal (zlistx_size (fx->head.pools), 0);
}

static void
test_too_many_pools_on_one_connection_are_refused (void **state)
{
    fx_t *fx = *state;
    fx->head.config.max_pools_per_client = 2;
    head_peer_t *alice = s_client_new (fx, "alice");
    s_open (fx, alice, 0);
    s_open (fx, alice, 0);
    assert_null (s_open_with (fx, alice, &(open_t){ 0 }));
    const sent_t *error = s_nth (alice, PROTO_ERROR, 0);
    assert_non_null (error);
    assert_int_equal (error->msg.code, POOL_EDENIED);
    assert_non_null (strstr (error->msg.text, "limit 2"));
    /* Another connection may still open its own. */
    assert_non_null (s_open_with (fx, s_client_new (fx, "bob"), &(open_t){ 0 }));
}

static void
test_a_submit_over_the_pending_limit_is_refused_whole (void **state)
{
    fx_t *fx = *state;
    fx->head.config.max_pending_per_pool = 10;
    head_peer_t *alice = s_client_new (fx, "alice");
    head_pool_t *pool = s_open (fx, alice, 1);
    s_submit (fx, pool, 1, 8);
    s_submit (fx, pool, 9, 3);
    const sent_t *error = s_nth (alice, PROTO_ERROR, 0);
    assert_non_null (error);
    assert_int_equal (error->msg.code, POOL_EDENIED);
    assert_int_equal (error->msg.pool, pool->id);
    assert_int_equal (pool->submitted, 8);
    /* Within the limit it is taken. */
    s_submit (fx, pool, 9, 2);
    assert_int_equal (pool->submitted, 10);
    assert_int_equal (s_count (alice, PROTO_ERROR), 1);
}

static void
test_a_pool_no_worker_can_load_fails_with_the_workers_reason (void **state)
{
    fx_t *fx = *state;
    head_peer_t *alice = s_client_new (fx, "alice");
    head_pool_t *pool = s_open (fx, alice, 1);
    uint64_t id = pool->id;
    head_peer_t *w1 = s_worker_new (fx, "w1");
    assert_int_equal (s_count (w1, PROTO_ASSIGN), 1);
    s_worker_ready_code (fx, w1, POOL_ELIBRARY, "cannot dlopen libsquare.so");
    const sent_t *error = s_nth (alice, PROTO_ERROR, 0);
    assert_non_null (error);
    assert_int_equal (error->msg.pool, id);
    assert_int_equal (error->msg.code, POOL_ELIBRARY);
    assert_string_equal (error->msg.text, "worker w1: cannot dlopen libsquare.so");
    assert_null (head_sched_pool (&fx->head, alice, id));
    assert_int_equal (w1->state, WORKER_CLOSED); /* it exits */
}

static void
test_an_init_that_kills_every_worker_fails_the_pool (void **state)
{
    fx_t *fx = *state;
    head_peer_t *alice = s_client_new (fx, "alice");
    head_pool_t *pool
        = s_open_with (fx, alice, &(open_t){ .min_workers = 1, .max_attempts = 2 });
    assert_non_null (pool);
    uint64_t id = pool->id;
    /* As server.c on WORKER_DIED {nums: [3]}: init crashed, then lost. */
    head_peer_t *w1 = s_worker_new (fx, "w1");
    head_sched_init_crashed (&fx->head, w1, "worker crashed (signal 11)");
    s_worker_lost (fx, w1, 11, "worker crashed (signal 11)", POOL_ECRASHED,
                   HEAD_CHARGE_NONE, NULL);
    assert_int_equal (s_count (alice, PROTO_ERROR), 0); /* one more try */
    head_peer_t *w2 = s_worker_new (fx, "w2");
    assert_int_equal (s_count (w2, PROTO_ASSIGN), 1);
    head_sched_init_crashed (&fx->head, w2, "worker crashed (signal 6)");
    const sent_t *error = s_nth (alice, PROTO_ERROR, 0);
    assert_non_null (error);
    assert_int_equal (error->msg.pool, id);
    assert_int_equal (error->msg.code, POOL_EWORKER);
    assert_non_null (strstr (error->msg.text, "init killed its worker on 2 attempts"));
    assert_non_null (strstr (error->msg.text, "signal 6"));
    assert_null (head_sched_pool (&fx->head, alice, id));
}

/* ---------------------------------------------------------------------
   Workers that come back with a pool loaded
   --------------------------------------------------------------------- */

static void
test_a_rejoining_worker_with_the_pool_loaded_is_served_without_assign (void **state)
{
    fx_t *fx = *state;
    head_peer_t *w0 = s_worker_new (fx, "w0");
    head_pool_t *pool = s_open (fx, s_client_new (fx, "alice"), 1);
    s_worker_ready (fx, w0);
    s_update (fx, pool, "u1");
    s_update (fx, pool, "u2");
    s_submit (fx, pool, 1, 10);
    /* w1's link was cut; it says HELLO with the pool, having applied u1. */
    head_peer_t *w1 = s_peer_new (fx, PROTO_ROLE_WORKER, "w1");
    assert_true (head_sched_worker_rejoin (&fx->head, w1, pool->id, pool->lib_hash,
                                           pool->init_hash, 1));
    assert_int_equal (s_count (w1, PROTO_ASSIGN), 0);
    assert_int_equal (w1->state, WORKER_READY);
    char trace[256];
    s_trace (w1, trace, sizeof trace);
    assert_string_equal (trace, "U2:u2 J3@2 J4@2");
    assert_int_equal (pool->members.count, 2);
}

static void
test_a_rejoining_worker_with_other_init_data_is_refused (void **state)
{
    fx_t *fx = *state;
    head_pool_t *pool = s_open (fx, s_client_new (fx, "alice"), 1);
    s_update (fx, pool, "u1");
    uint8_t other[PROTO_HASH_SIZE];
    proto_hash ("other init", 10, other);
    head_peer_t *w1 = s_peer_new (fx, PROTO_ROLE_WORKER, "w1");
    /* Other init data, another library, updates the pool never had, a pool
       that is not open: each refused, and nothing is sent to it. */
    assert_false (
        head_sched_worker_rejoin (&fx->head, w1, pool->id, pool->lib_hash, other, 1));
    assert_false (
        head_sched_worker_rejoin (&fx->head, w1, pool->id, other, pool->init_hash, 1));
    assert_false (head_sched_worker_rejoin (&fx->head, w1, pool->id, pool->lib_hash,
                                            pool->init_hash, 2));
    assert_false (head_sched_worker_rejoin (&fx->head, w1, pool->id + 1, pool->lib_hash,
                                            pool->init_hash, 1));
    assert_null (w1->pool);
    assert_int_equal (pool->members.count, 0);
    assert_int_equal (s_count (w1, PROTO_UPDATE) + s_count (w1, PROTO_JOB), 0);
    /* With everything right it is taken. */
    assert_true (head_sched_worker_rejoin (&fx->head, w1, pool->id, pool->lib_hash,
                                           pool->init_hash, 1));
    assert_int_equal (pool->ready, 1);
}

/* A worker of the earlier head's pool 7 (epoch 0xE1) with updates applied. */
static head_peer_t *
s_parked_worker (fx_t *fx, const char *id, uint64_t pool_id, uint64_t useq)
{
    head_peer_t *worker = s_peer_new (fx, PROTO_ROLE_WORKER, id);
    head_parked_t what = { .pool_id = pool_id, .epoch = 0xE1, .useq = useq };
    proto_hash (LIB, strlen (LIB), what.lib_hash);
    proto_hash (INIT, strlen (INIT), what.init_hash);
    head_sched_worker_park (&fx->head, worker, &what);
    assert_int_equal (worker->state, WORKER_PARKED);
    return worker;
}

static void
test_a_parked_worker_returns_to_its_reopened_pool_once_replayed (void **state)
{
    fx_t *fx = *state;
    head_peer_t *parked = s_parked_worker (fx, "w1", 7, 2);
    head_peer_t *alice = s_client_new (fx, "alice");
    head_pool_t *pool = s_open_with (
        fx, alice,
        &(open_t){ .min_workers = 1, .previous_id = 7, .previous_epoch = 0xE1 });
    assert_non_null (pool);
    assert_int_not_equal (pool->id, 7);
    /* Its state has two updates in it: not before alice replayed both. */
    assert_int_equal (s_count (parked, PROTO_ASSIGN), 0);
    s_update (fx, pool, "u1");
    assert_int_equal (s_count (parked, PROTO_ASSIGN), 0);
    assert_int_equal (parked->state, WORKER_PARKED);
    s_update (fx, pool, "u2");
    assert_int_equal (s_count (parked, PROTO_ASSIGN), 1);
    const sent_t *assign = s_nth (parked, PROTO_ASSIGN, 0);
    assert_int_equal (assign->msg.pool, pool->id);
    assert_memory_equal (assign->msg.hash[0], pool->lib_hash, PROTO_HASH_SIZE);
    assert_memory_equal (assign->msg.hash[1], pool->init_hash, PROTO_HASH_SIZE);
    /* It answers at once; it is not sent what it applied already. */
    s_worker_ready (fx, parked);
    s_submit (fx, pool, 1, 2);
    s_update (fx, pool, "u3");
    char trace[256];
    s_trace (parked, trace, sizeof trace);
    assert_string_equal (trace, "J1@2 J2@2 U3:u3");
}

static void
test_a_parked_worker_is_not_given_to_another_clients_identical_pool (void **state)
{
    fx_t *fx = *state;
    head_peer_t *parked = s_parked_worker (fx, "w1", 7, 0);
    /* bob's pool has the same library and init: not the same pool. */
    head_pool_t *bob = s_open (fx, s_client_new (fx, "bob"), 1);
    s_submit (fx, bob, 1, 10);
    /* carol names pool 7 of another head. */
    head_pool_t *carol = s_open_with (
        fx, s_client_new (fx, "carol"),
        &(open_t){ .min_workers = 1, .previous_id = 7, .previous_epoch = 0xE0 });
    assert_non_null (carol);
    s_submit (fx, carol, 1, 10);
    s_settle (fx);
    assert_int_equal (parked->state, WORKER_PARKED);
    assert_int_equal (s_count (parked, PROTO_ASSIGN), 0);
    /* Its own client is back: it serves at once. */
    head_pool_t *alice = s_open_with (
        fx, s_client_new (fx, "alice"),
        &(open_t){ .min_workers = 1, .previous_id = 7, .previous_epoch = 0xE1 });
    assert_non_null (alice);
    assert_int_equal (s_count (parked, PROTO_ASSIGN), 1);
    assert_int_equal (s_nth (parked, PROTO_ASSIGN, 0)->msg.pool, alice->id);
}

static void
test_a_parked_worker_nobody_takes_back_is_closed_after_the_wait (void **state)
{
    fx_t *fx = *state;
    head_peer_t *old = s_parked_worker (fx, "w1", 7, 0);
    head_peer_t *recent = s_parked_worker (fx, "w2", 8, 0);
    old->parked.since -= HEAD_PARK_MS + 1; /* it has waited 30 s */
    head_sched_park_expire (&fx->head);
    assert_int_equal (s_count (old, PROTO_POOL_CLOSE), 1);
    assert_int_equal (s_nth (old, PROTO_POOL_CLOSE, 0)->msg.pool, 7);
    assert_int_equal (old->state, WORKER_CLOSED);
    assert_int_equal (s_count (recent, PROTO_POOL_CLOSE), 0);
    assert_int_equal (recent->state, WORKER_PARKED);
}

/* ---------------------------------------------------------------------
   Which worker gets what
   --------------------------------------------------------------------- */

static void
test_gpu_pools_get_only_workers_with_the_memory (void **state)
{
    fx_t *fx = *state;
    head_peer_t *cpu = s_worker_new (fx, "cpu");
    head_peer_t *small = s_gpu_worker_new (fx, "small", 512, UINT64_MAX);
    head_peer_t *full = s_gpu_worker_new (fx, "full", 2048, 1800);
    head_peer_t *big = s_gpu_worker_new (fx, "big", 4096, 1000);
    head_pool_t *gpu
        = s_open_with (fx, s_client_new (fx, "gina"),
                       &(open_t){ .min_workers = 1, .gpu_mb = 1024, .lib = "gpu lib" });
    assert_non_null (gpu);
    s_submit (fx, gpu, 1, 100);
    s_settle (fx);
    assert_int_equal (s_count (big, PROTO_ASSIGN), 1);
    assert_ptr_equal (big->pool, gpu);
    assert_int_equal (s_count (cpu, PROTO_ASSIGN), 0);
    assert_int_equal (s_count (small, PROTO_ASSIGN), 0);
    assert_int_equal (s_count (full, PROTO_ASSIGN), 0);
    /* A CPU pool takes the others; none is ever moved to the GPU pool. */
    head_pool_t *plain = s_open (fx, s_client_new (fx, "alice"), 1);
    s_submit (fx, plain, 1, 100);
    s_settle (fx);
    assert_int_equal (s_serving (fx, gpu), 1);
    assert_int_equal (s_serving (fx, plain), 3);
    assert_ptr_equal (big->pool, gpu);
}

static void
test_a_submit_is_spread_evenly_over_ready_workers (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 4);
    head_pool_t *pool = s_open (fx, s_client_new (fx, "alice"), 4);
    s_ready_loading (fx);
    /* Jobs of FEED_JOB_WORTH_US, each worth a message: every worker's
       window grows to PREFETCH. */
    s_one_each (fx, pool, 4, 250);
    size_t mark = s_nlog;
    /* 8 jobs: two each, not 8 to the first. */
    s_submit (fx, pool, 5, 8);
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->role == PROTO_ROLE_WORKER) {
            assert_int_equal (fx->peers[i]->prefetch, PREFETCH);
            assert_int_equal (fx->peers[i]->inflight.count, 2);
            assert_int_equal (s_count_since (mark, fx->peers[i], PROTO_JOB), 1);
        }
}

/*  A pool of alice's on 8 workers, each holding 32 of jobs 9..264 (half
    its window), their run time known to be tiny. */
static head_pool_t *
s_tiny_pool (fx_t *fx)
{
    s_workers (fx, 8);
    head_pool_t *pool = s_open (fx, s_client_new (fx, "alice"), 8);
    s_ready_loading (fx);
    s_one_each (fx, pool, 8, 0);
    s_submit (fx, pool, 9, 8 * 32);
    return pool;
}

/*  Tiny jobs are not spread one or two per message over idle workers
    while the pool is busy: a SUBMIT goes in worthwhile batches (a quarter
    of the window here) to the workers first in line, the rest wait (no
    message). */
static void
test_tiny_jobs_go_to_idle_workers_in_worthwhile_batches (void **state)
{
    fx_t *fx = *state;
    head_pool_t *pool = s_tiny_pool (fx);
    /* The first four answer theirs, the other four still run. */
    head_peer_t *idle[4];
    for (int k = 0; k < 4; k++) {
        char name[8];
        snprintf (name, sizeof name, "w%d", k);
        idle[k] = s_worker (fx, name);
        assert_int_equal (s_answer (fx, idle[k], SIZE_MAX, 0), 32);
        assert_int_equal (idle[k]->inflight.count, 0);
    }
    assert_int_equal (pool->running, 4 * 32);
    size_t mark = s_nlog;
    s_submit (fx, pool, 9 + 8 * 32, 40);
    assert_int_equal (idle[0]->inflight.count, PREFETCH / 4);
    assert_int_equal (idle[1]->inflight.count, PREFETCH / 4);
    assert_int_equal (idle[2]->inflight.count, 40 - 2 * (PREFETCH / 4));
    assert_int_equal (idle[3]->inflight.count, 0);
    size_t messages = 0;
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->role == PROTO_ROLE_WORKER)
            messages += s_count_since (mark, fx->peers[i], PROTO_JOB);
    assert_int_equal (messages, 3);
    assert_int_equal (pool->pending.count, 0);
}

/*  On a pool whose workers hold nothing, the last map's run times do not
    decide: a new map's few jobs go one per worker, though the last map's
    took microseconds (they may take minutes). */
static void
test_a_new_map_on_an_idle_pool_is_spread_whatever_the_last_took (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 4);
    head_pool_t *pool = s_open (fx, s_client_new (fx, "alice"), 4);
    s_ready_loading (fx);
    s_one_each (fx, pool, 4, 0);
    assert_int_equal (pool->running, 0);
    size_t mark = s_nlog;
    s_submit (fx, pool, 5, 4);
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->role == PROTO_ROLE_WORKER) {
            assert_int_equal (fx->peers[i]->inflight.count, 1);
            assert_int_equal (s_count_since (mark, fx->peers[i], PROTO_JOB), 1);
        }
}

/*  Many workers that hold tiny jobs: a small SUBMIT is not spread one job
    per message (that cost 30x in throughput at 64 workers); it waits for
    a worthwhile batch, which goes whole to one worker, and the last few
    go to the first worker whose window empties. */
static void
test_a_small_submit_waits_for_a_batch_when_workers_hold_jobs (void **state)
{
    fx_t *fx = *state;
    head_pool_t *pool = s_tiny_pool (fx);
    size_t mark = s_nlog;
    s_submit (fx, pool, 9 + 8 * 32, 8);
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->role == PROTO_ROLE_WORKER) {
            assert_int_equal (fx->peers[i]->prefetch, PREFETCH);
            assert_int_equal (fx->peers[i]->inflight.count, 32);
            assert_int_equal (s_count_since (mark, fx->peers[i], PROTO_JOB), 0);
        }
    assert_int_equal (pool->pending.count, 8);
    /* 8 more make a worthwhile batch: it goes whole, in one message, to
       one worker. */
    s_submit (fx, pool, 17 + 8 * 32, 8);
    size_t topped = 0;
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->role == PROTO_ROLE_WORKER
            && s_count_since (mark, fx->peers[i], PROTO_JOB) > 0) {
            assert_int_equal (s_count_since (mark, fx->peers[i], PROTO_JOB), 1);
            assert_int_equal (fx->peers[i]->inflight.count, 48);
            topped++;
        }
    assert_int_equal (topped, 1);
    assert_int_equal (pool->pending.count, 0);
    /* Three more: too few for a message while w5 holds jobs, not once
       it has answered them all. */
    mark = s_nlog;
    s_submit (fx, pool, 25 + 8 * 32, 3);
    head_peer_t *w5 = s_worker (fx, "w5");
    assert_int_equal (s_answer (fx, w5, 31, 0), 31);
    assert_int_equal (s_count_since (mark, w5, PROTO_JOB), 0);
    assert_int_equal (s_answer (fx, w5, SIZE_MAX, 0), 1);
    assert_int_equal (s_count_since (mark, w5, PROTO_JOB), 1);
    assert_int_equal (w5->inflight.count, 3);
    assert_int_equal (pool->pending.count, 0);
}

static void
test_slow_jobs_go_one_per_worker (void **state)
{
    fx_t *fx = *state;
    s_workers (fx, 3);
    head_pool_t *pool = s_open (fx, s_client_new (fx, "alice"), 3);
    s_ready_loading (fx);
    s_submit (fx, pool, 1, 3);
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->role == PROTO_ROLE_WORKER)
            s_answer (fx, fx->peers[i], SIZE_MAX, 5000000); /* 5 s each */
    /* Six slow jobs on three workers: one each, three wait at the head
       for whichever worker is free first. */
    s_submit (fx, pool, 4, 6);
    for (size_t i = 0; i < fx->npeers; i++)
        if (fx->peers[i]->role == PROTO_ROLE_WORKER)
            assert_int_equal (fx->peers[i]->inflight.count, 1);
    assert_int_equal (pool->pending.count, 3);
    head_peer_t *w1 = s_worker (fx, "w1");
    uint64_t next = pool->pending.first->id;
    s_answer (fx, w1, 1, 5000000);
    assert_int_equal (w1->inflight.count, 1);
    assert_int_equal (w1->inflight.first->id, next);
}

/*  Two ready workers of a fresh pool, each of which has answered one job
    that ran run_us: their windows are sized for such jobs. */
static head_pool_t *
s_two_timed_workers (fx_t *fx, int64_t run_us, head_peer_t **w0, head_peer_t **w1)
{
    s_workers (fx, 2);
    head_pool_t *pool = s_open (fx, s_client_new (fx, "alice"), 2);
    s_ready_loading (fx);
    s_submit (fx, pool, 1, 2);
    *w0 = s_worker (fx, "w0");
    *w1 = s_worker (fx, "w1");
    assert_int_equal (s_answer (fx, *w0, SIZE_MAX, run_us), 1);
    assert_int_equal (s_answer (fx, *w1, SIZE_MAX, run_us), 1);
    return pool;
}

/*  Two workers of 1 ms jobs holding a full window each, and half of
    w0's window queued behind them. */
static head_pool_t *
s_near_the_end (fx_t *fx, head_peer_t **w0, head_peer_t **w1)
{
    head_pool_t *pool = s_two_timed_workers (fx, 1000, w0, w1); /* 1 ms jobs */
    size_t p0 = (*w0)->prefetch, p1 = (*w1)->prefetch;
    assert_true (p0 >= 16 && p1 >= 16); /* a few ms of 1 ms jobs */
    s_submit (fx, pool, 3, p0 + p1 + p0 / 2);
    assert_int_equal ((*w0)->inflight.count, p0);
    assert_int_equal ((*w1)->inflight.count, p1);
    assert_int_equal (pool->pending.count, p0 / 2);
    return pool;
}

/*  The head judges what a worker still holds by the time since it last
    answered (or was sent its jobs) at its run time per job.  Set as
    here, that time is in the future: the worker counts as holding all it
    was sent however long the test takes (valgrind slows it a hundredfold). */
static void
s_pin_holding (head_peer_t *worker)
{
    worker->last_result = zclock_usecs () + 60 * 1000000LL;
}

/*  Near the end of a map a worker's answer takes its share of all that is
    left, the jobs queued and those the workers still hold, so that they
    finish together: a worker whose queue ran dry while the other still
    holds its window takes the whole short queue (a share of the queue
    would leave the rest to the worker that has the most to run already;
    1 ms jobs on 2 workers ended up to 10 ms apart so). */
static void
test_the_last_jobs_of_a_map_go_to_the_worker_with_least_left (void **state)
{
    fx_t *fx = *state;
    head_peer_t *w0, *w1;
    head_pool_t *pool = s_near_the_end (fx, &w0, &w1);
    size_t p0 = w0->prefetch, p1 = w1->prefetch;
    s_pin_holding (w1); /* it has run none of its window yet */
    assert_int_equal (s_answer (fx, w0, SIZE_MAX, 1000), p0);
    assert_int_equal (pool->pending.count, 0);
    assert_int_equal (w0->inflight.count, p0 / 2);
    assert_int_equal (w1->inflight.count, p1);
}

/*  A worker that was idle before its window came has run its jobs since
    they were sent, not since its last answer long before: a map after a
    pause still ends evenly. */
static void
test_the_last_jobs_count_an_idle_worker_from_its_jobs_sent (void **state)
{
    fx_t *fx = *state;
    head_peer_t *w0, *w1;
    head_pool_t *pool = s_two_timed_workers (fx, 1000, &w0, &w1); /* 1 ms jobs */
    /* Both answered their last job 100 ms before this map. */
    w0->last_result -= 100 * 1000;
    w1->last_result -= 100 * 1000;
    size_t p0 = w0->prefetch, p1 = w1->prefetch;
    s_submit (fx, pool, 3, p0 + p1 + p0 / 2);
    assert_int_equal (pool->pending.count, p0 / 2);
    for (head_job_t *job = w1->inflight.first; job; job = job->next)
        job->sent_us = zclock_usecs () + 60 * 1000000LL; /* pinned: see s_pin_holding */
    assert_int_equal (s_answer (fx, w0, SIZE_MAX, 1000), p0);
    assert_int_equal (pool->pending.count, 0);
    assert_int_equal (w1->inflight.count, p1);
}

/*  What a worker holds is judged by its run time since it last answered
    or was sent its jobs (its results wait in it for a batch): one that
    got its window long ago has run most of it, so the other's answer
    takes only its share of the queue, and the rest stays for the first. */
static void
test_the_last_jobs_count_what_a_worker_ran_since_it_answered (void **state)
{
    fx_t *fx = *state;
    head_peer_t *w0, *w1;
    head_pool_t *pool = s_near_the_end (fx, &w0, &w1);
    size_t p0 = w0->prefetch, p1 = w1->prefetch;
    /* w1 got its window (p1 - 2) jobs of 1 ms ago: 2 left in it, fewer
       if the test runs slowly. */
    int64_t then = zclock_usecs () - (int64_t)(p1 - 2) * 1000;
    w1->last_result = then;
    for (head_job_t *job = w1->inflight.first; job; job = job->next)
        job->sent_us = then;
    assert_int_equal (s_answer (fx, w0, SIZE_MAX, 1000), p0);
    /* All that is left: p0 / 2 queued and 0-2 in w1; w0's half of it. */
    size_t least = p0 / 4, most = (p0 / 2 + 2 + 1) / 2;
    assert_true (w0->inflight.count >= least && w0->inflight.count <= most);
    assert_int_equal (pool->pending.count, p0 / 2 - w0->inflight.count);
    assert_true (pool->pending.count > 0);
    /* w1's answer then takes the rest: the two end within a job or two. */
    s_pin_holding (w0);
    assert_int_equal (s_answer (fx, w1, SIZE_MAX, 1000), p1);
    assert_int_equal (pool->pending.count, 0);
    size_t a = w0->inflight.count, b = w1->inflight.count;
    assert_true (a > b ? a - b <= 2 : b - a <= 2);
}

/*  Over a link whose round trip is longer than a job, a share near the
    end of a map is still at least the jobs that run while the next
    refill crosses it (a 2.5 ms round trip, 1 ms jobs: 3), not one job at
    a time with the worker idle for a round trip after each.  Each answer
    comes 3 ms or more after the jobs went, so the round trip the head
    measures stays at least 2.5 ms. */
static void
test_the_last_shares_cover_the_round_trip (void **state)
{
    fx_t *fx = *state;
    head_peer_t *w0, *w1;
    head_pool_t *pool = s_two_timed_workers (fx, 1000, &w0, &w1); /* 1 ms jobs */
    w0->rtt_us = w1->rtt_us = 2500;
    /* The windows came from round trips measured in the set-up, which a
       loaded machine stretches unevenly: make them one. */
    size_t window = w0->prefetch;
    w1->prefetch = window;
    s_submit (fx, pool, 3, 2 * window + 13);
    assert_int_equal (pool->pending.count, 13);
    head_peer_t *next = w0;
    for (int turn = 0; turn < 16 && pool->pending.count; turn++) {
        size_t before = pool->pending.count;
        zclock_sleep (3); /* the answer crosses the link */
        s_answer (fx, next, SIZE_MAX, 1000);
        size_t took = before - pool->pending.count;
        assert_true (next->rtt_us >= 2500);
        assert_true (took >= 3 || pool->pending.count == 0);
        next = next == w0 ? w1 : w0;
    }
    assert_int_equal (pool->pending.count, 0);
}

/*  The job a lost worker was running goes to another worker even when
    that worker's window is full (which it then runs first), not after a
    batch of its answers; the jobs that only waited stay queued. */
static void
test_the_job_a_lost_worker_ran_goes_past_a_full_window (void **state)
{
    fx_t *fx = *state;
    head_peer_t *w0, *w1;
    head_pool_t *pool = s_two_timed_workers (fx, 5000, &w0, &w1); /* 5 ms jobs */
    size_t window = w1->prefetch;
    s_submit (fx, pool, 3, 2 * (w0->prefetch + window)); /* both full, some queued */
    assert_int_equal (w0->inflight.count, w0->prefetch);
    assert_int_equal (w1->inflight.count, window);
    uint64_t ran = w0->inflight.first->id;
    size_t held = w0->inflight.count, queued = pool->pending.count;
    size_t mark = s_nlog;
    s_worker_crashed (fx, w0);
    assert_int_equal (w1->inflight.count, window + 1);
    assert_int_equal (s_count_since (mark, w1, PROTO_JOB), 1);
    const sent_t *sent = &s_log[s_nlog - 1];
    assert_int_equal (sent->msg.type, PROTO_JOB);
    assert_int_equal (sent->msg.njobs, 1);
    assert_int_equal (sent->msg.jobs[0].id, ran);
    assert_int_equal (sent->msg.jobs[0].attempt, 1);
    assert_int_equal (pool->pending.count, queued + held - 1);
    /* Nothing more past the window: the next answer is refilled as ever. */
    assert_int_equal (s_answer (fx, w1, 1, 5000), 1);
    assert_true (w1->inflight.count <= w1->prefetch);
}

static void
test_job_inputs_reach_the_worker_and_outputs_the_client (void **state)
{
    fx_t *fx = *state;
    head_peer_t *w1 = s_worker_new (fx, "w1");
    head_peer_t *alice = s_client_new (fx, "alice");
    head_pool_t *pool = s_open (fx, alice, 1);
    s_worker_ready (fx, w1);
    /* A small input (inside the job) and a big one (its own frame). */
    char big[5000];
    memset (big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_SUBMIT);
    proto_msg_set_pool (&msg, pool->id);
    proto_msg_add_job (&msg)->id = 1;
    proto_msg_add_bytes (&msg, "small", 5);
    proto_msg_add_job (&msg)->id = 2;
    proto_msg_add_bytes (&msg, big, strlen (big));
    head_sched_submit (&fx->head, pool, &msg);
    proto_msg_reset (&msg);
    const sent_t *job = s_nth (w1, PROTO_JOB, 0);
    assert_non_null (job);
    assert_int_equal (job->msg.njobs, 2);
    assert_string_equal (job->payload[0], "small");
    assert_string_equal (job->payload[1], big);
    /* One fails in user code, one succeeds: both reach the client. */
    s_result (fx, w1, pool->id, 1, 0, -1, "ValueError: no");
    s_result (fx, w1, pool->id, 2, 0, 0, "out:2");
    const sent_t *r1 = s_nth (alice, PROTO_RESULT, 0);
    const sent_t *r2 = s_nth (alice, PROTO_RESULT, 1);
    assert_true (r1 && r2);
    assert_int_equal (r1->msg.jobs[0].id, 1);
    assert_int_equal (r1->msg.jobs[0].status, POOL_EJOB);
    assert_string_equal (r1->payload[0], "ValueError: no");
    assert_int_equal (r2->msg.jobs[0].id, 2);
    assert_int_equal (r2->msg.jobs[0].status, 0);
    assert_string_equal (r2->payload[0], "out:2");
    assert_int_equal (pool->done, 2);
}

static void
test_a_result_from_a_worker_not_serving_the_pool_is_dropped (void **state)
{
    fx_t *fx = *state;
    head_peer_t *alice = s_client_new (fx, "alice"), *bob = s_client_new (fx, "bob");
    head_pool_t *a = s_open (fx, alice, 1), *b = s_open (fx, bob, 1);
    uint64_t a_id = a->id, b_id = b->id;
    head_peer_t *wa = s_worker_new (fx, "wa"), *wb = s_worker_new (fx, "wb");
    s_ready_loading (fx);
    assert_ptr_equal (wa->pool, a);
    assert_ptr_equal (wb->pool, b);
    s_submit (fx, a, 1, 2);
    s_submit (fx, b, 1, 2);
    /* wb answers alice's job 1, which wa holds: nobody hears of it. */
    s_result (fx, wb, a_id, 1, 0, 0, "forged");
    assert_int_equal (s_count (alice, PROTO_RESULT), 0);
    assert_int_equal (s_count (bob, PROTO_RESULT), 0);
    /* The same id in its own pool: bob's own job 1 is answered. */
    s_result (fx, wb, b_id, 1, 0, 0, "out:1");
    assert_int_equal (s_count (bob, PROTO_RESULT), 1);
    /* wa's real answer still goes through, once. */
    s_result (fx, wa, a_id, 1, 0, 0, "out:1");
    assert_int_equal (s_count (alice, PROTO_RESULT), 1);
    s_result (fx, wa, a_id, 1, 0, 0, "out:1");
    assert_int_equal (s_count (alice, PROTO_RESULT), 1);
    /* After alice's pool closed, wa's late answer is dropped too. */
    head_sched_pool_close (&fx->head, a);
    s_result (fx, wa, a_id, 2, 0, 0, "late");
    assert_int_equal (s_count (alice, PROTO_RESULT), 1);
}

static void
test_a_result_for_an_earlier_attempt_is_dropped (void **state)
{
    fx_t *fx = *state;
    head_peer_t *alice = s_client_new (fx, "alice");
    head_peer_t *w1 = s_worker_new (fx, "w1");
    head_pool_t *pool = s_open (fx, alice, 1);
    s_worker_ready (fx, w1);
    s_submit (fx, pool, 1, 1);
    s_worker_crashed (fx, w1);
    head_peer_t *w2 = s_worker_new (fx, "w2");
    s_worker_ready (fx, w2);
    assert_int_equal (w2->inflight.first->attempt, 1);
    /* An answer to attempt 0 (its worker is dead) is not this attempt's. */
    s_result (fx, w2, pool->id, 1, 0, 0, "stale");
    assert_int_equal (s_count (alice, PROTO_RESULT), 0);
    s_result (fx, w2, pool->id, 1, 1, 0, "out:1");
    assert_int_equal (s_count (alice, PROTO_RESULT), 1);
    assert_string_equal (s_nth (alice, PROTO_RESULT, 0)->payload[0], "out:1");
}

static void
test_shared_inputs_go_back_to_the_client_for_a_worker_on_another_host (void **state)
{
    fx_t *fx = *state;
    head_peer_t *alice = s_client_new (fx, "alice");
    snprintf (alice->host, sizeof alice->host, "host-a");
    head_peer_t *w1 = s_peer_new (fx, PROTO_ROLE_WORKER, "w1");
    snprintf (w1->host, sizeof w1->host, "host-b");
    head_sched_worker_join (&fx->head, w1);
    head_pool_t *pool = s_open (fx, alice, 1);
    s_worker_ready (fx, w1);
    /* Job 1's input is a reference to alice's memory; job 2's is bytes. */
    uint8_t ref[32] = { 1 };
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_SUBMIT);
    proto_msg_set_pool (&msg, pool->id);
    proto_job_t *entry = proto_msg_add_job (&msg);
    entry->id = 1;
    entry->flags = PROTO_JOB_SHARED;
    proto_msg_add_bytes (&msg, ref, sizeof ref);
    proto_msg_add_job (&msg)->id = 2;
    proto_msg_add_bytes (&msg, "bytes", 5);
    head_sched_submit (&fx->head, pool, &msg);
    proto_msg_reset (&msg);
    const sent_t *resend = s_nth (alice, PROTO_RESULT, 0);
    assert_non_null (resend);
    assert_int_equal (resend->msg.njobs, 1);
    assert_int_equal (resend->msg.jobs[0].id, 1);
    assert_int_equal (resend->msg.jobs[0].status, PROTO_CODE_RESEND);
    proto_job_t jobs[4];
    assert_int_equal (s_jobs_sent (w1, jobs, 4), 1);
    assert_int_equal (jobs[0].id, 2);
}

/* ---------------------------------------------------------------------
   Job ranges: a SUBMIT's consecutive jobs are one record, cut where their
   fates part
   --------------------------------------------------------------------- */

/* Records in q, and whether their jobs total q's count. */
static size_t
s_records (const head_queue_t *q)
{
    size_t records = 0, jobs = 0;
    for (const head_job_t *job = q->first; job; job = job->next) {
        records++;
        jobs += job->count;
    }
    assert_int_equal (jobs, q->count);
    return records;
}

/* The inputs sent to peer in JOB messages are "in:ID" of their jobs. */
static void
s_assert_inputs_match (const head_peer_t *peer)
{
    for (size_t i = 0; i < s_nlog; i++) {
        const sent_t *sent = &s_log[i];
        if (!streq (sent->to, peer->key) || sent->msg.type != PROTO_JOB)
            continue;
        assert_int_equal (sent->npayload, sent->msg.njobs);
        for (size_t k = 0; k < sent->msg.njobs; k++) {
            char in[32];
            snprintf (in, sizeof in, "in:%llu", (unsigned long long)sent->msg.jobs[k].id);
            assert_string_equal (sent->payload[k], in);
        }
    }
}

static void
test_a_submit_is_one_record_cut_where_a_worker_takes_part (void **state)
{
    fx_t *fx = *state;
    fx->head.config.prefetch = 64;
    head_peer_t *worker = s_worker_new (fx, "w1");
    head_pool_t *pool = s_open (fx, s_client_new (fx, "alice"), 1);
    s_worker_ready (fx, worker);
    s_submit (fx, pool, 1, 1000);
    /* The fresh worker's window (2) is cut off the front; the rest stays
       one record. */
    assert_int_equal (worker->inflight.count, 2);
    assert_int_equal (s_records (&worker->inflight), 1);
    assert_int_equal (pool->pending.count, 998);
    assert_int_equal (s_records (&pool->pending), 1);
    assert_int_equal (pool->pending.first->id, 3);
    /* Answered in batches, it gets ever bigger cuts, one JOB each, every
       job once, in order, with its own input. */
    for (int i = 0; i < 1000 && s_answer (fx, worker, SIZE_MAX, 0); i++)
        assert_true (s_records (&worker->inflight) <= 1);
    proto_job_t jobs[1100];
    size_t count = s_jobs_sent (worker, jobs, 1100);
    assert_int_equal (count, 1000);
    for (size_t i = 0; i < count; i++)
        assert_int_equal (jobs[i].id, 1 + i);
    s_assert_inputs_match (worker);
    assert_true (s_count (worker, PROTO_JOB) < 40);
    assert_int_equal (pool->done, 1000);
    assert_int_equal (pool->running, 0);
    assert_int_equal (s_results (pool->client), 1000);
}

static void
test_a_result_out_of_order_cuts_the_record_and_each_job_ends_once (void **state)
{
    fx_t *fx = *state;
    head_pool_t *pool;
    head_peer_t *w1 = s_worker_holding_2_to_5 (fx, &pool, 3);
    /* What is left of its first cut (2), and its top-up (3..5). */
    assert_int_equal (s_records (&w1->inflight), 2);
    /* 4 first: the record 3..5 becomes 3 and 5 (and 6 tops it up). */
    s_result (fx, w1, pool->id, 4, 0, 0, "out:4");
    assert_int_equal (w1->inflight.count, 4);
    assert_int_equal (s_records (&w1->inflight), 4);
    /* Again, or for an attempt it does not hold: dropped. */
    size_t before = s_results (pool->client);
    s_result (fx, w1, pool->id, 4, 0, 0, "out:4");
    s_result (fx, w1, pool->id, 3, 1, 0, "out:3");
    assert_int_equal (s_results (pool->client), before);
    /* The last of a record, then the first. */
    s_result (fx, w1, pool->id, 3, 0, 0, "out:3");
    s_result (fx, w1, pool->id, 2, 0, 0, "out:2");
    assert_int_equal (s_results (pool->client), before + 2);
    for (int i = 0; i < 100 && s_answer (fx, w1, SIZE_MAX, 0); i++)
        ;
    assert_int_equal (s_results (pool->client), 10);
    assert_int_equal (pool->done, 10);
    assert_int_equal (pool->running, 0);
    assert_int_equal (w1->inflight.count, 0);
}

static void
test_a_lost_worker_holding_a_range_requeues_it_exactly (void **state)
{
    fx_t *fx = *state;
    fx->head.config.prefetch = 64;
    head_peer_t *w1 = s_worker_new (fx, "w1");
    head_pool_t *pool = s_open_with (fx, s_client_new (fx, "alice"),
                                     &(open_t){ .min_workers = 1, .max_attempts = 3 });
    assert_non_null (pool);
    s_worker_ready (fx, w1);
    s_submit (fx, pool, 1, 100);
    s_answer (fx, w1, 1, 0); /* its window grows: it holds a range */
    size_t held = w1->inflight.count;
    assert_true (held > 4);
    assert_int_equal (s_records (&w1->inflight), 2); /* 2, then 3.. */
    /* It answers one in the middle, then its node names the next as the
       one it died in: that one is charged, nothing else. */
    uint64_t first = w1->inflight.first->id; /* 2 */
    s_result (fx, w1, pool->id, first + 2, 0, 0, "out");
    proto_job_t culprit = { .id = first + 3, .attempt = 0 };
    s_worker_lost (fx, w1, 11, "worker crashed (signal 11)", POOL_ECRASHED,
                   HEAD_CHARGE_JOB, &culprit);
    assert_int_equal (pool->running, 0);
    assert_int_equal (pool->pending.count, 100 - 2);
    proto_job_t jobs[128];
    size_t count = s_drain_with_fresh_worker (fx, "w2", jobs, 128);
    assert_int_equal (count, 98);
    size_t charged = 0;
    uint64_t expect = first;
    for (size_t i = 0; i < count; i++) {
        if (jobs[i].id == first + 3) {
            assert_int_equal (jobs[i].attempt, 1);
            charged++;
            continue;
        }
        if (expect == first + 2 || expect == first + 3)
            expect = first + 4;
        assert_int_equal (jobs[i].id, expect++);
        assert_int_equal (jobs[i].attempt, 0);
    }
    assert_int_equal (charged, 1);
    assert_int_equal (expect, 101);
    s_assert_inputs_match (s_worker (fx, "w2"));
    assert_int_equal (pool->done, 100);
    assert_int_equal (s_results (pool->client), 100);
}

static void
test_cancel_inside_ranges_drops_and_stops_exactly_its_ids (void **state)
{
    fx_t *fx = *state;
    fx->head.config.prefetch = 16;
    head_peer_t *w1 = s_worker_new (fx, "w1");
    head_pool_t *pool = s_open (fx, s_client_new (fx, "alice"), 1);
    s_node_of (fx, w1);
    s_worker_ready (fx, w1);
    s_submit (fx, pool, 1, 50);
    s_answer (fx, w1, 1, 0);
    size_t held = w1->inflight.count;
    uint64_t last_held = w1->inflight.first->id + held - 1;
    assert_true (held >= 4 && last_held < 45);
    /* From the middle of what it holds to the middle of the queue. */
    uint64_t from = 3, to = last_held + 3;
    head_cancel (&fx->head, pool, from, to);
    assert_int_equal (pool->pending.count, 50 - 1 - held - 2);
    assert_int_equal (pool->pending.first->id, to);
    assert_int_equal (s_count (w1, PROTO_CANCEL), 1);
    /* The worker answers everything (the cancelled too): the client gets
       exactly the others, each once. */
    for (int i = 0; i < 100 && s_answer (fx, w1, SIZE_MAX, 0); i++)
        ;
    size_t results = 0;
    for (size_t i = 0; i < s_nlog; i++) {
        const sent_t *sent = &s_log[i];
        if (!streq (sent->to, pool->client->key) || sent->msg.type != PROTO_RESULT)
            continue;
        for (size_t k = 0; k < sent->msg.njobs; k++, results++)
            assert_true (sent->msg.jobs[k].id < from || sent->msg.jobs[k].id >= to);
    }
    assert_int_equal (results, 50 - (to - from));
    assert_int_equal (pool->done, 50);
    assert_int_equal (pool->running, 0);
}

int
main (void)
{
    /* The scheduler logs every decision; the tests read the messages. */
    zsys_init ();
    if (!getenv ("TEST_SCHED_VERBOSE"))
        zsys_set_logstream (NULL);
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (test_two_busy_pools_split_the_workers_evenly),
        T (test_three_busy_pools_split_six_workers_two_each),
        T (test_three_busy_pools_split_seven_workers_within_one),
        T (test_a_pool_in_pool_open_gets_its_min_workers),
        T (test_an_idle_pool_gives_its_workers_to_a_busy_one),
        T (test_passes_before_a_released_worker_leaves_release_no_more),
        T (test_a_pool_no_worker_can_run_does_not_starve_the_others),
        T (test_parked_workers_do_not_count_in_the_fair_share),
        T (test_a_lost_worker_charges_only_its_oldest_job),
        T (test_a_lost_worker_charges_the_job_its_node_names),
        T (test_a_worker_that_ran_nothing_charges_nothing),
        T (test_cancel_drops_queued_jobs_and_stops_held_ones),
        T (test_a_worker_killed_in_a_cancelled_job_charges_nothing),
        T (test_a_job_out_of_attempts_fails_with_its_cause),
        T (test_a_job_that_times_out_on_its_only_attempt_fails_with_etimedout),
        T (test_updates_reach_ready_workers_in_order_before_later_jobs),
        T (test_a_worker_ready_late_gets_every_earlier_update_before_any_job),
        T (test_an_update_every_worker_refuses_fails_the_pool),
        T (test_closing_a_pool_closes_its_workers_and_frees_them),
        T (test_a_pool_open_whose_frames_do_not_match_their_hashes_is_refused),
        T (test_too_many_pools_on_one_connection_are_refused),
        T (test_a_submit_over_the_pending_limit_is_refused_whole),
        T (test_a_pool_no_worker_can_load_fails_with_the_workers_reason),
        T (test_an_init_that_kills_every_worker_fails_the_pool),
        T (test_a_rejoining_worker_with_the_pool_loaded_is_served_without_assign),
        T (test_a_rejoining_worker_with_other_init_data_is_refused),
        T (test_a_parked_worker_returns_to_its_reopened_pool_once_replayed),
        T (test_a_parked_worker_is_not_given_to_another_clients_identical_pool),
        T (test_a_parked_worker_nobody_takes_back_is_closed_after_the_wait),
        T (test_gpu_pools_get_only_workers_with_the_memory),
        T (test_a_submit_is_spread_evenly_over_ready_workers),
        T (test_tiny_jobs_go_to_idle_workers_in_worthwhile_batches),
        T (test_a_new_map_on_an_idle_pool_is_spread_whatever_the_last_took),
        T (test_a_small_submit_waits_for_a_batch_when_workers_hold_jobs),
        T (test_slow_jobs_go_one_per_worker),
        T (test_the_last_jobs_of_a_map_go_to_the_worker_with_least_left),
        T (test_the_last_jobs_count_what_a_worker_ran_since_it_answered),
        T (test_the_last_jobs_count_an_idle_worker_from_its_jobs_sent),
        T (test_the_last_shares_cover_the_round_trip),
        T (test_the_job_a_lost_worker_ran_goes_past_a_full_window),
        T (test_job_inputs_reach_the_worker_and_outputs_the_client),
        T (test_a_result_from_a_worker_not_serving_the_pool_is_dropped),
        T (test_a_result_for_an_earlier_attempt_is_dropped),
        T (test_shared_inputs_go_back_to_the_client_for_a_worker_on_another_host),
        T (test_a_submit_is_one_record_cut_where_a_worker_takes_part),
        T (test_a_result_out_of_order_cuts_the_record_and_each_job_ends_once),
        T (test_a_lost_worker_holding_a_range_requeues_it_exactly),
        T (test_cancel_inside_ranges_drops_and_stops_exactly_its_ids),
#undef T
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
