/*  node/serve_http.c - the HTTP side of start_node --serve.
    See serve_http.h.

    MHD runs in external mode with epoll: its one epoll fd is a poller of
    the owner's zloop and a timer calls MHD_run once a second for its
    connection timeouts.  A request's life: the first call of the access
    handler checks the path, the method and the Content-Length; the next
    ones gather the body (dropping it past the cap); the last one hands it
    to the owner and suspends the connection; serve_http_answer keeps the
    response and resumes it, and the call that follows queues it.  MHD
    refuses to stop with suspended connections, so the requests waiting
    for an answer are kept on a list and answered 503 by destroy.
*/
#include "serve_http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct serve_http_request {
    serve_http_t *owner;
    struct MHD_Connection *connection;
    enum { S_READING, S_TOO_BIG, S_WAITING, S_ANSWERED } state;
    bool suspended;
    char *body;
    size_t size;
    size_t capacity;
    unsigned status;
    struct MHD_Response *response;
    /* the owner's list of requests waiting for an answer */
    serve_http_request_t *prev;
    serve_http_request_t *next;
};

struct serve_http {
    zloop_t *loop;
    serve_http_config_t config;
    struct MHD_Daemon *daemon;
    zmq_pollitem_t item;
    int timer;
    int port;
    serve_http_request_t *waiting; /* head of the list */
};

static void
s_log (void *arg, const char *format, va_list ap)
{
    char line[512];
    vsnprintf (line, sizeof line, format, ap);
    size_t len = strlen (line);
    while (len && line[len - 1] == '\n')
        line[--len] = 0;
    zsys_warning ("http: %s", line);
}

/*  A response of status with text (copied) and its content type. */
static struct MHD_Response *
s_response (unsigned status, const void *body, size_t size)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (
        size, (void *)(size ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (!response)
        return NULL;
    if (MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                 status == MHD_HTTP_OK ? "application/octet-stream"
                                                       : "text/plain; charset=utf-8")
        != MHD_YES) {
        MHD_destroy_response (response);
        return NULL;
    }
    return response;
}

/*  Queues status with text now; MHD_NO (close the connection) when it
    cannot. */
static enum MHD_Result
s_queue_text (struct MHD_Connection *connection, unsigned status, const char *text)
{
    struct MHD_Response *response = s_response (status, text, strlen (text));
    if (!response)
        return MHD_NO;
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, "POST");
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

static void
s_unlink (serve_http_request_t *request)
{
    serve_http_t *self = request->owner;
    if (request->prev)
        request->prev->next = request->next;
    else if (self->waiting == request)
        self->waiting = request->next;
    if (request->next)
        request->next->prev = request->prev;
    request->prev = request->next = NULL;
}

/*  The first call for a connection's request: refuses what is not a POST
    /run of an acceptable size, else makes its request. */
static enum MHD_Result
s_start (serve_http_t *self, struct MHD_Connection *connection, const char *url,
         const char *method, void **request_cls)
{
    if (strcmp (url, "/run") != 0)
        return s_queue_text (connection, MHD_HTTP_NOT_FOUND,
                             "not found: POST the job's input to /run\n");
    if (strcmp (method, MHD_HTTP_METHOD_POST) != 0)
        return s_queue_text (connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                             "method not allowed: POST the job's input to /run\n");
    const char *length = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                      MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && strtoull (length, NULL, 10) > self->config.max_body)
        return s_queue_text (connection, MHD_HTTP_CONTENT_TOO_LARGE,
                             "the body is larger than this service accepts\n");
    serve_http_request_t *request = calloc (1, sizeof *request);
    if (!request)
        return MHD_NO;
    request->owner = self;
    request->connection = connection;
    *request_cls = request;
    return MHD_YES;
}

/*  Appends data[size] to the body, or drops the body once it is over
    the cap.  0, or -1 when out of memory. */
static int
s_gather (serve_http_request_t *request, const char *data, size_t size)
{
    if (request->state == S_TOO_BIG)
        return 0;
    if (size > request->owner->config.max_body - request->size) {
        free (request->body);
        request->body = NULL;
        request->size = request->capacity = 0;
        request->state = S_TOO_BIG;
        return 0;
    }
    if (request->size + size > request->capacity) {
        size_t capacity = request->capacity ? request->capacity : 4096;
        while (capacity < request->size + size)
            capacity *= 2;
        char *body = realloc (request->body, capacity);
        if (!body)
            return -1;
        request->body = body;
        request->capacity = capacity;
    }
    memcpy (request->body + request->size, data, size);
    request->size += size;
    return 0;
}

/*  The body is in: the owner gets it; unless it answered at once, the
    connection waits (suspended) for serve_http_answer. */
static enum MHD_Result
s_hand_over (serve_http_t *self, serve_http_request_t *request)
{
    request->state = S_WAITING;
    request->next = self->waiting;
    if (self->waiting)
        self->waiting->prev = request;
    self->waiting = request;
    self->config.on_request (request, request->body ? request->body : "", request->size,
                             self->config.arg);
    if (request->state == S_WAITING) {
        request->suspended = true;
        MHD_suspend_connection (request->connection);
        return MHD_YES;
    }
    /* answered at once */
    if (!request->response)
        return MHD_NO;
    enum MHD_Result rc
        = MHD_queue_response (request->connection, request->status, request->response);
    MHD_destroy_response (request->response);
    request->response = NULL;
    return rc;
}

static enum MHD_Result
s_on_access (void *cls, struct MHD_Connection *connection, const char *url,
             const char *method, const char *version, const char *upload_data,
             size_t *upload_data_size, void **request_cls)
{
    serve_http_t *self = cls;
    serve_http_request_t *request = *request_cls;
    if (!request)
        return s_start (self, connection, url, method, request_cls);
    switch (request->state) {
    case S_READING:
    case S_TOO_BIG:
        if (*upload_data_size) {
            if (s_gather (request, upload_data, *upload_data_size))
                return MHD_NO;
            *upload_data_size = 0;
            return MHD_YES;
        }
        if (request->state == S_TOO_BIG)
            return s_queue_text (connection, MHD_HTTP_CONTENT_TOO_LARGE,
                                 "the body is larger than this service accepts\n");
        return s_hand_over (self, request);
    case S_WAITING:
        return MHD_YES; /* not called while suspended */
    case S_ANSWERED:
        if (!request->response)
            return MHD_NO;
        enum MHD_Result rc
            = MHD_queue_response (connection, request->status, request->response);
        MHD_destroy_response (request->response);
        request->response = NULL;
        return rc;
    }
    return MHD_NO;
}

static void
s_on_completed (void *cls, struct MHD_Connection *connection, void **request_cls,
                enum MHD_RequestTerminationCode code)
{
    serve_http_request_t *request = *request_cls;
    if (!request)
        return;
    s_unlink (request); /* closed before an answer: only at destroy */
    if (request->response)
        MHD_destroy_response (request->response);
    free (request->body);
    free (request);
    *request_cls = NULL;
}

int
serve_http_answer (serve_http_request_t *request, unsigned status, const void *body,
                   size_t size)
{
    assert (request->state == S_WAITING);
    s_unlink (request);
    request->state = S_ANSWERED;
    request->status = status;
    request->response = s_response (status, body, size);
    if (request->suspended) {
        request->suspended = false;
        MHD_resume_connection (request->connection);
    }
    return request->response ? 0 : -1;
}

int
serve_http_run (serve_http_t *self)
{
    return MHD_run (self->daemon) == MHD_YES ? 0 : -1;
}

static int
s_on_ready (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    if (serve_http_run (arg))
        zsys_warning ("http: MHD_run failed");
    return 0;
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    return s_on_ready (loop, NULL, arg);
}

/*  The listening address of config into addr: 0, or -1 when it is not
    an IPv4 or IPv6 address. */
static int
s_address (const serve_http_config_t *config, struct sockaddr_storage *addr, bool *ipv6)
{
    const char *bind = config->bind ? config->bind : "127.0.0.1";
    memset (addr, 0, sizeof *addr);
    struct sockaddr_in *in4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
    *ipv6 = false;
    if (inet_pton (AF_INET, bind, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons ((uint16_t)config->port);
        return 0;
    }
    if (inet_pton (AF_INET6, bind, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons ((uint16_t)config->port);
        *ipv6 = true;
        return 0;
    }
    return -1;
}

serve_http_t *
serve_http_new (zloop_t *loop, const serve_http_config_t *config, char *error,
                size_t error_size)
{
    serve_http_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->loop = loop;
    self->config = *config;
    self->timer = -1;
    struct sockaddr_storage addr;
    bool ipv6;
    if (s_address (config, &addr, &ipv6)) {
        snprintf (error, error_size,
                  "--serve-bind wants an IPv4 or IPv6 address, not '%s'", config->bind);
        goto failed;
    }
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ipv6)
        flags |= MHD_USE_IPv6;
    self->daemon = MHD_start_daemon (
        flags, (uint16_t)config->port, NULL, NULL, s_on_access, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_log, self, /* first: all its messages */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
        config->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, config->idle_timeout,
        MHD_OPTION_NOTIFY_COMPLETED, s_on_completed, self, MHD_OPTION_END);
    if (!self->daemon) {
        snprintf (error, error_size, "cannot serve HTTP on %s port %d (in use?)",
                  config->bind ? config->bind : "127.0.0.1", config->port);
        goto failed;
    }
    const union MHD_DaemonInfo *port
        = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    const union MHD_DaemonInfo *epoll
        = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    if (!port || !epoll) {
        snprintf (error, error_size, "libmicrohttpd does not say its port or epoll fd");
        goto failed;
    }
    self->port = port->port;
    self->item
        = (zmq_pollitem_t){ .socket = NULL, .fd = epoll->epoll_fd, .events = ZMQ_POLLIN };
    if (zloop_poller (loop, &self->item, s_on_ready, self)) {
        snprintf (error, error_size, "cannot watch the HTTP sockets");
        goto failed;
    }
    self->timer = zloop_timer (loop, 1000, 0, s_on_tick, self);
    if (self->timer < 0) {
        snprintf (error, error_size, "cannot start the HTTP timer");
        goto failed;
    }
    return self;
failed:
    serve_http_destroy (&self);
    return NULL;
}

void
serve_http_destroy (serve_http_t **self_p)
{
    serve_http_t *self = *self_p;
    if (!self)
        return;
    if (self->timer >= 0)
        zloop_timer_end (self->loop, self->timer);
    if (self->daemon) {
        zloop_poller_end (self->loop, &self->item);
        while (self->waiting) {
            static const char text[] = "the service is stopping\n";
            serve_http_answer (self->waiting, MHD_HTTP_SERVICE_UNAVAILABLE, text,
                               sizeof text - 1);
        }
        MHD_run (self->daemon); /* sends what it can of those answers */
        MHD_stop_daemon (self->daemon);
    }
    free (self);
    *self_p = NULL;
}

int
serve_http_port (serve_http_t *self)
{
    return self->port;
}
