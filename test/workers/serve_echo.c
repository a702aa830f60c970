/*  test/workers/serve_echo.c - the function start_node --serve publishes
    in the tests.

    Input, bytes:   "error:MSG"  an error result whose message is MSG;
                    "hang"       never returns (sleeps until killed);
                    "crash"      dies of SIGSEGV;
                    anything else X: the output "echo:X".
    Init data:      empty, or a prefix used instead of "echo:".
*/
#include <string.h>
#include <unistd.h>

#include "pool_worker.h"
#include "segv.h"

static char s_prefix[64] = "echo:";

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    if (init_data.size >= sizeof s_prefix) {
        pool_worker_error (ctx, "serve_echo: the prefix is too long");
        return NULL;
    }
    if (init_data.size) {
        memcpy (s_prefix, init_data.data, init_data.size);
        s_prefix[init_data.size] = 0;
    }
    return s_prefix;
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    const char *data = input.data;
    if (input.size >= 6 && memcmp (data, "error:", 6) == 0) {
        pool_worker_error (ctx, "%.*s", (int)(input.size - 6), data + 6);
        return -1;
    }
    if (input.size == 4 && memcmp (data, "hang", 4) == 0)
        for (;;)
            pause ();
    if (input.size == 5 && memcmp (data, "crash", 5) == 0)
        test_segv ();
    size_t prefix = strlen (s_prefix);
    void *out = pool_output_alloc (output, prefix + input.size);
    if (!out)
        return -1;
    memcpy (out, s_prefix, prefix);
    if (input.size)
        memcpy ((char *)out + prefix, data, input.size);
    return 0;
}

static void
s_destroy (void *self)
{
    (void)self;
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "serve_echo", s_init, s_run, NULL, s_destroy };
