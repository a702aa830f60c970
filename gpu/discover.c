/*  gpu/discover.c - GPU discovery through NVML, loaded with dlopen.

    No NVIDIA header or library is needed to build: the few NVML types and
    functions used are declared here, as the driver's ABI defines them.
*/
#include "discover.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef int nvml_return_t;                 /* nvmlReturn_t */
typedef struct nvml_device *nvml_device_t; /* nvmlDevice_t, opaque */
typedef struct {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvml_memory_t; /* nvmlMemory_t (v1) */

#define NVML_SUCCESS 0
#define NVML_ERROR_DRIVER_NOT_LOADED 9 /* no driver: no GPU, not a failure */
#define NVML_ERROR_LIBRARY_NOT_FOUND 12
#define NVML_NAME_SIZE 96 /* NVML_DEVICE_NAME_V2_BUFFER_SIZE */
#define NVML_UUID_SIZE 96 /* NVML_DEVICE_UUID_V2_BUFFER_SIZE */

typedef struct {
    nvml_return_t (*init) (void);
    nvml_return_t (*shutdown) (void);
    nvml_return_t (*count) (unsigned int *count);
    nvml_return_t (*by_index) (unsigned int index, nvml_device_t *device);
    nvml_return_t (*name) (nvml_device_t device, char *name, unsigned int length);
    nvml_return_t (*uuid) (nvml_device_t device, char *uuid, unsigned int length);
    nvml_return_t (*memory) (nvml_device_t device, nvml_memory_t *memory);
    const char *(*error_string) (nvml_return_t result); /* may be NULL */
} nvml_t;

/* Binds the functions: 0, or -1 naming the missing one. */
static int
s_bind (void *library, nvml_t *nvml, char *error, size_t error_size)
{
    static const struct {
        const char *name;
        size_t offset;
    } symbols[] = {
        { "nvmlInit_v2", offsetof (nvml_t, init) },
        { "nvmlShutdown", offsetof (nvml_t, shutdown) },
        { "nvmlDeviceGetCount_v2", offsetof (nvml_t, count) },
        { "nvmlDeviceGetHandleByIndex_v2", offsetof (nvml_t, by_index) },
        { "nvmlDeviceGetName", offsetof (nvml_t, name) },
        { "nvmlDeviceGetUUID", offsetof (nvml_t, uuid) },
        { "nvmlDeviceGetMemoryInfo", offsetof (nvml_t, memory) },
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        void *function = dlsym (library, symbols[i].name);
        if (!function) {
            snprintf (error, error_size, "libnvidia-ml.so.1 has no %s", symbols[i].name);
            return -1;
        }
        /* POSIX guarantees a function pointer survives this round trip. */
        memcpy ((char *)nvml + symbols[i].offset, &function, sizeof function);
    }
    void *function = dlsym (library, "nvmlErrorString");
    if (function)
        memcpy (&nvml->error_string, &function, sizeof function);
    return 0;
}

static const char *
s_strerror (const nvml_t *nvml, nvml_return_t rc)
{
    const char *text = nvml->error_string ? nvml->error_string (rc) : NULL;
    return text ? text : "unknown NVML error";
}

int
gpu_discover (gpu_device_t *devices, int max, char *error, size_t error_size)
{
    int found = 0;
    bool initialised = false;
    nvml_t nvml = { 0 };
    if (error_size)
        error[0] = 0;
    void *library = dlopen ("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library)
        return 0; /* no driver on this machine: a CPU-only node */
    if (s_bind (library, &nvml, error, error_size)) {
        found = -1;
        goto cleanup;
    }
    nvml_return_t rc = nvml.init ();
    if (rc == NVML_ERROR_DRIVER_NOT_LOADED || rc == NVML_ERROR_LIBRARY_NOT_FOUND)
        goto cleanup; /* library installed, driver not running: no GPU */
    if (rc != NVML_SUCCESS) {
        snprintf (error, error_size, "nvmlInit failed: %s", s_strerror (&nvml, rc));
        found = -1;
        goto cleanup;
    }
    initialised = true;
    unsigned int count = 0;
    rc = nvml.count (&count);
    if (rc != NVML_SUCCESS) {
        snprintf (error, error_size, "nvmlDeviceGetCount failed: %s",
                  s_strerror (&nvml, rc));
        found = -1;
        goto cleanup;
    }
    int failed = 0;
    for (unsigned int i = 0; i < count && found < max; i++) {
        gpu_device_t *device = &devices[found];
        nvml_device_t handle = NULL;
        nvml_memory_t memory = { 0 };
        memset (device, 0, sizeof *device);
        device->index = (int)i;
        rc = nvml.by_index (i, &handle);
        if (rc == NVML_SUCCESS)
            rc = nvml.name (handle, device->name, sizeof device->name);
        if (rc == NVML_SUCCESS)
            rc = nvml.uuid (handle, device->uuid, sizeof device->uuid);
        if (rc == NVML_SUCCESS)
            rc = nvml.memory (handle, &memory);
        if (rc != NVML_SUCCESS) {
            /* One lost GPU must not keep the node off the healthy ones. */
            snprintf (error, error_size, "cannot query GPU %u: %s", i,
                      s_strerror (&nvml, rc));
            failed++;
            continue;
        }
        device->name[sizeof device->name - 1] = 0;
        device->uuid[sizeof device->uuid - 1] = 0;
        device->memory_total = memory.total;
        device->memory_free = memory.free;
        found++;
    }
    if (found == 0 && failed > 0)
        found = -1;
cleanup:
    if (initialised)
        nvml.shutdown ();
    dlclose (library);
    return found;
}
