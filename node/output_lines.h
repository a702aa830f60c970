/*  node/output_lines.h - one worker's output: cut into lines, logged,
    rate-limited and batched for the head.

    Bytes a worker wrote on its stdout or stderr come in as they were read
    from its pipes.  Each stream is cut into lines at '\n', and a run of
    PROTO_OUTPUT_LINE_MAX bytes without one is a line of its own (a worker
    that writes without newlines still makes lines).  A NUL becomes '?'.
    Every line goes to the node's log as "(worker-id) line"; the lines
    within the worker's rate (a token bucket: OUTPUT_LINES_RATE lines a
    second, bursts of OUTPUT_LINES_BURST) are batched, per stream, into
    texts of at most PROTO_TEXT_MAX bytes that the send function gets (the
    node makes OUTPUT messages of them).  Lines over the rate are dropped
    and counted; the count goes out as one line "[N lines dropped]" before
    the next line forwarded, or at the next tick the rate allows it.

    Memory is bounded whatever the worker writes: an unfinished line per
    stream (PROTO_OUTPUT_LINE_MAX), a batch per stream (PROTO_TEXT_MAX)
    and a log buffer.  No allocation after output_lines_new.
*/
#ifndef DCPOOL_NODE_OUTPUT_LINES_H
#define DCPOOL_NODE_OUTPUT_LINES_H

#include <stddef.h>
#include <stdint.h>

#define OUTPUT_LINES_RATE 200   /* lines a second forwarded per worker, sustained */
#define OUTPUT_LINES_BURST 1000 /* lines forwarded at once after a quiet spell */

/*  Sends one batch: size bytes of text, whole lines each ending in '\n',
    written on stream (1 stdout, 2 stderr).  0, or -1 (counted, the lines
    are lost). */
typedef int (output_lines_send_fn) (void *arg, int stream, const char *text, size_t size);

typedef struct output_lines output_lines_t;

/*  For the worker named tag (copied); lines go to log_fd (-1: none) and
    batches to send (with arg).  NULL when out of memory. */
output_lines_t *output_lines_new (const char *tag, int log_fd, output_lines_send_fn *send,
                                  void *arg);
/*  Frees it (what is batched is not sent); nulls *self. */
void output_lines_destroy (output_lines_t **self);

/*  A new process starts: unfinished lines and the count of dropped ones
    are forgotten, the bucket is full.  now: zclock_mono, ms. */
void output_lines_reset (output_lines_t *self, int64_t now);
/*  Takes size bytes the worker wrote on stream (1 or 2) at now (ms).
    Batches that fill up are sent at once.  0, or -1 when a send failed. */
int output_lines_feed (output_lines_t *self, int stream, const char *data, size_t size,
                       int64_t now);
/*  Writes the logged lines and sends the batched ones: 0, or -1 when a
    send failed. */
int output_lines_flush (output_lines_t *self);
/*  The process ended: its unfinished lines count as lines, then flushes.
    0 or -1. */
int output_lines_finish (output_lines_t *self, int64_t now);
/*  Now and then (about every second): the "[N lines dropped]" line goes
    out when lines were dropped and the rate allows one; then flushes.
    0 or -1. */
int output_lines_tick (output_lines_t *self, int64_t now);

/*  Lines dropped so far and not reported yet. */
uint64_t output_lines_dropped (const output_lines_t *self);

#endif
