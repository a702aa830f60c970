/*  head/output.c - what workers write, on its way to their pool's client.
    See output.h. */
#include "output.h"
#include "views.h"

void
head_output_forward (head_t *head, head_peer_t *node, const proto_msg_t *msg)
{
    proto_output_t output;
    char reason[128];
    if (proto_output_get (msg, &output, reason, sizeof reason) != PROTO_OK) {
        zsys_warning ("pool-head: %s: %s", node->id, reason);
        return;
    }
    head_peer_t *worker = zhashx_lookup (head->workers, output.id);
    if (!worker || worker->role != PROTO_ROLE_WORKER || !streq (worker->node, node->id))
        return; /* gone, or not this node's */
    if (output.pid && worker->pid && output.pid != worker->pid)
        return; /* an earlier process of that slot, maybe of another pool */
    head_pool_t *pool = worker->pool;
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
