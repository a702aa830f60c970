/*  node/slots.h - which workers this machine runs.

    One worker per visible GPU (NVML discovery through gpu/discover.h,
    narrowed by an inherited CUDA_VISIBLE_DEVICES, --gpus and --max-gpus);
    with no GPU, --cpu-workers N, else one per online core.
*/
#ifndef DCPOOL_NODE_SLOTS_H
#define DCPOOL_NODE_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_SLOTS_MAX 1024

typedef struct {
    bool gpu;      /* false: a CPU worker */
    int index;     /* NVML index of the GPU */
    char uuid[96]; /* "GPU-..." */
    char name[96];
    uint64_t memory; /* total bytes */
} node_slot_t;

typedef struct {
    const char *gpus;  /* --gpus: comma-separated indices or UUIDs, or NULL */
    int max_gpus;      /* --max-gpus, or -1 for no limit */
    int cpu_workers;   /* --cpu-workers, or -1 for one per core */
    int simulate_gpus; /* --simulate-gpus (tests only): N synthetic devices
                          stand in for what discovery found; 0: real ones */
} node_slots_config_t;

/*  Simulated devices: 1 GiB each, "Simulated GPU <i>", UUID
    "GPU-5e1a7ed0-0000-4000-8000-<i as 12 hex digits>". */
#define NODE_SIMULATED_GPU_MEMORY (1ULL << 30)

/*  Fills slots[max] and returns their count (0 is valid: a node without
    workers), or -1 with a message in error[error_size] (a --gpus entry that
    names no GPU). */
int node_slots_plan (const node_slots_config_t *config, node_slot_t *slots, int max,
                     char *error, size_t error_size);

#endif
