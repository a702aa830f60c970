/*  head/locality.c - which worker holds which block, and where a job that
    names its blocks goes (locality.h). */
#include "locality.h"

#include <stdlib.h>
#include <string.h>

#include "views.h"

/*  A block some worker reported: its size and who holds it. */
typedef struct {
    uint8_t hash[PROTO_HASH_SIZE]; /* the table's key points here */
    uint64_t size;
    head_peer_t **holders; /* workers, not owned */
    size_t nholders;
    size_t cap;
} s_entry_t;

struct head_locality {
    zhashx_t *blocks;                 /* hash (32 bytes) -> s_entry_t (owned) */
    int64_t timer_at;                 /* zclock_mono a wait timer is due, or 0 */
    uint64_t served;                  /* block bytes the head sent */
    uint64_t holdings;                /* (block, worker) pairs known */
    void (*wait_over) (head_t *head); /* feeds the pools (the caller's) */
};

/*  The most distinct holders one job's scoring looks at: beyond it the
    first ones found count (a job's blocks are seldom held by more). */
#define SCORE_MAX 64

/*  Records of the queue a free worker looks at for the job whose blocks
    it holds most of (a map of thousands of such jobs costs that many
    lookups per job at most). */
#define SCAN_MAX 64

static size_t
s_key_hash (const void *key)
{
    size_t h;
    memcpy (&h, key, sizeof h); /* a BLAKE2b hash: any bytes are uniform */
    return h;
}

static int
s_key_compare (const void *a, const void *b)
{
    return memcmp (a, b, PROTO_HASH_SIZE);
}

static void
s_entry_free (void **item)
{
    s_entry_t *entry = *item;
    if (entry) {
        free (entry->holders);
        free (entry);
    }
    *item = NULL;
}

head_locality_t *
head_locality_new (void (*wait_over) (head_t *head))
{
    head_locality_t *self = calloc (1, sizeof *self);
    if (!self || !(self->blocks = zhashx_new ())) {
        free (self);
        return NULL;
    }
    self->wait_over = wait_over;
    zhashx_set_key_hasher (self->blocks, s_key_hash);
    zhashx_set_key_comparator (self->blocks, s_key_compare);
    zhashx_set_key_duplicator (self->blocks, NULL);
    zhashx_set_key_destructor (self->blocks, NULL);
    zhashx_set_destructor (self->blocks, s_entry_free);
    return self;
}

void
head_locality_destroy (head_locality_t **self)
{
    if (!self || !*self)
        return;
    zhashx_destroy (&(*self)->blocks);
    free (*self);
    *self = NULL;
}

/*  Adds worker as a holder of the block: 0, or -1 when memory is short. */
static int
s_hold (head_locality_t *self, head_peer_t *worker, const proto_held_t *held)
{
    s_entry_t *entry = zhashx_lookup (self->blocks, held->hash);
    if (!entry) {
        if (!(entry = calloc (1, sizeof *entry)))
            return -1;
        memcpy (entry->hash, held->hash, PROTO_HASH_SIZE);
        if (zhashx_insert (self->blocks, entry->hash, entry)) {
            free (entry);
            return -1;
        }
    }
    entry->size = held->size;
    for (size_t i = 0; i < entry->nholders; i++)
        if (entry->holders[i] == worker)
            return 0;
    if (entry->nholders == entry->cap) {
        size_t cap = entry->cap ? 2 * entry->cap : 2;
        head_peer_t **holders = realloc (entry->holders, cap * sizeof *holders);
        if (!holders)
            return -1;
        entry->holders = holders;
        entry->cap = cap;
    }
    entry->holders[entry->nholders++] = worker;
    self->holdings++;
    return 0;
}

/*  Takes worker off the entry's holders; the entry goes with its last. */
static void
s_drop (head_locality_t *self, s_entry_t *entry, head_peer_t *worker)
{
    for (size_t i = 0; i < entry->nholders; i++)
        if (entry->holders[i] == worker) {
            entry->holders[i] = entry->holders[--entry->nholders];
            self->holdings--;
            break;
        }
    if (entry->nholders == 0)
        zhashx_delete (self->blocks, entry->hash);
}

void
head_locality_report (head_t *head, head_peer_t *worker, proto_msg_t *msg)
{
    head_locality_t *self = head->locality;
    const void *data;
    size_t size, count;
    if (!self || proto_msg_payload (msg, 0, &data, &size)
        || proto_held_count (size, &count) != PROTO_OK) {
        zsys_warning ("pool-head: worker %s sent a malformed BLOCKS_HELD", worker->id);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        proto_held_t held;
        proto_held_get ((const uint8_t *)data + i * PROTO_HELD_ENTRY, &held);
        if (held.size != PROTO_HELD_GONE) {
            if (s_hold (self, worker, &held)) {
                zsys_warning ("pool-head: out of memory noting worker %s's blocks",
                              worker->id);
                return;
            }
        } else {
            s_entry_t *entry = zhashx_lookup (self->blocks, held.hash);
            if (entry)
                s_drop (self, entry, worker);
        }
    }
}

void
head_locality_forget (head_t *head, head_peer_t *worker)
{
    head_locality_t *self = head->locality;
    if (!self || zhashx_size (self->blocks) == 0)
        return;
    /* zhashx may not be changed while it is walked: collect, then drop. */
    zlistx_t *mine = zlistx_new ();
    if (!mine)
        return;
    for (s_entry_t *entry = zhashx_first (self->blocks); entry;
         entry = zhashx_next (self->blocks))
        for (size_t i = 0; i < entry->nholders; i++)
            if (entry->holders[i] == worker) {
                zlistx_add_end (mine, entry);
                break;
            }
    for (s_entry_t *entry = zlistx_first (mine); entry; entry = zlistx_next (mine))
        s_drop (self, entry, worker);
    zlistx_destroy (&mine);
}

int
head_locality_named (const proto_msg_t *msg, head_named_t **named, const char **why)
{
    *named = NULL;
    size_t count = 0;
    if (proto_submit_blocks_get (msg, &count) != PROTO_OK) {
        *why = "the blocks the SUBMIT names are not whole hashes in hex";
        return -1;
    }
    if (count == 0)
        return 0;
    head_named_t *self = calloc (1, sizeof *self);
    if (!self || !(self->hash = malloc (count * sizeof *self->hash))) {
        free (self);
        *why = "head out of memory";
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        proto_submit_block (msg, i, self->hash[i]);
    self->count = count;
    self->refs = 1;
    *named = self;
    return 0;
}

/*  A wait ended: the caller's wait_over feeds the pools, and the jobs
    that waited for a busy holder go to whichever free worker asks now. */
static int
s_on_wait_over (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    head_t *head = arg;
    head->locality->timer_at = 0;
    head->locality->wait_over (head);
    return 0;
}

/*  Makes sure the pools are fed again in delay ms. */
static void
s_arm (head_t *head, int64_t now, int64_t delay)
{
    head_locality_t *self = head->locality;
    if (!head->loop || (self->timer_at && self->timer_at <= now + delay))
        return;
    if (zloop_timer (head->loop, (size_t)(delay > 0 ? delay : 1), 1, s_on_wait_over, head)
        >= 0)
        self->timer_at = now + delay;
}

/*  The bytes of a job's blocks one worker holds. */
typedef struct {
    const head_peer_t *worker;
    uint64_t bytes;
} s_score_t;

/*  Of the blocks named: the bytes worker holds (*mine) and the most any
    other ready worker of its pool holds (*others). */
static void
s_score (head_locality_t *self, const head_peer_t *worker, const head_named_t *named,
         uint64_t *mine, uint64_t *others)
{
    s_score_t score[SCORE_MAX];
    size_t nscore = 0;
    for (size_t b = 0; b < named->count; b++) {
        const s_entry_t *entry = zhashx_lookup (self->blocks, named->hash[b]);
        for (size_t h = 0; entry && h < entry->nholders; h++) {
            const head_peer_t *holder = entry->holders[h];
            if (holder->pool != worker->pool || holder->state != WORKER_READY)
                continue;
            size_t k = 0;
            while (k < nscore && score[k].worker != holder)
                k++;
            if (k == nscore) {
                if (nscore == SCORE_MAX)
                    continue;
                score[nscore++] = (s_score_t){ holder, 0 };
            }
            score[k].bytes += entry->size;
        }
    }
    *mine = *others = 0;
    for (size_t k = 0; k < nscore; k++)
        if (score[k].worker == worker)
            *mine = score[k].bytes;
        else if (score[k].bytes > *others)
            *others = score[k].bytes;
}

/*  Unlinks job (after prev, or first) from q, cut to at most room jobs
    (the rest takes its place); NULL when memory is short. */
static head_job_t *
s_unlink (head_queue_t *q, head_job_t *prev, head_job_t *job, size_t room)
{
    head_job_t *next = job->next;
    if (job->count > room) {
        head_job_t *rest = head_job_split (job, (uint32_t)room);
        if (!rest)
            return NULL;
        rest->next = next;
        next = rest;
        if (q->last == job)
            q->last = rest;
    }
    if (prev)
        prev->next = next;
    else
        q->first = next;
    if (q->last == job)
        q->last = prev;
    q->count -= job->count;
    job->next = NULL;
    return job;
}

head_job_t *
head_locality_take (head_t *head, head_peer_t *worker, size_t room, bool idle)
{
    head_locality_t *self = head->locality;
    head_queue_t *q = &worker->pool->pending;
    int64_t now = zclock_mono ();
    int64_t wait = head->config.locality_wait_ms;
    head_job_t *pick = NULL, *pick_prev = NULL, *prev = NULL;
    uint64_t pick_mine = 0;
    int64_t pick_edge = 0;
    size_t seen = 0;
    for (head_job_t *job = q->first; job && room && seen < SCAN_MAX;
         prev = job, job = job->next, seen++) {
        if (job->useq > worker->useq_sent)
            break; /* it must see updates it has not been sent */
        if (!job->named || wait <= 0) {
            /* In order: it goes unless a job before it was picked. */
            if (!pick)
                pick_prev = prev, pick = job;
            break;
        }
        if (!idle)
            continue; /* a job naming blocks waits for a free worker */
        uint64_t mine = 0, others = 0;
        if (self)
            s_score (self, worker, job->named, &mine, &others);
        bool over = job->waiting_since && now - job->waiting_since >= wait;
        if (mine < others && !over) {
            /* A busy worker holds more: wait for it, a bounded time. */
            if (!job->waiting_since)
                job->waiting_since = now;
            s_arm (head, now, job->waiting_since + wait - now);
            continue;
        }
        /* What this worker holds beyond the best other holder: a record
           whose wait is over but that another holds more of scores below
           one this worker is as good for as anyone. */
        int64_t edge = (int64_t)mine - (int64_t)others;
        if (!pick || mine > pick_mine || (mine == pick_mine && edge > pick_edge))
            pick_prev = prev, pick = job, pick_mine = mine, pick_edge = edge;
    }
    return pick ? s_unlink (q, pick_prev, pick, room) : NULL;
}

void
head_locality_served (head_t *head, uint64_t size)
{
    if (head->locality)
        head->locality->served += size;
}

uint64_t
head_locality_served_bytes (const head_t *head)
{
    return head->locality ? head->locality->served : 0;
}

void
head_locality_status (const head_t *head, FILE *out)
{
    const head_locality_t *self = head->locality;
    if (!self)
        return;
    fprintf (out,
             "locality: wait %d ms, %zu blocks held by workers (%llu holdings), "
             "block bytes served %llu\n",
             head->config.locality_wait_ms, zhashx_size (self->blocks),
             (unsigned long long)self->holdings, (unsigned long long)self->served);
}
