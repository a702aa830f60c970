/*  libpool/futures.c - single calls: pool_submit, the waits on futures,
    their callbacks, pool_poll.

    Each future is one job whose id comes from pool_t.next_future (ids
    from POOL_FUTURE_ID_BASE up, apart from the maps' ids).  It keeps a
    copy of its input until its result comes, so the job can be sent again
    after a head restart.  At most POOL_WINDOW futures of a pool are at
    the head at once; the rest wait here, in submit order, and go out as
    results come in (pool_futures_pump, called by every call that waits).
    A map's window is its own: a pool with futures and a map running has
    at most two windows of jobs at the head.

    Callbacks (pool_future_then) run only inside calls that wait, in the
    calling thread, one at a time: a result that arrives puts its future
    on the pool's due list, and the waiting call runs the list before it
    returns.  A wait called from inside a callback takes in results but
    leaves the callbacks they make due to the outer wait.
*/
#include "pool_private.h"
#include "proto/shm.h"
#include "proto/views.h"
#include "results.h"
#include "shared.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { FUTURE_HELD, FUTURE_SENT, FUTURE_DONE } future_state_t;

/*  A future's place on one of the pool's lists (held, due). */
typedef struct {
    pool_future_t *prev, *next;
    bool on;
} future_link_t;

typedef struct {
    pool_future_t *head, *tail;
    size_t link; /* offsetof (pool_future_t, its future_link_t) */
} future_list_t;

struct pool_future {
    pool_t *pool; /* NULL once the pool is closed */
    uint64_t id;
    future_state_t state;
    uint8_t *input; /* copy, until the result comes */
    size_t size;
    /* A big input goes by reference (shared.h, direct_server.h): workers
       on this host map its memfd, others fetch it from the data endpoint. */
    bool by_ref;
    pool_kept_t kept;
    /* The blocks it reads (pool_submit_with), or NULL: it goes in a
       SUBMIT of its own that names them. */
    uint8_t (*blocks)[POOL_HASH_SIZE];
    size_t nblocks;
    pool_result_t result; /* FUTURE_DONE */
    bool cancelled;
    pool_future_fn *on_success;
    pool_future_fn *on_failure;
    void *arg;
    bool has_then;              /* pool_future_then was called */
    bool in_callback;           /* its callback runs now */
    bool destroy_pending;       /* destroyed while it ran its callback
                                   or was waited on: freed when both
                                   are over */
    int waiters;                /* waits on it now (s_pin) */
    pool_future_t *prev, *next; /* every future of the pool */
    future_link_t held;         /* FUTURE_HELD, in submit order */
    future_link_t due;          /* its callback is to run */
};

struct pool_futures {
    pool_t *pool;
    zhashx_t *sent; /* id -> FUTURE_SENT future */
    pool_future_t *all;
    future_list_t held; /* waiting for room in the window */
    future_list_t due;  /* callbacks to run */
};

/* ---- the sets a future is on ---------------------------------------- */

static size_t
s_id_hash (const void *key)
{
    uint64_t id = (uint64_t)(uintptr_t)key;
    return (size_t)(id * 0x9E3779B97F4A7C15ull);
}

static int
s_id_compare (const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

static future_link_t *
s_link (const future_list_t *list, pool_future_t *f)
{
    return (future_link_t *)((char *)f + list->link);
}

static void
s_list_add (future_list_t *list, pool_future_t *f)
{
    future_link_t *link = s_link (list, f);
    if (link->on)
        return;
    link->on = true;
    link->next = NULL;
    link->prev = list->tail;
    if (list->tail)
        s_link (list, list->tail)->next = f;
    else
        list->head = f;
    list->tail = f;
}

static void
s_list_remove (future_list_t *list, pool_future_t *f)
{
    future_link_t *link = s_link (list, f);
    if (!link->on)
        return;
    if (link->prev)
        s_link (list, link->prev)->next = link->next;
    else
        list->head = link->next;
    if (link->next)
        s_link (list, link->next)->prev = link->prev;
    else
        list->tail = link->prev;
    memset (link, 0, sizeof *link);
}

/* A future with callbacks whose result came: its callback is due. */
static void
s_due_add (pool_futures_t *set, pool_future_t *f)
{
    if (f->has_then)
        s_list_add (&set->due, f);
}

/*  Keeps f's big input by reference when the pool can (shared.h:
    pool_kept_min says how); nothing happens when it cannot, and the
    bytes go as usual. */
static void
s_keep_ref (pool_t *pool, pool_future_t *f)
{
    bool local;
    size_t min = pool_kept_min (pool->host[0], pool->shared_min, pool->direct,
                                pool->direct_min, &local);
    if (!pool->shared_off && min && f->size >= min
        && pool_kept_make (&f->kept, pool->direct, (pool_bytes_t){ f->input, f->size },
                           local)
               == 0)
        f->by_ref = true;
}

/* Lets go of f's reference: the bytes go from now on. */
static void
s_drop_ref (pool_future_t *f)
{
    if (!f->by_ref)
        return;
    pool_kept_drop (&f->kept, f->pool ? f->pool->direct : NULL);
    f->by_ref = false;
}

/* Gives f its result (taken from *r) and lets go of its input. */
static void
s_finish (pool_futures_t *set, pool_future_t *f, pool_result_t *r)
{
    s_drop_ref (f);
    if (f->state == FUTURE_SENT)
        zhashx_delete (set->sent, (void *)(uintptr_t)f->id);
    s_list_remove (&set->held, f);
    f->state = FUTURE_DONE;
    f->result = *r;
    memset (r, 0, sizeof *r);
    free (f->input);
    f->input = NULL;
    s_due_add (set, f);
}

/* Finishes f with an error code and text: 0 or POOL_ENOMEM. */
static int
s_finish_error (pool_futures_t *set, pool_future_t *f, int code, const char *text)
{
    pool_result_t r;
    int rc = pool_result_error (&r, 0, code, text);
    s_finish (set, f, &r);
    return rc;
}

static void
s_free (pool_futures_t *set, pool_future_t *f)
{
    if (set) {
        s_list_remove (&set->due, f);
        s_list_remove (&set->held, f);
        if (f->state == FUTURE_SENT)
            zhashx_delete (set->sent, (void *)(uintptr_t)f->id);
        if (f->prev)
            f->prev->next = f->next;
        else
            set->all = f->next;
        if (f->next)
            f->next->prev = f->prev;
    }
    pool_result_free (&f->result);
    s_drop_ref (f);
    free (f->input);
    free (f->blocks);
    free (f);
}

/*  Waits pin the futures they wait on, so a callback that destroys one
    (its own, or another) does not free it under the wait: the free then
    happens at the unpin. */
static void
s_pin (pool_future_t *f)
{
    f->waiters++;
}

static void
s_unpin (pool_future_t *f)
{
    if (--f->waiters == 0 && f->destroy_pending && !f->in_callback)
        s_free (f->pool ? f->pool->futures : NULL, f);
}

/* ---- the sink the session and the recovery call --------------------- */

static int
s_accept (void *sink, const proto_job_t *job, const void *data, size_t size,
          zframe_t **frame)
{
    pool_futures_t *set = sink;
    pool_future_t *f = zhashx_lookup (set->sent, (void *)(uintptr_t)job->id);
    if (f && job->status == PROTO_CODE_RESEND && f->by_ref) {
        /* Its input went by reference where it cannot be read: it goes
           again as bytes with the next held ones. */
        s_drop_ref (f);
        zhashx_delete (set->sent, (void *)(uintptr_t)f->id);
        f->state = FUTURE_HELD;
        s_list_add (&set->held, f);
        return 0;
    }
    if (!f || job->status == PROTO_CODE_RESEND)
        return 0; /* destroyed, cancelled, or already here */
    pool_result_t r;
    if (job->status == 0 && (job->flags & PROTO_JOB_SHARED)) {
        /* Its output is in the input's memfd (a worker on this host). */
        const char *why = NULL;
        memset (&r, 0, sizeof r);
        int rc = pool_shared_map_output (f->by_ref ? f->kept.fd : -1, f->kept.ref, data,
                                         size, &r.value, &why);
        if (rc && !(r.error = strdup (why)))
            return POOL_ENOMEM;
        r.status = rc;
        s_finish (set, f, &r);
        return 0;
    }
    int rc = job->status == 0 && (job->flags & PROTO_JOB_DIRECT) ? pool_result_direct (
                 f->pool ? f->pool->direct : NULL, &r, 0, job, data, size)
             : *frame ? pool_result_frame (&r, 0, job->status, frame)
                      : pool_result_fill (&r, 0, job->status, data, size, NULL);
    if (rc)
        return rc;
    s_finish (set, f, &r);
    return 0;
}

/* Adds f's input to a SUBMIT (borrowed: f outlives the send). */
static int
s_add (pool_t *pool, proto_msg_t *msg, pool_future_t *f)
{
    proto_job_t *job = proto_msg_add_job (msg);
    if (!job
        || proto_msg_add_borrowed (msg, f->by_ref ? f->kept.ref : f->input,
                                   f->by_ref ? sizeof f->kept.ref : f->size)
               != PROTO_OK)
        return pool_fail (pool, POOL_ENOMEM, "out of memory building SUBMIT");
    job->id = f->id;
    job->flags = f->by_ref ? PROTO_JOB_SHARED : 0;
    return 0;
}

/* Sends SUBMIT batches of what add_next yields, as map.c does. */
static int
s_send_batch (pool_t *pool, proto_msg_t *msg, size_t *bytes)
{
    int rc = 0;
    if (msg->njobs) {
        proto_msg_set_pool (msg, pool->pool_id);
        rc = pool_session_send (pool, msg);
    }
    proto_msg_init (msg, PROTO_SUBMIT);
    *bytes = 0;
    return rc;
}

/*  Adds f to the batch in msg; a future naming blocks goes alone, in a
    SUBMIT of its own that names them.  0 or <0. */
static int
s_batch (pool_t *pool, proto_msg_t *msg, size_t *bytes, pool_future_t *f)
{
    int rc = 0;
    if (msg->njobs == POOL_SUBMIT_BATCH || *bytes + f->size > POOL_SUBMIT_BYTES
        || (f->nblocks && msg->njobs))
        rc = s_send_batch (pool, msg, bytes);
    if (rc == 0)
        rc = s_add (pool, msg, f);
    *bytes += f->size;
    if (rc == 0 && f->nblocks) {
        if (proto_submit_blocks_set (msg, (const uint8_t (*)[PROTO_HASH_SIZE])f->blocks,
                                     f->nblocks)
            != PROTO_OK)
            return pool_fail (pool, POOL_ENOMEM, "out of memory naming a job's blocks");
        rc = s_send_batch (pool, msg, bytes);
    }
    return rc;
}

static int
s_resubmit (void *sink)
{
    pool_futures_t *set = sink;
    pool_t *pool = set->pool;
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_SUBMIT);
    size_t bytes = 0;
    int rc = 0;
    for (pool_future_t *f = zhashx_first (set->sent); f && rc == 0;
         f = zhashx_next (set->sent))
        rc = s_batch (pool, &msg, &bytes, f);
    if (rc == 0)
        rc = s_send_batch (pool, &msg, &bytes);
    proto_msg_reset (&msg);
    return rc;
}

static const pool_sink_ops_t s_ops = { s_accept, s_resubmit };

/* Sends held futures while the window has room: 0 or <0. */
static int
s_send_held (pool_futures_t *set)
{
    pool_t *pool = set->pool;
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_SUBMIT);
    size_t bytes = 0;
    int rc = 0;
    while (set->held.head && rc == 0 && zhashx_size (set->sent) < POOL_WINDOW) {
        pool_future_t *f = set->held.head;
        s_list_remove (&set->held, f);
        if (zhashx_insert (set->sent, (void *)(uintptr_t)f->id, f) != 0) {
            rc = pool_fail (pool, POOL_ENOMEM, "out of memory sending a future");
            break;
        }
        f->state = FUTURE_SENT;
        rc = s_batch (pool, &msg, &bytes, f);
    }
    if (rc == 0)
        rc = s_send_batch (pool, &msg, &bytes);
    proto_msg_reset (&msg);
    return rc;
}

static pool_futures_t *
s_set (pool_t *pool)
{
    if (pool->futures)
        return pool->futures;
    pool_futures_t *set = calloc (1, sizeof *set);
    if (!set)
        return NULL;
    set->sent = zhashx_new ();
    if (!set->sent) {
        free (set);
        return NULL;
    }
    zhashx_set_key_hasher (set->sent, s_id_hash);
    zhashx_set_key_comparator (set->sent, s_id_compare);
    zhashx_set_key_duplicator (set->sent, NULL);
    zhashx_set_key_destructor (set->sent, NULL);
    set->held.link = offsetof (pool_future_t, held);
    set->due.link = offsetof (pool_future_t, due);
    set->pool = pool;
    pool->futures = set;
    pool->futures_ops = &s_ops;
    if (!pool->next_future)
        pool->next_future = POOL_FUTURE_ID_BASE;
    return set;
}

_Thread_local bool pool_in_callback;

static void s_fail_all (pool_t *pool, int rc);

/* Runs the due callbacks, unless one runs already: how many ran. */
static int
s_run_callbacks (pool_t *pool)
{
    pool_futures_t *set = pool->futures;
    if (!set || pool_in_callback)
        return 0;
    int ran = 0;
    while (set->due.head) {
        pool_future_t *f = set->due.head;
        s_list_remove (&set->due, f);
        pool_future_fn *fn = f->result.status == 0 ? f->on_success : f->on_failure;
        if (!fn)
            continue;
        pool_in_callback = true;
        f->in_callback = true;
        fn (f, &f->result, f->arg);
        f->in_callback = false;
        pool_in_callback = false;
        ran++;
        if (f->destroy_pending && !f->waiters)
            s_free (set, f);
    }
    return ran;
}

int
pool_futures_pump (pool_t *self)
{
    if (!self->futures)
        return 0;
    int rc = self->broken ? 0 : s_send_held (self->futures);
    if (rc)
        s_fail_all (self, rc); /* none is left half sent */
    int ran = s_run_callbacks (self);
    return rc ? rc : ran;
}

/* The head is lost for good: every future without a result gets rc. */
static void
s_fail_all (pool_t *pool, int rc)
{
    pool_futures_t *set = pool->futures;
    if (!set)
        return;
    for (pool_future_t *f = set->all; f; f = f->next)
        if (f->state != FUTURE_DONE)
            s_finish_error (set, f, rc, pool->error[0] ? pool->error : NULL);
}

/* Cancels f (which has no result): 0 or <0. */
static int
s_cancel (pool_futures_t *set, pool_future_t *f)
{
    int rc = 0;
    if (f->state == FUTURE_SENT)
        rc = pool_cancel_send (set->pool, f->id, f->id + 1);
    f->cancelled = true;
    int frc = s_finish_error (set, f, POOL_ECANCELED, "cancelled");
    return rc ? rc : frc;
}

int
pool_futures_cancel_all (pool_t *self)
{
    pool_futures_t *set = self->futures;
    if (!set)
        return 0;
    /* One CANCEL for every future at the head. */
    int rc = pool_cancel_send (self, POOL_FUTURE_ID_BASE, self->next_future);
    for (pool_future_t *f = set->all; f; f = f->next)
        if (f->state != FUTURE_DONE) {
            f->cancelled = true;
            int frc = s_finish_error (set, f, POOL_ECANCELED, "cancelled");
            if (rc == 0)
                rc = frc;
        }
    return rc;
}

void
pool_futures_orphan (pool_t *self)
{
    pool_futures_t *set = self->futures;
    if (!set)
        return;
    for (pool_future_t *f = set->all; f; f = f->next)
        if (f->state != FUTURE_DONE)
            s_finish_error (set, f, POOL_ECLOSED, "the pool was closed");
    for (pool_future_t *f = set->all, *next; f; f = next) {
        next = f->next;
        f->pool = NULL;
        f->prev = f->next = NULL;
        memset (&f->held, 0, sizeof f->held);
        memset (&f->due, 0, sizeof f->due);
    }
    zhashx_destroy (&set->sent);
    free (set);
    self->futures = NULL;
}

/* ---- the public calls ------------------------------------------------ */

int
pool_submit (pool_t *pool, pool_bytes_t input, pool_future_t **future)
{
    return pool_submit_with (pool, input, NULL, 0, future);
}

int
pool_submit_with (pool_t *pool, pool_bytes_t input,
                  const uint8_t (*blocks)[POOL_HASH_SIZE], size_t count,
                  pool_future_t **future)
{
    if (!future)
        return pool ? pool_fail (pool, POOL_EINVAL, "future is NULL") : POOL_EINVAL;
    *future = NULL;
    if (!pool)
        return POOL_EINVAL;
    if (pool->broken)
        return pool->broken;
    if (input.size && !input.data)
        return pool_fail (pool, POOL_EINVAL, "input has a size but no data");
    if (count && (!blocks || count > PROTO_SUBMIT_BLOCKS_MAX))
        return pool_fail (pool, POOL_EINVAL, "a job names %zu blocks (at most %d)%s",
                          count, (int)PROTO_SUBMIT_BLOCKS_MAX,
                          blocks ? "" : " but gives no hashes");
    pool_futures_t *set = s_set (pool);
    pool_future_t *f = set ? calloc (1, sizeof *f) : NULL;
    uint8_t *copy = f ? malloc (input.size ? input.size : 1) : NULL;
    if (!copy) {
        free (f);
        return pool_fail (pool, POOL_ENOMEM, "out of memory submitting a job");
    }
    if (count && !(f->blocks = malloc (count * sizeof *f->blocks))) {
        free (copy);
        free (f);
        return pool_fail (pool, POOL_ENOMEM, "out of memory submitting a job");
    }
    if (count)
        memcpy (f->blocks, blocks, count * sizeof *f->blocks);
    f->nblocks = count;
    if (input.size)
        memcpy (copy, input.data, input.size);
    f->pool = pool;
    f->id = pool->next_future++;
    f->input = copy;
    f->size = input.size;
    s_keep_ref (pool, f);
    f->state = FUTURE_HELD;
    f->next = set->all;
    if (set->all)
        set->all->prev = f;
    set->all = f;
    s_list_add (&set->held, f);
    /* Out at once while the window has room. */
    int rc = s_send_held (set);
    if (rc) {
        s_fail_all (pool, rc);
        s_free (set, f); /* the others of the pool hold the error */
        return rc;
    }
    *future = f;
    return 0;
}

/* Milliseconds on zclock_mono when timeout seconds have passed. */
static int64_t
s_deadline (double timeout)
{
    if (isinf (timeout) || timeout > 1e12)
        return POOL_FOREVER;
    return zclock_mono () + (int64_t)ceil (timeout * 1000.0);
}

/* The futures at the head, whose results are to come. */
static size_t
s_sent_count (pool_t *pool)
{
    return pool->futures ? zhashx_size (pool->futures->sent) : 0;
}

/* Takes in what comes from pool's head until deadline or a RESULT
   batch, then sends held futures and runs due callbacks: 0, POOL_ETIMEOUT,
   or <0 when the head is lost for good (futures without a result then
   get the code). */
static int
s_wait_step (pool_t *pool, int64_t deadline)
{
    int rc = pool_futures_pump (pool);
    if (rc >= 0)
        rc = pool_wait_results (pool, s_sent_count (pool), deadline);
    if (rc < 0 && rc != POOL_ETIMEOUT) {
        s_fail_all (pool, rc);
        s_run_callbacks (pool);
        return rc;
    }
    int prc = pool_futures_pump (pool);
    return prc < 0 ? prc : rc;
}

static int
s_check (const pool_future_t *f)
{
    if (!f)
        return POOL_EINVAL;
    return 0;
}

int
pool_future_wait (pool_future_t *future, double timeout)
{
    if (s_check (future))
        return POOL_EINVAL;
    pool_t *pool = future->pool;
    if (!(timeout >= 0))
        return pool ? pool_fail (pool, POOL_EINVAL, "timeout must be 0 or more seconds")
                    : POOL_EINVAL;
    if (!pool)
        return 0; /* the pool closed: it holds POOL_ECLOSED */
    int64_t deadline = s_deadline (timeout);
    int rc = 0;
    s_pin (future);
    while (future->state != FUTURE_DONE) {
        rc = s_wait_step (pool, deadline);
        if (rc == POOL_ETIMEOUT && future->state == FUTURE_DONE)
            rc = 0;
        if (rc < 0)
            break;
    }
    if (rc == 0)
        pool_futures_pump (pool);
    s_unpin (future);
    return rc;
}

int
pool_future_result (pool_future_t *future, pool_result_t *result)
{
    if (s_check (future) || !result)
        return POOL_EINVAL;
    if (future->state != FUTURE_DONE)
        return POOL_ETIMEOUT;
    *result = future->result;
    return 0;
}

int
pool_future_cancel (pool_future_t *future)
{
    if (s_check (future))
        return POOL_EINVAL;
    pool_t *pool = future->pool;
    if (future->cancelled)
        return pool ? pool_fail (pool, POOL_EINVAL, "the future was cancelled already")
                    : POOL_EINVAL;
    if (future->state == FUTURE_DONE)
        return pool ? pool_fail (pool, POOL_EINVAL,
                                 "the future has its result already: nothing to cancel")
                    : POOL_EINVAL;
    return s_cancel (pool->futures, future);
}

void
pool_future_destroy (pool_future_t **future)
{
    if (!future || !*future)
        return;
    pool_future_t *f = *future;
    *future = NULL;
    pool_futures_t *set = f->pool ? f->pool->futures : NULL;
    if (set && f->state != FUTURE_DONE)
        s_cancel (set, f);
    if (f->in_callback || f->waiters)
        f->destroy_pending = true; /* freed when those are over */
    else
        s_free (set, f);
}

/*  Pins a copy of the futures array (a callback may destroy any of
    them, nulling the caller's slot): NULL when out of memory. */
static pool_future_t **
s_pin_all (pool_future_t **futures, size_t count)
{
    pool_future_t **pinned = malloc ((count ? count : 1) * sizeof *pinned);
    if (!pinned)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        pinned[i] = futures[i];
        s_pin (pinned[i]);
    }
    return pinned;
}

static void
s_unpin_all (pool_future_t **pinned, size_t count)
{
    for (size_t i = 0; i < count; i++)
        s_unpin (pinned[i]);
    free (pinned);
}

/* Checks a futures array: 0 or POOL_EINVAL. */
static int
s_check_all (pool_future_t **futures, size_t count, double timeout)
{
    if (count && !futures)
        return POOL_EINVAL;
    for (size_t i = 0; i < count; i++)
        if (!futures[i])
            return POOL_EINVAL;
    return timeout >= 0 ? 0 : POOL_EINVAL;
}

int
pool_wait_all (pool_future_t **futures, size_t count, double timeout)
{
    if (s_check_all (futures, count, timeout))
        return POOL_EINVAL;
    int64_t deadline = s_deadline (timeout);
    pool_future_t **pinned = s_pin_all (futures, count);
    if (!pinned)
        return POOL_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        pool_future_t *f = pinned[i];
        while (f->state != FUTURE_DONE && f->pool && rc == 0) {
            rc = s_wait_step (f->pool, deadline);
            if (rc == POOL_ETIMEOUT && f->state == FUTURE_DONE)
                rc = 0;
        }
    }
    for (size_t i = 0; i < count && rc == 0; i++)
        if (pinned[i]->pool)
            pool_futures_pump (pinned[i]->pool);
    s_unpin_all (pinned, count);
    return rc;
}

/* The lowest index of a future with its result, or count. */
static size_t
s_first_done (pool_future_t **futures, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (futures[i]->state == FUTURE_DONE)
            return i;
    return count;
}

int
pool_wait_any (pool_future_t **futures, size_t count, double timeout, size_t *index)
{
    if (!count || !index || s_check_all (futures, count, timeout))
        return POOL_EINVAL;
    int64_t deadline = s_deadline (timeout);
    pool_future_t **pinned = s_pin_all (futures, count);
    if (!pinned)
        return POOL_ENOMEM;
    /* Futures of one pool wait on its socket; of several, in turns of a
       few milliseconds each (every pool looks at least once a turn). */
    pool_t *one = pinned[0]->pool;
    for (size_t i = 1; i < count; i++)
        if (pinned[i]->pool != one)
            one = NULL;
    int rc = 0;
    bool looked = false; /* a timeout of 0 still looks once */
    while (rc == 0) {
        size_t done = s_first_done (pinned, count);
        if (done < count) {
            *index = done;
            break;
        }
        if (looked && zclock_mono () >= deadline) {
            rc = POOL_ETIMEOUT;
            break;
        }
        looked = true;
        for (size_t i = 0; i < count && rc == 0; i++) {
            pool_t *pool = pinned[i]->pool;
            if (!pool || (i > 0 && pinned[i - 1]->pool == pool))
                continue;
            int64_t now = zclock_mono ();
            int64_t until = one || now + 5 >= deadline ? deadline : now + 5;
            rc = s_wait_step (pool, until);
            if (rc == POOL_ETIMEOUT)
                rc = 0; /* the deadline is looked at above */
            if (one)
                break;
        }
    }
    s_unpin_all (pinned, count);
    return rc;
}

int
pool_future_then (pool_future_t *future, pool_future_fn *on_success,
                  pool_future_fn *on_failure, void *arg)
{
    if (s_check (future))
        return POOL_EINVAL;
    pool_t *pool = future->pool;
    if (future->has_then)
        return pool
                   ? pool_fail (pool, POOL_EINVAL, "the future has its callbacks already")
                   : POOL_EINVAL;
    future->on_success = on_success;
    future->on_failure = on_failure;
    future->arg = arg;
    future->has_then = true;
    if (future->state == FUTURE_DONE && pool && pool->futures)
        s_due_add (pool->futures, future); /* runs at the next wait */
    return 0;
}

int
pool_poll (pool_t *pool, double timeout)
{
    if (!pool)
        return POOL_EINVAL;
    if (!(timeout >= 0))
        return pool_fail (pool, POOL_EINVAL, "timeout must be 0 or more seconds");
    int ran = pool_futures_pump (pool);
    if (ran != 0)
        return ran;
    int rc = pool_wait_results (pool, s_sent_count (pool), s_deadline (timeout));
    if (rc < 0 && rc != POOL_ETIMEOUT) {
        s_fail_all (pool, rc);
        s_run_callbacks (pool);
        return rc;
    }
    return pool_futures_pump (pool);
}
