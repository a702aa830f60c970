/*  test/workers/xor.c - byte strings of any size, for the shared-memory
    path of big inputs and outputs.

    Input:   a mode byte, then any bytes.
    Output:  mode 'A': every input byte XOR 0x5A, written in place into a
                       buffer from pool_output_alloc;
             mode 'S': the same, built in a buffer of its own that is freed
                       right after pool_output_set (which must copy);
             mode 'C': 8 bytes, the little-endian sum of the input's bytes;
             mode 'P': "page" when input.data lies in a mapping of the
                       client's payload memfd (the input was mapped from
                       shared memory), "bytes" otherwise (page alignment
                       alone proves nothing: a buffer the data plane
                       fetched into can start on a page);
             mode 'K': as 'S', but the first run of each input (told apart
                       by its bytes 1..8) sets its output and then dies of
                       SIGSEGV, leaving a marker file in the directory given
                       as init data; later runs find the marker and return.
    Anything else is an error result.
*/
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool_worker.h"
#include "segv.h"

static char s_dir[512];

/*  Whether p lies in a mapping of a dcpool payload memfd (proto/shm.c
    names them "dcpool-payload"), as /proc/self/maps says. */
static bool
s_in_payload_mapping (const void *p)
{
    FILE *maps = fopen ("/proc/self/maps", "r");
    if (!maps)
        return false;
    char line[1024];
    bool found = false;
    uintptr_t at = (uintptr_t)p;
    while (!found && fgets (line, sizeof line, maps)) {
        unsigned long long start, end;
        if (sscanf (line, "%llx-%llx", &start, &end) == 2 && at >= start && at < end)
            found = strstr (line, "memfd:dcpool-payload") != NULL;
    }
    fclose (maps);
    return found;
}

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    if (init_data.size >= sizeof s_dir) {
        pool_worker_error (ctx, "xor: directory name too long");
        return NULL;
    }
    memcpy (s_dir, init_data.data, init_data.size);
    s_dir[init_data.size] = 0;
    return s_dir;
}

/*  True the first time this input is seen (its marker file is new). */
static bool
s_first_run (const uint8_t *in, size_t size)
{
    char path[600];
    uint64_t tag = 0;
    for (size_t i = 1; i < 9 && i < size; i++)
        tag = (tag << 8) | in[i];
    snprintf (path, sizeof path, "%s/k-%016llx", s_dir, (unsigned long long)tag);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return false;
    close (fd);
    return true;
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    (void)self;
    const uint8_t *in = input.data;
    if (input.size == 0) {
        pool_worker_error (ctx, "xor: empty input");
        return -1;
    }
    switch (in[0]) {
    case 'A': {
        uint8_t *out = pool_output_alloc (output, input.size);
        if (!out)
            return -1;
        for (size_t i = 0; i < input.size; i++)
            out[i] = in[i] ^ 0x5A;
        return 0;
    }
    case 'K':
    case 'S': {
        uint8_t *out = malloc (input.size);
        if (!out)
            return -1;
        for (size_t i = 0; i < input.size; i++)
            out[i] = in[i] ^ 0x5A;
        int rc = pool_output_set (output, out, input.size);
        memset (out, 0, input.size);
        free (out);
        if (in[0] == 'K' && s_dir[0] && s_first_run (in, input.size))
            test_segv ();
        return rc;
    }
    case 'C': {
        uint64_t sum = 0;
        for (size_t i = 0; i < input.size; i++)
            sum += in[i];
        uint8_t le[8];
        for (int b = 0; b < 8; b++)
            le[b] = (uint8_t)(sum >> (8 * b));
        return pool_output_set (output, le, sizeof le);
    }
    case 'P': {
        const char *what = s_in_payload_mapping (input.data) ? "page" : "bytes";
        return pool_output_set (output, what, strlen (what));
    }
    default:
        pool_worker_error (ctx, "xor: unknown mode %d", in[0]);
        return -1;
    }
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "xor", s_init, s_run, NULL, NULL };
