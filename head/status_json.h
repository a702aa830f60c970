/*  head/status_json.h - GET /api/status: the cluster as JSON.

    What `start_node --status` says, for programs and the status page: the
    head, its nodes, each worker (device, GPU memory, state, pool, jobs),
    each open pool (progress, recent rate, time left), jobs done since the
    head started, bytes moved and the store's use.  Strings are escaped
    for JSON (ids and host names come from the network).
*/
#ifndef DCPOOL_HEAD_STATUS_JSON_H
#define DCPOOL_HEAD_STATUS_JSON_H

#include "head.h"

/*  Writes the document to out: 0, or -1 when writing failed. */
int head_status_json (head_t *head, FILE *out);

#endif
