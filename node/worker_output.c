/*  node/worker_output.c - a worker process's stdout and stderr, read by
    the node.  See worker_output.h. */
#include "worker_output.h"
#include "output_lines.h"
#include "proto/views.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)

typedef struct {
    worker_output_t *owner;
    int stream;   /* PROTO_OUTPUT_STDOUT or _STDERR */
    int read_fd;  /* ours, non-blocking, or -1 */
    int write_fd; /* the child's until started, or -1 */
    zmq_pollitem_t item;
    bool polled;
} s_pipe_t;

struct worker_output {
    zloop_t *loop;     /* borrowed */
    node_link_t *link; /* borrowed */
    char id[PROTO_ID_MAX + 1];
    pid_t pid;
    output_lines_t *lines;
    s_pipe_t pipes[2];
    char chunk[READ_CHUNK];
};

/*  output_lines' batches: OUTPUT to the head, naming the worker process. */
static int
s_send (void *arg, int stream, const char *text, size_t size)
{
    worker_output_t *self = arg;
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_OUTPUT);
    proto_output_t output
        = { .stream = stream, .text = text, .size = size, .pid = (uint64_t)self->pid };
    snprintf (output.id, sizeof output.id, "%s", self->id);
    int rc = proto_output_set (&msg, &output) == PROTO_OK ? 0 : -1;
    if (rc == 0)
        node_link_send (self->link, &msg); /* resets msg */
    else
        proto_msg_reset (&msg);
    return rc;
}

worker_output_t *
worker_output_new (zloop_t *loop, node_link_t *link, const char *id, int log_fd)
{
    worker_output_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->link = link;
    snprintf (self->id, sizeof self->id, "%s", id);
    for (int i = 0; i < 2; i++) {
        self->pipes[i].owner = self;
        self->pipes[i].stream = i + 1;
        self->pipes[i].read_fd = -1;
        self->pipes[i].write_fd = -1;
    }
    self->lines = output_lines_new (id, log_fd, s_send, self);
    if (!self->lines)
        worker_output_destroy (&self);
    return self;
}

static void
s_close (int *fd)
{
    if (*fd >= 0)
        close (*fd);
    *fd = -1;
}

/*  Stops reading the pipe and closes our end. */
static void
s_pipe_end (worker_output_t *self, s_pipe_t *pipe)
{
    if (pipe->polled)
        zloop_poller_end (self->loop, &pipe->item);
    pipe->polled = false;
    s_close (&pipe->read_fd);
}

void
worker_output_destroy (worker_output_t **self_p)
{
    if (!*self_p)
        return;
    worker_output_t *self = *self_p;
    for (int i = 0; i < 2; i++) {
        s_pipe_end (self, &self->pipes[i]);
        s_close (&self->pipes[i].write_fd);
    }
    output_lines_destroy (&self->lines);
    free (self);
    *self_p = NULL;
}

int
worker_output_open (worker_output_t *self, int fds[2])
{
    for (int i = 0; i < 2; i++) {
        s_pipe_end (self, &self->pipes[i]);
        s_close (&self->pipes[i].write_fd);
    }
    for (int i = 0; i < 2; i++) {
        int ends[2];
        if (pipe2 (ends, O_CLOEXEC)) {
            zsys_warning ("worker %s: cannot make a pipe for its output (%s): it goes "
                          "to the log only",
                          self->id, strerror (errno));
            for (int j = 0; j < i; j++) {
                s_close (&self->pipes[j].read_fd);
                s_close (&self->pipes[j].write_fd);
            }
            return -1;
        }
        fcntl (ends[0], F_SETFL, fcntl (ends[0], F_GETFL) | O_NONBLOCK);
        self->pipes[i].read_fd = ends[0];
        self->pipes[i].write_fd = ends[1];
        fds[i] = ends[1];
    }
    return 0;
}

/*  Reads up to max bytes of pipe into the lines.  Returns 1 at the end of
    the pipe (or on an error), else 0. */
static int
s_read (worker_output_t *self, s_pipe_t *pipe, size_t max)
{
    size_t got = 0;
    while (got < max) {
        ssize_t n = read (pipe->read_fd, self->chunk, sizeof self->chunk);
        if (n > 0) {
            got += (size_t)n;
            output_lines_feed (self->lines, pipe->stream, self->chunk, (size_t)n,
                               zclock_mono ());
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        return 1; /* end of file: the worker (and all it forked) closed it */
    }
    return 0;
}

static int
s_on_readable (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    s_pipe_t *pipe = arg;
    worker_output_t *self = pipe->owner;
    if (s_read (self, pipe, WORKER_OUTPUT_TURN))
        s_pipe_end (self, pipe);
    output_lines_flush (self->lines);
    return 0;
}

void
worker_output_started (worker_output_t *self, pid_t pid)
{
    self->pid = pid > 0 ? pid : 0;
    output_lines_reset (self->lines, zclock_mono ());
    for (int i = 0; i < 2; i++) {
        s_pipe_t *pipe = &self->pipes[i];
        s_close (&pipe->write_fd);
        if (pid <= 0) {
            s_close (&pipe->read_fd);
            continue;
        }
        if (pipe->read_fd < 0)
            continue;
        pipe->item = (zmq_pollitem_t){ NULL, pipe->read_fd, ZMQ_POLLIN, 0 };
        if (zloop_poller (self->loop, &pipe->item, s_on_readable, pipe)) {
            zsys_warning ("worker %s: cannot watch its output: it is lost", self->id);
            s_close (&pipe->read_fd);
            continue;
        }
        /* A pipe whose writers are gone polls as an error: read it. */
        zloop_poller_set_tolerant (self->loop, &pipe->item);
        pipe->polled = true;
    }
}

void
worker_output_ended (worker_output_t *self)
{
    for (int i = 0; i < 2; i++) {
        s_pipe_t *pipe = &self->pipes[i];
        if (pipe->read_fd >= 0)
            s_read (self, pipe, WORKER_OUTPUT_TURN);
        s_pipe_end (self, pipe);
    }
    output_lines_finish (self->lines, zclock_mono ());
}

void
worker_output_tick (worker_output_t *self)
{
    output_lines_tick (self->lines, zclock_mono ());
}
