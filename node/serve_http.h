/*  node/serve_http.h - the HTTP side of start_node --serve.

    libmicrohttpd (Debian's libmicrohttpd) parses HTTP; this class drives
    it from the caller's zloop in external mode (its epoll fd is a poller
    of the loop, no thread of ours or of MHD's), so the pool calls of
    serve.c and every HTTP callback run in the one thread that runs the
    loop.  It answers what is not a job itself: 404 for a path other
    than /run, 405 for a method other than POST, 413 for a body over the
    cap, 400 for what MHD cannot parse.  A complete POST /run is handed
    to the on_request callback and its connection suspended until the
    owner answers it with serve_http_answer.

    Limits against hostile clients: a body cap, a connection cap (MHD
    refuses more), an idle timeout per connection (a slowloris client is
    cut off), and MHD's own cap on the header size.
*/
#ifndef DCPOOL_NODE_SERVE_HTTP_H
#define DCPOOL_NODE_SERVE_HTTP_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

typedef struct serve_http serve_http_t;
/*  One POST /run whose body came in full.  Owned by serve_http: valid
    from on_request until serve_http_answer (or serve_http_destroy). */
typedef struct serve_http_request serve_http_request_t;

/*  A complete POST /run: body[size] (borrowed, valid until the request
    is answered).  The owner must answer it exactly once. */
typedef void (serve_http_request_fn) (serve_http_request_t *request, const void *body,
                                      size_t size, void *arg);

typedef struct {
    const char *bind;         /* address to listen on; NULL: 127.0.0.1 */
    int port;                 /* 0: any free one (serve_http_port says) */
    uint64_t max_body;        /* bytes; a larger body gets 413 */
    unsigned max_connections; /* MHD refuses connections past it */
    unsigned idle_timeout;    /* seconds a connection may sit idle */
    serve_http_request_fn *on_request;
    void *arg;
} serve_http_config_t;

/*  Listens as config says (copied) and watches the sockets from loop
    (borrowed; it must outlive this object).  NULL with the reason in
    error[error_size]. */
serve_http_t *serve_http_new (zloop_t *loop, const serve_http_config_t *config,
                              char *error, size_t error_size);

/*  Stops listening and closes every connection; requests not answered
    yet are dropped without an answer.  Nulls *self. */
void serve_http_destroy (serve_http_t **self);

/*  The port it listens on (the one picked when config.port was 0). */
int serve_http_port (serve_http_t *self);

/*  Answers request (then no longer the caller's) with status and
    body[size] (copied), as text/plain for an error status and
    application/octet-stream for 200.  0, or -1 when the answer could not
    be built (out of memory: the connection is closed instead). */
int serve_http_answer (serve_http_request_t *request, unsigned status, const void *body,
                       size_t size);

/*  Lets MHD do what is due now (answers just given, timeouts); the loop
    calls it on its own too.  0, or -1 when MHD failed. */
int serve_http_run (serve_http_t *self);

#endif
