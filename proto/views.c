/*  proto/views.c - typed views of messages (views.h). */
#include "views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  The data endpoint a message names in its host field, and the size from
    which payloads take it: an endpoint that is not "tcp://..." or a
    direct_min of 0 means none. */
static void
s_data_endpoint (const proto_msg_t *msg, uint64_t min, char *endpoint,
                 uint64_t *direct_min)
{
    endpoint[0] = 0;
    *direct_min = 0;
    if (!(msg->present & PROTO_F_HOST) || strncmp (msg->host, "tcp://", 6) != 0 || !min)
        return;
    snprintf (endpoint, PROTO_ID_MAX + 1, "%s", msg->host);
    *direct_min = min;
}

_Static_assert(PROTO_RELAY_KEY == PROTO_HASH_SIZE, "the relay key travels as a hash");

int
proto_pool_open_set (proto_msg_t *msg, const proto_pool_open_t *open)
{
    int rc = proto_msg_set_text (msg, "%s", open->name);
    if (rc == PROTO_OK)
        rc = proto_msg_add_hash (msg, open->lib_hash);
    if (rc == PROTO_OK)
        rc = proto_msg_add_hash (msg, open->init_hash);
    if (rc == PROTO_OK && open->has_relay_key)
        rc = proto_msg_add_hash (msg, open->relay_key);
    const uint64_t nums[]
        = { open->max_attempts,      open->job_timeout_ms, open->min_workers,
            open->min_gpu_memory_mb, open->previous_pool,  open->previous_epoch,
            open->cancel_grace_ms,   open->forward_output, open->direct_min };
    for (size_t i = 0; rc == PROTO_OK && i < sizeof nums / sizeof nums[0]; i++)
        rc = proto_msg_add_num (msg, nums[i]);
    if (rc == PROTO_OK && open->data_endpoint[0])
        rc = proto_msg_set_host (msg, open->data_endpoint);
    return rc;
}

int
proto_pool_open_get (const proto_msg_t *msg, proto_pool_open_t *open, char *reason,
                     size_t reason_size)
{
    memset (open, 0, sizeof *open);
    if (msg->type != PROTO_POOL_OPEN || msg->nhashes < 2 || msg->nnums < 3) {
        snprintf (reason, reason_size, "POOL_OPEN needs two hashes and three numbers");
        return PROTO_EMALFORMED;
    }
    snprintf (open->name, sizeof open->name, "%s",
              (msg->present & PROTO_F_TEXT) && msg->text && *msg->text ? msg->text
                                                                       : "worker");
    memcpy (open->lib_hash, msg->hash[0], PROTO_HASH_SIZE);
    memcpy (open->init_hash, msg->hash[1], PROTO_HASH_SIZE);
    open->has_relay_key = msg->nhashes > 2;
    if (open->has_relay_key)
        memcpy (open->relay_key, msg->hash[2], PROTO_RELAY_KEY);
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
    open->cancel_grace_ms = 1000;
    if (msg->nnums > 6 && msg->nums[6] <= 3600000)
        open->cancel_grace_ms = msg->nums[6];
    open->forward_output = msg->nnums > 7 ? msg->nums[7] != 0 : true;
    s_data_endpoint (msg, msg->nnums > 8 ? msg->nums[8] : 0, open->data_endpoint,
                     &open->direct_min);
    return PROTO_OK;
}

int
proto_welcome_set (proto_msg_t *msg, const proto_welcome_t *welcome)
{
    int rc = proto_msg_add_num (msg, (uint64_t)welcome->heartbeat_ms);
    if (rc == PROTO_OK)
        rc = proto_msg_add_num (msg, (uint64_t)welcome->liveness);
    if (rc == PROTO_OK)
        rc = proto_msg_add_num (msg, welcome->epoch);
    return rc;
}

int
proto_welcome_get (const proto_msg_t *msg, proto_welcome_t *welcome)
{
    uint64_t beat = msg->nnums > 0 ? msg->nums[0] : 1000;
    uint64_t liveness = msg->nnums > 1 ? msg->nums[1] : 3;
    welcome->heartbeat_ms = beat >= 10 && beat <= 600000 ? (int)beat : 1000;
    welcome->liveness = liveness >= 1 && liveness <= 1000 ? (int)liveness : 3;
    welcome->epoch = msg->nnums > 2 ? msg->nums[2] : 0;
    return PROTO_OK;
}

int
proto_hello_set (proto_msg_t *msg, const proto_hello_t *hello)
{
    proto_msg_set_role (msg, hello->role);
    int rc = proto_msg_set_id (msg, hello->id);
    if (rc == PROTO_OK && hello->node[0])
        rc = proto_msg_set_node (msg, hello->node);
    if (rc == PROTO_OK && hello->host[0])
        rc = proto_msg_set_host (msg, hello->host);
    if (rc == PROTO_OK && hello->text)
        rc = proto_msg_set_text (msg, "%s", hello->text);
    if (rc == PROTO_OK && hello->pid)
        proto_msg_set_seq (msg, hello->pid);
    if (rc == PROTO_OK && hello->role == PROTO_ROLE_NODE)
        rc = proto_msg_add_num (msg, (uint64_t)hello->worker_slots);
    if (rc == PROTO_OK && hello->role == PROTO_ROLE_WORKER) {
        /* nums: [GPU index or UINT64_MAX, GPU bytes(, useq, epoch)] */
        rc = proto_msg_add_num (msg, hello->has_gpu ? hello->gpu_index : UINT64_MAX);
        if (rc == PROTO_OK)
            rc = proto_msg_add_num (msg, hello->has_gpu ? hello->gpu_memory : 0);
        if (rc == PROTO_OK && hello->rejoin) {
            proto_msg_set_pool (msg, hello->pool);
            rc = proto_msg_add_hash (msg, hello->lib_hash);
            if (rc == PROTO_OK)
                rc = proto_msg_add_hash (msg, hello->init_hash);
            if (rc == PROTO_OK)
                rc = proto_msg_add_num (msg, hello->useq);
            if (rc == PROTO_OK)
                rc = proto_msg_add_num (msg, hello->epoch);
        }
    }
    return rc;
}

int
proto_hello_get (const proto_msg_t *msg, proto_hello_t *hello)
{
    memset (hello, 0, sizeof *hello);
    hello->role = (proto_role_t)msg->role;
    snprintf (hello->id, sizeof hello->id, "%s", msg->id);
    if (msg->present & PROTO_F_NODE)
        snprintf (hello->node, sizeof hello->node, "%s", msg->node);
    if (msg->present & PROTO_F_HOST)
        snprintf (hello->host, sizeof hello->host, "%s", msg->host);
    hello->text = msg->text ? msg->text : "";
    hello->pid = (msg->present & PROTO_F_SEQ) ? msg->seq : 0;
    if (hello->role == PROTO_ROLE_NODE)
        hello->worker_slots
            = msg->nnums > 0 && msg->nums[0] < 100000 ? (int)msg->nums[0] : 0;
    if (hello->role == PROTO_ROLE_WORKER) {
        hello->has_gpu = msg->nnums > 0 && msg->nums[0] != UINT64_MAX;
        hello->gpu_index = hello->has_gpu ? msg->nums[0] : 0;
        hello->gpu_memory = msg->nnums > 1 ? msg->nums[1] : 0;
        hello->rejoin = (msg->present & PROTO_F_POOL) && msg->pool;
        hello->rejoin_complete = hello->rejoin && msg->nhashes > 1 && msg->nnums > 3;
        hello->pool = hello->rejoin ? msg->pool : 0;
        if (hello->rejoin_complete) {
            memcpy (hello->lib_hash, msg->hash[0], PROTO_HASH_SIZE);
            memcpy (hello->init_hash, msg->hash[1], PROTO_HASH_SIZE);
            hello->useq = msg->nums[2];
            hello->epoch = msg->nums[3];
        }
    }
    return PROTO_OK;
}

int
proto_assign_set (proto_msg_t *msg, const proto_assign_t *assign)
{
    proto_msg_set_pool (msg, assign->pool);
    int rc = proto_msg_add_hash (msg, assign->lib_hash);
    if (rc == PROTO_OK)
        rc = proto_msg_add_hash (msg, assign->init_hash);
    if (rc == PROTO_OK)
        rc = proto_msg_set_text (msg, "%s", assign->name);
    if (rc == PROTO_OK)
        rc = proto_msg_add_num (msg, assign->job_timeout_ms);
    if (rc == PROTO_OK)
        rc = proto_msg_add_num (msg, assign->direct_min);
    if (rc == PROTO_OK && assign->data_endpoint[0])
        rc = proto_msg_set_host (msg, assign->data_endpoint);
    return rc;
}

int
proto_assign_get (const proto_msg_t *msg, proto_assign_t *assign, char *reason,
                  size_t reason_size)
{
    memset (assign, 0, sizeof *assign);
    if (msg->type != PROTO_ASSIGN || msg->nhashes < 1) {
        snprintf (reason, reason_size, "ASSIGN names no worker library");
        return PROTO_EMALFORMED;
    }
    assign->pool = msg->pool;
    snprintf (assign->name, sizeof assign->name, "%s", msg->text ? msg->text : "");
    memcpy (assign->lib_hash, msg->hash[0], PROTO_HASH_SIZE);
    if (msg->nhashes > 1)
        memcpy (assign->init_hash, msg->hash[1], PROTO_HASH_SIZE);
    else
        proto_hash ("", 0, assign->init_hash);
    assign->job_timeout_ms = msg->nnums > 0 ? msg->nums[0] : 0;
    s_data_endpoint (msg, msg->nnums > 1 ? msg->nums[1] : 0, assign->data_endpoint,
                     &assign->direct_min);
    return PROTO_OK;
}

int
proto_timing_set (proto_msg_t *msg, const proto_timing_t *timing)
{
    int rc = proto_msg_add_num (msg, timing->busy_us);
    if (rc == PROTO_OK)
        rc = proto_msg_add_num (msg, timing->residence_us);
    return rc;
}

bool
proto_timing_get (const proto_msg_t *msg, proto_timing_t *timing)
{
    if (msg->nnums < 2)
        return false;
    timing->busy_us = msg->nums[0];
    timing->residence_us = msg->nums[1];
    return true;
}

int
proto_died_set (proto_msg_t *msg, const proto_died_t *died)
{
    int rc = proto_msg_set_id (msg, died->id);
    proto_msg_set_code (msg, died->code);
    if (died->pid)
        proto_msg_set_seq (msg, died->pid);
    if (rc == PROTO_OK && died->text)
        rc = proto_msg_set_text (msg, "%s", died->text);
    if (rc != PROTO_OK)
        return rc;
    /* nums [0]: where; [2, seq] for an update; a job entry for a job. */
    switch (died->where) {
    case PROTO_DIED_JOB: {
        proto_job_t *job = proto_msg_add_job (msg);
        if (!job)
            return PROTO_EMALFORMED;
        job->id = died->job.id;
        job->attempt = died->job.attempt;
        proto_msg_set_pool (msg, died->pool);
        break;
    }
    case PROTO_DIED_UPDATE:
        rc = proto_msg_add_num (msg, PROTO_DIED_UPDATE);
        if (rc == PROTO_OK)
            rc = proto_msg_add_num (msg, died->update_seq);
        proto_msg_set_pool (msg, died->pool);
        break;
    case PROTO_DIED_INIT:
        rc = proto_msg_add_num (msg, PROTO_DIED_INIT);
        proto_msg_set_pool (msg, died->pool);
        break;
    case PROTO_DIED_IDLE:
        rc = proto_msg_add_num (msg, PROTO_DIED_IDLE);
        break;
    default:
        break; /* no scoreboard: nothing said */
    }
    return rc;
}

int
proto_died_get (const proto_msg_t *msg, proto_died_t *died)
{
    memset (died, 0, sizeof *died);
    snprintf (died->id, sizeof died->id, "%s", msg->id);
    died->pid = (msg->present & PROTO_F_SEQ) ? msg->seq : 0;
    died->code = msg->code;
    died->text = msg->text;
    died->pool = (msg->present & PROTO_F_POOL) ? msg->pool : 0;
    if (msg->njobs >= 1) {
        died->where = PROTO_DIED_JOB;
        died->job = msg->jobs[0];
    } else if (msg->nnums >= 2 && msg->nums[0] == PROTO_DIED_UPDATE) {
        died->where = PROTO_DIED_UPDATE;
        died->update_seq = msg->nums[1];
    } else if (msg->nnums >= 1 && msg->nums[0] == PROTO_DIED_INIT)
        died->where = PROTO_DIED_INIT;
    else if (msg->nnums >= 1)
        died->where = PROTO_DIED_IDLE; /* the scoreboard says: nothing */
    else
        died->where = PROTO_DIED_UNKNOWN;
    return PROTO_OK;
}

int
proto_status_set (proto_msg_t *msg, const proto_status_t *status)
{
    const uint64_t nums[] = { status->nodes,        status->workers,  status->pools,
                              status->pool_workers, status->insecure, status->largest_gpu,
                              status->gpu_workers };
    int rc = PROTO_OK;
    for (size_t i = 0; rc == PROTO_OK && i < sizeof nums / sizeof nums[0]; i++)
        rc = proto_msg_add_num (msg, nums[i]);
    if (rc == PROTO_OK)
        rc = proto_msg_set_text (msg, "%s", status->text ? status->text : "");
    return rc;
}

int
proto_status_get (const proto_msg_t *msg, proto_status_t *status, char *reason,
                  size_t reason_size)
{
    memset (status, 0, sizeof *status);
    if (msg->type != PROTO_STATUS || msg->nnums < 4) {
        snprintf (reason, reason_size, "the head sent STATUS without counts");
        return PROTO_EMALFORMED;
    }
    status->nodes = msg->nums[0];
    status->workers = msg->nums[1];
    status->pools = msg->nums[2];
    status->pool_workers = msg->nums[3];
    status->insecure = msg->nnums > 4 && msg->nums[4];
    status->largest_gpu = msg->nnums > 5 ? msg->nums[5] : 0;
    status->gpu_workers = msg->nnums > 6 ? msg->nums[6] : 0;
    status->text = msg->text ? msg->text : "";
    return PROTO_OK;
}

int
proto_gpu_usage_set (proto_msg_t *msg, const uint64_t *used, size_t n)
{
    int rc = PROTO_OK;
    for (size_t k = 0; rc == PROTO_OK && k < n && k < PROTO_NUMS_MAX; k++)
        rc = proto_msg_add_num (msg, used[k]);
    return rc;
}

size_t
proto_gpu_usage_get (const proto_msg_t *msg, uint64_t *used, size_t max)
{
    size_t n = msg->nnums < max ? msg->nnums : max;
    for (size_t k = 0; k < n; k++)
        used[k] = msg->nums[k];
    return n;
}

int
proto_kill_set (proto_msg_t *msg, const proto_kill_t *kill)
{
    int rc = proto_msg_set_id (msg, kill->id);
    proto_msg_set_seq (msg, kill->pid);
    if (rc == PROTO_OK && kill->why)
        rc = proto_msg_set_text (msg, "%s", kill->why);
    return rc;
}

int
proto_kill_get (const proto_msg_t *msg, proto_kill_t *kill)
{
    memset (kill, 0, sizeof *kill);
    snprintf (kill->id, sizeof kill->id, "%s", msg->id);
    kill->pid = msg->seq;
    kill->why = msg->text ? msg->text : "";
    return PROTO_OK;
}

int
proto_refusal_set (proto_msg_t *msg, uint64_t pool, uint64_t seq, const char *why)
{
    proto_msg_set_pool (msg, pool);
    proto_msg_set_seq (msg, seq);
    proto_msg_set_code (msg, PROTO_CODE_EWORKER);
    return proto_msg_set_text (msg, "%s", why);
}

bool
proto_refusal_get (const proto_msg_t *msg, uint64_t *pool, uint64_t *seq,
                   const char **why)
{
    if (msg->type != PROTO_ERROR || msg->code != PROTO_CODE_EWORKER
        || !(msg->present & PROTO_F_SEQ) || !(msg->present & PROTO_F_POOL))
        return false;
    *pool = msg->pool;
    *seq = msg->seq;
    *why = msg->text && *msg->text ? msg->text : "no reason given";
    return true;
}

const uint8_t *
proto_block_hash (const proto_msg_t *msg)
{
    return msg->nhashes > 0 ? msg->hash[0] : NULL;
}

int
proto_cancel_set (proto_msg_t *msg, const proto_cancel_t *cancel)
{
    proto_msg_set_pool (msg, cancel->pool);
    int rc = proto_msg_add_num (msg, cancel->from);
    if (rc == PROTO_OK)
        rc = proto_msg_add_num (msg, cancel->to);
    if (rc == PROTO_OK && cancel->id[0]) {
        rc = proto_msg_set_id (msg, cancel->id);
        proto_msg_set_seq (msg, cancel->pid);
        if (rc == PROTO_OK)
            rc = proto_msg_add_num (msg, cancel->grace_ms);
    }
    return rc;
}

int
proto_cancel_get (const proto_msg_t *msg, proto_cancel_t *cancel, char *reason,
                  size_t reason_size)
{
    memset (cancel, 0, sizeof *cancel);
    if (msg->type != PROTO_CANCEL || msg->nnums < 2 || msg->nums[0] > msg->nums[1]) {
        snprintf (reason, reason_size, "CANCEL needs a range of job ids [from, to)");
        return PROTO_EMALFORMED;
    }
    cancel->pool = msg->pool;
    cancel->from = msg->nums[0];
    cancel->to = msg->nums[1];
    if (msg->present & PROTO_F_ID) {
        snprintf (cancel->id, sizeof cancel->id, "%s", msg->id);
        cancel->pid = msg->seq;
    }
    cancel->grace_ms = msg->nnums > 2 && msg->nums[2] <= 3600000 ? msg->nums[2] : 1000;
    return PROTO_OK;
}

int
proto_output_set (proto_msg_t *msg, const proto_output_t *output)
{
    int rc = proto_msg_set_id (msg, output->id);
    if (output->pool)
        proto_msg_set_pool (msg, output->pool);
    proto_msg_set_code (msg, output->stream);
    if (output->pid)
        proto_msg_set_seq (msg, output->pid);
    if (rc == PROTO_OK)
        rc = proto_msg_set_text (msg, "%.*s", (int)output->size, output->text);
    return rc;
}

int
proto_output_get (const proto_msg_t *msg, proto_output_t *output, char *reason,
                  size_t reason_size)
{
    memset (output, 0, sizeof *output);
    if (msg->type != PROTO_OUTPUT
        || (msg->code != PROTO_OUTPUT_STDOUT && msg->code != PROTO_OUTPUT_STDERR)
        || !msg->text || !*msg->text) {
        snprintf (reason, reason_size, "OUTPUT needs stream 1 or 2 and some text");
        return PROTO_EMALFORMED;
    }
    snprintf (output->id, sizeof output->id, "%s", msg->id);
    output->pool = (msg->present & PROTO_F_POOL) ? msg->pool : 0;
    output->stream = (int)msg->code;
    output->pid = (msg->present & PROTO_F_SEQ) ? msg->seq : 0;
    output->text = msg->text;
    output->size = strlen (msg->text);
    return PROTO_OK;
}

int
proto_submit_blocks_set (proto_msg_t *msg, const uint8_t (*hashes)[PROTO_HASH_SIZE],
                         size_t count)
{
    if (count == 0)
        return PROTO_OK;
    if (count > PROTO_SUBMIT_BLOCKS_MAX || !hashes)
        return PROTO_EMALFORMED;
    size_t size = count * 2 * PROTO_HASH_SIZE;
    char *text = malloc (size + 1);
    if (!text)
        return PROTO_EMALFORMED;
    for (size_t i = 0; i < count; i++)
        proto_hash_hex (hashes[i], text + i * 2 * PROTO_HASH_SIZE);
    free (msg->text);
    msg->text = text;
    msg->text_size = size;
    msg->present |= PROTO_F_TEXT;
    return PROTO_OK;
}

static int
s_hex_digit (char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
proto_submit_blocks_get (const proto_msg_t *msg, size_t *count)
{
    *count = 0;
    if (!(msg->present & PROTO_F_TEXT) || !msg->text || msg->text_size == 0)
        return PROTO_OK;
    if (msg->text_size % (2 * PROTO_HASH_SIZE))
        return PROTO_EMALFORMED;
    for (size_t i = 0; i < msg->text_size; i++)
        if (s_hex_digit (msg->text[i]) < 0)
            return PROTO_EMALFORMED;
    *count = msg->text_size / (2 * PROTO_HASH_SIZE);
    return PROTO_OK;
}

void
proto_submit_block (const proto_msg_t *msg, size_t i, uint8_t hash[PROTO_HASH_SIZE])
{
    const char *hex = msg->text + i * 2 * PROTO_HASH_SIZE;
    for (size_t k = 0; k < PROTO_HASH_SIZE; k++)
        hash[k] = (uint8_t)(s_hex_digit (hex[2 * k]) << 4 | s_hex_digit (hex[2 * k + 1]));
}

void
proto_held_put (uint8_t *entry, const proto_held_t *held)
{
    memcpy (entry, held->hash, PROTO_HASH_SIZE);
    for (int b = 0; b < 8; b++)
        entry[PROTO_HASH_SIZE + b] = (uint8_t)(held->size >> (8 * b));
}

int
proto_held_count (size_t size, size_t *count)
{
    *count = size / PROTO_HELD_ENTRY;
    return size % PROTO_HELD_ENTRY ? PROTO_EMALFORMED : PROTO_OK;
}

void
proto_held_get (const uint8_t *entry, proto_held_t *held)
{
    memcpy (held->hash, entry, PROTO_HASH_SIZE);
    held->size = 0;
    for (int b = 7; b >= 0; b--)
        held->size = held->size << 8 | entry[PROTO_HASH_SIZE + b];
}
