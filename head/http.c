/*  head/http.c - the head's HTTP server in its event loop (http.h). */
#include "http.h"
#include "status_json.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Connections at once (from one address), seconds a connection may stay
   idle, and the memory one may use (its request line and headers must fit:
   a request that does not gets 431 and is closed). */
#define HTTP_CONNECTIONS 64
#define HTTP_PER_ADDRESS 32
#define HTTP_IDLE_S 10
#define HTTP_MEMORY (32 * 1024)

struct head_http {
    head_t *head;
    struct MHD_Daemon *daemon;
    int epoll_fd;
    int timer; /* the one-shot MHD_get_timeout timer, or -1 */
    bool auth; /* requests need the password */
    uint8_t hash[crypto_generichash_BYTES]; /* of the password */
    int port;
    int sampler; /* the throughput history's timer */
};

static void
s_log (void *arg, const char *format, va_list args)
{
    char text[512];
    vsnprintf (text, sizeof text, format, args);
    size_t len = strlen (text);
    while (len && text[len - 1] == '\n')
        text[--len] = 0;
    zsys_warning ("pool-head: http: %s", text);
}

static int s_on_timer (zloop_t *loop, int timer_id, void *arg);

/*  Lets MHD do what it can now, then sets the timer to when it wants to
    be called next (a connection's idle timeout, or at once when it left
    data unread). */
static void
s_run (head_http_t *self)
{
    MHD_run (self->daemon);
    if (self->timer >= 0) {
        zloop_timer_end (self->head->loop, self->timer);
        self->timer = -1;
    }
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout (self->daemon, &ms) == MHD_YES) {
        size_t delay = ms < 1 ? 1 : ms > 3600000 ? 3600000 : (size_t)ms;
        self->timer = zloop_timer (self->head->loop, delay, 1, s_on_timer, self);
    }
}

static int
s_on_timer (zloop_t *loop, int timer_id, void *arg)
{
    head_http_t *self = arg;
    self->timer = -1; /* a one-shot: zloop drops it after this */
    s_run (self);
    return 0;
}

static int
s_on_sample (zloop_t *loop, int timer_id, void *arg)
{
    head_http_t *self = arg;
    head_metrics_sample (self->head);
    return 0;
}

static int
s_on_epoll (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    s_run (arg);
    return 0;
}

/* Whether the request carries the cluster password (constant time). */
static bool
s_authorized (head_http_t *self, struct MHD_Connection *connection)
{
    char *password = NULL;
    char *user = MHD_basic_auth_get_username_password (connection, &password);
    bool ok = false;
    if (password) {
        uint8_t hash[crypto_generichash_BYTES];
        crypto_generichash (hash, sizeof hash, (const uint8_t *)password,
                            strlen (password), NULL, 0);
        ok = sodium_memcmp (hash, self->hash, sizeof hash) == 0;
        sodium_memzero (password, strlen (password));
    }
    MHD_free (user);
    MHD_free (password);
    return ok;
}

/*  Queues a response: body (taken when owned, else borrowed for good),
    its type, the status code.  MHD_YES, or MHD_NO (the connection is
    closed) when memory is short. */
static enum MHD_Result
s_reply (struct MHD_Connection *connection, unsigned code, const char *type, void *body,
         size_t size, bool owned, bool ask_password)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (
        size, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!response) {
        if (owned)
            free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    /* The page's script and style are inline; nothing else may load. */
    MHD_add_response_header (response, "Content-Security-Policy",
                             "default-src 'self'; script-src 'unsafe-inline'; "
                             "style-src 'unsafe-inline'; img-src 'self' data:");
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc
        = ask_password
              ? MHD_queue_basic_auth_fail_response (connection, "dcpool", response)
              : MHD_queue_response (connection, code, response);
    MHD_destroy_response (response);
    return rc;
}

static enum MHD_Result
s_text (struct MHD_Connection *connection, unsigned code, const char *text)
{
    return s_reply (connection, code, "text/plain; charset=utf-8", (void *)text,
                    strlen (text), false, false);
}

/*  A generated document: fill writes it into a memory stream. */
static enum MHD_Result
s_generated (head_http_t *self, struct MHD_Connection *connection, const char *type,
             int (*fill) (head_t *, FILE *))
{
    char *body = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&body, &size);
    if (!out)
        return s_text (connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    int rc = fill (self->head, out);
    if (fclose (out) || rc) {
        free (body);
        return s_text (connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    }
    return s_reply (connection, MHD_HTTP_OK, type, body, size, true, false);
}

/* Whether the request says a body follows. */
static bool
s_has_body (struct MHD_Connection *connection)
{
    const char *length = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                      MHD_HTTP_HEADER_CONTENT_LENGTH);
    return (length && strcmp (length, "0"))
           || MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                           MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/*  Every request.  MHD calls this once the headers are in, then for each
    piece of a body, then once more at the end.  A request refused (no
    password, a method other than GET or HEAD) is answered on the first
    call, before any body is read, and MHD then closes its connection: a
    big upload costs nothing.  A GET is answered on the second call, once
    MHD knows there is no body, so the connection may serve the next
    request (keep-alive).  A GET that announces a body gets 413 on the
    first call, and is closed. */
static enum MHD_Result
s_handle (void *arg, struct MHD_Connection *connection, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **state)
{
    head_http_t *self = arg;
    static int s_seen; /* *state's mark: the first call is over */
    if (!*state) {
        *state = &s_seen;
        if (self->auth && !s_authorized (self, connection))
            return s_reply (connection, MHD_HTTP_UNAUTHORIZED,
                            "text/plain; charset=utf-8",
                            (void *)"the cluster password is needed (HTTP basic auth)\n",
                            strlen ("the cluster password is needed (HTTP basic auth)\n"),
                            false, true);
        if (strcmp (method, MHD_HTTP_METHOD_GET) && strcmp (method, MHD_HTTP_METHOD_HEAD))
            return s_text (connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                           "only GET is served here\n");
        if (s_has_body (connection))
            return s_text (connection, MHD_HTTP_CONTENT_TOO_LARGE,
                           "a GET takes no body\n");
        return MHD_YES;
    }
    if (strcmp (url, "/metrics") == 0)
        return s_generated (self, connection, "text/plain; version=0.0.4; charset=utf-8",
                            head_metrics_text);
    if (strcmp (url, "/api/status") == 0)
        return s_generated (self, connection, "application/json", head_status_json);
    if (strcmp (url, "/") == 0 || strcmp (url, "/index.html") == 0)
        return s_reply (connection, MHD_HTTP_OK, "text/html; charset=utf-8",
                        (void *)head_page, head_page_size, false, false);
    return s_text (connection, MHD_HTTP_NOT_FOUND,
                   "not found: GET /, /api/status or /metrics\n");
}

/* Whether addr is the loopback address the server binds by default. */
static bool
s_is_default_loopback (const char *addr)
{
    return strcmp (addr, "127.0.0.1") == 0 || strcmp (addr, "::1") == 0;
}

head_http_t *
head_http_new (head_t *head, const char *password, char *error, size_t error_size)
{
    const char *bind = head->config.http_bind[0] ? head->config.http_bind : "127.0.0.1";
    struct sockaddr_storage addr = { 0 };
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;
    if (inet_pton (AF_INET, bind, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons ((uint16_t)head->config.http_port);
    } else if (inet_pton (AF_INET6, bind, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons ((uint16_t)head->config.http_port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf (error, error_size,
                  "--http-bind wants an IPv4 or IPv6 address, not '%s'", bind);
        return NULL;
    }
    bool auth = !s_is_default_loopback (bind);
    if (auth && (!password || !*password)) {
        snprintf (error, error_size,
                  "--http-bind %s needs the cluster password for basic auth, and "
                  "--insecure has none: bind 127.0.0.1",
                  bind);
        return NULL;
    }
    head_http_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->head = head;
    self->timer = -1;
    self->sampler = -1;
    self->auth = auth;
    if (password)
        crypto_generichash (self->hash, sizeof self->hash, (const uint8_t *)password,
                            strlen (password), NULL, 0);
    self->daemon = MHD_start_daemon (
        flags, (uint16_t)head->config.http_port, NULL, NULL, s_handle, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_EXTERNAL_LOGGER, s_log,
        NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_ADDRESS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY, MHD_OPTION_END);
    if (!self->daemon) {
        snprintf (error, error_size, "cannot serve HTTP on %s port %d", bind,
                  head->config.http_port);
        goto fail;
    }
    const union MHD_DaemonInfo *info
        = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *port
        = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !port) {
        snprintf (error, error_size, "libmicrohttpd has no epoll descriptor to watch");
        goto fail;
    }
    self->epoll_fd = info->epoll_fd;
    self->port = port->port;
    zmq_pollitem_t item = { NULL, self->epoll_fd, ZMQ_POLLIN, 0 };
    if (zloop_poller (head->loop, &item, s_on_epoll, self)) {
        snprintf (error, error_size, "cannot watch the HTTP server");
        goto fail;
    }
    head_metrics_sample (head);
    self->sampler = zloop_timer (head->loop, 1000, 0, s_on_sample, self);
    if (self->sampler < 0) {
        snprintf (error, error_size, "cannot start the HTTP server's timer");
        goto fail;
    }
    s_run (self);
    return self;
fail:
    head_http_destroy (&self);
    return NULL;
}

int
head_http_port (head_http_t *self)
{
    return self->port;
}

bool
head_http_auth (head_http_t *self)
{
    return self->auth;
}

void
head_http_destroy (head_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    head_http_t *self = *self_p;
    if (self->head->loop) {
        if (self->timer >= 0)
            zloop_timer_end (self->head->loop, self->timer);
        if (self->sampler >= 0)
            zloop_timer_end (self->head->loop, self->sampler);
        if (self->daemon) {
            zmq_pollitem_t item = { NULL, self->epoll_fd, ZMQ_POLLIN, 0 };
            zloop_poller_end (self->head->loop, &item);
        }
    }
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    sodium_memzero (self->hash, sizeof self->hash);
    free (self);
    *self_p = NULL;
}
