/*  proto/link.c - DEALER connection to the head with a watched handshake. */
#include "link.h"
#include "views.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct proto_link {
    zsock_t *sock;
    int heartbeat_ms;
    int liveness;
    int port;                         /* the head's TCP port */
    struct sockaddr_storage addrs[4]; /* the head's addresses, resolved */
    int naddrs;
};

/*  The head's addresses (host of "tcp://host:port"), for
    proto_link_quiet_ms; none when it cannot be resolved (the port alone
    then tells the connection). */
static void
s_resolve (proto_link_t *self, const char *endpoint)
{
    char host[256];
    const char *start = endpoint + 6; /* after "tcp://" */
    const char *colon = strrchr (start, ':');
    size_t len = colon ? (size_t)(colon - start) : 0;
    if (len == 0 || len >= sizeof host)
        return;
    memcpy (host, start, len);
    host[len] = 0;
    if (host[0] == '[' && host[len - 1] == ']') {
        memmove (host, host + 1, len - 2);
        host[len - 2] = 0;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *list = NULL;
    if (getaddrinfo (host, NULL, &hints, &list))
        return;
    for (struct addrinfo *it = list; it && self->naddrs < 4; it = it->ai_next)
        if (it->ai_addrlen <= sizeof self->addrs[0])
            memcpy (&self->addrs[self->naddrs++], it->ai_addr, it->ai_addrlen);
    freeaddrinfo (list);
}

/* Whether peer is one of the head's resolved addresses (any, when none). */
static bool
s_is_head (const proto_link_t *self, const struct sockaddr_storage *peer)
{
    if (self->naddrs == 0)
        return true;
    for (int i = 0; i < self->naddrs; i++) {
        const struct sockaddr_storage *a = &self->addrs[i];
        if (a->ss_family != peer->ss_family)
            continue;
        if (a->ss_family == AF_INET
            && memcmp (&((const struct sockaddr_in *)a)->sin_addr,
                       &((const struct sockaddr_in *)peer)->sin_addr,
                       sizeof (struct in_addr))
                   == 0)
            return true;
        if (a->ss_family == AF_INET6
            && memcmp (&((const struct sockaddr_in6 *)a)->sin6_addr,
                       &((const struct sockaddr_in6 *)peer)->sin6_addr,
                       sizeof (struct in6_addr))
                   == 0)
            return true;
    }
    return false;
}

int
proto_endpoint (const char *server, char *out, size_t size)
{
    if (!server || !*server)
        return -1;
    const char *rest = strncmp (server, "tcp://", 6) == 0 ? server + 6 : server;
    const char *colon = strrchr (rest, ':');
    if (!colon || colon == rest || !colon[1])
        return -1;
    /* A host of printable characters other than spaces, a port 1..65535. */
    for (const char *p = rest; p < colon; p++)
        if (*p <= ' ' || *p > '~')
            return -1;
    unsigned long port = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        port = port * 10 + (unsigned long)(*p - '0');
        if (port > 65535)
            return -1;
    }
    if (port == 0)
        return -1;
    int n = snprintf (out, size, "tcp://%s", rest);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

void
proto_new_id (char *out, const char *suffix)
{
    char host[64] = "host";
    gethostname (host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    host[24] = 0; /* keep ids short */
    uint32_t r = randombytes_random ();
    snprintf (out, PROTO_ID_MAX + 1, "%s-%08x%s%s", host, r, suffix ? "/" : "",
              suffix ? suffix : "");
}

/* Reads pending monitor events; counts what the handshake did. */
typedef struct {
    int connected;
    int retried; /* connect failed at once (refused, no route) */
    int handshakes_ok;
    int handshakes_failed;
    int auth_failed;
} s_events_t;

static void
s_read_events (zsock_t *monitor, s_events_t *ev)
{
    while (zsock_events (monitor) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (monitor);
        if (!msg)
            return;
        zframe_t *first = zmsg_first (msg);
        if (first && zframe_size (first) >= 2) {
            uint16_t event;
            memcpy (&event, zframe_data (first), 2);
            if (event == ZMQ_EVENT_CONNECTED)
                ev->connected++;
            else if (event == ZMQ_EVENT_CONNECT_RETRIED)
                ev->retried++;
            else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
                ev->handshakes_ok++;
            else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
                ev->auth_failed++;
            else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                     || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
                ev->handshakes_failed++;
        }
        zmsg_destroy (&msg);
    }
}

int
proto_link_connect (proto_link_t **link, const char *server, const proto_keys_t *keys,
                    proto_msg_t *hello, double timeout, proto_msg_t *welcome, char *error,
                    size_t error_size)
{
    *link = NULL;
    int rc = PROTO_LINK_ECONNECT;
    char endpoint[300];
    char monitor_ep[64];
    zsock_t *monitor = NULL;
    proto_msg_t reply;
    proto_msg_init (&reply, 0);
    proto_link_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        goto cleanup;
    }
    if (proto_endpoint (server, endpoint, sizeof endpoint)) {
        snprintf (error, error_size,
                  "'%s' is not a host:port address (a host "
                  "name or IP address, ':', a port from 1 to 65535)",
                  server ? server : "");
        rc = PROTO_LINK_EINVAL;
        goto cleanup;
    }
    self->port = atoi (strrchr (endpoint, ':') + 1);
    s_resolve (self, endpoint);
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock) {
        snprintf (error, error_size, "cannot create a socket");
        goto cleanup;
    }
    zsock_set_sndhwm (self->sock, 0);
    zsock_set_rcvhwm (self->sock, 0);
    zsock_set_linger (self->sock, 2000);
    zsock_set_reconnect_ivl (self->sock, 100);
    zsock_set_reconnect_ivl_max (self->sock, 1000);
    proto_keys_apply_client (keys, self->sock);

    /* The monitor must be attached before connect to see the handshake. */
    /* A fresh name per attempt: a freed link's address comes back, and
       libzmq may not have released the old endpoint yet. */
    static uint32_t s_monitors = 0;
    snprintf (monitor_ep, sizeof monitor_ep, "inproc://link-monitor-%d-%u",
              (int)getpid (), __atomic_add_fetch (&s_monitors, 1, __ATOMIC_RELAXED));
    if (zmq_socket_monitor (zsock_resolve (self->sock), monitor_ep,
                            ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED
                                | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                                | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                                | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
        snprintf (error, error_size, "cannot monitor the socket");
        goto cleanup;
    }
    monitor = zsock_new_pair (monitor_ep);
    if (!monitor || zsock_connect (self->sock, "%s", endpoint)) {
        snprintf (error, error_size, "cannot connect to %s", endpoint);
        rc = PROTO_LINK_EINVAL;
        goto cleanup;
    }
    if (proto_msg_send (hello, self->sock) != PROTO_OK) {
        snprintf (error, error_size, "cannot send HELLO");
        goto cleanup;
    }
    proto_msg_reset (hello);

    s_events_t ev = { 0 };
    int64_t deadline = zclock_mono () + (int64_t)(timeout * 1000);
    zpoller_t *poller = zpoller_new (self->sock, monitor, NULL);
    if (!poller)
        goto cleanup;
    rc = PROTO_LINK_ECONNECT;
    while (true) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            break;
        void *which = zpoller_wait (poller, (int)(left > 100 ? 100 : left));
        if (which == monitor) {
            s_read_events (monitor, &ev);
            /* A refused handshake repeats on every reconnect; three in a row
               with no success is not a flaky network, it is the keys. */
            if (ev.auth_failed || (ev.handshakes_failed >= 3 && ev.handshakes_ok == 0)
                || (ev.connected >= 3 && ev.handshakes_ok == 0)) {
                rc = PROTO_LINK_EAUTH;
                break;
            }
            /* Refused again and again: the machine answers, but nothing
               listens on the port.  Said at once; silence (a host down, a
               cut network) still waits the whole timeout. */
            if (ev.retried >= 3 && ev.connected == 0) {
                rc = PROTO_LINK_EREFUSED;
                break;
            }
        } else if (which == self->sock) {
            char reason[256];
            int drc = proto_msg_recv (&reply, self->sock, reason, sizeof reason);
            if (drc == PROTO_EVERSION) {
                snprintf (error, error_size,
                          "the head speaks protocol version %u, this program %d",
                          reply.version, PROTO_VERSION);
                rc = PROTO_LINK_EDENIED;
                break;
            }
            if (drc != PROTO_OK)
                continue; /* not for the handshake: ignore */
            if (reply.type == PROTO_WELCOME) {
                rc = PROTO_OK;
                break;
            }
            if (reply.type == PROTO_DENIED) {
                snprintf (error, error_size, "the head refused us: %s",
                          reply.text ? reply.text : "no reason given");
                rc = PROTO_LINK_EDENIED;
                break;
            }
        } else if (zpoller_terminated (poller))
            break;
    }
    zpoller_destroy (&poller);
    bool stalled = rc == PROTO_LINK_ECONNECT && ev.connected && !ev.handshakes_ok;
    if (rc == PROTO_LINK_EAUTH || stalled)
        rc = stalled ? PROTO_LINK_EHANDSHAKE : PROTO_LINK_EAUTH,
        snprintf (error, error_size,
                  "handshake with %s refused: wrong password? (or one side "
                  "runs --insecure and the other does not)%s",
                  endpoint, stalled ? "; no handshake finished in time" : "");
    else if (rc == PROTO_LINK_EREFUSED)
        snprintf (error, error_size,
                  "connection refused at %s (nothing listens there, or no route to "
                  "it): is the head running?",
                  endpoint + 6);
    else if (rc == PROTO_LINK_ECONNECT)
        snprintf (
            error, error_size,
            ev.handshakes_ok
                ? "%s accepted the connection but did not answer HELLO within %.1f s"
                : "no dcpool head answered at %s within %.1f s",
            endpoint, timeout);
    if (rc != PROTO_OK)
        goto cleanup;

    proto_welcome_t said; /* its settings, within their ranges */
    proto_welcome_get (&reply, &said);
    self->heartbeat_ms = said.heartbeat_ms;
    self->liveness = said.liveness;
    if (welcome) {
        proto_msg_reset (welcome);
        *welcome = reply;
        proto_msg_init (&reply, 0);
    }
    *link = self;
    self = NULL;
cleanup:
    if (self && self->sock)
        zmq_socket_monitor (zsock_resolve (self->sock), NULL, 0);
    else if (*link)
        zmq_socket_monitor (zsock_resolve ((*link)->sock), NULL, 0);
    zsock_destroy (&monitor);
    proto_msg_reset (&reply);
    if (self) {
        if (self->sock) {
            zsock_set_linger (self->sock, 0);
            zsock_destroy (&self->sock);
        }
        free (self);
    }
    return rc;
}

void
proto_link_destroy (proto_link_t **link)
{
    if (!link || !*link)
        return;
    zsock_destroy (&(*link)->sock);
    free (*link);
    *link = NULL;
}

zsock_t *
proto_link_sock (proto_link_t *link)
{
    return link->sock;
}

int
proto_link_heartbeat_ms (proto_link_t *link)
{
    return link->heartbeat_ms;
}

int
proto_link_liveness (proto_link_t *link)
{
    return link->liveness;
}

int
proto_link_quiet_ms (proto_link_t *link)
{
    /* libzmq does not say which descriptor is its connection: look at
       this process's TCP sockets whose peer port is the head's. */
    DIR *dir = opendir ("/proc/self/fd");
    if (!dir)
        return -1;
    int quiet = -1;
    int skip = dirfd (dir);
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        char *end;
        long fd = strtol (entry->d_name, &end, 10);
        if (*end || end == entry->d_name || fd == skip)
            continue;
        struct stat st;
        if (fstat ((int)fd, &st) || !S_ISSOCK (st.st_mode))
            continue;
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        if (getpeername ((int)fd, (struct sockaddr *)&peer, &len))
            continue;
        int port = peer.ss_family == AF_INET
                       ? ntohs (((struct sockaddr_in *)&peer)->sin_port)
                   : peer.ss_family == AF_INET6
                       ? ntohs (((struct sockaddr_in6 *)&peer)->sin6_port)
                       : -1;
        if (port != link->port || !s_is_head (link, &peer))
            continue;
        struct tcp_info info;
        len = sizeof info;
        if (getsockopt ((int)fd, IPPROTO_TCP, TCP_INFO, &info, &len))
            continue;
        if (quiet < 0 || (int)info.tcpi_last_data_recv < quiet)
            quiet = (int)info.tcpi_last_data_recv;
    }
    closedir (dir);
    return quiet;
}
