/*  libpool/values.c - result values the pool holds without a copy.
    See values.h. */
#include "values.h"
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct {
    const void *data;
    void *base; /* a mapping, or NULL */
    size_t length;
    zframe_t *frame; /* a frame, or NULL */
} value_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static value_t *s_values;
static size_t s_count, s_cap;
static atomic_size_t s_held;
static zframe_t *s_spares[POOL_VALUES_SPARES]; /* released big frames */

/*  Keeps a released frame as a spare when it is big and there is room
    (the oldest spare makes way): true when kept. */
static bool
s_spare (zframe_t **frame)
{
    if (zframe_size (*frame) < POOL_VALUES_SPARE_MIN)
        return false;
    zframe_t *out = NULL;
    pthread_mutex_lock (&s_lock);
    out = s_spares[POOL_VALUES_SPARES - 1];
    memmove (s_spares + 1, s_spares, (POOL_VALUES_SPARES - 1) * sizeof *s_spares);
    s_spares[0] = *frame;
    *frame = NULL;
    pthread_mutex_unlock (&s_lock);
    zframe_destroy (&out);
    return true;
}

zframe_t *
pool_values_reuse_frame (size_t size)
{
    zframe_t *found = NULL;
    pthread_mutex_lock (&s_lock);
    for (size_t i = 0; i < POOL_VALUES_SPARES && !found; i++)
        if (s_spares[i] && zframe_size (s_spares[i]) == size) {
            found = s_spares[i];
            memmove (s_spares + i, s_spares + i + 1,
                     (POOL_VALUES_SPARES - 1 - i) * sizeof *s_spares);
            s_spares[POOL_VALUES_SPARES - 1] = NULL;
        }
    pthread_mutex_unlock (&s_lock);
    return found;
}

/* The spares go with the library. */
__attribute__ ((destructor)) static void
s_spares_free (void)
{
    for (size_t i = 0; i < POOL_VALUES_SPARES; i++)
        zframe_destroy (&s_spares[i]);
}

static int
s_keep (value_t value)
{
    int rc = 0;
    pthread_mutex_lock (&s_lock);
    if (s_count == s_cap) {
        size_t cap = s_cap ? 2 * s_cap : 16;
        value_t *grown = realloc (s_values, cap * sizeof *grown);
        if (grown) {
            s_values = grown;
            s_cap = cap;
        } else
            rc = POOL_ENOMEM;
    }
    if (rc == 0) {
        s_values[s_count++] = value;
        atomic_store (&s_held, s_count);
    }
    pthread_mutex_unlock (&s_lock);
    return rc;
}

int
pool_values_keep_mapping (const void *data, void *base, size_t length)
{
    return s_keep ((value_t){ data, base, length, NULL });
}

int
pool_values_keep_frame (zframe_t **frame)
{
    int rc = s_keep ((value_t){ zframe_data (*frame), NULL, 0, *frame });
    if (rc == 0)
        *frame = NULL;
    return rc;
}

bool
pool_values_release (const void *data)
{
    if (!data || atomic_load (&s_held) == 0)
        return false;
    value_t found = { NULL, NULL, 0, NULL };
    pthread_mutex_lock (&s_lock);
    for (size_t i = 0; i < s_count; i++)
        if (s_values[i].data == data) {
            found = s_values[i];
            s_values[i] = s_values[--s_count];
            break;
        }
    atomic_store (&s_held, s_count);
    if (s_count == 0) {
        free (s_values);
        s_values = NULL;
        s_cap = 0;
    }
    pthread_mutex_unlock (&s_lock);
    if (found.frame) {
        if (!s_spare (&found.frame))
            zframe_destroy (&found.frame);
    } else if (found.base)
        munmap (found.base, found.length);
    else
        return false;
    return true;
}
