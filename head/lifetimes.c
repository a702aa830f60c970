/*  head/lifetimes.c - holds of clients and pools, and the sweep
    (lifetimes.h). */
#include "lifetimes.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "shards.h"

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
    if (head_holds_depart (head->store, name, head_lifetimes_deadline (head)))
        zsys_warning ("pool-head: client %s gone, its holds stay: %s", client->id,
                      head_store_error (head->store));
}

void
head_lifetimes_client_back (head_t *head, head_peer_t *client)
{
    char name[HEAD_HOLDER_MAX];
    head_lifetimes_client_holder (client->id, name);
    if (head_holds_back (head->store, name))
        zsys_warning ("pool-head: client %s is back, but its holds may go: %s",
                      client->id, head_store_error (head->store));
}

/*  Deletes the bytes of the blocks in due from their block servers
    (shards.h): how many went.  A block whose server fails is unheld
    again, due HEAD_SWEEP_RETRY_MS later, so it goes once its server is
    back (unless someone holds it by then). */
static size_t
s_delete_due (head_t *head, zlist_t *due)
{
    size_t deleted = 0, failed = 0;
    char why[512] = "";
    for (const char *hex = zlist_first (due); hex; hex = zlist_next (due)) {
        if (head_shards_block_delete (head->shards, hex) == 0) {
            deleted++;
            continue;
        }
        failed++;
        snprintf (why, sizeof why, "%s", head_shards_error (head->shards));
        uint8_t hash[PROTO_HASH_SIZE];
        if (sodium_hex2bin (hash, sizeof hash, hex, strlen (hex), NULL, NULL, NULL) == 0
            && head_holds_add (head->store, NULL, hash,
                               zclock_time () + HEAD_SWEEP_RETRY_MS))
            zsys_warning ("pool-head: block %s stays on its server: %s", hex,
                          head_store_error (head->store));
    }
    if (failed)
        zsys_warning ("pool-head: %zu unheld blocks not deleted yet (%s); trying again "
                      "in %d s",
                      failed, why, HEAD_SWEEP_RETRY_MS / 1000);
    return deleted;
}

static int
s_on_sweep (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    head_t *head = arg;
    size_t deleted = 0, released = 0;
    zlist_t *due = head_shards_count (head->shards) ? zlist_new () : NULL;
    int rc = head_holds_sweep (head->store, zclock_time (), HEAD_SWEEP_MOST, due,
                               &deleted, &released);
    if (rc == 0 && due)
        deleted = s_delete_due (head, due);
    zlist_destroy (&due);
    if (rc)
        zsys_warning ("pool-head: block sweep failed: %s",
                      head_store_error (head->store));
    else if (released || (deleted && head->config.verbose))
        zsys_info ("pool-head: released the blocks of %zu holders gone; deleted %zu "
                   "unheld blocks",
                   released, deleted);
    return 0;
}

int
head_lifetimes_start (head_t *head)
{
    uint64_t wait = head->config.block_grace_ms > HEAD_ORPHAN_WAIT_MS
                        ? head->config.block_grace_ms
                        : HEAD_ORPHAN_WAIT_MS;
    size_t holders = 0;
    if (head_holds_depart_all (head->store, zclock_time () + (int64_t)wait, &holders))
        zsys_warning ("pool-head: cannot read the block holders: %s",
                      head_store_error (head->store));
    else if (holders)
        zsys_info ("pool-head: %zu block holders from before; those whose client is "
                   "not back within %llu s let go",
                   holders, (unsigned long long)(wait / 1000));
    return zloop_timer (head->loop, HEAD_SWEEP_MS, 0, s_on_sweep, head) < 0 ? -1 : 0;
}
