/*  node/slots.c - the worker plan: GPUs found, filtered, or CPU cores. */
#include "slots.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef DCPOOL_HAVE_GPU_DISCOVER
#include "gpu/discover.h"
#else
/*  The gpu component is not built in this tree yet: no GPU is seen, which
    is what discovery answers on a machine without NVML anyway. */
typedef struct {
    int index;
    char uuid[96];
    char name[96];
    uint64_t memory_total;
    uint64_t memory_free;
} gpu_device_t;

static int
gpu_discover (gpu_device_t *devices, int max, char *error, size_t error_size)
{
    (void)devices, (void)max, (void)error, (void)error_size;
    return 0;
}
#endif

#define GPUS_MAX 256

/*  What discovery would return on a machine with count identical GPUs:
    the test-only --simulate-gpus feeds this list into the same filtering
    and slot planning as the real one, so what a test sees of CUDA_VISIBLE_DEVICES,
    --gpus and --max-gpus is what production does. */
static int
s_simulated_discover (gpu_device_t *devices, int count, int max)
{
    if (count > max)
        count = max;
    for (int i = 0; i < count; i++) {
        memset (&devices[i], 0, sizeof devices[i]);
        devices[i].index = i;
        snprintf (devices[i].uuid, sizeof devices[i].uuid,
                  "GPU-5e1a7ed0-0000-4000-8000-%012x", (unsigned)i);
        snprintf (devices[i].name, sizeof devices[i].name, "Simulated GPU %d", i);
        devices[i].memory_total = NODE_SIMULATED_GPU_MEMORY;
        devices[i].memory_free = NODE_SIMULATED_GPU_MEMORY;
    }
    return count;
}

/*  Whether token (an index or a UUID, with or without its "GPU-" prefix,
    or a unique prefix of it as CUDA accepts) names device. */
static bool
s_names (const char *token, const gpu_device_t *device)
{
    char *end;
    long index = strtol (token, &end, 10);
    if (*token && *end == 0)
        return index == device->index;
    const char *uuid = device->uuid;
    if (strncmp (uuid, "GPU-", 4) == 0 && strncmp (token, "GPU-", 4) != 0)
        uuid += 4;
    return *token && strncmp (uuid, token, strlen (token)) == 0;
}

/*  Keeps the devices named in list (comma-separated), in the list's order;
    -1 with error when a name matches nothing.  With strict false (an
    inherited CUDA_VISIBLE_DEVICES), names that match nothing are skipped. */
static int
s_filter (gpu_device_t *devices, int count, const char *list, bool strict,
          const char *what, char *error, size_t error_size)
{
    gpu_device_t kept[GPUS_MAX];
    int nkept = 0;
    char *copy = strdup (list);
    if (!copy) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    for (char *token = strtok_r (copy, ", ", &save); token;
         token = strtok_r (NULL, ", ", &save)) {
        int found = -1;
        for (int i = 0; i < count && found < 0; i++)
            if (s_names (token, &devices[i]))
                found = i;
        if (found < 0) {
            if (!strict)
                continue;
            snprintf (error, error_size, "%s: no GPU matches '%s' (%d found)", what,
                      token, count);
            rc = -1;
            break;
        }
        bool duplicate = false;
        for (int k = 0; k < nkept; k++)
            duplicate |= kept[k].index == devices[found].index;
        if (!duplicate && nkept < GPUS_MAX)
            kept[nkept++] = devices[found];
    }
    free (copy);
    if (rc)
        return rc;
    memcpy (devices, kept, nkept * sizeof *kept);
    return nkept;
}

int
node_slots_plan (const node_slots_config_t *config, node_slot_t *slots, int max,
                 char *error, size_t error_size)
{
    static gpu_device_t devices[GPUS_MAX];
    char reason[256] = "";
    int count = config->simulate_gpus > 0
                    ? s_simulated_discover (devices, config->simulate_gpus, GPUS_MAX)
                    : gpu_discover (devices, GPUS_MAX, reason, sizeof reason);
    if (config->simulate_gpus > 0)
        zsys_warning ("--simulate-gpus %d: TEST ONLY, these GPUs do not exist",
                      config->simulate_gpus);
    if (count < 0) {
        zsys_warning ("GPU discovery failed (%s); running CPU workers", reason);
        count = 0;
    }
    /*  A CUDA_VISIBLE_DEVICES we inherited narrows what this node may use;
        set but empty means no GPU at all.  It names real devices, so it
        does not narrow simulated ones. */
    const char *inherited = getenv ("CUDA_VISIBLE_DEVICES");
    if (count > 0 && inherited && config->simulate_gpus <= 0) {
        count = s_filter (devices, count, inherited, false, "CUDA_VISIBLE_DEVICES", error,
                          error_size);
        if (count < 0)
            return -1;
    }
    if (count > 0 && config->gpus && *config->gpus) {
        count
            = s_filter (devices, count, config->gpus, true, "--gpus", error, error_size);
        if (count < 0)
            return -1;
    } else if (count == 0 && config->gpus && *config->gpus) {
        snprintf (error, error_size, "--gpus %s: this machine has no usable GPU",
                  config->gpus);
        return -1;
    }
    if (config->max_gpus >= 0 && count > config->max_gpus)
        count = config->max_gpus;
    if (count > max)
        count = max;

    int nslots = 0;
    if (count > 0) {
        if (config->cpu_workers >= 0)
            zsys_info ("%d GPU(s) found: --cpu-workers is ignored", count);
        for (int i = 0; i < count; i++) {
            node_slot_t *slot = &slots[nslots++];
            memset (slot, 0, sizeof *slot);
            slot->gpu = true;
            slot->index = devices[i].index;
            snprintf (slot->uuid, sizeof slot->uuid, "%s", devices[i].uuid);
            snprintf (slot->name, sizeof slot->name, "%s", devices[i].name);
            slot->memory = devices[i].memory_total;
        }
        return nslots;
    }
    long cpus = config->cpu_workers;
    if (cpus < 0) {
        cpus = sysconf (_SC_NPROCESSORS_ONLN);
        if (cpus < 1)
            cpus = 1;
    }
    if (cpus > max)
        cpus = max;
    for (long i = 0; i < cpus; i++) {
        node_slot_t *slot = &slots[nslots++];
        memset (slot, 0, sizeof *slot);
        slot->index = -1;
    }
    return nslots;
}
