/*  proto/views.c - typed views of messages (views.h). */
#include "views.h"

#include <stdio.h>
#include <string.h>

int
proto_pool_open_set (proto_msg_t *msg, const proto_pool_open_t *open)
{
    int rc = proto_msg_set_text (msg, "%s", open->name);
    if (rc == PROTO_OK)
        rc = proto_msg_add_hash (msg, open->lib_hash);
    if (rc == PROTO_OK)
        rc = proto_msg_add_hash (msg, open->init_hash);
    const uint64_t nums[]
        = { open->max_attempts,      open->job_timeout_ms, open->min_workers,
            open->min_gpu_memory_mb, open->previous_pool,  open->previous_epoch };
    for (size_t i = 0; rc == PROTO_OK && i < sizeof nums / sizeof nums[0]; i++)
        rc = proto_msg_add_num (msg, nums[i]);
    return rc;
}

int
proto_pool_open_get (const proto_msg_t *msg, proto_pool_open_t *open, char *reason,
                     size_t reason_size)
{
    memset (open, 0, sizeof *open);
    if (msg->type != PROTO_POOL_OPEN || msg->nhashes != 2 || msg->nnums < 3) {
        snprintf (reason, reason_size, "POOL_OPEN needs two hashes and three numbers");
        return PROTO_EMALFORMED;
    }
    snprintf (open->name, sizeof open->name, "%s",
              (msg->present & PROTO_F_TEXT) && msg->text && *msg->text ? msg->text
                                                                       : "worker");
    memcpy (open->lib_hash, msg->hash[0], PROTO_HASH_SIZE);
    memcpy (open->init_hash, msg->hash[1], PROTO_HASH_SIZE);
    open->max_attempts
        = msg->nums[0] >= 1 && msg->nums[0] <= 1000 ? (uint32_t)msg->nums[0] : 3;
    open->job_timeout_ms = msg->nums[1];
    open->min_workers = msg->nums[2] <= 100000 ? (uint32_t)msg->nums[2] : 1;
    /* A megabyte count whose bytes do not fit 64 bits asks for a GPU no
       machine has: kept, so the pool waits for one, as asked. */
    open->min_gpu_memory_mb = msg->nnums > 3 ? msg->nums[3] : 0;
    if (msg->nnums > 5) {
        open->previous_pool = msg->nums[4];
        open->previous_epoch = msg->nums[5];
    }
    return PROTO_OK;
}
