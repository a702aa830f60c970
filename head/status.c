/*  head/status.c - the status report (status.h). */
#include "status.h"
#include "shards.h"
#include "locality.h"
#include "views.h"
#include "bytes.h"
#include "store.h"
#include "store_limit.h"

#include <stdio.h>
#include <stdlib.h>

/*  "store: 12.3 MiB used of 4.0 GiB, 57 blocks (3 unheld)"; with block
    servers, the cap and the unheld count, then a line per server (a
    round trip to each). */
static void
s_store_line (head_t *head, FILE *out)
{
    uint64_t used = 0, blocks = 0, unheld = 0;
    bool more = false;
    size_t servers = head_shards_count (head->shards);
    if (servers) {
        char max_text[32] = "no limit";
        uint64_t max = head_store_limit_max (head->store_limit);
        if (max)
            proto_bytes_text (max, max_text, sizeof max_text);
        if (head_store_limit_count (head, &blocks, &unheld, &more))
            fprintf (out,
                     "store: %zu block servers, %s on each; cannot read the "
                     "bookkeeping: %s\n",
                     servers, max_text, head_store_error (head->store));
        else
            fprintf (out, "store: %zu block servers, %s on each, %llu blocks unheld\n",
                     servers, max_text, (unsigned long long)unheld);
        head_shards_report (head->shards, out);
        return;
    }
    if (head_store_limit_used (head->store_limit, &used)
        || head_store_limit_count (head, &blocks, &unheld, &more)) {
        fprintf (out, "store: cannot read it: %s\n", head_store_error (head->store));
        return;
    }
    char used_text[32], max_text[32];
    proto_bytes_text (used, used_text, sizeof used_text);
    uint64_t max = head_store_limit_max (head->store_limit);
    if (max)
        proto_bytes_text (max, max_text, sizeof max_text);
    fprintf (out, "store: %s used of %s, %s%llu blocks (%llu unheld)\n", used_text,
             max ? max_text : "no limit", more ? "more than " : "",
             (unsigned long long)blocks, (unsigned long long)unheld);
}

static char *
s_status_text (head_t *head, uint64_t pool_id, int *pool_workers, bool store)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    *pool_workers = 0;
    fprintf (out, "head: port %d, %s\n", head->config.port,
             head->keys.insecure ? "INSECURE (plain TCP, no password check)"
                                 : "secure (CURVE)");
    fprintf (out, "nodes: %zu, workers: %zu, pools: %zu\n", zhashx_size (head->nodes),
             zhashx_size (head->workers), zlistx_size (head->pools));
    if (store)
        s_store_line (head, out);
    for (head_peer_t *node = zhashx_first (head->nodes); node;
         node = zhashx_next (head->nodes)) {
        fprintf (out, "node %s (%s): %d worker slots\n", node->id, node->text,
                 node->worker_slots);
        /* zhashx iteration is not re-entrant: collect, then print */
        zlistx_t *list = zlistx_new ();
        for (head_peer_t *w = zhashx_first (head->workers); w;
             w = zhashx_next (head->workers))
            if (streq (w->node, node->id))
                zlistx_add_end (list, w);
        for (head_peer_t *w = zlistx_first (list); w; w = zlistx_next (list)) {
            static const char *states[]
                = { "idle", "loading", "ready", "releasing", "closing", "parked" };
            fprintf (out, "  worker %s  %s", w->id, w->text);
            if (w->has_gpu) {
                fprintf (out, " (%.1f GiB", w->gpu_memory / 1073741824.0);
                if (w->gpu_used != UINT64_MAX)
                    fprintf (out, ", %.1f GiB in use)", w->gpu_used / 1073741824.0);
                else
                    fprintf (out, ")");
            }
            fprintf (out, "  %s", states[w->state]);
            if (w->pool)
                fprintf (out, " pool %llu", (unsigned long long)w->pool->id);
            if (w->state == WORKER_PARKED)
                fprintf (out, " (has pool %llu of the head before a restart loaded)",
                         (unsigned long long)w->parked.pool_id);
            fprintf (out, "  jobs held %zu, done %llu\n", w->inflight.count,
                     (unsigned long long)w->jobs_done);
        }
        zlistx_destroy (&list);
    }
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools)) {
        fprintf (out,
                 "pool %llu (%s) of %s: workers %d ready of %d, pending %zu, "
                 "running %zu, done %llu, updates %llu\n",
                 (unsigned long long)pool->id, pool->name,
                 pool->client ? pool->client->id : "?", pool->ready,
                 (int)pool->members.count, pool->pending.count, pool->running,
                 (unsigned long long)pool->done, (unsigned long long)pool->useq);
        if (pool->id == pool_id)
            *pool_workers = pool->ready;
    }
    head_locality_status (head, out);
    fclose (out);
    return text;
}

void
head_status_answer (head_t *head, head_peer_t *peer, proto_msg_t *req)
{
    int pool_workers = 0;
    /* The store's figures cost Redis a SCAN: for start_node --status,
       not for the counts a client asks for at each map. */
    char *text = s_status_text (head, (req->present & PROTO_F_POOL) ? req->pool : 0,
                                &pool_workers, peer->role == PROTO_ROLE_STATUS);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_STATUS);
    proto_status_t status = { .nodes = zhashx_size (head->nodes),
                              .workers = zhashx_size (head->workers),
                              .pools = zlistx_size (head->pools),
                              .pool_workers = (uint64_t)pool_workers,
                              .insecure = head->keys.insecure,
                              .text = text ? text : "(out of memory)\n" };
    for (head_peer_t *w = zhashx_first (head->workers); w;
         w = zhashx_next (head->workers))
        if (w->has_gpu) {
            status.gpu_workers++;
            if (w->gpu_memory > status.largest_gpu)
                status.largest_gpu = w->gpu_memory;
        }
    proto_status_set (&msg, &status);
    head_send (head, peer, &msg);
    proto_msg_reset (&msg);
    free (text);
}
