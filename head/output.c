/*  head/output.c - what workers write, on its way to their pool's client.
    See output.h. */
#include "output.h"
#include "views.h"

#include <string.h>

/*  The pool that worker process (id, pid) left within HEAD_DEPARTED_MS,
    or NULL. */
static head_pool_t *
s_departed_from (head_t *head, const char *id, uint64_t pid)
{
    int64_t now = zclock_mono ();
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools))
        for (size_t i = 0; i < HEAD_POOL_DEPARTED; i++) {
            const head_departed_t *departed = &pool->departed[i];
            if (departed->at && now - departed->at <= HEAD_DEPARTED_MS
                && departed->pid == pid && streq (departed->id, id))
                return pool;
        }
    return NULL;
}

void
head_output_forward (head_t *head, head_peer_t *node, const proto_msg_t *msg)
{
    proto_output_t output;
    char reason[128];
    if (proto_output_get (msg, &output, reason, sizeof reason) != PROTO_OK) {
        zsys_warning ("pool-head: %s: %s", node->id, reason);
        return;
    }
    /* Only the node's own workers: their ids are "NODEID/wK". */
    size_t prefix = strlen (node->id);
    if (strncmp (output.id, node->id, prefix) || output.id[prefix] != '/')
        return;
    head_peer_t *worker = zhashx_lookup (head->workers, output.id);
    head_pool_t *pool = NULL;
    if (worker && worker->role == PROTO_ROLE_WORKER && streq (worker->node, node->id)
        && (!output.pid || !worker->pid || output.pid == worker->pid))
        pool = worker->pool;
    if (!pool && output.pid)
        pool = s_departed_from (head, output.id, output.pid);
    if (!pool || !pool->client || !pool->forward_output)
        return;
    proto_msg_t forward;
    proto_msg_init (&forward, PROTO_OUTPUT);
    output.pool = pool->id;
    output.pid = 0;
    if (proto_output_set (&forward, &output) == PROTO_OK)
        head_send (head, pool->client, &forward);
    proto_msg_reset (&forward);
}
