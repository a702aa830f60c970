/*  proto/heartbeat.c - heartbeat bookkeeping (heartbeat.h). */
#include "heartbeat.h"

void
proto_heartbeat_init (proto_heartbeat_t *self, int64_t heartbeat_ms, int64_t silence_ms,
                      int64_t now)
{
    self->heartbeat_ms = heartbeat_ms;
    self->silence_ms = silence_ms;
    self->last_sent = self->last_heard = now;
    self->paused_at = 0;
}

void
proto_heartbeat_heard (proto_heartbeat_t *self, int64_t now)
{
    self->last_heard = now;
}

void
proto_heartbeat_sent (proto_heartbeat_t *self, int64_t now)
{
    self->last_sent = now;
}

bool
proto_heartbeat_due (const proto_heartbeat_t *self, int64_t now)
{
    return now - self->last_sent >= self->heartbeat_ms;
}

int64_t
proto_heartbeat_silence (const proto_heartbeat_t *self, int64_t now)
{
    return now - self->last_heard;
}

bool
proto_heartbeat_lost (const proto_heartbeat_t *self, int64_t now)
{
    return now - self->last_heard >= self->silence_ms;
}

int64_t
proto_heartbeat_wake (const proto_heartbeat_t *self, int64_t deadline)
{
    int64_t wake = self->last_sent + self->heartbeat_ms;
    if (self->last_heard + self->silence_ms < wake)
        wake = self->last_heard + self->silence_ms;
    return wake < deadline ? wake : deadline;
}

void
proto_heartbeat_pause (proto_heartbeat_t *self, int64_t now)
{
    self->paused_at = now;
}

void
proto_heartbeat_resume (proto_heartbeat_t *self, int64_t now)
{
    if (self->paused_at && now > self->paused_at)
        self->last_heard += now - self->paused_at;
    self->paused_at = 0;
}

void
proto_heartbeat_lose (proto_heartbeat_t *self)
{
    self->last_heard = INT64_MIN / 2; /* any silence check fails now */
}
