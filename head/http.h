/*  head/http.h - the head's HTTP server: GET /metrics (Prometheus text,
    metrics.c), GET /api/status (JSON, status_json.c) and GET / (the status
    page, page.html compiled in).

    libmicrohttpd serves it inside the head's one event loop: its epoll
    descriptor is a zloop poller and a one-shot zloop timer follows
    MHD_get_timeout, and MHD_run is called from them, so the handlers read
    the head's state directly, unlocked, like every other handler.  Bound
    to 127.0.0.1 unless --http-bind says otherwise; bound to any other
    address, every request needs the cluster password as HTTP basic auth
    (any user name).  Limits on connections, their idle time and their
    memory keep slow, garbage and oversized requests from costing the head
    more than a connection slot each.
*/
#ifndef DCPOOL_HEAD_HTTP_H
#define DCPOOL_HEAD_HTTP_H

#include "head.h"

typedef struct head_http head_http_t;

/*  Starts serving on head->config.http_bind, port http_port (0: any free
    one), in head's loop.  password: the cluster's (NULL or "" with
    --insecure, which may then only bind loopback).  NULL with error set
    when it cannot listen or the address is refused. */
head_http_t *head_http_new (head_t *head, const char *password, char *error,
                            size_t error_size);
/*  The port it listens on. */
int head_http_port (head_http_t *self);
/*  Whether requests need the password. */
bool head_http_auth (head_http_t *self);
/*  Stops listening, closes its connections and takes it off the loop. */
void head_http_destroy (head_http_t **self_p);

/*  The page's bytes (page.c, made from page.html by embed.py). */
extern const unsigned char head_page[];
extern const size_t head_page_size;

#endif
