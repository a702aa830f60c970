/*  With --simulate-gpus 3 a node runs three workers, each seeing exactly
    one (simulated) device: pool_worker_gpu reports a different index, name
    and UUID (CUDA_VISIBLE_DEVICES) in each, with the 1 GiB given.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void
s_body (void)
{
    const char *const extra[] = { "--simulate-gpus", "3", NULL };
    h_proc_t *head = h_start_head_with (3, false, extra);
    pool_t *pool = h_open (head, "gpu_info", 3);
    enum { N = 60 };
    pool_bytes_t in[N];
    pool_result_t res[N];
    for (int i = 0; i < N; i++)
        in[i] = (pool_bytes_t){ "x", 1 };
    int rc = pool_map (pool, in, N, res);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    char seen_worker[3][128] = { "", "", "" };
    for (int i = 0; i < N; i++) {
        H_CHECK (res[i].status == 0, "input %d: %s", i, res[i].error);
        char text[512];
        snprintf (text, sizeof text, "%.*s", (int)res[i].value.size,
                  (const char *)res[i].value.data);
        char worker[128], name[128], visible[128], uuid[128];
        int index;
        unsigned long long memory;
        H_CHECK (sscanf (text, "%127[^|]|%d|%127[^|]|%llu|%127[^|]|%127s", worker, &index,
                         name, &memory, visible, uuid)
                     == 6,
                 "cannot read '%s'", text);
        H_CHECK (index >= 0 && index < 3, "'%s': GPU index %d, want 0..2", text, index);
        char want_name[64], want_uuid[64];
        snprintf (want_name, sizeof want_name, "Simulated GPU %d", index);
        snprintf (want_uuid, sizeof want_uuid, "GPU-5e1a7ed0-0000-4000-8000-%012x",
                  index);
        H_CHECK (strcmp (name, want_name) == 0, "'%s': name, want %s", text, want_name);
        H_CHECK (strcmp (visible, want_uuid) == 0,
                 "'%s': CUDA_VISIBLE_DEVICES, want only %s", text, want_uuid);
        H_CHECK (memory == 1ULL << 30, "'%s': memory, want 1 GiB", text);
        H_CHECK (strcmp (uuid, want_uuid) == 0, "'%s': pool_worker_gpu_uuid, want %s",
                 text, want_uuid);
        if (!seen_worker[index][0])
            snprintf (seen_worker[index], sizeof seen_worker[index], "%s", worker);
        H_CHECK (strcmp (seen_worker[index], worker) == 0,
                 "GPU %d reported by two workers: %s and %s", index, seen_worker[index],
                 worker);
    }
    for (int g = 0; g < 3; g++)
        H_CHECK (seen_worker[g][0], "no job ran on the worker of GPU %d", g);
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++)
            H_CHECK (strcmp (seen_worker[a], seen_worker[b]) != 0,
                     "GPUs %d and %d on one worker", a, b);
    h_log ("workers: %s %s %s", seen_worker[0], seen_worker[1], seen_worker[2]);
    pool_results_release (pool, res, N);
    pool_close (&pool);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_gpu_simulated_workers_each_get_one_device", s_body);
}
