/*  gpu/discover.h - which NVIDIA GPUs this machine has.

    NVML (libnvidia-ml.so.1, part of the driver) is loaded at run time, so
    dcpool builds and starts on machines without any NVIDIA software: there
    gpu_discover simply finds no device.
*/
#ifndef DCPOOL_GPU_DISCOVER_H
#define DCPOOL_GPU_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int index;             /* NVML index (the driver's order) */
    char uuid[96];         /* "GPU-xxxxxxxx-...": CUDA_VISIBLE_DEVICES */
    char name[96];         /* "NVIDIA H100 80GB HBM3" */
    uint64_t memory_total; /* bytes */
    uint64_t memory_free;  /* bytes, at discovery */
} gpu_device_t;

/*  Fills devices[0..max) with the GPUs NVML sees and returns how many
    (more may exist than max).  0 when there is no NVML library or no
    device, which is normal and not an error.  A device NVML cannot query
    (a GPU fallen off the bus) is skipped and its reason left in error,
    which is otherwise "".  <0 when NVML is there but failed (a broken
    driver install, no device queryable), with the reason in error. */
int gpu_discover (gpu_device_t *devices, int max, char *error, size_t error_size);

#endif
