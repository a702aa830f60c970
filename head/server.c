/*  head/server.c - pool-head's event loop: the ROUTER, dispatch of each
    decoded message (to the peer table, peers.c; the scheduler; the
    status report, status.c; the block store, blocks.c; workers' output,
    output.c), the heartbeat tick, the block sweep (lifetimes.c) and, with
    --http, the HTTP server (http.c).

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
#include "blocks.h"
#include "cancel.h"
#include "data_relay.h"
#include "http.h"
#include "feed.h"
#include "lifetimes.h"
#include "locality.h"
#include "output.h"
#include "peers.h"
#include "results_out.h"
#include "scheduler.h"
#include "status.h"
#include "shards.h"
#include "store.h"
#include "store_limit.h"
#include "views.h"

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
    case PROTO_CANCEL:
        return role == PROTO_ROLE_CLIENT;
    case PROTO_RESULT:
    case PROTO_WORKER_READY:
    case PROTO_BLOCKS_HELD:
        return role == PROTO_ROLE_WORKER;
    case PROTO_BLOCK_GET:
    case PROTO_BLOCK_PUT:
    case PROTO_BLOCK_HOLD:
        return role == PROTO_ROLE_WORKER || role == PROTO_ROLE_CLIENT;
    case PROTO_BLOCK_RELEASE:
        return role == PROTO_ROLE_CLIENT;
    case PROTO_WORKER_DIED:
    case PROTO_OUTPUT:
        return role == PROTO_ROLE_NODE;
    case PROTO_ERROR:
        return true;
    default:
        return false;
    }
}

/* A client's CANCEL of a range of its pool's jobs. */
static void
s_cancel (head_t *head, head_peer_t *client, head_pool_t *pool, const proto_msg_t *msg)
{
    proto_cancel_t cancel;
    char reason[128];
    if (proto_cancel_get (msg, &cancel, reason, sizeof reason) != PROTO_OK) {
        head_send_error (head, client, pool->id, PROTO_CODE_EINVAL, "%s", reason);
        return;
    }
    head_cancel (head, pool, cancel.from, cancel.to);
}

static void
s_dispatch (head_t *head, head_peer_t *peer, proto_msg_t *msg)
{
    if (!s_allowed (peer->role, msg->type)) {
        head_send_error (head, peer, 0, PROTO_CODE_EPROTO, "%s is not expected from a %s",
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
        if (peer->role == PROTO_ROLE_NODE)
            head_peer_gpu_usage (head, peer, msg);
        break;
    case PROTO_BYE:
        head_peer_remove (head, peer, 0, "left");
        break;
    case PROTO_STATUS_REQ:
        head_status_answer (head, peer, msg);
        break;
    case PROTO_ERROR: {
        uint64_t refused_pool, seq;
        const char *why;
        if (peer->role == PROTO_ROLE_WORKER
            && proto_refusal_get (msg, &refused_pool, &seq, &why) && peer->pool
            && peer->pool->id == refused_pool) {
            head_sched_update_refused (head, peer, seq, why);
            break;
        }
        zsys_warning ("pool-head: %s reports: %s", peer->id, msg->text ? msg->text : "?");
        break;
    }
    case PROTO_POOL_OPEN:
        head_sched_pool_open (head, peer, msg);
        break;
    case PROTO_SUBMIT:
    case PROTO_UPDATE:
    case PROTO_POOL_CLOSE:
    case PROTO_CANCEL:
        pool = head_sched_pool (head, peer, msg->pool);
        if (!pool) {
            head_send_error (head, peer, msg->pool, PROTO_CODE_ECLOSED,
                             "pool %llu is not open", (unsigned long long)msg->pool);
            break;
        }
        if (msg->type == PROTO_SUBMIT)
            head_sched_submit (head, pool, msg);
        else if (msg->type == PROTO_UPDATE)
            head_sched_update (head, pool, msg);
        else if (msg->type == PROTO_CANCEL)
            s_cancel (head, peer, pool, msg);
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
        head_block_get (head, peer, msg);
        break;
    case PROTO_BLOCK_PUT:
        head_block_put (head, peer, msg);
        break;
    case PROTO_BLOCK_RELEASE:
        head_block_release (head, peer, msg);
        break;
    case PROTO_BLOCK_HOLD:
        head_block_hold (head, peer, msg);
        break;
    case PROTO_BLOCKS_HELD:
        head_locality_report (head, peer, msg);
        break;
    case PROTO_WORKER_DIED:
        head_peer_worker_died (head, peer, msg);
        break;
    case PROTO_OUTPUT:
        head_output_forward (head, peer, msg);
        break;
    default:
        break;
    }
}

static int
s_on_router (zloop_t *loop, zsock_t *sock, void *arg)
{
    head_t *head = arg;
    /* Drain what is there, but give the timers a turn now and then.  The
       loop calls us when zmq_poll saw a whole message waiting, so the first
       is read without asking ZMQ_EVENTS again (a poll and a getpid). */
    for (int i = 0; i < 256 && (i == 0 || (zsock_events (sock) & ZMQ_POLLIN)); i++) {
        proto_msg_t msg;
        proto_msg_init (&msg, 0);
        msg.keep_pieces = true; /* the head relays big payloads, never joins them */
        char reason[256] = "";
        zmsg_t *raw = zmsg_recv (sock);
        zframe_t *rid = raw ? zmsg_pop (raw) : NULL;
        if (!rid) {
            zmsg_destroy (&raw);
            continue;
        }
        /* Data plane chunks relayed for a worker and a client that cannot
           reach each other go on undecoded (data_relay.h). */
        if (head_data_relay_take (head, rid, &raw)) {
            zframe_destroy (&rid);
            continue;
        }
        int rc = proto_msg_decode_limited (&msg, sock, &raw, head->config.max_frames,
                                           reason, sizeof reason);
        head->metrics.bytes_in += msg.wire_size;
        /* Results gathered from a run of RESULTs go before anything else
           is handled (results_out.h). */
        if (rc != PROTO_OK || msg.type != PROTO_RESULT)
            head_results_out_flush (head);
        char key[24];
        head_peer_key (rid, key);
        head_peer_t *peer = zhashx_lookup (head->peers, key);
        if (rc == PROTO_EFRAMES) {
            char text[160];
            snprintf (text, sizeof text,
                      "message of more than %zu frames refused "
                      "(--max-frames)",
                      head->config.max_frames);
            zsys_warning ("pool-head: %s from %s", text,
                          peer ? peer->id : "an unknown peer");
            head_send_error_to (head, rid, 0, PROTO_CODE_EDENIED, text);
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
            head_send_error_to (head, rid, 0, PROTO_CODE_EPROTO, reason);
        } else if (msg.type == PROTO_HELLO)
            head_peer_hello (head, &rid, key, &msg);
        else if (!peer)
            head_send_error_to (head, rid, 0, PROTO_CODE_UNKNOWN_PEER,
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
    head_results_out_flush (head);
    return 0;
}

/*  The ZAP socket is watched through its ZMQ_FD (zloop_poller), not as a
    zloop reader: zmq_poll asks every socket reader for ZMQ_EVENTS before
    and after each sleep, two system calls each time, and the ZAP socket,
    idle but for handshakes, would cost the head four on every message it
    wakes for.  ZMQ_FD only says "look"; the requests are drained here
    until ZMQ_EVENTS shows none, so none waits for a signal that already
    came (zmq_getsockopt(3), ZMQ_FD). */
static int
s_on_zap (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    head_t *head = arg;
    while (zsock_events (head->zap) & ZMQ_POLLIN)
        head_auth_handle (head->zap, &head->keys, head->config.verbose);
    return 0;
}

static int
s_on_heartbeat (zloop_t *loop, int timer_id, void *arg)
{
    head_t *head = arg;
    head_watch_probe (head, true);
    head_peer_kill_overdue (head);
    head_sched_park_expire (head);
    /* Demand is rebalanced on every event that changes it; this pass only
       makes sure nothing waits on an event that never comes. */
    head_sched_rebalance (head);
    return 0;
}

/*  A job that waited for a busy worker holding its blocks may now go to
    any free worker: every pool with jobs queued is fed. */
static void
s_locality_wait_over (head_t *head)
{
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools))
        if (pool->pending.count)
            head_feed_pool (head, pool);
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
    head->shards = head_shards_new (head->store, config->block_store, error, error_size);
    head->config.block_store = NULL;
    if (!head->shards || head_store_limit_start (head, error, error_size))
        goto fail;
    head->peers = zhashx_new ();
    head->workers = zhashx_new ();
    head->nodes = zhashx_new ();
    head->clients = zhashx_new ();
    head->pools = zlistx_new ();
    head->loop = zloop_new ();
    head->locality = head_locality_new (s_locality_wait_over);
    if (!head->peers || !head->workers || !head->nodes || !head->clients || !head->pools
        || !head->loop || !head->locality) {
        snprintf (error, error_size, "out of memory");
        goto fail;
    }
    zhashx_set_destructor (head->peers, head_peer_free);
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
    if (head->zap) {
        zmq_pollitem_t zap_item = { NULL, zsock_fd (head->zap), ZMQ_POLLIN, 0 };
        if (zloop_poller (head->loop, &zap_item, s_on_zap, head)) {
            snprintf (error, error_size, "cannot watch the ZAP handler");
            goto fail;
        }
        zsock_events (head->zap); /* arms ZMQ_FD (see s_on_zap) */
    }
    zloop_timer (head->loop, (size_t)config->heartbeat_ms, 0, s_on_heartbeat, head);
    head->last_tick = zclock_mono ();
    if (head_lifetimes_start (head)) {
        snprintf (error, error_size, "cannot start the block sweep");
        goto fail;
    }
    if (head_watch_start (head))
        zsys_warning ("pool-head: cannot monitor the socket: lost peers are found "
                      "by missed heartbeats only");
    if (config->http_port) {
        head->http
            = head_http_new (head, config->insecure ? NULL : password, error, error_size);
        if (!head->http)
            goto fail;
        zsys_info ("pool-head: HTTP on %s port %d (%s)", config->http_bind,
                   head_http_port (head->http),
                   head_http_auth (head->http) ? "the password is needed"
                                               : "loopback, no password");
    }
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
    head_http_destroy (&head->http);
    head_results_out_destroy (head);
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
    head_locality_destroy (&head->locality);
    zlistx_destroy (&head->pools);
    zsock_destroy (&head->router);
    zsock_destroy (&head->zap);
    head_store_limit_stop (head);
    head_shards_destroy (&head->shards);
    head_store_destroy (&head->store);
    head_job_cache_free ();
    sodium_memzero (&head->keys, sizeof head->keys);
    free (head);
    *head_p = NULL;
}
