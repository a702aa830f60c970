/*  node/output_lines.c - one worker's output: cut into lines, logged,
    rate-limited and batched.  See output_lines.h. */
#include "output_lines.h"
#include "proto/msg.h"
#include "proto/views.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES PROTO_OUTPUT_LINE_MAX
#define LOG_BUFFER (64 * 1024) /* log bytes written at once */

typedef struct {
    char partial[LINE_MAX_BYTES]; /* the line not finished yet */
    size_t partial_len;
    bool cut;                   /* the last line was cut at LINE_MAX_BYTES:
                                   a '\n' right after it ends nothing */
    char batch[PROTO_TEXT_MAX]; /* lines to forward, each with its '\n' */
    size_t batch_len;
} s_stream_t;

struct output_lines {
    char tag[PROTO_ID_MAX + 1];
    int log_fd;
    output_lines_send_fn *send;
    void *arg;
    s_stream_t streams[2]; /* stdout, stderr */
    char log[LOG_BUFFER];
    size_t log_len;
    double tokens;    /* lines that may be forwarded now */
    int64_t refilled; /* when tokens were last topped up, ms */
    uint64_t dropped; /* lines over the rate since the last report */
    int dropped_stream;
    int failed; /* sends that failed since the last flush */
};

output_lines_t *
output_lines_new (const char *tag, int log_fd, output_lines_send_fn *send, void *arg)
{
    output_lines_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    snprintf (self->tag, sizeof self->tag, "%s", tag);
    self->log_fd = log_fd;
    self->send = send;
    self->arg = arg;
    self->tokens = OUTPUT_LINES_BURST;
    self->dropped_stream = PROTO_OUTPUT_STDERR;
    return self;
}

void
output_lines_destroy (output_lines_t **self)
{
    if (!*self)
        return;
    free (*self);
    *self = NULL;
}

void
output_lines_reset (output_lines_t *self, int64_t now)
{
    for (int i = 0; i < 2; i++) {
        self->streams[i].partial_len = 0;
        self->streams[i].cut = false;
    }
    self->tokens = OUTPUT_LINES_BURST;
    self->refilled = now;
    self->dropped = 0;
}

uint64_t
output_lines_dropped (const output_lines_t *self)
{
    return self->dropped;
}

static void
s_log_write (output_lines_t *self)
{
    if (self->log_fd >= 0 && self->log_len > 0) {
        /* One write of whole lines: with O_APPEND they never interleave
           with another writer's. */
        ssize_t n = write (self->log_fd, self->log, self->log_len);
        (void)n; /* a full disk loses log lines, nothing else */
    }
    self->log_len = 0;
}

static void
s_log_line (output_lines_t *self, const char *line, size_t size)
{
    size_t tag = strlen (self->tag);
    if (self->log_len + tag + size + 4 > sizeof self->log)
        s_log_write (self);
    char *at = self->log + self->log_len;
    *at++ = '(';
    memcpy (at, self->tag, tag);
    at += tag;
    *at++ = ')';
    *at++ = ' ';
    memcpy (at, line, size);
    at += size;
    *at++ = '\n';
    self->log_len = (size_t)(at - self->log);
}

static int
s_send_batch (output_lines_t *self, int stream)
{
    s_stream_t *s = &self->streams[stream - 1];
    if (s->batch_len == 0)
        return 0;
    int rc = self->send (self->arg, stream, s->batch, s->batch_len);
    s->batch_len = 0;
    return rc;
}

/*  Adds a line (without its newline) to stream's batch, sending the batch
    first when it would not fit. */
static int
s_batch_line (output_lines_t *self, int stream, const char *line, size_t size)
{
    s_stream_t *s = &self->streams[stream - 1];
    int rc = 0;
    if (s->batch_len + size + 1 > sizeof s->batch)
        rc = s_send_batch (self, stream);
    memcpy (s->batch + s->batch_len, line, size);
    s->batch_len += size;
    s->batch[s->batch_len++] = '\n';
    return rc;
}

static void
s_refill (output_lines_t *self, int64_t now)
{
    if (now > self->refilled) {
        self->tokens += (double)(now - self->refilled) * OUTPUT_LINES_RATE / 1000.0;
        if (self->tokens > OUTPUT_LINES_BURST)
            self->tokens = OUTPUT_LINES_BURST;
    }
    self->refilled = now;
}

/*  Says how many lines were dropped, on stream, when any were. */
static int
s_report_dropped (output_lines_t *self, int stream)
{
    if (self->dropped == 0)
        return 0;
    char text[64];
    int n = snprintf (text, sizeof text, "[%llu lines dropped]",
                      (unsigned long long)self->dropped);
    self->dropped = 0;
    return s_batch_line (self, stream, text, (size_t)n);
}

/*  A whole line of stream: to the log, and forwarded within the rate. */
static int
s_line (output_lines_t *self, int stream, const char *line, size_t size, int64_t now)
{
    s_log_line (self, line, size);
    s_refill (self, now);
    if (self->tokens < 1.0) {
        self->dropped++;
        self->dropped_stream = stream;
        return 0;
    }
    self->tokens -= 1.0;
    int rc = s_report_dropped (self, stream);
    if (s_batch_line (self, stream, line, size))
        rc = -1;
    return rc;
}

int
output_lines_feed (output_lines_t *self, int stream, const char *data, size_t size,
                   int64_t now)
{
    assert (stream == PROTO_OUTPUT_STDOUT || stream == PROTO_OUTPUT_STDERR);
    s_stream_t *s = &self->streams[stream - 1];
    int rc = 0;
    while (size > 0) {
        if (s->cut && s->partial_len == 0 && *data == '\n') {
            data++, size--; /* the newline of a line already cut */
            s->cut = false;
            continue;
        }
        size_t room = sizeof s->partial - s->partial_len;
        size_t look = size < room ? size : room;
        const char *newline = memchr (data, '\n', look);
        size_t take = newline ? (size_t)(newline - data) : look;
        char *to = s->partial + s->partial_len;
        memcpy (to, data, take);
        /* A NUL would end the line early further on: sent as '?'. */
        for (char *nul = memchr (to, 0, take); nul;
             nul = memchr (nul, 0, take - (size_t)(nul - to)))
            *nul = '?';
        s->partial_len += take;
        data += take;
        size -= take;
        s->cut = false;
        if (newline) {
            data++, size--;
        } else if (s->partial_len < sizeof s->partial)
            break; /* the rest of the line comes later */
        else
            s->cut = true;
        if (s_line (self, stream, s->partial, s->partial_len, now))
            rc = -1;
        s->partial_len = 0;
    }
    return rc;
}

int
output_lines_flush (output_lines_t *self)
{
    s_log_write (self);
    int rc = 0;
    for (int stream = PROTO_OUTPUT_STDOUT; stream <= PROTO_OUTPUT_STDERR; stream++)
        if (s_send_batch (self, stream))
            rc = -1;
    return rc;
}

int
output_lines_finish (output_lines_t *self, int64_t now)
{
    int rc = 0;
    for (int stream = PROTO_OUTPUT_STDOUT; stream <= PROTO_OUTPUT_STDERR; stream++) {
        s_stream_t *s = &self->streams[stream - 1];
        if (s->partial_len > 0 && s_line (self, stream, s->partial, s->partial_len, now))
            rc = -1;
        s->partial_len = 0;
        s->cut = false;
    }
    if (self->dropped > 0 && s_report_dropped (self, self->dropped_stream))
        rc = -1;
    if (output_lines_flush (self))
        rc = -1;
    return rc;
}

int
output_lines_tick (output_lines_t *self, int64_t now)
{
    int rc = 0;
    s_refill (self, now);
    if (self->dropped > 0 && self->tokens >= 1.0) {
        self->tokens -= 1.0;
        rc = s_report_dropped (self, self->dropped_stream);
    }
    if (output_lines_flush (self))
        rc = -1;
    return rc;
}
