/*  head/server.c - pool-head's event loop: the ROUTER, the peer table,
    dispatch of each decoded message to the scheduler, heartbeats and the
    status report.

    Nothing from the network is asserted on: a message that does not decode
    is answered with ERROR (or DENIED for another protocol version), logged,
    and the loop carries on.
*/
#include "server.h"
#include "watch.h"

#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "pool.h"
#include "scheduler.h"
#include "store.h"

/* Where a routing id is turned into a table key. */
static void
s_peer_key (zframe_t *rid, char key[24])
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

int
head_send (head_t *head, head_peer_t *peer, proto_msg_t *msg)
{
    if (!peer || !peer->rid)
        return -1;
    int rc = proto_msg_send_router (msg, head->router, peer->rid);
    if (rc != PROTO_OK)
        zsys_warning ("pool-head: cannot send %s to %s", proto_type_name (msg->type),
                      peer->id);
    return rc;
}

static void
s_send_error_to (head_t *head, zframe_t *rid, uint64_t pool, int code, const char *text)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_ERROR);
    if (pool)
        proto_msg_set_pool (&msg, pool);
    proto_msg_set_code (&msg, code);
    proto_msg_set_text (&msg, "%s", text);
    proto_msg_send_router (&msg, head->router, rid);
    proto_msg_reset (&msg);
}

void
head_send_error (head_t *head, head_peer_t *peer, uint64_t pool, int code,
                 const char *format, ...)
{
    if (!peer || !peer->rid)
        return;
    char text[1024];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    s_send_error_to (head, peer->rid, pool, code, text);
}

static void
s_peer_free (void **item)
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
        /* The worker arms SIGALRM for a pool's job_timeout: dying of it
           means the job ran out of time, not that the code crashed. */
        head_sched_worker_lost (
            head, peer, code, why,
            code == SIGALRM && peer->pool && peer->pool->job_timeout_ms ? POOL_ETIMEDOUT
                                                                        : POOL_ECRASHED,
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
        if (!peer->vouching && zhashx_lookup (head->clients, peer->id) == peer)
            zhashx_delete (head->clients, peer->id);
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
static void
s_peer_remove (head_t *head, head_peer_t *peer, int code, const char *why)
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
        s_peer_remove (head, worker, -1, text);
    zlist_destroy (&doomed);
    s_peer_remove (head, node, -1, why);
}

static void
s_welcome (head_t *head, head_peer_t *peer)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_WELCOME);
    proto_msg_add_num (&msg, (uint64_t)head->config.heartbeat_ms);
    proto_msg_add_num (&msg, (uint64_t)head->config.liveness);
    /* Which head this is: a worker that rejoins a pool names the head it
       loaded it from, so pool ids of another head's life never match. */
    proto_msg_add_num (&msg, head->epoch);
    head_send (head, peer, &msg);
    proto_msg_reset (&msg);
}

static void
s_hello (head_t *head, zframe_t **rid_p, const char *key, proto_msg_t *msg)
{
    head_peer_t *old = zhashx_lookup (head->peers, key);
    if (old) /* the same connection says HELLO again: start over */
        s_peer_remove (head, old, -1, "peer said HELLO again");
    if (msg->role == PROTO_ROLE_WORKER) {
        head_peer_t *stale = zhashx_lookup (head->workers, msg->id);
        /* The same process coming back (its link was cut, it rejoins) has
           not crashed: what it held goes back uncharged.  Another process
           of the slot means the old one died. */
        bool same = stale && stale->pid && (msg->present & PROTO_F_SEQ)
                    && stale->pid == msg->seq;
        if (stale)
            s_peer_remove (head, stale, same ? 0 : -1,
                           same ? "worker reconnected" : "worker restarted");
    } else if (msg->role == PROTO_ROLE_NODE) {
        head_peer_t *stale = zhashx_lookup (head->nodes, msg->id);
        if (stale) /* reconnected: its workers are still fine */
            s_peer_remove (head, stale, 0, "node reconnected");
    }
    head_peer_t *peer = calloc (1, sizeof *peer);
    if (!peer)
        return;
    snprintf (peer->key, sizeof peer->key, "%s", key);
    peer->rid = *rid_p;
    *rid_p = NULL;
    peer->role = msg->role;
    snprintf (peer->id, sizeof peer->id, "%s", msg->id);
    snprintf (peer->node, sizeof peer->node, "%s", msg->node);
    snprintf (peer->host, sizeof peer->host, "%s", msg->host);
    peer->text = strdup (msg->text ? msg->text : "");
    peer->pid = (msg->present & PROTO_F_SEQ) ? msg->seq : 0;
    peer->gpu_used = UINT64_MAX;
    peer->last_seen = zclock_mono ();
    peer->pools = zlist_new ();
    if (!peer->text || !peer->pools || zhashx_insert (head->peers, key, peer)) {
        void *item = peer;
        s_peer_free (&item);
        return;
    }
    s_welcome (head, peer);
    switch (peer->role) {
    case PROTO_ROLE_WORKER:
        peer->has_gpu = msg->nnums > 0 && msg->nums[0] != UINT64_MAX;
        peer->gpu_memory = msg->nnums > 1 ? msg->nums[1] : 0;
        zhashx_update (head->workers, peer->id, peer);
        if (head->config.verbose)
            zsys_info ("pool-head: worker %s (%s) joined", peer->id, peer->text);
        if ((msg->present & PROTO_F_POOL) && msg->pool) {
            /* It has a pool loaded and asks to rejoin it. */
            bool ours = msg->nnums > 3 && msg->nums[3] == head->epoch;
            if (!ours && msg->nnums > 3 && msg->nhashes > 1) {
                /* A pool of this head's previous life: it waits for the
                   pool's client to open it again. */
                head_parked_t what = { .pool_id = msg->pool,
                                       .epoch = msg->nums[3],
                                       .useq = msg->nums[2] };
                memcpy (what.lib_hash, msg->hash[0], PROTO_HASH_SIZE);
                memcpy (what.init_hash, msg->hash[1], PROTO_HASH_SIZE);
                head_sched_worker_park (head, peer, &what);
                break;
            }
            if (!ours
                || !head_sched_worker_rejoin (
                    head, peer, msg->pool, msg->nhashes > 1 ? msg->hash[0] : NULL,
                    msg->nhashes > 1 ? msg->hash[1] : NULL, msg->nums[2])) {
                proto_msg_t close;
                proto_msg_init (&close, PROTO_POOL_CLOSE);
                proto_msg_set_pool (&close, msg->pool);
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
        peer->worker_slots
            = msg->nnums > 0 && msg->nums[0] < 100000 ? (int)msg->nums[0] : 0;
        zhashx_update (head->nodes, peer->id, peer);
        head_store_node_save (head->store, peer->id, peer->text);
        zsys_info ("pool-head: node %s (%s) joined with %d workers", peer->id, peer->text,
                   peer->worker_slots);
        break;
    case PROTO_ROLE_CLIENT:
        /* A HELLO that names a client in `node` is that client's
           liveness link (a thread of libpool that heartbeats while the
           program is busy outside our calls). */
        peer->vouching = (msg->present & PROTO_F_NODE) && msg->node[0];
        if (!peer->vouching)
            zhashx_update (head->clients, peer->id, peer);
        break;
    default:
        break;
    }
}

static char *
s_status_text (head_t *head, uint64_t pool_id, int *pool_workers)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    *pool_workers = 0;
    fprintf (out, "head: port %d, %s\n", head->config.port,
             head->keys.insecure ? "INSECURE (plain TCP, no password check)"
                                 : "secure (CURVE)");
    fprintf (out, "nodes: %zu, workers: %zu, pools: %zu\n", zhashx_size (head->nodes),
             zhashx_size (head->workers), zlistx_size (head->pools));
    for (head_peer_t *node = zhashx_first (head->nodes); node;
         node = zhashx_next (head->nodes)) {
        fprintf (out, "node %s (%s): %d worker slots\n", node->id, node->text,
                 node->worker_slots);
        /* zhashx iteration is not re-entrant: collect, then print */
        zlistx_t *list = zlistx_new ();
        for (head_peer_t *w = zhashx_first (head->workers); w;
             w = zhashx_next (head->workers))
            if (streq (w->node, node->id))
                zlistx_add_end (list, w);
        for (head_peer_t *w = zlistx_first (list); w; w = zlistx_next (list)) {
            static const char *states[]
                = { "idle", "loading", "ready", "releasing", "closing", "parked" };
            fprintf (out, "  worker %s  %s", w->id, w->text);
            if (w->has_gpu) {
                fprintf (out, " (%.1f GiB", w->gpu_memory / 1073741824.0);
                if (w->gpu_used != UINT64_MAX)
                    fprintf (out, ", %.1f GiB in use)", w->gpu_used / 1073741824.0);
                else
                    fprintf (out, ")");
            }
            fprintf (out, "  %s", states[w->state]);
            if (w->pool)
                fprintf (out, " pool %llu", (unsigned long long)w->pool->id);
            if (w->state == WORKER_PARKED)
                fprintf (out, " (has pool %llu of the head before a restart loaded)",
                         (unsigned long long)w->parked.pool_id);
            fprintf (out, "  jobs held %zu, done %llu\n", w->inflight.count,
                     (unsigned long long)w->jobs_done);
        }
        zlistx_destroy (&list);
    }
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools)) {
        fprintf (out,
                 "pool %llu (%s) of %s: workers %d ready of %d, pending %zu, "
                 "running %zu, done %llu, updates %llu\n",
                 (unsigned long long)pool->id, pool->name,
                 pool->client ? pool->client->id : "?", pool->ready, pool->workers,
                 pool->pending.count, pool->running, (unsigned long long)pool->done,
                 (unsigned long long)pool->useq);
        if (pool->id == pool_id)
            *pool_workers = pool->ready;
    }
    fclose (out);
    return text;
}

static void
s_status (head_t *head, head_peer_t *peer, proto_msg_t *req)
{
    int pool_workers = 0;
    char *text = s_status_text (head, (req->present & PROTO_F_POOL) ? req->pool : 0,
                                &pool_workers);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_STATUS);
    proto_msg_add_num (&msg, zhashx_size (head->nodes));
    proto_msg_add_num (&msg, zhashx_size (head->workers));
    proto_msg_add_num (&msg, zlistx_size (head->pools));
    proto_msg_add_num (&msg, (uint64_t)pool_workers);
    proto_msg_add_num (&msg, head->keys.insecure ? 1 : 0);
    uint64_t largest_gpu = 0, gpu_workers = 0;
    for (head_peer_t *w = zhashx_first (head->workers); w;
         w = zhashx_next (head->workers))
        if (w->has_gpu) {
            gpu_workers++;
            if (w->gpu_memory > largest_gpu)
                largest_gpu = w->gpu_memory;
        }
    proto_msg_add_num (&msg, largest_gpu);
    proto_msg_add_num (&msg, gpu_workers);
    proto_msg_set_text (&msg, "%s", text ? text : "(out of memory)\n");
    head_send (head, peer, &msg);
    proto_msg_reset (&msg);
    free (text);
}

static void
s_block_get (head_t *head, head_peer_t *peer, proto_msg_t *msg)
{
    bool missing = false;
    zframe_t *frame = head_store_block_get (head->store, msg->hash[0], &missing);
    if (!frame) {
        char hex[2 * PROTO_HASH_SIZE + 1];
        proto_hash_hex (msg->hash[0], hex);
        head_send_error (head, peer, 0, POOL_EIO, "block %s: %s", hex,
                         missing ? "not in the store" : head_store_error (head->store));
        return;
    }
    proto_msg_t out;
    proto_msg_init (&out, PROTO_BLOCK);
    proto_msg_add_hash (&out, msg->hash[0]);
    proto_msg_add_frame (&out, &frame);
    head_send (head, peer, &out);
    proto_msg_reset (&out);
}

/* Stores a block named by its hash and says so; the hash is checked. */
static void
s_block_put (head_t *head, head_peer_t *peer, proto_msg_t *msg)
{
    zframe_t *frame = proto_msg_pop_frame (msg);
    uint8_t hash[PROTO_HASH_SIZE];
    proto_hash (zframe_data (frame), zframe_size (frame), hash);
    if (memcmp (hash, msg->hash[0], PROTO_HASH_SIZE) != 0)
        head_send_error (head, peer, 0, POOL_EINVAL,
                         "BLOCK_PUT: the bytes do not match their hash");
    else if (head_store_block_put (head->store, hash, zframe_data (frame),
                                   zframe_size (frame)))
        head_send_error (head, peer, 0, POOL_EIO, "cannot store the block: %s",
                         head_store_error (head->store));
    else {
        proto_msg_t out;
        proto_msg_init (&out, PROTO_BLOCK_STORED);
        proto_msg_add_hash (&out, hash);
        head_send (head, peer, &out);
        proto_msg_reset (&out);
    }
    zframe_destroy (&frame);
}

static void
s_worker_died (head_t *head, head_peer_t *node, proto_msg_t *msg)
{
    head_peer_t *worker = zhashx_lookup (head->workers, msg->id);
    if (!worker || !streq (worker->node, node->id))
        return; /* already gone (BYE), or not this node's */
    if ((msg->present & PROTO_F_SEQ) && worker->pid && msg->seq != worker->pid)
        return; /* an earlier process of that slot */
    char why[256];
    if (msg->code == SIGALRM && worker->pool && worker->pool->job_timeout_ms)
        snprintf (why, sizeof why, "job timed out after %.3g s",
                  worker->pool->job_timeout_ms / 1000.0);
    else if (msg->code > 0)
        snprintf (why, sizeof why, "worker crashed (signal %lld)", (long long)msg->code);
    else if (msg->code < 0)
        snprintf (why, sizeof why, "worker exited with status %lld",
                  (long long)-msg->code);
    else
        snprintf (why, sizeof why, "worker exited with status 0");
    bool in_user_code = msg->njobs >= 1
                        || (msg->nnums >= 1 && (msg->nums[0] == 2 || msg->nums[0] == 3));
    if (head->config.verbose || msg->code || in_user_code)
        zsys_info ("pool-head: %s: %s", worker->id, msg->text ? msg->text : why);
    /* The node read what it was running from their shared scoreboard: a
       job entry names the job, nums [2, seq] an update, nums [3] the
       pool's init, nums [0] nothing; a report with none of these (no
       scoreboard) charges the oldest job it held.  Whatever its exit
       status, a worker that left in the middle of user code died. */
    if (msg->njobs >= 1)
        s_peer_remove_charged (head, worker, (int)msg->code, why, HEAD_CHARGE_JOB,
                               &msg->jobs[0]);
    else if (msg->nnums >= 1 && msg->nums[0] == 3) {
        if (worker->pool && worker->pool->id == msg->pool)
            head_sched_init_crashed (head, worker, why);
        s_peer_remove_charged (head, worker, (int)msg->code, why, HEAD_CHARGE_NONE, NULL);
    } else if (msg->code == -2 && msg->nnums >= 1 && msg->nums[0] == 0)
        /* It gave up on a silent head while holding jobs (status 2): it
           was most likely receiving the oldest.  Charged, so that nothing
           can make a worker leave over and over for free. */
        s_peer_remove_charged (head, worker, (int)msg->code,
                               "worker lost the head while receiving the job",
                               HEAD_CHARGE_OLDEST, NULL);
    else if (msg->nnums >= 2 && msg->nums[0] == 2) {
        /* It died in handle_update (nums [2, seq]): no job is charged,
           but an update that kills every worker must not go on forever. */
        head_pool_t *pool = worker->pool;
        char text[256];
        bool fail = pool && pool->id == msg->pool
                    && head_sched_update_crashed (pool, msg->nums[1], (int)msg->code,
                                                  text, sizeof text);
        s_peer_remove_charged (head, worker, (int)msg->code, why, HEAD_CHARGE_NONE, NULL);
        if (fail)
            head_sched_pool_fail (head, pool, POOL_EWORKER, text);
    } else if (msg->present & PROTO_F_NUMS)
        s_peer_remove_charged (head, worker, (int)msg->code, why, HEAD_CHARGE_NONE, NULL);
    else
        s_peer_remove (head, worker, (int)msg->code, why);
}

/* A node's heartbeat may carry the GPU memory in use behind each of its
   worker slots: nums [K] for its worker NODEID/wK. */
static void
s_node_gpu_usage (head_t *head, head_peer_t *node, proto_msg_t *msg)
{
    for (size_t k = 0; k < msg->nnums; k++) {
        char id[PROTO_ID_MAX + 32];
        int n = snprintf (id, sizeof id, "%s/w%zu", node->id, k);
        if (n < 0 || n > PROTO_ID_MAX)
            continue;
        head_peer_t *worker = zhashx_lookup (head->workers, id);
        if (worker)
            worker->gpu_used = msg->nums[k];
    }
}

/* The type/role matrix: which peer may send what. */
static bool
s_allowed (proto_role_t role, proto_type_t type)
{
    switch (type) {
    case PROTO_HEARTBEAT:
    case PROTO_BYE:
    case PROTO_STATUS_REQ:
        return true;
    case PROTO_POOL_OPEN:
    case PROTO_SUBMIT:
    case PROTO_UPDATE:
    case PROTO_POOL_CLOSE:
        return role == PROTO_ROLE_CLIENT;
    case PROTO_RESULT:
    case PROTO_WORKER_READY:
        return role == PROTO_ROLE_WORKER;
    case PROTO_BLOCK_GET:
    case PROTO_BLOCK_PUT:
        return role == PROTO_ROLE_WORKER || role == PROTO_ROLE_CLIENT;
    case PROTO_WORKER_DIED:
        return role == PROTO_ROLE_NODE;
    case PROTO_ERROR:
        return true;
    default:
        return false;
    }
}

static void
s_dispatch (head_t *head, head_peer_t *peer, proto_msg_t *msg)
{
    if (!s_allowed (peer->role, msg->type)) {
        head_send_error (head, peer, 0, POOL_EPROTO, "%s is not expected from a %s",
                         proto_type_name (msg->type),
                         peer->role == PROTO_ROLE_CLIENT   ? "client"
                         : peer->role == PROTO_ROLE_NODE   ? "node"
                         : peer->role == PROTO_ROLE_WORKER ? "worker"
                                                           : "status peer");
        return;
    }
    head_pool_t *pool = NULL;
    switch (msg->type) {
    case PROTO_HEARTBEAT:
        if (peer->role == PROTO_ROLE_NODE && msg->nnums)
            s_node_gpu_usage (head, peer, msg);
        break;
    case PROTO_BYE:
        s_peer_remove (head, peer, 0, "left");
        break;
    case PROTO_STATUS_REQ:
        s_status (head, peer, msg);
        break;
    case PROTO_ERROR:
        if (peer->role == PROTO_ROLE_WORKER && msg->code == POOL_EWORKER
            && (msg->present & PROTO_F_SEQ) && peer->pool
            && peer->pool->id == msg->pool) {
            head_sched_update_refused (head, peer, msg->seq,
                                       msg->text ? msg->text : "no reason given");
            break;
        }
        zsys_warning ("pool-head: %s reports: %s", peer->id, msg->text ? msg->text : "?");
        break;
    case PROTO_POOL_OPEN:
        head_sched_pool_open (head, peer, msg);
        break;
    case PROTO_SUBMIT:
    case PROTO_UPDATE:
    case PROTO_POOL_CLOSE:
        pool = head_sched_pool (head, peer, msg->pool);
        if (!pool) {
            head_send_error (head, peer, msg->pool, POOL_ECLOSED, "pool %llu is not open",
                             (unsigned long long)msg->pool);
            break;
        }
        if (msg->type == PROTO_SUBMIT)
            head_sched_submit (head, pool, msg);
        else if (msg->type == PROTO_UPDATE)
            head_sched_update (head, pool, msg);
        else
            head_sched_pool_close (head, pool);
        break;
    case PROTO_RESULT:
        head_sched_result (head, peer, msg);
        break;
    case PROTO_WORKER_READY:
        head_sched_worker_ready (head, peer, msg);
        break;
    case PROTO_BLOCK_GET:
        s_block_get (head, peer, msg);
        break;
    case PROTO_BLOCK_PUT:
        s_block_put (head, peer, msg);
        break;
    case PROTO_WORKER_DIED:
        s_worker_died (head, peer, msg);
        break;
    default:
        break;
    }
}

static int
s_on_router (zloop_t *loop, zsock_t *sock, void *arg)
{
    head_t *head = arg;
    /* Drain what is there, but give the timers a turn now and then. */
    for (int i = 0; i < 256 && (zsock_events (sock) & ZMQ_POLLIN); i++) {
        proto_msg_t msg;
        proto_msg_init (&msg, 0);
        zframe_t *rid = NULL;
        char reason[256] = "";
        int rc = proto_msg_recv_router_limited (&msg, sock, &rid, head->config.max_frames,
                                                reason, sizeof reason);
        if (!rid) {
            proto_msg_reset (&msg);
            continue;
        }
        char key[24];
        s_peer_key (rid, key);
        head_peer_t *peer = zhashx_lookup (head->peers, key);
        if (rc == PROTO_EFRAMES) {
            char text[160];
            snprintf (text, sizeof text,
                      "message of more than %zu frames refused "
                      "(--max-frames)",
                      head->config.max_frames);
            zsys_warning ("pool-head: %s from %s", text,
                          peer ? peer->id : "an unknown peer");
            s_send_error_to (head, rid, 0, POOL_EDENIED, text);
        } else if (rc == PROTO_EVERSION) {
            char text[200];
            snprintf (text, sizeof text,
                      "protocol version %u is not spoken here: "
                      "this head speaks version %d",
                      msg.version, PROTO_VERSION);
            proto_msg_t denied;
            proto_msg_init (&denied, PROTO_DENIED);
            proto_msg_set_text (&denied, "%s", text);
            proto_msg_send_router (&denied, sock, rid);
            proto_msg_reset (&denied);
            zsys_warning ("pool-head: denied a peer: %s", text);
        } else if (rc != PROTO_OK) {
            zsys_warning ("pool-head: bad message from %s: %s",
                          peer ? peer->id : "an unknown peer", reason);
            s_send_error_to (head, rid, 0, POOL_EPROTO, reason);
        } else if (msg.type == PROTO_HELLO)
            s_hello (head, &rid, key, &msg);
        else if (!peer)
            s_send_error_to (head, rid, 0, PROTO_CODE_UNKNOWN_PEER,
                             "unknown peer (the head restarted, or declared it "
                             "dead): say HELLO again");
        else {
            peer->last_seen = zclock_mono ();
            if (peer->vouching) {
                head_peer_t *client = zhashx_lookup (head->clients, peer->node);
                if (client)
                    client->last_seen = peer->last_seen;
            }
            s_dispatch (head, peer, &msg);
        }
        zframe_destroy (&rid);
        proto_msg_reset (&msg);
    }
    return 0;
}

static int
s_on_zap (zloop_t *loop, zsock_t *sock, void *arg)
{
    head_t *head = arg;
    head_auth_handle (sock, &head->keys, head->config.verbose);
    return 0;
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
        s_peer_remove (head, peer, 0, "gone");
    }
}

/*  Workers told to close their pool that are still here after the grace
    are stuck in user code (init, run, handle_update) or ignore the close:
    their node kills them (and what they forked), so a failed or abandoned
    pool gives its workers back within a second or two. */
#define CLOSE_GRACE_MS 1000

static void
s_kill_overdue (head_t *head)
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
        proto_msg_set_id (&msg, worker->id);
        proto_msg_set_seq (&msg, worker->pid);
        proto_msg_set_text (&msg, "its pool closed %.1f s ago and it is still busy",
                            (now - worker->closed_at) / 1000.0);
        head_send (head, node, &msg);
        proto_msg_reset (&msg);
    }
}

static int
s_on_heartbeat (zloop_t *loop, int timer_id, void *arg)
{
    head_t *head = arg;
    head_watch_probe (head, true);
    s_kill_overdue (head);
    head_sched_park_expire (head);
    /* Demand is rebalanced on every event that changes it; this pass only
       makes sure nothing waits on an event that never comes. */
    head_sched_rebalance (head);
    return 0;
}

head_t *
head_new (const head_config_t *config, const char *password, const char *redis_url,
          char *error, size_t error_size)
{
    head_t *head = calloc (1, sizeof *head);
    if (!head) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    randombytes_buf (&head->epoch, sizeof head->epoch);
    head->config = *config;
    if (proto_keys_derive (&head->keys, password ? password : "", config->insecure)) {
        snprintf (error, error_size, "cannot derive keys from the password");
        goto fail;
    }
    head->store = head_store_new (redis_url, error, error_size);
    if (!head->store)
        goto fail;
    head->peers = zhashx_new ();
    head->workers = zhashx_new ();
    head->nodes = zhashx_new ();
    head->clients = zhashx_new ();
    head->pools = zlistx_new ();
    head->loop = zloop_new ();
    if (!head->peers || !head->workers || !head->nodes || !head->clients || !head->pools
        || !head->loop) {
        snprintf (error, error_size, "out of memory");
        goto fail;
    }
    zhashx_set_destructor (head->peers, s_peer_free);
    if (!config->insecure) {
        head->zap = head_auth_new ();
        if (!head->zap) {
            snprintf (error, error_size, "cannot start the ZAP handler");
            goto fail;
        }
    }
    head->router = zsock_new (ZMQ_ROUTER);
    if (!head->router) {
        snprintf (error, error_size, "cannot create the ROUTER socket");
        goto fail;
    }
    zsock_set_sndhwm (head->router, 0);
    zsock_set_rcvhwm (head->router, 0);
    zsock_set_linger (head->router, 0);
    zsock_set_maxmsgsize (head->router, (int64_t)config->max_message);
    proto_keys_apply_server (&head->keys, head->router);
    int port = config->port
                   ? zsock_bind (head->router, "tcp://%s:%d", config->bind, config->port)
                   : zsock_bind (head->router, "tcp://%s:*", config->bind);
    if (port < 0) {
        snprintf (error, error_size, "cannot listen on %s port %d: %s", config->bind,
                  config->port, zmq_strerror (zmq_errno ()));
        goto fail;
    }
    head->config.port = port;
    zloop_reader (head->loop, head->router, s_on_router, head);
    if (head->zap)
        zloop_reader (head->loop, head->zap, s_on_zap, head);
    zloop_timer (head->loop, (size_t)config->heartbeat_ms, 0, s_on_heartbeat, head);
    head->last_tick = zclock_mono ();
    if (head_watch_start (head))
        zsys_warning ("pool-head: cannot monitor the socket: lost peers are found "
                      "by missed heartbeats only");
    return head;
fail:
    head_destroy (&head);
    return NULL;
}

int
head_port (head_t *head)
{
    return head->config.port;
}

int
head_run (head_t *head)
{
    zsys_info ("pool-head listening on port %d (%s)", head->config.port,
               head->keys.insecure ? "INSECURE: plain TCP, anyone who reaches the "
                                     "port can submit and read jobs"
                                   : "CURVE");
    zloop_start (head->loop);
    head->stopping = true;
    return 0;
}

void
head_destroy (head_t **head_p)
{
    if (!head_p || !*head_p)
        return;
    head_t *head = *head_p;
    head->stopping = true;
    head_watch_stop (head);
    zloop_destroy (&head->loop);
    if (head->pools) {
        head_pool_t *pool;
        while ((pool = zlistx_first (head->pools))) {
            pool->client = NULL;
            head_sched_pool_close (head, pool);
        }
    }
    zhashx_destroy (&head->workers);
    zhashx_destroy (&head->nodes);
    zhashx_destroy (&head->clients);
    zhashx_destroy (&head->peers);
    zlistx_destroy (&head->pools);
    zsock_destroy (&head->router);
    zsock_destroy (&head->zap);
    head_store_destroy (&head->store);
    head_job_cache_free ();
    sodium_memzero (&head->keys, sizeof head->keys);
    free (head);
    *head_p = NULL;
}
