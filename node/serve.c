/*  node/serve.c - start_node --serve: a published function.
    See serve.h for what a request becomes and the codes. */
#include "serve.h"
#include "node_signals.h"
#include "serve_http.h"

#include "pool.h"

#include <czmq.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  How often the loop looks at the pool while jobs are out (ms), and
    while none is (the head's heartbeats and news are taken in). */
#define POLL_MS 1
#define IDLE_POLL_MS 500

typedef struct {
    const serve_config_t *config;
    pool_t *pool;
    zloop_t *loop;
    serve_http_t *http;
    zlistx_t *jobs; /* s_job_t, those without a result yet */
    int poll_timer; /* -1 while no job is out */
    bool lost;      /* the pool failed for good: said once */
    bool stopping;
} s_serve_t;

/*  One request being run: its future, and where to answer. */
typedef struct {
    s_serve_t *serve;
    serve_http_request_t *request;
    pool_future_t *future;
    void *handle; /* in serve->jobs */
} s_job_t;

/*  The HTTP status for a job's result status. */
static unsigned
s_http_status (int status)
{
    switch (status) {
    case 0:
        return MHD_HTTP_OK;
    case POOL_ECRASHED:
        return MHD_HTTP_BAD_GATEWAY;
    case POOL_ETIMEDOUT:
        return MHD_HTTP_GATEWAY_TIMEOUT;
    case POOL_ECLOSED:
    case POOL_ELOST:
    case POOL_ECANCELED:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    default:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

/*  Answers request with an error: status and "WORDS: DETAIL\n". */
static void
s_answer_error (serve_http_request_t *request, unsigned status, int code,
                const char *detail)
{
    char text[1024];
    int len = snprintf (text, sizeof text, "%s%s%s\n", pool_strerror (code),
                        detail && *detail ? ": " : "", detail ? detail : "");
    if (len < 0)
        len = 0;
    if ((size_t)len >= sizeof text)
        len = sizeof text - 1;
    serve_http_answer (request, status, text, (size_t)len);
}

static int
s_on_poll (zloop_t *loop, int timer_id, void *arg)
{
    s_serve_t *self = arg;
    int rc = pool_poll (self->pool, 0);
    if (rc < 0 && rc != POOL_ETIMEOUT && !self->lost) {
        /* the futures got rc as their result: answered by s_on_result */
        zsys_error ("the pool is lost: %s (%s); answering 503 from now on",
                    pool_strerror (rc), pool_last_error (self->pool));
        self->lost = true;
    }
    serve_http_run (self->http); /* the answers just given go out now */
    return 0;
}

/*  Starts or stops looking at the pool as jobs go out and come back. */
static void
s_update_poll (s_serve_t *self)
{
    bool busy = zlistx_size (self->jobs) > 0;
    if (busy && self->poll_timer < 0)
        self->poll_timer = zloop_timer (self->loop, POLL_MS, 0, s_on_poll, self);
    else if (!busy && self->poll_timer >= 0) {
        zloop_timer_end (self->loop, self->poll_timer);
        self->poll_timer = -1;
    }
}

static void
s_job_destroy (s_job_t **job_p)
{
    s_job_t *job = *job_p;
    if (!job)
        return;
    pool_future_destroy (&job->future); /* inside its callback: after it */
    free (job);
    *job_p = NULL;
}

/*  A job's result (success or failure): its answer. */
static void
s_on_result (pool_future_t *future, const pool_result_t *result, void *arg)
{
    s_job_t *job = arg;
    s_serve_t *self = job->serve;
    unsigned status = s_http_status (result->status);
    if (result->status == 0)
        serve_http_answer (job->request, status, result->value.data, result->value.size);
    else if (result->status == POOL_EJOB && result->error)
        serve_http_answer (job->request, status, result->error, strlen (result->error));
    else
        s_answer_error (job->request, status, result->status, result->error);
    zlistx_delete (self->jobs, job->handle);
    s_job_destroy (&job);
    s_update_poll (self);
}

/*  A complete POST /run: one job. */
static void
s_on_request (serve_http_request_t *request, const void *body, size_t size, void *arg)
{
    s_serve_t *self = arg;
    s_job_t *job = calloc (1, sizeof *job);
    if (!job) {
        s_answer_error (request, MHD_HTTP_INTERNAL_SERVER_ERROR, POOL_ENOMEM, NULL);
        return;
    }
    job->serve = self;
    job->request = request;
    int rc = pool_submit (self->pool, (pool_bytes_t){ .data = body, .size = size },
                          &job->future);
    if (rc == 0)
        rc = pool_future_then (job->future, s_on_result, s_on_result, job);
    if (rc == 0) {
        job->handle = zlistx_add_end (self->jobs, job);
        if (!job->handle)
            rc = POOL_ENOMEM;
    }
    if (rc) {
        s_answer_error (request, s_http_status (rc), rc, pool_last_error (self->pool));
        if (job->future)
            pool_future_cancel (job->future);
        s_job_destroy (&job);
        return;
    }
    s_update_poll (self);
}

static void
s_on_stop (void *arg, int signo)
{
    s_serve_t *self = arg;
    zsys_info ("stopping (signal %d)", signo);
    self->stopping = true;
}

static int
s_on_reap (void *arg)
{
    s_serve_t *self = arg;
    return self->stopping ? -1 : 0;
}

/*  Reads path into *data, *size (caller frees): 0, or -1 after saying
    why. */
static int
s_read_file (const char *path, void **data, size_t *size)
{
    zchunk_t *chunk = zchunk_slurp (path, 0);
    if (!chunk) {
        fprintf (stderr, "start_node: cannot read --init %s: %s\n", path,
                 strerror (errno ? errno : EIO));
        return -1;
    }
    *size = zchunk_size (chunk);
    *data = malloc (*size ? *size : 1);
    if (*data)
        memcpy (*data, zchunk_data (chunk), *size);
    else
        fprintf (stderr, "start_node: out of memory\n");
    zchunk_destroy (&chunk);
    return *data ? 0 : -1;
}

/*  True when address is a loopback one: only this machine reaches it. */
static bool
s_loopback (const char *address)
{
    return !address || strncmp (address, "127.", 4) == 0 || strcmp (address, "::1") == 0;
}

static void
s_say_ready (const s_serve_t *self)
{
    const serve_config_t *config = self->config;
    const char *bind = config->bind ? config->bind : "127.0.0.1";
    bool v6 = strchr (bind, ':') != NULL;
    int port = serve_http_port (self->http);
    printf ("dcpool serve ready: url=http://%s%s%s:%d/run\n", v6 ? "[" : "", bind,
            v6 ? "]" : "", port);
    if (s_loopback (config->bind))
        printf ("loopback only: reachable from this machine alone (--serve-bind ADDR "
                "opens it)\n");
    else
        printf ("open to anyone who can reach %s:%d: no authentication\n", bind, port);
    fflush (stdout);
}

int
serve_run (const serve_config_t *config)
{
    s_serve_t self = { .config = config, .poll_timer = -1 };
    node_signals_t *signals = NULL;
    void *init = NULL;
    size_t init_size = 0;
    int exit_code = 1;
    char error[512];
    if (config->init_file && s_read_file (config->init_file, &init, &init_size))
        goto cleanup;

    pool_options_t options;
    pool_options_default (&options);
    options.server = config->server;
    options.password = config->password;
    options.insecure = config->insecure;
    options.worker_library = config->library;
    options.init_data = (pool_bytes_t){ .data = init, .size = init_size };
    options.job_timeout = config->job_timeout;
    options.max_attempts = 1;
    options.spin_wait = 0; /* pool_poll (0) never waits */
    int rc = pool_open (&self.pool, &options);
    if (rc) {
        fprintf (stderr, "start_node: cannot open a pool on %s: %s: %s\n",
                 config->server ? config->server : "the local cluster",
                 pool_strerror (rc), pool_open_error ());
        goto cleanup;
    }
    self.jobs = zlistx_new ();
    self.loop = zloop_new ();
    if (!self.jobs || !self.loop) {
        fprintf (stderr, "start_node: out of memory\n");
        goto cleanup;
    }
    node_signals_events_t events = { .arg = &self, .stop = s_on_stop, .reap = s_on_reap };
    signals = node_signals_new (self.loop, &events, error, sizeof error);
    if (!signals) {
        fprintf (stderr, "start_node: %s\n", error);
        goto cleanup;
    }
    serve_http_config_t http = { .bind = config->bind,
                                 .port = config->port,
                                 .max_body = config->max_body,
                                 .max_connections = config->max_connections,
                                 .idle_timeout = config->idle_timeout,
                                 .on_request = s_on_request,
                                 .arg = &self };
    self.http = serve_http_new (self.loop, &http, error, sizeof error);
    if (!self.http) {
        fprintf (stderr, "start_node: %s\n", error);
        goto cleanup;
    }
    if (zloop_timer (self.loop, IDLE_POLL_MS, 0, s_on_poll, &self) < 0) {
        fprintf (stderr, "start_node: cannot start a timer\n");
        goto cleanup;
    }
    s_say_ready (&self);
    zloop_start (self.loop);
    exit_code = 0;
cleanup:
    /*  Jobs still out: cancelled, their requests answered 503 by
        serve_http_destroy. */
    if (self.jobs) {
        for (s_job_t *job = zlistx_first (self.jobs); job; job = zlistx_next (self.jobs))
            s_job_destroy (&job);
        zlistx_destroy (&self.jobs);
    }
    serve_http_destroy (&self.http);
    pool_close (&self.pool);
    zloop_destroy (&self.loop);
    node_signals_destroy (&signals);
    free (init);
    return exit_code;
}
