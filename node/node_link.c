/*  node/node_link.c - start_node's link to the head.  See node_link.h. */
#include "node_link.h"
#include "proto/link.h"
#include "views.h"
#include "heartbeat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECONNECT_MS 1000 /* between attempts when the head is gone */

struct node_link {
    const supervisor_config_t *config; /* borrowed */
    zloop_t *loop;                     /* borrowed */
    node_link_events_t events;
    proto_link_t *link; /* NULL while the head is away */
    int liveness;
    proto_heartbeat_t beat; /* silence_ms: liveness x heartbeat; the
                               zloop timer sends the beats */
    const char *forgot;     /* why the head must be joined again, or NULL */
    int heartbeat_timer;
    int reconnect_timer; /* -1 unless reconnecting */
    char reconnect_error[512];
    bool stopping; /* said BYE when it could: sends nothing more */
};

node_link_t *
node_link_new (const supervisor_config_t *config, zloop_t *loop,
               const node_link_events_t *events)
{
    node_link_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    self->loop = loop;
    self->events = *events;
    self->liveness = 3;
    proto_heartbeat_init (&self->beat, 1000, 3000, zclock_mono ());
    self->heartbeat_timer = -1;
    self->reconnect_timer = -1;
    return self;
}

void
node_link_destroy (node_link_t **self)
{
    if (!*self)
        return;
    node_link_down (*self);
    free (*self);
    *self = NULL;
}

int
node_link_connect (node_link_t *self, double timeout, char *error, size_t error_size)
{
    char hostname[256] = "localhost";
    gethostname (hostname, sizeof hostname - 1);
    hostname[sizeof hostname - 1] = 0;

    proto_msg_t hello;
    proto_msg_init (&hello, PROTO_HELLO);
    proto_hello_t said = { .role = PROTO_ROLE_NODE,
                           .text = hostname,
                           .worker_slots = self->config->nslots };
    snprintf (said.id, sizeof said.id, "%s", self->config->node_id);
    proto_hello_set (&hello, &said);
    int rc = proto_link_connect (&self->link, self->config->server, self->config->keys,
                                 &hello, timeout, NULL, error, error_size);
    proto_msg_reset (&hello);
    if (rc != PROTO_OK)
        return rc;
    int heartbeat_ms = proto_link_heartbeat_ms (self->link);
    self->liveness = proto_link_liveness (self->link);
    proto_heartbeat_init (&self->beat, heartbeat_ms,
                          (int64_t)heartbeat_ms * self->liveness, zclock_mono ());
    return 0;
}

void
node_link_send (node_link_t *self, proto_msg_t *msg)
{
    /* After the BYE the head no longer knows the node: a worker's end or
       its last lines would only come back as ERROR "unknown peer" (the
       lines are in the node's log all the same). */
    if (self->link && !self->stopping
        && proto_msg_send (msg, zsock_resolve (proto_link_sock (self->link))) != PROTO_OK)
        zsys_warning ("cannot send %s to the head", proto_type_name (msg->type));
    proto_msg_reset (msg);
}

static int
s_head_message (zloop_t *loop, zsock_t *sock, void *arg)
{
    node_link_t *self = arg;
    proto_msg_t msg;
    proto_msg_init (&msg, 0);
    char reason[256];
    int rc = proto_msg_recv (&msg, zsock_resolve (sock), reason, sizeof reason);
    if (rc == PROTO_EIO) {
        proto_msg_reset (&msg);
        return 0;
    }
    proto_heartbeat_heard (&self->beat, zclock_mono ());
    if (rc != PROTO_OK) {
        zsys_warning ("bad message from the head: %s", reason);
        proto_msg_reset (&msg);
        return 0;
    }
    switch (msg.type) {
    case PROTO_HEARTBEAT:
    case PROTO_WELCOME:
        break;
    case PROTO_DENIED:
        zsys_warning ("the head refused us: %s", msg.text ? msg.text : "");
        /* The heartbeat timer reconnects. */
        self->forgot = "the head refused us";
        break;
    case PROTO_ERROR:
        zsys_warning ("the head answered ERROR %lld: %s", (long long)msg.code,
                      msg.text ? msg.text : "");
        /* It restarted or declared us dead: the heartbeat timer reconnects
           and says HELLO again. */
        if (msg.code == PROTO_CODE_UNKNOWN_PEER)
            self->forgot = "the head no longer knows us (it restarted, or "
                           "declared us lost)";
        break;
    case PROTO_WORKER_KILL:
        self->events.kill (self->events.arg, &msg);
        break;
    case PROTO_CANCEL:
        self->events.cancel (self->events.arg, &msg);
        break;
    default:
        if (self->config->verbose)
            zsys_debug ("ignoring %s from the head", proto_type_name (msg.type));
        break;
    }
    proto_msg_reset (&msg);
    return 0;
}

static int s_heartbeat (zloop_t *loop, int timer_id, void *arg);

int
node_link_up (node_link_t *self)
{
    if (zloop_reader (self->loop, proto_link_sock (self->link), s_head_message, self))
        return -1;
    zloop_reader_set_tolerant (self->loop, proto_link_sock (self->link));
    if (self->heartbeat_timer >= 0)
        zloop_timer_end (self->loop, self->heartbeat_timer);
    self->heartbeat_timer
        = zloop_timer (self->loop, (size_t)self->beat.heartbeat_ms, 0, s_heartbeat, self);
    return self->heartbeat_timer >= 0 ? 0 : -1;
}

void
node_link_down (node_link_t *self)
{
    if (!self->link)
        return;
    zloop_reader_end (self->loop, proto_link_sock (self->link));
    zsock_set_linger (proto_link_sock (self->link), 0);
    proto_link_destroy (&self->link);
}

static int
s_reconnect (zloop_t *loop, int timer_id, void *arg)
{
    node_link_t *self = arg;
    if (self->stopping || self->link)
        return 0;
    char error[512];
    /* A short attempt: the loop is blocked meanwhile, and we retry anyway. */
    double timeout
        = self->config->connect_timeout > 0 && self->config->connect_timeout < 1
              ? self->config->connect_timeout
              : 1;
    int rc = node_link_connect (self, timeout, error, sizeof error);
    if (rc != PROTO_OK) {
        /* Log once per kind of failure, not once a second. */
        if (strcmp (error, self->reconnect_error)) {
            zsys_warning ("head still unreachable: %s; retrying every %d ms", error,
                          RECONNECT_MS);
            snprintf (self->reconnect_error, sizeof self->reconnect_error, "%s", error);
        }
        return 0;
    }
    if (node_link_up (self)) {
        zsys_error ("cannot watch the head link");
        node_link_down (self);
        return 0;
    }
    zsys_info ("reconnected to the head at %s", self->config->server);
    zloop_timer_end (loop, self->reconnect_timer);
    self->reconnect_timer = -1;
    self->reconnect_error[0] = 0;
    return 0;
}

/*  The head went quiet: drop the link and try again every second. */
static void
s_lost_head (node_link_t *self, const char *why)
{
    zsys_warning ("lost the head at %s (%s); reconnecting in the background "
                  "(workers keep running and reconnect on their own)",
                  self->config->server, why);
    node_link_down (self);
    if (self->reconnect_timer < 0)
        self->reconnect_timer
            = zloop_timer (self->loop, RECONNECT_MS, 0, s_reconnect, self);
}

static int
s_heartbeat (zloop_t *loop, int timer_id, void *arg)
{
    node_link_t *self = arg;
    if (!self->link)
        return 0;
    int64_t now = zclock_mono ();
    int64_t quiet = proto_heartbeat_silence (&self->beat, now);
    if (self->forgot || proto_heartbeat_lost (&self->beat, now)) {
        char why[128];
        if (self->forgot)
            snprintf (why, sizeof why, "%s", self->forgot);
        else
            snprintf (why, sizeof why, "nothing heard for %d ms", (int)quiet);
        self->forgot = NULL;
        s_lost_head (self, why);
        return 0;
    }
    if (!self->stopping) {
        proto_msg_t msg;
        proto_msg_init (&msg, PROTO_HEARTBEAT);
        self->events.heartbeat (self->events.arg, &msg);
        node_link_send (self, &msg);
    }
    return 0;
}

void
node_link_stop (node_link_t *self)
{
    if (self->link && !self->stopping) {
        proto_msg_t bye;
        proto_msg_init (&bye, PROTO_BYE);
        node_link_send (self, &bye);
    }
    self->stopping = true;
}

int
node_link_heartbeat_ms (const node_link_t *self)
{
    return (int)self->beat.heartbeat_ms;
}

int
node_link_liveness (const node_link_t *self)
{
    return self->liveness;
}
