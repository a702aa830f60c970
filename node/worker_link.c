/*  node/worker_link.c - a pool-worker's connection to the head.
    See worker_link.h. */
#include "worker_link.h"
#include "link.h"
#include "shm.h"
#include "views.h"
#include "heartbeat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_S 10.0

struct worker_link {
    const worker_args_t *args; /* borrowed */
    proto_keys_t keys;
    const volatile sig_atomic_t *stop;      /* borrowed: SIGTERM's flag */
    char host_key[PROTO_HOST_KEY_SIZE + 1]; /* "" when not sharing */
    proto_link_t *link;                     /* NULL while not connected */
    zsock_t *sock;                          /* the link's, borrowed */
    zpoller_t *poller;
    proto_heartbeat_t beat; /* silence_ms: liveness x heartbeat */
    int liveness;
    uint64_t head_epoch; /* the head we talk to (its WELCOME's epoch) */
};

/*  User code that calls exit() ends the process from inside a run: the
    link is let go before CZMQ's own exit handler (registered earlier, so
    run later) would report it as a dangling socket.  Nothing is sent:
    the node reports the exit, and the head charges the run.  atexit takes
    no argument: the process's one link is kept here. */
static worker_link_t *s_exiting_link;

static void
s_at_exit (void)
{
    worker_link_t *self = s_exiting_link;
    if (!self || !self->link)
        return;
    zpoller_destroy (&self->poller);
    /* A short linger, not 0: a pipe dropped at once while a multi-frame
       message is on its way can trip an assertion in libzmq 4.3.4. */
    zsock_set_linger (proto_link_sock (self->link), 100);
    proto_link_destroy (&self->link);
    self->sock = NULL;
}

worker_link_t *
worker_link_new (const worker_args_t *args, const volatile sig_atomic_t *stop,
                 char *error, size_t error_size)
{
    worker_link_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    const char *keys = getenv (PROTO_KEYS_ENV);
    if (!keys || proto_keys_import (&self->keys, keys)) {
        snprintf (error, error_size, "%s is %s", PROTO_KEYS_ENV,
                  keys ? "malformed" : "not set (pool-worker is started by start_node)");
        free (self);
        return NULL;
    }
    self->args = args;
    self->stop = stop;
    if (proto_host_key (self->host_key))
        self->host_key[0] = 0;
    return self;
}

void
worker_link_destroy (worker_link_t **self)
{
    if (!*self)
        return;
    worker_link_disconnect (*self);
    if (s_exiting_link == *self)
        s_exiting_link = NULL;
    free (*self);
    *self = NULL;
}

/*  HELLO of a worker (proto_hello_t): id, node, text "cpu" or "GPU <index> <name>",
    its GPU, its pid and host key, and the pool it would rejoin. */
static int
s_build_hello (worker_link_t *self, const worker_rejoin_t *rejoin, proto_msg_t *hello)
{
    const worker_args_t *args = self->args;
    bool gpu = args->gpu_index >= 0;
    char text[PROTO_ID_MAX + 32];
    if (gpu)
        snprintf (text, sizeof text, "GPU %d %s", args->gpu_index, args->gpu_name);
    else
        snprintf (text, sizeof text, "cpu");
    /* The pid tells the head which process of this slot a WORKER_DIED
       from the node is about; the host key lets it send inputs of
       clients on this host by shared memory. */
    proto_hello_t said = { .role = PROTO_ROLE_WORKER,
                           .text = text,
                           .pid = (uint64_t)getpid (),
                           .has_gpu = gpu,
                           .gpu_index = gpu ? (uint64_t)args->gpu_index : 0,
                           .gpu_memory = gpu ? args->gpu_memory : 0 };
    snprintf (said.id, sizeof said.id, "%s", args->id);
    snprintf (said.node, sizeof said.node, "%s", args->node);
    snprintf (said.host, sizeof said.host, "%s", self->host_key);
    /* A worker with a pool loaded asks to rejoin it: the pool, its
       library's and init data's hashes, the updates it applied and the
       head that assigned it. */
    if (rejoin) {
        said.rejoin = true;
        said.pool = rejoin->pool;
        memcpy (said.lib_hash, rejoin->lib_hash, PROTO_HASH_SIZE);
        memcpy (said.init_hash, rejoin->init_hash, PROTO_HASH_SIZE);
        said.useq = rejoin->useq_applied;
        said.epoch = rejoin->pool_epoch;
    }
    return proto_hello_set (hello, &said);
}

int
worker_link_connect (worker_link_t *self, const worker_rejoin_t *rejoin)
{
    const char *id = self->args->id;
    int stalls = 0; /* stalled handshakes in a row (PROTO_LINK_EHANDSHAKE) */
    while (!*self->stop) {
        proto_msg_t hello;
        proto_msg_init (&hello, PROTO_HELLO);
        int rc = s_build_hello (self, rejoin, &hello);
        if (rc != PROTO_OK) {
            proto_msg_reset (&hello);
            zsys_error ("worker %s: cannot build HELLO", id);
            return WORKER_LINK_EFAILED;
        }
        char error[512] = "";
        proto_msg_t welcome;
        proto_msg_init (&welcome, 0);
        rc = proto_link_connect (&self->link, self->args->server, &self->keys, &hello,
                                 CONNECT_TIMEOUT_S, &welcome, error, sizeof error);
        proto_msg_reset (&hello);
        proto_welcome_t said;
        proto_welcome_get (&welcome, &said);
        self->head_epoch = said.epoch;
        proto_msg_reset (&welcome);
        if (rc == PROTO_OK) {
            self->sock = proto_link_sock (self->link);
            int heartbeat_ms = proto_link_heartbeat_ms (self->link);
            self->liveness = proto_link_liveness (self->link);
            proto_heartbeat_init (&self->beat, heartbeat_ms,
                                  (int64_t)heartbeat_ms * self->liveness, zclock_mono ());
            self->poller = zpoller_new (self->sock, NULL);
            if (!self->poller) {
                zsys_error ("worker %s: cannot create a poller", id);
                return WORKER_LINK_EFAILED;
            }
            if (!s_exiting_link) {
                /* After the first socket: CZMQ's handler is in place. */
                s_exiting_link = self;
                atexit (s_at_exit);
            }
            zsys_info ("worker %s: connected to %s (heartbeat %d ms, liveness %d)", id,
                       self->args->server, heartbeat_ms, self->liveness);
            return 0;
        }
        zsys_error ("worker %s: %s", id, error);
        /* A stalled handshake: a lossy network, or keys that differ; three
           in a row are the keys. */
        stalls = rc == PROTO_LINK_EHANDSHAKE ? stalls + 1 : 0;
        if (rc == PROTO_LINK_EAUTH || stalls >= 3)
            return WORKER_LINK_EAUTH;
        if (rc == PROTO_LINK_EHANDSHAKE)
            continue;
        if (rc == PROTO_LINK_EREFUSED) {
            /* The head's machine answers, the head does not (it is being
               restarted): a second, then again. */
            for (int i = 0; i < 10 && !*self->stop; i++)
                zclock_sleep (100);
            continue;
        }
        if (rc != PROTO_LINK_ECONNECT)
            return WORKER_LINK_EFAILED;
        /* ECONNECT already waited CONNECT_TIMEOUT_S (or was interrupted by
           a signal, which the loop condition sees): try again. */
    }
    return WORKER_LINK_ESTOPPED;
}

void
worker_link_disconnect (worker_link_t *self)
{
    zpoller_destroy (&self->poller);
    proto_link_destroy (&self->link);
    self->sock = NULL;
}

bool
worker_link_connected (const worker_link_t *self)
{
    return self->sock != NULL;
}

int
worker_link_send (worker_link_t *self, proto_msg_t *msg)
{
    int rc = worker_link_send_kept (self, msg);
    proto_msg_reset (msg);
    return rc;
}

int
worker_link_send_kept (worker_link_t *self, proto_msg_t *msg)
{
    int rc = proto_msg_send (msg, zsock_resolve (self->sock));
    if (rc != PROTO_OK) {
        zsys_error ("worker %s: cannot send %s (%d)", self->args->id,
                    proto_type_name (msg->type), rc);
        return -1;
    }
    proto_heartbeat_sent (&self->beat, zclock_mono ());
    return 0;
}

int
worker_link_send_bare (worker_link_t *self, proto_type_t type)
{
    proto_msg_t msg;
    proto_msg_init (&msg, type);
    return worker_link_send (self, &msg);
}

int
worker_link_send_error (worker_link_t *self, int64_t code, const char *text)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_ERROR);
    proto_msg_set_code (&msg, code);
    if (proto_msg_set_text (&msg, "%s", text) != PROTO_OK)
        proto_msg_set_text (&msg, "(reason too long)");
    return worker_link_send (self, &msg);
}

int
worker_link_heartbeat (worker_link_t *self, int64_t now)
{
    if (!proto_heartbeat_due (&self->beat, now))
        return 0;
    return worker_link_send_bare (self, PROTO_HEARTBEAT) ? -1 : 1;
}

int64_t
worker_link_heartbeat_in (const worker_link_t *self, int64_t now)
{
    return self->beat.last_sent + self->beat.heartbeat_ms - now;
}

bool
worker_link_readable (worker_link_t *self)
{
    return (zsock_events (self->sock) & ZMQ_POLLIN) != 0;
}

int
worker_link_recv (worker_link_t *self, proto_msg_t *msg, char *reason, size_t reason_size)
{
    /* A big input stays in its pieces: worker_run copies it into a
       buffer it reuses, not a fresh one of the whole size each time. */
    msg->keep_pieces = true;
    int rc = proto_msg_recv (msg, zsock_resolve (self->sock), reason, reason_size);
    if (rc != PROTO_EIO)
        proto_heartbeat_heard (&self->beat, zclock_mono ());
    return rc;
}

bool
worker_link_wait (worker_link_t *self, int ms)
{
    return zpoller_wait (self->poller, ms) != NULL;
}

int64_t
worker_link_silence (const worker_link_t *self, int64_t now)
{
    return proto_heartbeat_silence (&self->beat, now);
}

bool
worker_link_still_receiving (worker_link_t *self, int64_t now)
{
    int quiet = proto_link_quiet_ms (self->link);
    if (quiet < 0 || quiet >= self->beat.heartbeat_ms)
        return false;
    proto_heartbeat_heard (&self->beat, now - quiet);
    return true;
}

int
worker_link_heartbeat_ms (const worker_link_t *self)
{
    return (int)self->beat.heartbeat_ms;
}

int
worker_link_liveness (const worker_link_t *self)
{
    return self->liveness;
}

uint64_t
worker_link_head_epoch (const worker_link_t *self)
{
    return self->head_epoch;
}

const proto_keys_t *
worker_link_keys (const worker_link_t *self)
{
    return &self->keys;
}

const char *
worker_link_server (const worker_link_t *self)
{
    return self->args->server;
}
