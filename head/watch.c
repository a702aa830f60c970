/*  head/watch.c - noticing at once that a peer's connection closed.
    See watch.h. */
#include "watch.h"
#include "peers.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

/* After a disconnection, libzmq drops the routing id once the ROUTER has
   taken in the pipe's termination, which its I/O thread sends just after
   the monitor's event: the head probes at once and again 2 ms later (by
   when the termination has nearly always come), each time only when no
   message waits on the ROUTER (s_probe_quick), then soon, and once more
   a bit later, whatever waits. */
#define PROBE_NEXT_MS 2
#define PROBE_SOON_MS 20
#define PROBE_LATER_MS 250

void
head_watch_probe (head_t *head, bool expire_silent)
{
    int64_t now = zclock_mono ();
    int64_t dead_after = (int64_t)head->config.heartbeat_ms * head->config.liveness;
    if (expire_silent) {
        /* A head that was itself stopped or stalled (SIGSTOP, a swapped-out
           machine) heard nobody meanwhile: its own gap is not the peers'
           silence. */
        int64_t gap
            = head->last_tick ? now - head->last_tick - head->config.heartbeat_ms : 0;
        if (gap > head->config.heartbeat_ms) {
            zsys_warning ("pool-head: this process was stopped or stalled for %lld ms; "
                          "not counting that against its peers",
                          (long long)gap);
            for (head_peer_t *peer = zhashx_first (head->peers); peer;
                 peer = zhashx_next (head->peers))
                peer->last_seen
                    = peer->last_seen + gap < now ? peer->last_seen + gap : now;
        }
        head->last_tick = now;
    }
    zlist_t *lost = zlist_new ();
    if (!lost)
        return;
    proto_msg_t beat;
    proto_msg_init (&beat, PROTO_HEARTBEAT);
    for (head_peer_t *peer = zhashx_first (head->peers); peer;
         peer = zhashx_next (head->peers)) {
        /* Workers are their node's to report; on the timer they still get
           a heartbeat (they watch the head's silence).  A worker whose
           node is gone (it rejoined after its node was lost, or before its
           node came back) has nobody to report it: it is judged as any
           other peer, or the jobs it holds would wait for ever once it
           dies. */
        bool vouched = peer->role == PROTO_ROLE_WORKER
                       && zhashx_lookup (head->nodes, peer->node) != NULL;
        if (vouched && !expire_silent)
            continue;
        int rc = proto_msg_send_router (&beat, head->router, peer->rid);
        if (vouched)
            continue;
        if (rc != PROTO_OK && zmq_errno () == EHOSTUNREACH) {
            peer->lost_why = "connection closed";
            zlist_append (lost, peer);
        } else if (expire_silent && now - peer->last_seen > dead_after) {
            /* Nodes vouch for their workers (a worker deep in a long job
               cannot heartbeat), liveness links for their clients (a
               program busy between calls does not talk to us); status
               peers are one-shot.  Everything else that falls silent is
               gone. */
            peer->lost_why = "missed heartbeats";
            zlist_append (lost, peer);
        }
    }
    proto_msg_reset (&beat);
    head_peer_t *peer;
    while ((peer = zlist_pop (lost)))
        head_peer_lost (head, peer, peer->lost_why);
    zlist_destroy (&lost);
}

static int
s_on_probe (zloop_t *loop, int timer_id, void *arg)
{
    head_t *head = arg;
    head->watch_timers--;
    /* ZMQ_EVENTS has libzmq process the commands waiting for the ROUTER,
       a closed connection's pipe termination among them; a send would
       not when it did so less than a millisecond ago. */
    zsock_events (head->router);
    head_watch_probe (head, false);
    return 0;
}

/*  A peer's last words (a worker's RESULT, its BYE) come before its
    connection closes, and may still wait on the ROUTER when the monitor
    tells of the close: read them first, or the job a worker answered as
    it left goes back to the queue and runs twice (a SIGTERM'd node's
    worker did, under ASan).  So a quick probe is made only when nothing
    waits; ZMQ_EVENTS also has libzmq take in the pipe terminations. */
static void
s_probe_quick (head_t *head)
{
    if (!(zsock_events (head->router) & ZMQ_POLLIN))
        head_watch_probe (head, false);
}

static int
s_on_probe_quick (zloop_t *loop, int timer_id, void *arg)
{
    head_t *head = arg;
    head->watch_timers--;
    s_probe_quick (head);
    return 0;
}

/*  Monitor events: [u16 event, u32 value] and the endpoint.  The monitor
    socket is watched through its ZMQ_FD (as the ZAP socket, server.c):
    idle but for disconnections, as a zloop reader it would cost the head
    four system calls on every message it wakes for.  Its events are
    drained until ZMQ_EVENTS shows none. */
static int
s_on_event (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    head_t *head = arg;
    zsock_t *monitor = head->watch;
    bool disconnected = false;
    while (zsock_events (monitor) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (monitor);
        zframe_t *first = msg ? zmsg_first (msg) : NULL;
        if (first && zframe_size (first) >= 2) {
            uint16_t event;
            memcpy (&event, zframe_data (first), sizeof event);
            disconnected |= event == ZMQ_EVENT_DISCONNECTED;
        }
        zmsg_destroy (&msg);
    }
    /* One round of probes in flight covers any number of disconnections. */
    if (disconnected && head->watch_timers == 0) {
        s_probe_quick (head);
        if (zloop_timer (loop, PROBE_NEXT_MS, 1, s_on_probe_quick, head) >= 0)
            head->watch_timers++;
        if (zloop_timer (loop, PROBE_SOON_MS, 1, s_on_probe, head) >= 0)
            head->watch_timers++;
        if (zloop_timer (loop, PROBE_LATER_MS, 1, s_on_probe, head) >= 0)
            head->watch_timers++;
    }
    return 0;
}

int
head_watch_start (head_t *head)
{
    zsock_set_router_mandatory (head->router, 1);
    char endpoint[64];
    static uint32_t s_count = 0;
    snprintf (endpoint, sizeof endpoint, "inproc://head-watch-%d-%u", (int)getpid (),
              ++s_count);
    if (zmq_socket_monitor (zsock_resolve (head->router), endpoint,
                            ZMQ_EVENT_DISCONNECTED)
        != 0)
        return -1;
    head->watch = zsock_new_pair (endpoint);
    zmq_pollitem_t item
        = { NULL, head->watch ? zsock_fd (head->watch) : -1, ZMQ_POLLIN, 0 };
    if (!head->watch || zloop_poller (head->loop, &item, s_on_event, head)) {
        head_watch_stop (head);
        return -1;
    }
    /* A pipe nobody has read yet does not signal its first message: one
       look arms ZMQ_FD for the first event. */
    zsock_events (head->watch);
    return 0;
}

void
head_watch_stop (head_t *head)
{
    if (!head->watch)
        return;
    zmq_pollitem_t item = { NULL, zsock_fd (head->watch), ZMQ_POLLIN, 0 };
    zloop_poller_end (head->loop, &item);
    zmq_socket_monitor (zsock_resolve (head->router), NULL, 0);
    zsock_destroy (&head->watch);
}
