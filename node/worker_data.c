/*  node/worker_data.c - a worker's side of the data plane.  See
    worker_data.h. */
#include "worker_data.h"
#include "direct.h"
#include "link.h"
#include "relay.h"

#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker_data {
    const char *id;
    proto_keys_t keys;
    char head[PROTO_ID_MAX * 2]; /* the head's endpoint (the relay), or "" */
    zsock_t *sock;               /* DEALER to endpoint or the head, or NULL */
    bool proven;                 /* sock has had an answer: it is connected */
    bool relayed;                /* sock goes to the head, for pool */
    uint64_t pool;
    char endpoint[80];    /* the client's endpoint sock serves */
    char unreachable[80]; /* an endpoint that never answered: not tried
                             again, its chunks go through the head's relay */
    char unrelayed[80];   /* an endpoint the head had no relay to either:
                             its pool's payloads go through the head in
                             messages, without a wait each, until
                             unrelayed_until (the relay may be back: a
                             client that reconnected, a restarted head) */
    int64_t unrelayed_until;
    uint8_t *buffer; /* the last input fetched, reused */
    size_t buffer_cap;
};

worker_data_t *
worker_data_new (const char *id, const proto_keys_t *keys, const char *head)
{
    worker_data_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->id = id;
    self->keys = *keys;
    if (!head || proto_endpoint (head, self->head, sizeof self->head))
        self->head[0] = 0;
    return self;
}

static void
s_disconnect (worker_data_t *self)
{
    zsock_destroy (&self->sock); /* linger 0: whatever was in flight goes */
    self->endpoint[0] = 0;
    self->proven = false;
    self->relayed = false;
}

void
worker_data_destroy (worker_data_t **self_p)
{
    worker_data_t *self = *self_p;
    if (!self)
        return;
    s_disconnect (self);
    free (self->buffer);
    sodium_memzero (&self->keys, sizeof self->keys);
    free (self);
    *self_p = NULL;
}

/*  Whether the head's relay to endpoint failed lately. */
static bool
s_unrelayed (const worker_data_t *self, const char *endpoint)
{
    return streq (self->unrelayed, endpoint) && zclock_mono () < self->unrelayed_until;
}

static void
s_mark_unrelayed (worker_data_t *self)
{
    snprintf (self->unrelayed, sizeof self->unrelayed, "%s", self->endpoint);
    self->unrelayed_until = zclock_mono () + WORKER_DATA_RELAY_RETRY_MS;
}

/*  The connection serving endpoint for pool, made when there is none or
    it goes elsewhere: to the endpoint, or to the head's relay once the
    endpoint did not answer.  0, or -1 with why. */
static int
s_connect (worker_data_t *self, const char *endpoint, uint64_t pool, char *why,
           size_t why_size)
{
    if (self->sock && streq (self->endpoint, endpoint)
        && (!self->relayed || self->pool == pool))
        return 0;
    s_disconnect (self);
    bool relayed = streq (self->unreachable, endpoint);
    if (relayed && (!self->head[0] || s_unrelayed (self, endpoint))) {
        snprintf (why, why_size,
                  "the client at %s did not answer before, and the head "
                  "relays nothing to it",
                  endpoint);
        return -1;
    }
    if (strlen (endpoint) >= sizeof self->endpoint) {
        snprintf (why, why_size, "data endpoint name too long");
        return -1;
    }
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock) {
        snprintf (why, why_size, "cannot make a socket");
        return -1;
    }
    zsock_set_linger (self->sock, 0);
    zsock_set_maxmsgsize (self->sock, (int64_t)PROTO_DIRECT_CHUNK + 4096);
    const char *to = relayed ? self->head : endpoint;
    if (proto_keys_apply_client (&self->keys, self->sock)
        || zsock_connect (self->sock, "%s", to)) {
        snprintf (why, why_size, "cannot connect to %s", to);
        s_disconnect (self);
        return -1;
    }
    snprintf (self->endpoint, sizeof self->endpoint, "%s", endpoint);
    self->relayed = relayed;
    self->pool = pool;
    return 0;
}

static int
s_send (worker_data_t *self, const proto_direct_t *head, zframe_t **body)
{
    zmsg_t *msg = proto_direct_encode (head, body);
    if (msg && self->relayed) {
        uint8_t relay[PROTO_RELAY_FRAME];
        proto_relay_frame (PROTO_RELAY_REQUEST, self->pool, relay);
        if (zmsg_pushmem (msg, relay, sizeof relay))
            zmsg_destroy (&msg);
    }
    return msg && zmsg_send (&msg, self->sock) == 0 ? 0 : -1;
}

/*  The next answer, within ms: 0 with *head and *msg (the caller's, holding
 *body), or -1 (WORKER_DATA_EREFUSED when the client answered ERR) with
    why; the connection is then dropped. */
static int
s_answer (worker_data_t *self, int ms, proto_direct_t *head, zmsg_t **msg,
          zframe_t **body, char *why, size_t why_size)
{
    *msg = NULL;
    zpoller_t *poller = zpoller_new (self->sock, NULL);
    bool ready = poller && zpoller_wait (poller, ms) == self->sock;
    zpoller_destroy (&poller);
    if (ready)
        *msg = zmsg_recv (self->sock);
    char reason[96];
    proto_relay_t relay;
    const char *via = self->relayed ? " through the head" : "";
    if (!*msg) {
        snprintf (why, why_size, "no answer from the client at %s%s within %.1f s",
                  self->endpoint, via, ms / 1000.0);
        if (self->relayed)
            s_mark_unrelayed (self);
        else if (!self->proven) /* never connected: not reachable from here */
            snprintf (self->unreachable, sizeof self->unreachable, "%s", self->endpoint);
    } else if (self->relayed && proto_relay_read (zmsg_first (*msg), &relay)) {
        snprintf (why, why_size, "the head relays nothing to the client at %s",
                  self->endpoint);
        s_mark_unrelayed (self);
    } else if (proto_direct_decode (*msg, head, body, reason, sizeof reason))
        snprintf (why, why_size, "from the client at %s: %s", self->endpoint, reason);
    else if ((self->proven = true), head->kind == PROTO_DIRECT_ERR) {
        snprintf (why, why_size, "the client at %s%s said: %.*s", self->endpoint, via,
                  (int)zframe_size (*body), (const char *)zframe_data (*body));
        zmsg_destroy (msg);
        s_disconnect (self);
        return WORKER_DATA_EREFUSED;
    } else
        return 0;
    zmsg_destroy (msg);
    s_disconnect (self);
    return -1;
}

/*  Room for size bytes in the reused buffer: 0, or -1. */
static int
s_reserve (worker_data_t *self, size_t size)
{
    /* Kept from job to job (its pages stay mapped), but not a huge one
       for small inputs that follow. */
    if (size <= self->buffer_cap
        && (self->buffer_cap <= (256u << 20) || size > self->buffer_cap / 4))
        return 0;
    free (self->buffer);
    self->buffer = NULL;
    self->buffer_cap = 0;
    void *fresh;
    if (posix_memalign (&fresh, 64, size ? size : 1))
        return -1;
    self->buffer = fresh;
    self->buffer_cap = size;
    return 0;
}

/*  Asks for (GET) or sends (PUT, its bytes from data) the chunk of a
    transfer of total bytes that starts at offset: 0 with *length, or -1
    with why (disconnected). */
static int
s_request (worker_data_t *self, proto_direct_kind_t kind, uint64_t key, uint64_t attempt,
           uint64_t offset, uint64_t total, const uint8_t *data, uint64_t *length,
           char *why, size_t why_size)
{
    *length = total - offset < PROTO_DIRECT_CHUNK ? total - offset : PROTO_DIRECT_CHUNK;
    proto_direct_t request = { .kind = kind,
                               .key = key,
                               .attempt = attempt,
                               .offset = offset,
                               .length = *length,
                               .total = total };
    zframe_t *body = data ? zframe_new (data + offset, (size_t)*length) : NULL;
    if ((data && !body) || s_send (self, &request, data ? &body : NULL)) {
        snprintf (why, why_size, "cannot send to %s", self->endpoint);
        s_disconnect (self);
        return -1;
    }
    return 0;
}

/*  The answer of kind to the chunk at offset (one connection answers in
    order): 0 with *msg (the caller's) and *head, *body in it, or -1 with
    why (disconnected). */
static int
s_expect (worker_data_t *self, proto_direct_kind_t kind, uint64_t key, uint64_t attempt,
          uint64_t offset, uint64_t total, zmsg_t **msg, proto_direct_t *head,
          zframe_t **body, char *why, size_t why_size)
{
    /* Through the relay the head is known to answer, but each chunk
       crosses two links in turn before the first answer: no short wait. */
    int ms
        = self->proven || self->relayed ? WORKER_DATA_STALL_MS : WORKER_DATA_CONNECT_MS;
    int rc = s_answer (self, ms, head, msg, body, why, why_size);
    if (rc)
        return rc;
    if (head->kind == kind && head->key == key && head->attempt == attempt
        && head->offset == offset && head->total == total)
        return 0;
    zmsg_destroy (msg);
    snprintf (why, why_size, "the client at %s answered another chunk", self->endpoint);
    s_disconnect (self);
    return -1;
}

bool
worker_data_reachable (const worker_data_t *self, const char *endpoint)
{
    return !streq (self->unreachable, endpoint)
           || (self->head[0] && !s_unrelayed (self, endpoint));
}

/*  Whether a transfer that failed (rc) on a direct connection to endpoint
    goes again through the head: the endpoint did not answer just now, and
    the relay was not tried yet. */
static bool
s_again (const worker_data_t *self, int rc, bool was_relayed, const char *endpoint)
{
    return rc == -1 && !was_relayed && streq (self->unreachable, endpoint)
           && worker_data_reachable (self, endpoint);
}

/*  Says once per endpoint, after the first transfer through the relay,
    that its chunks go through the head now. */
static void
s_log_relay (const worker_data_t *self, const char *why)
{
    zsys_warning ("worker %s: %s; its chunks go through the head's relay from now on",
                  self->id, why);
}

/*  One transfer: an input fetched (data NULL: GET chunks into the reused
    buffer, key the input's) or an output put (data: PUT chunks of it, key
    the job id). */
typedef struct {
    uint64_t key, attempt;
    const uint8_t *data;
    uint64_t size;
} s_transfer_t;

/*  Runs t on the connection serving endpoint for pool, a window of chunks
    in flight: 0, or -1 or WORKER_DATA_EREFUSED with why. */
static int
s_transfer (worker_data_t *self, const char *endpoint, uint64_t pool,
            const s_transfer_t *t, char *why, size_t why_size)
{
    if (s_connect (self, endpoint, pool, why, why_size))
        return -1;
    bool put = t->data != NULL;
    proto_direct_kind_t ask = put ? PROTO_DIRECT_PUT : PROTO_DIRECT_GET;
    proto_direct_kind_t answer = put ? PROTO_DIRECT_ACK : PROTO_DIRECT_DATA;
    uint64_t asked = 0, done = 0, length;
    int inflight = 0;
    while (done < t->size) {
        for (; inflight < PROTO_DIRECT_WINDOW && asked < t->size;
             inflight++, asked += length)
            if (s_request (self, ask, t->key, t->attempt, asked, t->size, t->data,
                           &length, why, why_size))
                return -1;
        proto_direct_t head;
        zmsg_t *msg;
        zframe_t *body;
        int rc = s_expect (self, answer, t->key, t->attempt, done, t->size, &msg, &head,
                           &body, why, why_size);
        if (rc)
            return rc;
        if (!put)
            memcpy (self->buffer + done, zframe_data (body), head.length);
        done += head.length;
        inflight--;
        zmsg_destroy (&msg);
    }
    return 0;
}

/*  s_transfer, and once more through the head's relay when the endpoint
    did not answer just now. */
static int
s_transfer_or_relay (worker_data_t *self, const char *endpoint, uint64_t pool,
                     const s_transfer_t *t, char *why, size_t why_size)
{
    bool was_relayed = streq (self->unreachable, endpoint);
    int rc = s_transfer (self, endpoint, pool, t, why, why_size);
    if (s_again (self, rc, was_relayed, endpoint)) {
        char first[256];
        snprintf (first, sizeof first, "%s", why);
        rc = s_transfer (self, endpoint, pool, t, why, why_size);
        if (rc == 0)
            s_log_relay (self, first);
    }
    return rc;
}

int
worker_data_fetch (worker_data_t *self, const char *endpoint, uint64_t pool, uint64_t key,
                   uint64_t size, const void **data, char *why, size_t why_size)
{
    *data = NULL;
    if (size == 0 || size > PROTO_DIRECT_TOTAL_MAX || s_reserve (self, (size_t)size)) {
        snprintf (why, why_size, "no memory for an input of %llu bytes",
                  (unsigned long long)size);
        return -1;
    }
    s_transfer_t t = { .key = key, .size = size };
    int rc = s_transfer_or_relay (self, endpoint, pool, &t, why, why_size);
    if (rc == 0)
        *data = self->buffer;
    return rc;
}

int
worker_data_put (worker_data_t *self, const char *endpoint, uint64_t pool, uint64_t id,
                 uint64_t attempt, const void *data, size_t size, char *why,
                 size_t why_size)
{
    if (size == 0)
        return 0;
    s_transfer_t t = { .key = id, .attempt = attempt, .data = data, .size = size };
    return s_transfer_or_relay (self, endpoint, pool, &t, why, why_size);
}
