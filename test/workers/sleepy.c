/*  test/workers/sleepy.c - a worker whose run takes as long as its input
    says, for the cancellation tests.

    Init data:     empty, or the path of an existing directory (DIR): each
                   run then first creates DIR/run-<pid>-<input> (so a test
                   sees that a job runs, and where).
    Input, text:   "MS"   sleeps MS milliseconds, not looking at
                          cancellation;
                   "MSc"  the same, but looks at pool_worker_cancelled
                          every 10 ms and returns at once when it says 1
                          (the output is then "cancelled@<pid>");
                   "bTAG" a barrier of two: creates DIR/b-TAG-<pid> and
                          waits (up to 30 s) until two such files of TAG
                          exist, so the job ends only once two workers run
                          its map at the same time.
    Output, text:  "<input>@<pid>".
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pool_worker.h"

static void *
s_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    static char dir[512];
    if (init_data.size >= sizeof dir) {
        pool_worker_error (ctx, "sleepy: init data is a directory path");
        return NULL;
    }
    memcpy (dir, init_data.data, init_data.size);
    dir[init_data.size] = 0;
    return dir;
}

static void
s_sleep_ms (long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep (&ts, &ts) && errno == EINTR)
        ;
}

/* Creates DIR/name: 0, or -1 with the reason given to ctx. */
static int
s_touch (const char *dir, const char *name, pool_worker_ctx_t *ctx)
{
    char path[800];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    int fd = open (path, O_WRONLY | O_CREAT, 0600);
    if (fd < 0) {
        pool_worker_error (ctx, "sleepy: %s: %s", path, strerror (errno));
        return -1;
    }
    close (fd);
    return 0;
}

/* Files in dir whose name starts with prefix. */
static int
s_count (const char *dir, const char *prefix)
{
    DIR *d = opendir (dir);
    if (!d)
        return 0;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir (d)))
        count += strncmp (entry->d_name, prefix, strlen (prefix)) == 0;
    closedir (d);
    return count;
}

static int
s_run (void *self, pool_bytes_t input, pool_output_t *output, pool_worker_ctx_t *ctx)
{
    const char *dir = self;
    char text[64], name[128];
    if (input.size == 0 || input.size >= sizeof text) {
        pool_worker_error (ctx, "sleepy: cannot parse input");
        return -1;
    }
    memcpy (text, input.data, input.size);
    text[input.size] = 0;
    static unsigned runs;
    if (*dir) {
        snprintf (name, sizeof name, "run-%d-%u-%s", (int)getpid (), runs++, text);
        if (s_touch (dir, name, ctx))
            return -1;
    }
    char out[128];
    int len = snprintf (out, sizeof out, "%s@%d", text, (int)getpid ());
    if (text[0] == 'b') {
        if (!*dir) {
            pool_worker_error (ctx, "sleepy: a barrier needs a directory");
            return -1;
        }
        char prefix[80];
        snprintf (prefix, sizeof prefix, "b-%s-", text + 1);
        snprintf (name, sizeof name, "%s%d", prefix, (int)getpid ());
        if (s_touch (dir, name, ctx))
            return -1;
        for (int waited = 0; s_count (dir, prefix) < 2; waited += 5) {
            if (waited >= 30000) {
                pool_worker_error (ctx, "sleepy: barrier %s: alone for 30 s", text);
                return -1;
            }
            s_sleep_ms (5);
        }
        return pool_output_set (output, out, (size_t)len);
    }
    char *end = NULL;
    long ms = strtol (text, &end, 10);
    if (end == text || ms < 0 || (*end && strcmp (end, "c"))) {
        pool_worker_error (ctx, "sleepy: cannot parse input '%s'", text);
        return -1;
    }
    if (*end == 'c') {
        for (long slept = 0; slept < ms; slept += 10) {
            if (pool_worker_cancelled (ctx)) {
                len = snprintf (out, sizeof out, "cancelled@%d", (int)getpid ());
                return pool_output_set (output, out, (size_t)len);
            }
            s_sleep_ms (10);
        }
    } else
        s_sleep_ms (ms);
    return pool_output_set (output, out, (size_t)len);
}

static void
s_destroy (void *self)
{
    (void)self;
}

const pool_worker_class_t pool_worker
    = { POOL_WORKER_ABI, "sleepy", s_init, s_run, NULL, s_destroy };
