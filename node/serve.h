/*  node/serve.h - start_node --serve: a published function.

    Keeps one pool open on a worker library and answers each POST /run
    with the output of one job whose input is the request's body
    (serve_http.c does the HTTP).  Every request is a future of the pool
    (pool_submit, pool_future_then), so concurrent requests are
    concurrent jobs; the pool calls and the HTTP callbacks all run in the
    one thread of a zloop, which calls pool_poll every millisecond while
    jobs are out.  A job's result becomes the answer:

        0                            200, the output bytes
        POOL_EJOB                    500, the job's error message
        POOL_ECRASHED                502  (the worker died running it)
        POOL_ETIMEDOUT               504  (past --timeout)
        POOL_ECLOSED, POOL_ELOST,    503  (the pool or the head is gone)
        POOL_ECANCELED
        any other                    500

    with pool_strerror's words and the detail as the body of an error.
    Each job runs once (max_attempts 1): an HTTP client retries, not us.
*/
#ifndef DCPOOL_NODE_SERVE_H
#define DCPOOL_NODE_SERVE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *server;    /* "host:port" of the head; NULL: local mode */
    const char *password;  /* NULL: libpool's default ($DCPOOL_PASSWORD) */
    bool insecure;         /* plain TCP to the head */
    const char *library;   /* the worker library */
    const char *init_file; /* its init data, or NULL for none */
    double job_timeout;    /* seconds; 0: none */
    const char *bind;      /* HTTP address; NULL: 127.0.0.1 */
    int port;              /* HTTP port; 0: any free one */
    uint64_t max_body;     /* bytes */
    unsigned max_connections;
    unsigned idle_timeout; /* seconds */
} serve_config_t;

/*  Opens the pool, serves until SIGTERM or SIGINT, closes it.  Prints
    "dcpool serve ready: url=http://ADDR:PORT/run" and who can reach it
    on stdout once it answers.  The process's exit code: 0 after a
    signal, 1 when it could not start (why on stderr). */
int serve_run (const serve_config_t *config);

#endif
