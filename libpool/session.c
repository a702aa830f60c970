/*  libpool/session.c - the conversation with the head inside a call.

    The client has no thread of its own: it talks to the head only while
    the application is inside a libpool call.  Every wait goes through
    pool_session_wait, which sends HEARTBEAT every heartbeat_ms, declares
    the head lost after reconnect_timeout without any message from it, and
    gives every RESULT batch to the running map (through pool_t.run_ops)
    and every OUTPUT to output.c, whatever the call is waiting for.  It
    never says HELLO again on its own: the head treats a second HELLO on
    a connection as a fresh peer and closes its pools.  When the head no
    longer knows us the wait ends with POOL_EFORGOTTEN and recover.c, the
    layer above, opens the pool again.  Layers, each calling only down:
    session.c, recover.c, map.c, pool.c / blocks.c / matrix.c.
*/
#include "pool_private.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
pool_fail (pool_t *self, int code, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (self->error, sizeof self->error, format, args);
    va_end (args);
    return code;
}

int
pool_session_send (pool_t *self, proto_msg_t *msg)
{
    int rc = proto_msg_send (msg, zsock_resolve (self->sock));
    proto_msg_reset (msg);
    if (rc != PROTO_OK)
        return pool_fail (self, POOL_ELOST, "cannot send %s to the head: %s",
                          proto_type_name (msg->type), zmq_strerror (zmq_errno ()));
    proto_heartbeat_sent (&self->beat, zclock_mono ());
    return 0;
}

static int
s_send_heartbeat (pool_t *self)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_HEARTBEAT);
    return pool_session_send (self, &msg);
}

/*  Gives each entry of a RESULT batch to the future or the map it is
    for; entries of neither (an abandoned map, a destroyed future) are
    dropped.  Packed payloads are read in place; frames are offered, so a
    big output becomes its result's value without a copy. */
static int
s_dispatch (pool_t *self, proto_msg_t *msg)
{
    int rc = 0;
    const uint8_t *packed = msg->packed ? zframe_data (msg->packed) : NULL;
    for (size_t i = 0; i < msg->njobs; i++) {
        const void *data = NULL;
        size_t size = 0;
        zframe_t *frame = packed ? NULL : proto_msg_pop_frame (msg);
        if (frame) {
            data = zframe_data (frame);
            size = zframe_size (frame);
        } else if (packed)
            proto_msg_packed_payload (msg, packed, i, &data, &size);
        else
            proto_msg_payload (msg, i, &data, &size);
        const proto_job_t *job = &msg->jobs[i];
        int erc = 0;
        if (job->id >= POOL_FUTURE_ID_BASE) {
            if (self->futures)
                erc = self->futures_ops->accept (self->futures, job, data, size, &frame);
        } else if (self->run)
            erc = self->run_ops->accept (self->run, job, data, size, &frame);
        if (frame)
            zframe_destroy (&frame);
        if (rc == 0)
            rc = erc; /* the first failure; the other entries still go */
    }
    return rc;
}

/*  Handles one decoded message: 0 when the wait is over (the wanted
    message moved into reply), 1 to keep waiting, <0 to fail the call. */
static int
s_handle (pool_t *self, proto_msg_t *msg, proto_type_t want, proto_msg_t *reply)
{
    if (want && want != PROTO_RESULT && msg->type == want) {
        if (reply) {
            proto_msg_reset (reply);
            *reply = *msg;
            proto_msg_init (msg, 0);
        }
        return 0;
    }
    switch (msg->type) {
    case PROTO_RESULT:
        if (self->has_pool && msg->pool == self->pool_id && s_dispatch (self, msg) != 0)
            return pool_fail (self, POOL_ENOMEM, "out of memory storing a result");
        return want == PROTO_RESULT ? 0 : 1;
    case PROTO_ERROR: {
        /* Each pool has its own connection: an ERROR naming another
           pool is stale, one naming none answers something we sent. */
        if ((msg->present & PROTO_F_POOL) && self->has_pool && msg->pool != self->pool_id)
            return 1;
        if (msg->code == PROTO_CODE_UNKNOWN_PEER) {
            /* The head restarted or declared us dead: our pool is gone
               there.  While opening it again, more of these answer what
               we sent before our HELLO; they are expected. */
            if (self->recovering || !self->has_pool)
                return 1;
            return POOL_EFORGOTTEN; /* pool_wait opens the pool again */
        }
        int code = pool_code_from_head (msg->code);
        /* Closed, or failed past opening (its workers cannot serve
           it, e.g. an update that kills them): the head dropped it. */
        if (code == POOL_ECLOSED
            || (code == POOL_EWORKER && self->has_pool && (msg->present & PROTO_F_POOL)))
            self->broken = code;
        return pool_fail (self, code, "%s",
                          msg->text && *msg->text ? msg->text
                                                  : "the head reported an error");
    }
    case PROTO_OUTPUT:
        if (self->has_pool && msg->pool == self->pool_id)
            pool_output_deliver (self, msg);
        return 1;
    case PROTO_DENIED:
        self->broken = POOL_EDENIED;
        return pool_fail (self, POOL_EDENIED, "the head refused us: %s",
                          msg->text ? msg->text : "no reason given");
    default:
        return 1; /* HEARTBEAT, WELCOME, stale replies */
    }
}

/*  Looks at the socket for input for at most us microseconds, giving the
    CPU to anything else runnable between looks.  A call that sleeps in
    zmq_poll lets its CPU go idle, and on a virtual machine every wake-up
    of an idle CPU costs tens of microseconds, several times per ZeroMQ
    hop; a caller kept awake for the length of a short job's round trip
    gets its answer without them (pool_options_t.spin_wait).
    SPIN_READY: input was there at the first look (spinning did nothing);
    SPIN_CAUGHT: it came while spinning; SPIN_MISSED: the moment passed. */
typedef enum { SPIN_MISSED, SPIN_READY, SPIN_CAUGHT } spin_t;

/*  Whether the socket has input: 1 or 0, or -1 (an error, left to
    zmq_poll to report).  ZMQ_EVENTS first takes in what libzmq's I/O
    thread handed over. */
static int
s_input_waiting (void *handle)
{
    int events = 0;
    size_t size = sizeof events;
    if (zmq_getsockopt (handle, ZMQ_EVENTS, &events, &size) != 0)
        return -1;
    return (events & ZMQ_POLLIN) != 0;
}

static spin_t
s_spin_wait (void *handle, int64_t us)
{
    int64_t until = zclock_usecs () + us;
    for (int looks = 0;; looks++) {
        int waiting = s_input_waiting (handle);
        if (waiting < 0)
            return SPIN_MISSED;
        if (waiting)
            return looks ? SPIN_CAUGHT : SPIN_READY;
        if (zclock_usecs () >= until)
            return SPIN_MISSED;
        sched_yield ();
    }
}

/*  Spins before a wait that would sleep, unless spinning keeps running
    out: answers that come later than spin_wait (longer jobs) would only
    burn a CPU, so after SPIN_FUTILE spins in a row that caught nothing
    only every SPIN_PROBE-th wait tries again.  Input that was already
    waiting says nothing either way. */
#define SPIN_FUTILE 8
#define SPIN_PROBE 64
/*  With more answers than this still to come (pool_wait_results), a wait
    sleeps at once: they come in batches, each worth a wake-up, and a
    client spinning through a long map only takes CPU from the head and
    the workers it shares cores with.  `bench_pool noop` (20,000 inputs,
    2 workers, 2 cores): the client's CPU per job 205-210 ns spinning,
    155-165 ns sleeping, and the map 4-6% faster. */
#define SPIN_AWAITED_MAX 8

/*  Whether a wait for results spins (a few to come, spin_wait on). */
static bool
s_spins (const pool_t *self)
{
    return self->spin_us > 0 && self->awaited > 0 && self->awaited <= SPIN_AWAITED_MAX;
}

/*  Results that came later than a spin lasts (a link with delay, jobs of
    milliseconds) come about as late the next time: the wait sleeps until
    half a spin before the time they took lately (answer_us, from the
    wait's start at started_us), and spins from there.  A result that
    comes sooner ends the sleep as any wait's would.  The sleep polls the
    socket's ZMQ_FD with ppoll, to the microsecond (zmq_poll counts whole
    milliseconds).  1 when it came while sleeping, 0 when the spin is
    still to do, -1 when the sleep was left without it (the caller's poll
    says why). */
static int
s_sleep_until_due (pool_t *self, void *handle, int64_t us, int64_t started_us,
                   long timeout_ms)
{
    int64_t until = started_us + self->answer_us - us / 2;
    int64_t left = until - zclock_usecs ();
    if (self->answer_us <= us || left <= 0)
        return 0;
    if (left >= (int64_t)timeout_ms * 1000)
        return -1; /* a heartbeat or the deadline comes first */
    int fd = -1;
    size_t size = sizeof fd;
    if (zmq_getsockopt (handle, ZMQ_FD, &fd, &size) != 0)
        return -1;
    /* ZMQ_FD says that ZMQ_EVENTS may have changed, no more */
    struct pollfd item = { .fd = fd, .events = POLLIN };
    while (true) {
        int waiting = s_input_waiting (handle);
        if (waiting)
            return waiting; /* 1, or -1 */
        left = until - zclock_usecs ();
        if (left <= 0)
            return 0;
        struct timespec wait = { .tv_sec = (time_t)(left / 1000000),
                                 .tv_nsec = (long)(left % 1000000) * 1000 };
        if (ppoll (&item, 1, &wait, NULL) < 0 && errno != EINTR)
            return -1;
    }
}

static bool
s_spin_first (pool_t *self, void *handle, long timeout_ms, int64_t started_us)
{
    int64_t us = (int64_t)timeout_ms * 1000;
    if (self->spin_us < us)
        us = self->spin_us;
    if (us <= 0 || self->awaited > SPIN_AWAITED_MAX)
        return false;
    if (self->spin_misses >= SPIN_FUTILE && ++self->spin_skips % SPIN_PROBE != 0)
        return false;
    if (s_spins (self)) { /* a wait for a few results */
        int slept = s_sleep_until_due (self, handle, us, started_us, timeout_ms);
        if (slept)
            return slept > 0;
    }
    spin_t spin = s_spin_wait (handle, us);
    if (spin == SPIN_CAUGHT)
        self->spin_misses = 0;
    else if (spin == SPIN_MISSED && self->spin_misses < SPIN_FUTILE)
        self->spin_misses++;
    return spin != SPIN_MISSED;
}

int
pool_session_wait (pool_t *self, proto_type_t want, proto_msg_t *reply, int64_t deadline)
{
    if (self->broken)
        return self->broken;
    int rc = 0;
    void *handle = zsock_resolve (self->sock);
    proto_msg_t msg;
    proto_msg_init (&msg, 0);
    /* Silence counts only while we listen: the time the application spent
       outside libpool calls (with the head's heartbeats queued, unread)
       must not make the head look lost. */
    proto_heartbeat_resume (&self->beat, zclock_mono ());
    int64_t started_us = zclock_usecs ();
    bool looked = false;
    while (true) {
        int64_t now = zclock_mono ();
        if (proto_heartbeat_lost (&self->beat, now)) {
            self->broken = POOL_ELOST;
            rc = pool_fail (self, POOL_ELOST,
                            "no word from the head for %.1f s: connection lost",
                            (double)proto_heartbeat_silence (&self->beat, now) / 1000.0);
            goto cleanup;
        }
        if (proto_heartbeat_due (&self->beat, now)) {
            rc = s_send_heartbeat (self);
            if (rc)
                goto cleanup;
        }
        /* A wait of 0 (or a deadline passed) still takes in what is
           there: one look at the socket first. */
        if (now >= deadline && looked) {
            rc = POOL_ETIMEOUT;
            goto cleanup;
        }
        looked = true;
        int64_t wake = proto_heartbeat_wake (&self->beat, deadline);
        long timeout = wake > now ? (long)(wake - now) : 0;

        zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
        int n = 1;
        if (s_spin_first (self, handle, timeout, started_us))
            item.revents = ZMQ_POLLIN;
        else {
            /* the spin took some of the wait: sleep only the rest */
            now = zclock_mono ();
            n = zmq_poll (&item, 1, wake > now ? (long)(wake - now) : 0);
        }
        if (n < 0) {
            if (zmq_errno () == EINTR)
                continue;
            self->broken = POOL_ELOST;
            rc = pool_fail (self, POOL_ELOST, "cannot poll the head's socket: %s",
                            zmq_strerror (zmq_errno ()));
            goto cleanup;
        }
        if (n == 0 || !(item.revents & ZMQ_POLLIN))
            continue;
        zmsg_t *raw = zmsg_recv (handle);
        if (!raw)
            continue;
        proto_heartbeat_heard (&self->beat, zclock_mono ());
        char reason[256];
        int drc = proto_msg_decode (&msg, &raw, reason, sizeof reason);
        if (drc == PROTO_EVERSION) {
            self->broken = POOL_EPROTO;
            rc = pool_fail (self, POOL_EPROTO,
                            "the head speaks protocol version %u, this library %d",
                            msg.version, PROTO_VERSION);
            goto cleanup;
        }
        if (drc != PROTO_OK)
            continue; /* malformed: dropped, never trusted */
        rc = s_handle (self, &msg, want, reply);
        if (rc == 0 && want == PROTO_RESULT && s_spins (self))
            /* a moving average: one late answer moves it a quarter */
            self->answer_us += (zclock_usecs () - started_us - self->answer_us) / 4;
        if (rc != 1)
            goto cleanup;
    }
cleanup:
    proto_msg_reset (&msg);
    proto_heartbeat_pause (&self->beat, zclock_mono ());
    return rc;
}
