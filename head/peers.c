/*  head/peers.c - the peer table: HELLO, departures, deaths (peers.h). */
#include "peers.h"

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "lifetimes.h"
#include "locality.h"
#include "scheduler.h"
#include "store.h"
#include "views.h"

static void s_peer_remove_charged (head_t *head, head_peer_t *peer, int code,
                                   const char *why, head_charge_t charge,
                                   const proto_job_t *culprit);

/*  Workers told to close their pool that are still here after the grace
    are stuck in user code (init, run, handle_update) or ignore the close:
    their node kills them (and what they forked), so a failed or abandoned
    pool gives its workers back within a second or two. */
#define CLOSE_GRACE_MS 1000

/* Where a routing id is turned into a table key. */
void
head_peer_key (zframe_t *rid, char key[24])
{
    const uint8_t *data = zframe_data (rid);
    size_t size = zframe_size (rid);
    if (size <= 11) {
        sodium_bin2hex (key, 24, data, size);
        return;
    }
    /* A peer may choose a long routing id; its hash keeps keys short. */
    uint8_t hash[8];
    crypto_generichash (hash, sizeof hash, data, size, NULL, 0);
    key[0] = 'h';
    sodium_bin2hex (key + 1, 23, hash, sizeof hash);
}

void
head_peer_free (void **item)
{
    head_peer_t *peer = *item;
    if (!peer)
        return;
    zframe_destroy (&peer->rid);
    head_queue_purge (&peer->inflight);
    zlist_destroy (&peer->pools);
    free (peer->text);
    free (peer);
    *item = NULL;
}

/* Forgets a peer: its pools are closed, its jobs requeued. */
static void
s_peer_remove_charged (head_t *head, head_peer_t *peer, int code, const char *why,
                       head_charge_t charge, const proto_job_t *culprit)
{
    switch (peer->role) {
    case PROTO_ROLE_WORKER:
        /* Its block cache is gone: no job it held, requeued now, waits
           for it. */
        head_locality_forget (head, peer);
        /* The worker arms SIGALRM for a pool's job_timeout: dying of it
           means the job ran out of time, not that the code crashed. */
        head_sched_worker_lost (head, peer, code, why,
                                code == SIGALRM && peer->pool
                                        && peer->pool->job_timeout_ms
                                    ? PROTO_CODE_ETIMEDOUT
                                    : PROTO_CODE_ECRASHED,
                                charge, culprit);
        if (zhashx_lookup (head->workers, peer->id) == peer)
            zhashx_delete (head->workers, peer->id);
        break;
    case PROTO_ROLE_NODE:
        if (zhashx_lookup (head->nodes, peer->id) == peer) {
            zhashx_delete (head->nodes, peer->id);
            head_store_node_forget (head->store, peer->id);
        }
        break;
    case PROTO_ROLE_CLIENT: {
        /* Its holds go with it, unless the client is back on another
           connection (then that one is in clients). */
        if (!peer->vouching && zhashx_lookup (head->clients, peer->id) == peer) {
            zhashx_delete (head->clients, peer->id);
            head_lifetimes_client_gone (head, peer);
        }
        /* Popped first: with client cleared, closing the pool does not
           take it off this list itself. */
        head_pool_t *pool;
        while ((pool = zlist_pop (peer->pools))) {
            pool->client = NULL;
            head_sched_pool_close (head, pool);
        }
        break;
    }
    default:
        break;
    }
    zhashx_delete (head->peers, peer->key); /* frees it */
}

/* Forgets a peer; a worker's death is charged to the oldest job it held. */
void
head_peer_remove (head_t *head, head_peer_t *peer, int code, const char *why)
{
    s_peer_remove_charged (head, peer, code, why, HEAD_CHARGE_OLDEST, NULL);
}

/* A node is gone: so are the workers it ran. */
static void
s_node_lost (head_t *head, head_peer_t *node, const char *why)
{
    char node_id[PROTO_ID_MAX + 1];
    snprintf (node_id, sizeof node_id, "%s", node->id);
    zsys_warning ("pool-head: node %s lost: %s", node_id, why);
    zlist_t *doomed = zlist_new ();
    for (head_peer_t *worker = zhashx_first (head->workers); worker;
         worker = zhashx_next (head->workers))
        if (streq (worker->node, node_id))
            zlist_append (doomed, worker);
    head_peer_t *worker;
    char text[200];
    snprintf (text, sizeof text, "worker's node was lost (%s)", why);
    while ((worker = zlist_pop (doomed)))
        head_peer_remove (head, worker, -1, text);
    zlist_destroy (&doomed);
    head_peer_remove (head, node, -1, why);
}

static void
s_welcome (head_t *head, head_peer_t *peer)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_WELCOME);
    /* The epoch says which head this is: a worker that rejoins a pool
       names the head it loaded it from, so pool ids of another head's
       life never match. */
    proto_welcome_t welcome = { .heartbeat_ms = head->config.heartbeat_ms,
                                .liveness = head->config.liveness,
                                .epoch = head->epoch };
    proto_welcome_set (&msg, &welcome);
    head_send (head, peer, &msg);
    proto_msg_reset (&msg);
}

void
head_peer_hello (head_t *head, zframe_t **rid_p, const char *key, proto_msg_t *msg)
{
    proto_hello_t hello;
    proto_hello_get (msg, &hello);
    head_peer_t *old = zhashx_lookup (head->peers, key);
    if (old) /* the same connection says HELLO again: start over */
        head_peer_remove (head, old, -1, "peer said HELLO again");
    if (hello.role == PROTO_ROLE_WORKER) {
        head_peer_t *stale = zhashx_lookup (head->workers, hello.id);
        /* The same process coming back (its link was cut, it rejoins) has
           not crashed: what it held goes back uncharged.  Another process
           of the slot means the old one died. */
        bool same = stale && stale->pid && hello.pid && stale->pid == hello.pid;
        if (stale)
            head_peer_remove (head, stale, same ? 0 : -1,
                              same ? "worker reconnected" : "worker restarted");
    } else if (hello.role == PROTO_ROLE_NODE) {
        head_peer_t *stale = zhashx_lookup (head->nodes, hello.id);
        if (stale) /* reconnected: its workers are still fine */
            head_peer_remove (head, stale, 0, "node reconnected");
    }
    head_peer_t *peer = calloc (1, sizeof *peer);
    if (!peer)
        return;
    snprintf (peer->key, sizeof peer->key, "%s", key);
    peer->rid = *rid_p;
    *rid_p = NULL;
    peer->role = hello.role;
    snprintf (peer->id, sizeof peer->id, "%s", hello.id);
    snprintf (peer->node, sizeof peer->node, "%s", hello.node);
    snprintf (peer->host, sizeof peer->host, "%s", hello.host);
    peer->text = strdup (hello.text);
    peer->pid = hello.pid;
    peer->gpu_used = UINT64_MAX;
    peer->last_seen = zclock_mono ();
    peer->pools = zlist_new ();
    if (!peer->text || !peer->pools || zhashx_insert (head->peers, key, peer)) {
        void *item = peer;
        head_peer_free (&item);
        return;
    }
    s_welcome (head, peer);
    switch (peer->role) {
    case PROTO_ROLE_WORKER:
        peer->has_gpu = hello.has_gpu;
        peer->gpu_memory = hello.gpu_memory;
        zhashx_update (head->workers, peer->id, peer);
        if (head->config.verbose)
            zsys_info ("pool-head: worker %s (%s) joined", peer->id, peer->text);
        if (hello.rejoin) {
            /* It has a pool loaded and asks to rejoin it. */
            bool ours = hello.rejoin_complete && hello.epoch == head->epoch;
            if (hello.rejoin_complete && !ours) {
                /* A pool of this head's previous life: it waits for the
                   pool's client to open it again. */
                head_parked_t what
                    = { .pool_id = hello.pool, .epoch = hello.epoch, .useq = hello.useq };
                memcpy (what.lib_hash, hello.lib_hash, PROTO_HASH_SIZE);
                memcpy (what.init_hash, hello.init_hash, PROTO_HASH_SIZE);
                head_sched_worker_park (head, peer, &what);
                break;
            }
            if (!ours
                || !head_sched_worker_rejoin (head, peer, hello.pool, hello.lib_hash,
                                              hello.init_hash, hello.useq)) {
                proto_msg_t close;
                proto_msg_init (&close, PROTO_POOL_CLOSE);
                proto_msg_set_pool (&close, hello.pool);
                head_send (head, peer, &close);
                proto_msg_reset (&close);
                peer->state = WORKER_CLOSED;
                peer->closed_at = zclock_mono ();
            }
            break;
        }
        head_sched_worker_join (head, peer);
        break;
    case PROTO_ROLE_NODE:
        peer->worker_slots = hello.worker_slots;
        zhashx_update (head->nodes, peer->id, peer);
        head_store_node_save (head->store, peer->id, peer->text);
        zsys_info ("pool-head: node %s (%s) joined with %d workers", peer->id, peer->text,
                   peer->worker_slots);
        break;
    case PROTO_ROLE_CLIENT:
        /* A HELLO that names a client in `node` is that client's
           liveness link (a thread of libpool that heartbeats while the
           program is busy outside our calls). */
        peer->vouching = hello.node[0] != 0;
        if (!peer->vouching) {
            zhashx_update (head->clients, peer->id, peer);
            head_lifetimes_client_back (head, peer);
        }
        break;
    default:
        break;
    }
}

void
head_peer_worker_died (head_t *head, head_peer_t *node, proto_msg_t *msg)
{
    proto_died_t died;
    proto_died_get (msg, &died);
    head_peer_t *worker = zhashx_lookup (head->workers, died.id);
    if (!worker || !streq (worker->node, node->id))
        return; /* already gone (BYE), or not this node's */
    if (died.pid && worker->pid && died.pid != worker->pid)
        return; /* an earlier process of that slot */
    int code = (int)died.code;
    char why[256];
    if (code == SIGALRM && worker->pool && worker->pool->job_timeout_ms)
        snprintf (why, sizeof why, "job timed out after %.3g s",
                  worker->pool->job_timeout_ms / 1000.0);
    else if (code > 0)
        snprintf (why, sizeof why, "worker crashed (signal %d)", code);
    else if (code < 0)
        snprintf (why, sizeof why, "worker exited with status %d", -code);
    else
        snprintf (why, sizeof why, "worker exited with status 0");
    bool in_user_code = died.where == PROTO_DIED_JOB || died.where == PROTO_DIED_UPDATE
                        || died.where == PROTO_DIED_INIT;
    if (head->config.verbose || code || in_user_code)
        zsys_info ("pool-head: %s: %s", worker->id, died.text ? died.text : why);
    /* The node read where it was from their shared scoreboard.  Whatever
       its exit status, a worker that left in the middle of user code
       died; a report without a scoreboard charges the oldest job it
       held. */
    switch (died.where) {
    case PROTO_DIED_JOB:
        s_peer_remove_charged (head, worker, code, why, HEAD_CHARGE_JOB, &died.job);
        break;
    case PROTO_DIED_INIT:
        if (worker->pool && worker->pool->id == died.pool)
            head_sched_init_crashed (head, worker, why);
        s_peer_remove_charged (head, worker, code, why, HEAD_CHARGE_NONE, NULL);
        break;
    case PROTO_DIED_UPDATE: {
        /* No job is charged, but an update that kills every worker must
           not go on forever. */
        head_pool_t *pool = worker->pool;
        char text[256];
        bool fail = pool && pool->id == died.pool
                    && head_sched_update_crashed (pool, died.update_seq, code, text,
                                                  sizeof text);
        s_peer_remove_charged (head, worker, code, why, HEAD_CHARGE_NONE, NULL);
        if (fail)
            head_sched_pool_fail (head, pool, PROTO_CODE_EWORKER, text);
        break;
    }
    case PROTO_DIED_IDLE:
        if (code == -2)
            /* It gave up on a silent head while holding jobs (status 2):
               it was most likely receiving the oldest.  Charged, so that
               nothing can make a worker leave over and over for free. */
            s_peer_remove_charged (head, worker, code,
                                   "worker lost the head while receiving the job",
                                   HEAD_CHARGE_OLDEST, NULL);
        else
            s_peer_remove_charged (head, worker, code, why, HEAD_CHARGE_NONE, NULL);
        break;
    default:
        head_peer_remove (head, worker, code, why);
        break;
    }
}

/* A node's heartbeat may carry the GPU memory in use behind each of its
   worker slots: nums [K] for its worker NODEID/wK. */
void
head_peer_gpu_usage (head_t *head, head_peer_t *node, proto_msg_t *msg)
{
    uint64_t used[PROTO_NUMS_MAX];
    size_t n_used = proto_gpu_usage_get (msg, used, PROTO_NUMS_MAX);
    for (size_t k = 0; k < n_used; k++) {
        char id[PROTO_ID_MAX + 32];
        int n = snprintf (id, sizeof id, "%s/w%zu", node->id, k);
        if (n < 0 || n > PROTO_ID_MAX)
            continue;
        head_peer_t *worker = zhashx_lookup (head->workers, id);
        if (worker)
            worker->gpu_used = used[k];
    }
}

void
head_peer_lost (head_t *head, head_peer_t *peer, const char *why)
{
    if (peer->role == PROTO_ROLE_NODE)
        s_node_lost (head, peer, why);
    else {
        if (peer->role == PROTO_ROLE_CLIENT && !peer->vouching)
            zsys_warning ("pool-head: client %s %s: closing its %zu pools", peer->id, why,
                          zlist_size (peer->pools));
        else if (peer->role == PROTO_ROLE_WORKER)
            zsys_warning ("pool-head: worker %s lost (%s) while its node is gone: its "
                          "%zu jobs go back to the queue",
                          peer->id, why, peer->inflight.count);
        head_peer_remove (head, peer, 0, "gone");
    }
}

void
head_peer_kill_overdue (head_t *head)
{
    int64_t now = zclock_mono ();
    for (head_peer_t *worker = zhashx_first (head->workers); worker;
         worker = zhashx_next (head->workers)) {
        if (worker->state != WORKER_CLOSED || worker->kill_asked || !worker->closed_at
            || now - worker->closed_at < CLOSE_GRACE_MS || !worker->pid)
            continue;
        head_peer_t *node = zhashx_lookup (head->nodes, worker->node);
        if (!node)
            continue;
        worker->kill_asked = true;
        proto_msg_t msg;
        proto_msg_init (&msg, PROTO_WORKER_KILL);
        char why[96];
        snprintf (why, sizeof why, "its pool closed %.1f s ago and it is still busy",
                  (now - worker->closed_at) / 1000.0);
        proto_kill_t kill = { .pid = worker->pid, .why = why };
        snprintf (kill.id, sizeof kill.id, "%s", worker->id);
        proto_kill_set (&msg, &kill);
        head_send (head, node, &msg);
        proto_msg_reset (&msg);
    }
}
