/*  gpu_info.c - test worker: answers "worker-id|index|name|memory|CUDA_VISIBLE_DEVICES"
    (index -1 on a CPU worker), after a short nap so the jobs of a map
    spread over every worker. */
#include <pool_worker.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *
s_init (pool_bytes_t init, pool_worker_ctx_t *ctx)
{
    static int self;
    return &self;
}

static int
s_run (void *self, pool_bytes_t in, pool_output_t *out, pool_worker_ctx_t *ctx)
{
    struct timespec nap = { 0, 20 * 1000000L };
    nanosleep (&nap, NULL);
    int index = -1;
    const char *name = "";
    uint64_t memory = 0;
    pool_worker_gpu (ctx, &index, &name, &memory);
    const char *visible = getenv ("CUDA_VISIBLE_DEVICES");
    char text[512];
    const char *uuid = pool_worker_gpu_uuid (ctx);
    int n = snprintf (text, sizeof text, "%s|%d|%s|%" PRIu64 "|%s|%s",
                      pool_worker_id (ctx), index, name, memory,
                      visible ? visible : "(unset)", uuid ? uuid : "(cpu)");
    return pool_output_set (out, text, (size_t)n);
}

static void
s_destroy (void *self)
{
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "gpu_info", s_init, s_run, NULL, s_destroy };
