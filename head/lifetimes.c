/*  head/lifetimes.c - holds of clients and pools, and the sweep
    (lifetimes.h). */
#include "lifetimes.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
head_lifetimes_client_holder (const char *client_id, char name[HEAD_HOLDER_MAX])
{
    snprintf (name, HEAD_HOLDER_MAX, "client:%s", client_id);
}

void
head_lifetimes_pool_holder (uint64_t pool_id, char name[HEAD_HOLDER_MAX])
{
    snprintf (name, HEAD_HOLDER_MAX, "pool:%" PRIu64, pool_id);
}

int64_t
head_lifetimes_deadline (head_t *head)
{
    return zclock_time () + (int64_t)head->config.block_grace_ms;
}

int
head_lifetimes_pool_open (head_t *head, head_pool_t *pool)
{
    char name[HEAD_HOLDER_MAX];
    head_lifetimes_pool_holder (pool->id, name);
    int64_t deadline = head_lifetimes_deadline (head);
    if (head_holds_add (head->store, name, pool->lib_hash, deadline)
        || head_holds_add (head->store, name, pool->init_hash, deadline)) {
        zsys_warning ("pool-head: pool %" PRIu64 " cannot hold its library: %s", pool->id,
                      head_store_error (head->store));
        return -1;
    }
    return 0;
}

void
head_lifetimes_pool_close (head_t *head, head_pool_t *pool)
{
    if (head->stopping)
        return;
    char name[HEAD_HOLDER_MAX];
    head_lifetimes_pool_holder (pool->id, name);
    if (head_holds_release_all (head->store, name, head_lifetimes_deadline (head), NULL))
        zsys_warning ("pool-head: pool %" PRIu64 " closed, its holds stay: %s", pool->id,
                      head_store_error (head->store));
}

void
head_lifetimes_client_gone (head_t *head, head_peer_t *client)
{
    if (head->stopping)
        return;
    char name[HEAD_HOLDER_MAX];
    head_lifetimes_client_holder (client->id, name);
    size_t count = 0;
    if (head_holds_release_all (head->store, name, head_lifetimes_deadline (head),
                                &count))
        zsys_warning ("pool-head: client %s gone, its holds stay: %s", client->id,
                      head_store_error (head->store));
    else if (count && head->config.verbose)
        zsys_info ("pool-head: client %s gone: released %zu blocks", client->id, count);
}

/* Holders of the previous life whose client did not come back go. */
static void
s_orphans_release (head_t *head)
{
    char *name;
    int64_t deadline = head_lifetimes_deadline (head);
    size_t released = 0;
    while ((name = zlist_pop (head->orphans))) {
        bool back = strncmp (name, "client:", 7) == 0
                    && zhashx_lookup (head->clients, name + 7) != NULL;
        if (!back) {
            if (head_holds_release_all (head->store, name, deadline, NULL))
                zsys_warning ("pool-head: cannot release %s: %s", name,
                              head_store_error (head->store));
            else
                released++;
        }
        free (name);
    }
    zlist_destroy (&head->orphans);
    if (released)
        zsys_info ("pool-head: released the blocks of %zu holders that did not "
                   "come back after the restart",
                   released);
}

static int
s_on_sweep (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    head_t *head = arg;
    if (head->orphans && zclock_mono () >= head->orphans_at)
        s_orphans_release (head);
    size_t deleted = 0;
    if (head_holds_sweep (head->store, zclock_time (), HEAD_SWEEP_MOST, &deleted))
        zsys_warning ("pool-head: block sweep failed: %s",
                      head_store_error (head->store));
    else if (deleted && head->config.verbose)
        zsys_info ("pool-head: deleted %zu unheld blocks", deleted);
    return 0;
}

int
head_lifetimes_start (head_t *head)
{
    zlist_t *names = head_holds_holders (head->store);
    if (!names)
        zsys_warning ("pool-head: cannot read the block holders: %s",
                      head_store_error (head->store));
    else if (zlist_size (names) == 0)
        zlist_destroy (&names);
    else {
        head->orphans = names; /* strings it owns; a popped one is ours */
        uint64_t wait = head->config.block_grace_ms > HEAD_ORPHAN_WAIT_MS
                            ? head->config.block_grace_ms
                            : HEAD_ORPHAN_WAIT_MS;
        head->orphans_at = zclock_mono () + (int64_t)wait;
    }
    return zloop_timer (head->loop, HEAD_SWEEP_MS, 0, s_on_sweep, head) < 0 ? -1 : 0;
}

void
head_lifetimes_stop (head_t *head)
{
    zlist_destroy (&head->orphans);
}
