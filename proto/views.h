/*  proto/views.h - typed views of the messages whose numbered slots carry
    meaning: named fields, written and validated here once, so no file
    outside proto/ reads or writes nums [k] for them.

    Each view has a _set, which fills a proto_msg_t of its type (payload
    frames are the caller's), and a _get, which reads a decoded message,
    applies the ranges and defaults, and returns PROTO_OK or
    PROTO_EMALFORMED with the reason.  The wire format is msg.h's.
*/
#ifndef DCPOOL_PROTO_VIEWS_H
#define DCPOOL_PROTO_VIEWS_H

#include "msg.h"

/*  POOL_OPEN (client -> head), frames: [library bytes, init bytes]. */
typedef struct {
    char name[PROTO_ID_MAX + 1]; /* library's file name */
    uint8_t lib_hash[PROTO_HASH_SIZE];
    uint8_t init_hash[PROTO_HASH_SIZE];
    uint32_t max_attempts;      /* 1..1000; 3 when out of range */
    uint64_t job_timeout_ms;    /* 0: none */
    uint32_t min_workers;       /* 0..100000; 1 when out of range */
    uint64_t min_gpu_memory_mb; /* 0: any worker, CPU included */
    uint64_t previous_pool;     /* opened again after a head restart: */
    uint64_t previous_epoch;    /* the pool and head it had; else 0, 0 */
} proto_pool_open_t;

int proto_pool_open_set (proto_msg_t *msg, const proto_pool_open_t *open);
int proto_pool_open_get (const proto_msg_t *msg, proto_pool_open_t *open, char *reason,
                         size_t reason_size);

#endif
