/*  libpool/direct_server.c - the client's data endpoint.  See
    direct_server.h. */
#include "direct_server.h"
#include "direct.h"
#include "direct_buffers.h"
#include "link.h"
#include "relay.h"
#include "pool.h"
#include "values.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*  An input served: bytes [0, size) of fd, or at data. */
typedef struct {
    uint64_t key;
    int fd;              /* -1 when data */
    const uint8_t *data; /* borrowed */
    uint64_t size;
} offer_t;

/*  An output being put, or put and waiting for its RESULT. */
typedef struct {
    uint64_t id, attempt;
    uint64_t received; /* bytes so far, in order */
    zframe_t *frame;   /* of the output's size */
    int64_t touched;   /* zclock_mono of the last chunk */
} upload_t;

struct pool_direct {
    zactor_t *actor;
    proto_keys_t keys;
    direct_buffers_t *buffers; /* what input chunks are sent from */
    char bind[48];             /* what the socket binds */
    char advertise[48];        /* the address workers are told */
    char endpoint[PROTO_ID_MAX + 16];
    char head[PROTO_ID_MAX * 2];        /* the head's endpoint, for the relay */
    char error[160];                    /* the actor's, before it signals */
    uint8_t relay_key[PROTO_RELAY_KEY]; /* its HELLO shows it (proto/relay.h) */
    pthread_mutex_t lock;               /* offers and uploads: the pool's thread and the
                                           actor's */
    offer_t *offers;
    size_t noffers, offers_cap;
    upload_t *uploads;
    size_t nuploads, uploads_cap;
    uint64_t upload_bytes;
};

/* ---- where to listen ---------------------------------------------------- */

/*  The local address this process reaches host:port from, as the kernel's
    route says (a UDP socket connected sends nothing): 0 with out filled,
    "[...]" around an IPv6 one, or -1. */
static int
s_route_address (const char *host, const char *port, char *out, size_t size)
{
    struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *found = NULL;
    if (getaddrinfo (host, port, &hints, &found) || !found)
        return -1;
    int rc = -1;
    for (struct addrinfo *ai = found; ai && rc; ai = ai->ai_next) {
        int fd = socket (ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        struct sockaddr_storage local;
        socklen_t len = sizeof local;
        char text[INET6_ADDRSTRLEN];
        if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0
            && getsockname (fd, (struct sockaddr *)&local, &len) == 0) {
            const void *addr
                = local.ss_family == AF_INET6
                      ? (const void *)&((struct sockaddr_in6 *)&local)->sin6_addr
                      : (const void *)&((struct sockaddr_in *)&local)->sin_addr;
            if (inet_ntop (local.ss_family, addr, text, sizeof text)) {
                snprintf (out, size, local.ss_family == AF_INET6 ? "[%s]" : "%s", text);
                rc = 0;
            }
        }
        close (fd);
    }
    freeaddrinfo (found);
    return rc;
}

/*  Fills self->bind and self->advertise for a client of server: 0 or -1
    with self->error set. */
static int
s_choose_address (pool_direct_t *self, const char *server)
{
    const char *given = getenv (POOL_DIRECT_ADDRESS_ENV);
    if (given && *given && strlen (given) >= sizeof self->advertise) {
        snprintf (self->error, sizeof self->error, "$%s is too long",
                  POOL_DIRECT_ADDRESS_ENV);
        return -1;
    }
    if (given && *given) {
        /* Told: advertised as given, bound on every interface (a NAT's
           address is not this host's). */
        snprintf (self->advertise, sizeof self->advertise, "%s", given);
        snprintf (self->bind, sizeof self->bind, "*");
        return 0;
    }
    char endpoint[PROTO_ID_MAX * 2];
    if (proto_endpoint (server, endpoint, sizeof endpoint)) {
        snprintf (self->error, sizeof self->error, "'%s' is not an address", server);
        return -1;
    }
    char *host = endpoint + strlen ("tcp://");
    char *port = strrchr (host, ':');
    if (!port) {
        snprintf (self->error, sizeof self->error, "'%s' has no port", server);
        return -1;
    }
    *port++ = 0;
    if (*host == '[') { /* [v6]: without the brackets for getaddrinfo */
        host++;
        char *end = strchr (host, ']');
        if (end)
            *end = 0;
    }
    if (s_route_address (host, port, self->advertise, sizeof self->advertise)) {
        snprintf (self->error, sizeof self->error, "no route to %s", server);
        return -1;
    }
    snprintf (self->bind, sizeof self->bind, "%s", self->advertise);
    return 0;
}

/* ---- the tables (under the lock) ------------------------------------- */

static offer_t *
s_offer (pool_direct_t *self, uint64_t key)
{
    for (size_t i = 0; i < self->noffers; i++)
        if (self->offers[i].key == key)
            return &self->offers[i];
    return NULL;
}

static upload_t *
s_upload (pool_direct_t *self, uint64_t id, uint64_t attempt)
{
    for (size_t i = 0; i < self->nuploads; i++)
        if (self->uploads[i].id == id && self->uploads[i].attempt == attempt)
            return &self->uploads[i];
    return NULL;
}

static void
s_upload_drop (pool_direct_t *self, upload_t *upload)
{
    self->upload_bytes -= zframe_size (upload->frame);
    zframe_destroy (&upload->frame);
    *upload = self->uploads[--self->nuploads];
}

/* ---- the actor: requests from workers ---------------------------------- */

/*  Where an answer goes: to peer on the endpoint's ROUTER, or through the
    head on the relay's DEALER, behind [REPLY pool] and the peer
    (proto/relay.h). */
typedef struct {
    zsock_t *sock;
    zframe_t *peer;
    bool relayed;
    uint8_t relay[PROTO_RELAY_FRAME];
} s_route_t;

/*  Answers through the head never wait: with the head away the relay's
    queue could fill, and this thread must go on serving (and stop when
    told); a dropped answer is asked for again, or the worker gives up. */
static int
s_flags (const s_route_t *route)
{
    return route->relayed ? ZMQ_DONTWAIT : 0;
}

/*  Sends the frames that lead an answer on route: 0, or -1. */
static int
s_send_lead (const s_route_t *route)
{
    void *handle = zsock_resolve (route->sock);
    if (route->relayed
        && zmq_send (handle, route->relay, PROTO_RELAY_FRAME,
                     ZMQ_SNDMORE | s_flags (route))
               < 0)
        return -1;
    return zmq_send (handle, zframe_data (route->peer), zframe_size (route->peer),
                     ZMQ_SNDMORE | s_flags (route))
                   < 0
               ? -1
               : 0;
}

/*  An ERR answer to request head, saying text. */
static zmsg_t *
s_error (const proto_direct_t *head, const char *text)
{
    proto_direct_t err = { .kind = PROTO_DIRECT_ERR,
                           .key = head->key,
                           .attempt = head->attempt,
                           .offset = head->offset };
    zframe_t *body = zframe_new (text, strlen (text));
    return proto_direct_encode (&err, &body);
}

/*  GET: the chunk asked for, read from the input's memory or memfd into
    a buffer of ours and sent from it to peer as DATA.  NULL when sent (or
    dropped by the socket: the peer is gone), else the ERR to answer. */
static zmsg_t *
s_get (pool_direct_t *self, const s_route_t *route, const proto_direct_t *head)
{
    zmq_msg_t body;
    void *into;
    if (direct_buffers_msg (self->buffers, &body, head->length, &into))
        return s_error (head, "out of memory");
    pthread_mutex_lock (&self->lock);
    offer_t *offer = s_offer (self, head->key);
    size_t done = 0;
    const char *why = "cannot read the input";
    if (!offer || offer->size != head->total)
        why = "no such input here (its result came, or its map ended)";
    else if (offer->data) {
        memcpy (into, offer->data + head->offset, head->length);
        done = head->length;
    }
    while (offer && offer->fd >= 0 && done < head->length) {
        ssize_t got = pread (offer->fd, (uint8_t *)into + done, head->length - done,
                             (off_t)(head->offset + done));
        if (got <= 0 && !(got < 0 && errno == EINTR))
            break;
        done += got > 0 ? (size_t)got : 0;
    }
    pthread_mutex_unlock (&self->lock);
    if (done < head->length) {
        zmq_msg_close (&body);
        return s_error (head, why);
    }
    proto_direct_t data = *head;
    data.kind = PROTO_DIRECT_DATA;
    uint8_t header[PROTO_DIRECT_HEADER];
    proto_direct_header (&data, header);
    void *handle = zsock_resolve (route->sock);
    if (s_send_lead (route) < 0
        || zmq_send (handle, header, sizeof header, ZMQ_SNDMORE | s_flags (route)) < 0
        || zmq_msg_send (&body, handle, s_flags (route)) < 0)
        zmq_msg_close (&body); /* the peer is gone: it asks again elsewhere */
    return NULL;
}

/*  PUT: a chunk of an output, in order; ACK once it is stored. */
static zmsg_t *
s_put (pool_direct_t *self, const proto_direct_t *head, zframe_t *body)
{
    const char *refused = NULL;
    pthread_mutex_lock (&self->lock);
    upload_t *upload = s_upload (self, head->key, head->attempt);
    if (head->offset == 0 && upload)
        s_upload_drop (self, upload); /* the worker started over */
    if (head->offset == 0) {
        upload = NULL;
        if (head->total > POOL_DIRECT_UPLOADS_MAX - self->upload_bytes)
            refused = "outputs waiting here are too big now";
        else if (self->nuploads == self->uploads_cap) {
            size_t cap = self->uploads_cap ? 2 * self->uploads_cap : 16;
            upload_t *grown = realloc (self->uploads, cap * sizeof *grown);
            if (grown) {
                self->uploads = grown;
                self->uploads_cap = cap;
            }
        }
        zframe_t *frame = NULL;
        if (!refused && self->nuploads < self->uploads_cap) {
            frame = pool_values_reuse_frame (head->total);
            if (!frame)
                frame = zframe_new (NULL, head->total);
        }
        if (frame) {
            upload = &self->uploads[self->nuploads++];
            *upload
                = (upload_t){ .id = head->key, .attempt = head->attempt, .frame = frame };
            self->upload_bytes += head->total;
        } else if (!refused)
            refused = "out of memory";
    }
    if (!refused
        && (!upload || zframe_size (upload->frame) != head->total
            || upload->received != head->offset)) {
        if (upload)
            s_upload_drop (self, upload);
        refused = "chunk out of order";
    }
    if (!refused) {
        memcpy (zframe_data (upload->frame) + head->offset, zframe_data (body),
                head->length);
        upload->received += head->length;
        upload->touched = zclock_mono ();
    }
    pthread_mutex_unlock (&self->lock);
    if (refused)
        return s_error (head, refused);
    proto_direct_t ack = *head;
    ack.kind = PROTO_DIRECT_ACK;
    return proto_direct_encode (&ack, NULL);
}

/*  Sends reply (destroyed) on route, its frames already led by the route's
    own. */
static void
s_send_reply (const s_route_t *route, zmsg_t **reply)
{
    zframe_t *frame;
    int more = ZFRAME_MORE | (route->relayed ? ZFRAME_DONTWAIT : 0);
    while ((frame = zmsg_pop (*reply))) {
        int last = zmsg_size (*reply) == 0;
        if (zframe_send (&frame, route->sock, last ? more & ~ZFRAME_MORE : more)) {
            zframe_destroy (&frame);
            break;
        }
    }
    zmsg_destroy (reply);
}

/*  One request from a worker, on the endpoint's ROUTER or through the
    head on the relay: answered, or dropped when malformed (a peer that
    sends garbage gets nothing). */
static void
s_serve (pool_direct_t *self, zsock_t *sock, bool relayed)
{
    zmsg_t *msg = zmsg_recv (sock);
    s_route_t route = { .sock = sock, .relayed = relayed };
    proto_relay_t relay;
    if (relayed) { /* [REQUEST pool] [peer] ... */
        zframe_t *first = msg ? zmsg_pop (msg) : NULL;
        bool known
            = proto_relay_read (first, &relay) && relay.kind == PROTO_RELAY_REQUEST;
        zframe_destroy (&first);
        if (!known)
            zmsg_destroy (&msg);
        else
            proto_relay_frame (PROTO_RELAY_REPLY, relay.pool, route.relay);
    }
    route.peer = msg ? zmsg_pop (msg) : NULL;
    proto_direct_t head;
    zframe_t *body;
    char reason[96];
    zmsg_t *reply = NULL;
    if (route.peer
        && proto_direct_decode (msg, &head, &body, reason, sizeof reason) == 0) {
        if (head.kind == PROTO_DIRECT_GET && head.length)
            reply = s_get (self, &route, &head);
        else if (head.kind == PROTO_DIRECT_PUT && head.length)
            reply = s_put (self, &head, body);
    }
    if (reply && zmsg_prepend (reply, &route.peer) == 0
        && (!relayed || zmsg_pushmem (reply, route.relay, sizeof route.relay) == 0))
        s_send_reply (&route, &reply);
    zmsg_destroy (&reply);
    zframe_destroy (&route.peer);
    zmsg_destroy (&msg);
}

/*  The relay through the head for pool (proto/relay.h): a DEALER to the
    head, made at the first pool, saying HELLO now (and every
    PROTO_RELAY_HELLO_MS, s_actor).  NULL when it cannot be made: workers
    that cannot reach the endpoint then get their bytes the old way. */
static zsock_t *
s_relay_open (pool_direct_t *self, zsock_t *relay, zpoller_t *poller)
{
    if (relay || !self->head[0])
        return relay;
    relay = zsock_new (ZMQ_DEALER);
    if (!relay)
        return NULL;
    zsock_set_linger (relay, 0);
    zsock_set_maxmsgsize (relay, (int64_t)PROTO_DIRECT_CHUNK + 4096);
    if (proto_keys_apply_client (&self->keys, relay)
        || zsock_connect (relay, "%s", self->head) || zpoller_add (poller, relay)) {
        zsock_destroy (&relay);
        return NULL;
    }
    return relay;
}

static void
s_relay_hello (pool_direct_t *self, zsock_t *relay, uint64_t pool)
{
    uint8_t frame[PROTO_RELAY_FRAME];
    proto_relay_frame (PROTO_RELAY_HELLO, pool, frame);
    void *handle = zsock_resolve (relay);
    /* Never waits: a HELLO not queued now goes with the next one. */
    if (zmq_send (handle, frame, sizeof frame, ZMQ_DONTWAIT | ZMQ_SNDMORE)
        == sizeof frame)
        zmq_send (handle, self->relay_key, sizeof self->relay_key, ZMQ_DONTWAIT);
}

/*  Drops outputs nobody took for POOL_DIRECT_STALE_MS. */
static void
s_age (pool_direct_t *self)
{
    int64_t now = zclock_mono ();
    pthread_mutex_lock (&self->lock);
    for (size_t i = self->nuploads; i-- > 0;)
        if (now - self->uploads[i].touched > POOL_DIRECT_STALE_MS)
            s_upload_drop (self, &self->uploads[i]);
    pthread_mutex_unlock (&self->lock);
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    pool_direct_t *self = arg;
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    char bind[64];
    snprintf (bind, sizeof bind, "tcp://%s:*", self->bind);
    int port = -1;
    if (router) {
        zsock_set_linger (router, 0);
        zsock_set_maxmsgsize (router, (int64_t)PROTO_DIRECT_CHUNK + 4096);
        if (!self->keys.insecure) {
            /* A CURVE server with the cluster's keys, outside the head's
               ZAP domain: a peer must know the server key to connect. */
            zsock_set_curve_server (router, 1);
            zsock_set_curve_secretkey (router, self->keys.server_secret);
        }
        port = zsock_bind (router, "%s", bind);
    }
    if (port < 0) {
        snprintf (self->error, sizeof self->error, "cannot bind %s: %s", bind,
                  zmq_strerror (zmq_errno ()));
        zsock_destroy (&router);
        zsock_signal (pipe, 1);
        return;
    }
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://%s:%d", self->advertise,
              port);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    zsock_t *relay = NULL;
    uint64_t relay_pool = 0;
    int64_t aged = zclock_mono (), greeted = aged;
    while (poller) {
        void *which = zpoller_wait (poller, relay ? PROTO_RELAY_HELLO_MS : 1000);
        if (which == pipe) {
            zmsg_t *command = zmsg_recv (pipe);
            char *name = command ? zmsg_popstr (command) : NULL;
            bool term = !name || streq (name, "$TERM");
            if (name && streq (name, "RELAY")) {
                zframe_t *pool = zmsg_pop (command);
                if (pool && zframe_size (pool) == sizeof relay_pool) {
                    memcpy (&relay_pool, zframe_data (pool), sizeof relay_pool);
                    relay = s_relay_open (self, relay, poller);
                    if (relay)
                        s_relay_hello (self, relay, relay_pool);
                    greeted = zclock_mono ();
                }
                zframe_destroy (&pool);
            }
            free (name);
            zmsg_destroy (&command);
            if (term)
                break;
        } else if (which == router)
            s_serve (self, router, false);
        else if (which && which == relay)
            s_serve (self, relay, true);
        else if (zpoller_terminated (poller))
            break;
        int64_t now = zclock_mono ();
        if (relay && now - greeted >= PROTO_RELAY_HELLO_MS) {
            s_relay_hello (self, relay, relay_pool);
            greeted = now;
        }
        if (now - aged >= 1000) {
            s_age (self);
            aged = now;
        }
    }
    zpoller_destroy (&poller);
    zsock_destroy (&relay);
    zsock_destroy (&router);
}

/* ---- the pool's side ------------------------------------------------- */

pool_direct_t *
pool_direct_new (const char *server, const proto_keys_t *keys, char *error,
                 size_t error_size)
{
    pool_direct_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->keys = *keys;
    randombytes_buf (self->relay_key, sizeof self->relay_key);
    pthread_mutex_init (&self->lock, NULL);
    self->buffers = direct_buffers_new (PROTO_DIRECT_CHUNK, POOL_DIRECT_BUFFERS_KEEP);
    if (!self->buffers)
        snprintf (self->error, sizeof self->error, "out of memory");
    else if (s_choose_address (self, server) == 0) {
        if (proto_endpoint (server, self->head, sizeof self->head))
            self->head[0] = 0; /* no relay; s_choose_address said it is fine */
        self->actor = zactor_new (s_actor, self);
        if (self->actor && !self->endpoint[0])
            zactor_destroy (&self->actor); /* it could not bind: error says */
        else if (!self->actor)
            snprintf (self->error, sizeof self->error, "cannot start its thread");
    }
    if (!self->actor) {
        snprintf (error, error_size, "%s", self->error);
        pool_direct_destroy (&self);
    }
    return self;
}

void
pool_direct_destroy (pool_direct_t **self_p)
{
    pool_direct_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor);
    direct_buffers_release (&self->buffers);
    for (size_t i = 0; i < self->noffers; i++)
        if (self->offers[i].fd >= 0)
            close (self->offers[i].fd);
    while (self->nuploads)
        s_upload_drop (self, &self->uploads[0]);
    free (self->offers);
    free (self->uploads);
    pthread_mutex_destroy (&self->lock);
    sodium_memzero (&self->keys, sizeof self->keys);
    free (self);
    *self_p = NULL;
}

const char *
pool_direct_endpoint (const pool_direct_t *self)
{
    return self->endpoint;
}

static bool
s_relay_off (void)
{
    const char *off = getenv (POOL_DIRECT_RELAY_ENV);
    return off && (streq (off, "0") || streq (off, "off") || streq (off, "no"));
}

bool
pool_direct_relay_key (const pool_direct_t *self, uint8_t key[PROTO_RELAY_KEY])
{
    if (s_relay_off ())
        return false;
    memcpy (key, self->relay_key, PROTO_RELAY_KEY);
    return true;
}

void
pool_direct_relay (pool_direct_t *self, uint64_t pool)
{
    if (s_relay_off ())
        return;
    zframe_t *frame = zframe_new (&pool, sizeof pool);
    zmsg_t *command = zmsg_new ();
    if (frame && command && zmsg_addstr (command, "RELAY") == 0
        && zmsg_append (command, &frame) == 0)
        zmsg_send (&command, self->actor);
    zframe_destroy (&frame);
    zmsg_destroy (&command);
}

/*  Adds (or replaces) the offer of key: 0 or POOL_ENOMEM. */
static int
s_offer_add (pool_direct_t *self, offer_t fresh)
{
    pthread_mutex_lock (&self->lock);
    int rc = 0;
    offer_t *offer = s_offer (self, fresh.key);
    if (offer) { /* a key is never two live inputs: a stale one goes */
        if (offer->fd >= 0)
            close (offer->fd);
        *offer = fresh;
    } else if (self->noffers == self->offers_cap) {
        size_t cap = self->offers_cap ? 2 * self->offers_cap : 16;
        offer_t *grown = realloc (self->offers, cap * sizeof *grown);
        if (grown) {
            self->offers = grown;
            self->offers_cap = cap;
        } else
            rc = POOL_ENOMEM;
    }
    if (!offer && rc == 0)
        self->offers[self->noffers++] = fresh;
    pthread_mutex_unlock (&self->lock);
    return rc;
}

int
pool_direct_offer (pool_direct_t *self, uint64_t key, int fd, uint64_t size)
{
    int copy = fcntl (fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
        return POOL_EIO;
    int rc = s_offer_add (self, (offer_t){ .key = key, .fd = copy, .size = size });
    if (rc)
        close (copy);
    return rc;
}

int
pool_direct_offer_memory (pool_direct_t *self, uint64_t key, const void *data,
                          uint64_t size)
{
    return s_offer_add (self,
                        (offer_t){ .key = key, .fd = -1, .data = data, .size = size });
}

void
pool_direct_withdraw (pool_direct_t *self, uint64_t key)
{
    pthread_mutex_lock (&self->lock);
    offer_t *offer = s_offer (self, key);
    if (offer) {
        if (offer->fd >= 0)
            close (offer->fd);
        *offer = self->offers[--self->noffers];
    }
    pthread_mutex_unlock (&self->lock);
}

int
pool_direct_take (pool_direct_t *self, uint64_t id, uint64_t attempt, uint64_t size,
                  zframe_t **frame)
{
    *frame = NULL;
    pthread_mutex_lock (&self->lock);
    for (size_t i = self->nuploads; i-- > 0;) {
        upload_t *upload = &self->uploads[i];
        if (upload->id != id)
            continue;
        if (!*frame && upload->attempt == attempt && upload->received == size
            && zframe_size (upload->frame) == size) {
            self->upload_bytes -= size;
            *frame = upload->frame;
            upload->frame = NULL;
            *upload = self->uploads[--self->nuploads];
        } else
            s_upload_drop (self, upload);
    }
    pthread_mutex_unlock (&self->lock);
    return *frame ? 0 : -1;
}
