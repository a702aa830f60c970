/*  libpool/slab.c - small result values carved out of shared blocks.
    See slab.h. */
#include "slab.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct pool_slab {
    /* One hold per value it may still give (paid when it starts, so that
       giving a value costs its owner no atomic operation), per value given
       and not released, per cursor on it, and one for its owner. */
    atomic_size_t holds;
    size_t used;  /* bytes of data given */
    size_t given; /* values given */
    _Alignas(16) unsigned char data[];
};

#define SLAB_DATA (POOL_SLAB_SIZE - offsetof (pool_slab_t, data))
#define SLAB_VALUES (SLAB_DATA / 16) /* the most one block gives */

/* The blocks in use, sorted by address, to find the one a value is in. */
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static pool_slab_t **s_slabs;
static size_t s_count, s_cap;
static atomic_size_t s_in_use;

/*  Index of the first listed block at or above address (lock held). */
static size_t
s_position (const void *address)
{
    size_t lo = 0, hi = s_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)s_slabs[mid] < (uintptr_t)address)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int
s_list (pool_slab_t *slab)
{
    pthread_mutex_lock (&s_lock);
    if (s_count == s_cap) {
        size_t cap = s_cap ? 2 * s_cap : 16;
        pool_slab_t **grown = realloc (s_slabs, cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock (&s_lock);
            return -1;
        }
        s_slabs = grown;
        s_cap = cap;
    }
    size_t at = s_position (slab);
    memmove (s_slabs + at + 1, s_slabs + at, (s_count - at) * sizeof *s_slabs);
    s_slabs[at] = slab;
    s_count++;
    atomic_store (&s_in_use, s_count);
    pthread_mutex_unlock (&s_lock);
    return 0;
}

/*  Drops count holds on slab; the last one unlists and frees it. */
static void
s_drop (pool_slab_t *slab, size_t count)
{
    if (count == 0
        || atomic_fetch_sub_explicit (&slab->holds, count, memory_order_acq_rel) != count)
        return;
    pthread_mutex_lock (&s_lock);
    size_t at = s_position (slab);
    if (at < s_count && s_slabs[at] == slab) {
        memmove (s_slabs + at, s_slabs + at + 1, (s_count - at - 1) * sizeof *s_slabs);
        s_count--;
    }
    atomic_store (&s_in_use, s_count);
    if (s_count == 0) {
        free (s_slabs);
        s_slabs = NULL;
        s_cap = 0;
    }
    pthread_mutex_unlock (&s_lock);
    free (slab);
}

static bool
s_contains (const pool_slab_t *slab, const void *data)
{
    const unsigned char *p = data;
    return p >= slab->data && p < slab->data + SLAB_DATA;
}

void *
pool_slab_alloc (pool_slab_t **current, size_t size)
{
    if (size > POOL_SLAB_VALUE_MAX)
        return NULL;
    size_t room = size ? (size + 15) & ~(size_t)15 : 16;
    if (*current && SLAB_DATA - (*current)->used < room)
        pool_slab_retire (current);
    if (!*current) {
        pool_slab_t *slab = aligned_alloc (16, POOL_SLAB_SIZE);
        if (!slab)
            return NULL;
        atomic_init (&slab->holds, SLAB_VALUES + 1);
        slab->used = 0;
        slab->given = 0;
        if (s_list (slab)) {
            free (slab);
            return NULL;
        }
        *current = slab;
    }
    pool_slab_t *slab = *current;
    void *value = slab->data + slab->used;
    slab->used += room;
    slab->given++; /* its hold was paid for */
    return value;
}

void
pool_slab_retire (pool_slab_t **current)
{
    pool_slab_t *slab = *current;
    if (!slab)
        return;
    *current = NULL;
    /* The values it will not give, and its owner's hold. */
    s_drop (slab, SLAB_VALUES - slab->given + 1);
}

bool
pool_slab_release_at (pool_slab_cursor_t *cursor, const void *data)
{
    if (!data)
        return false;
    /* The cursor's hold keeps its block alive: no lock to look at it. */
    if (cursor->slab && s_contains (cursor->slab, data)) {
        s_drop (cursor->slab, 1);
        return true;
    }
    if (atomic_load (&s_in_use) == 0)
        return false;
    pool_slab_t *found = NULL;
    pthread_mutex_lock (&s_lock);
    /* The last block that starts below data. */
    size_t at = s_position (data);
    if (at > 0 && s_contains (s_slabs[at - 1], data)) {
        found = s_slabs[at - 1];
        /* data's own hold stays until the end of this call: the cursor
           takes one more. */
        atomic_fetch_add_explicit (&found->holds, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock (&s_lock);
    if (!found)
        return false;
    pool_slab_cursor_end (cursor);
    cursor->slab = found;
    s_drop (found, 1); /* data's */
    return true;
}

void
pool_slab_cursor_end (pool_slab_cursor_t *cursor)
{
    if (cursor->slab)
        s_drop (cursor->slab, 1);
    cursor->slab = NULL;
}
