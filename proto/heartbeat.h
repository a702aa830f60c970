/*  proto/heartbeat.h - one peer's heartbeat bookkeeping: when to send the
    next HEARTBEAT, and how long the other side has been silent.

    Every peer keeps the same two clocks (zclock_mono, ms): what it last
    sent and what it last heard.  It sends a HEARTBEAT when nothing went
    out for heartbeat_ms, and gives the other side up after silence_ms of
    silence (liveness x heartbeat, or longer where the peer chooses).  A
    client that only listens while the application is inside a call
    pauses the silence clock between calls (proto_heartbeat_pause).
*/
#ifndef DCPOOL_PROTO_HEARTBEAT_H
#define DCPOOL_PROTO_HEARTBEAT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t heartbeat_ms; /* send at least this often */
    int64_t silence_ms;   /* the other side is lost after this silence */
    int64_t last_sent;    /* zclock_mono of the last message out */
    int64_t last_heard;   /* zclock_mono of the last message in */
    int64_t paused_at;    /* zclock_mono when listening paused, or 0 */
} proto_heartbeat_t;

/* Starts both clocks at now. */
void proto_heartbeat_init (proto_heartbeat_t *self, int64_t heartbeat_ms,
                           int64_t silence_ms, int64_t now);
/* Something came in / went out at now. */
void proto_heartbeat_heard (proto_heartbeat_t *self, int64_t now);
void proto_heartbeat_sent (proto_heartbeat_t *self, int64_t now);
/* True when a HEARTBEAT is due (nothing sent for heartbeat_ms). */
bool proto_heartbeat_due (const proto_heartbeat_t *self, int64_t now);
/* How long the other side has been silent, in ms. */
int64_t proto_heartbeat_silence (const proto_heartbeat_t *self, int64_t now);
/* True when that silence reached silence_ms. */
bool proto_heartbeat_lost (const proto_heartbeat_t *self, int64_t now);
/* The next moment something is due (a HEARTBEAT, or the loss), at most
   deadline: how long a wait may sleep. */
int64_t proto_heartbeat_wake (const proto_heartbeat_t *self, int64_t deadline);
/* The other side is given up now (it said it does not know us). */
void proto_heartbeat_lose (proto_heartbeat_t *self);
/*  Listening stops (the application left the library) / starts again:
    the time in between is not silence, since nobody listened. */
void proto_heartbeat_pause (proto_heartbeat_t *self, int64_t now);
void proto_heartbeat_resume (proto_heartbeat_t *self, int64_t now);

#endif
