/*  The node's cache of libraries and init data on disk (DATA/cache) stays
    under DCPOOL_LIBRARY_CACHE_MB (4 here): five pools in turn, each with
    3 MiB of init data of its own, would leave 15 MiB there; with the cap
    the least recently used files go.  Between the pools the test makes
    every file there an hour old, as time would (files used in the last
    seconds are spared, for a worker between writing a library and
    loading it).  Each pool still runs jobs. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"

#define POOLS 5
#define INIT_SIZE (3 * 1024 * 1024)

/* The bytes of the files in dir; with age, makes each an hour old. */
static long long
s_dir_bytes (const char *dir, bool age)
{
    DIR *d = opendir (dir);
    H_CHECK (d, "cannot read %s", dir);
    long long total = 0;
    struct dirent *ent;
    while ((ent = readdir (d))) {
        struct stat st;
        if (ent->d_name[0] == '.' || fstatat (dirfd (d), ent->d_name, &st, 0)
            || !S_ISREG (st.st_mode))
            continue;
        total += st.st_size;
        if (age) {
            struct timespec old[2]
                = { { time (NULL) - 3600, 0 }, { time (NULL) - 3600, 0 } };
            H_CHECK (utimensat (dirfd (d), ent->d_name, old, 0) == 0, "utimensat %s",
                     ent->d_name);
        }
    }
    closedir (d);
    return total;
}

static void
s_body (void)
{
    setenv ("DCPOOL_LIBRARY_CACHE_MB", "4", 1);
    h_proc_t *head = h_start_head (1, false);
    char cache[400];
    snprintf (cache, sizeof cache, "%s/cache", head->dir);
    uint8_t *init = malloc (INIT_SIZE);
    H_CHECK (init, "malloc");
    for (int p = 0; p < POOLS; p++) {
        memset (init, 'a' + p, INIT_SIZE);
        pool_options_t options;
        h_options (&options, head, "blocks");
        options.init_data = (pool_bytes_t){ init, INIT_SIZE };
        pool_t *pool = NULL;
        int rc = pool_open (&pool, &options);
        H_CHECK (rc == 0, "pool_open %d: %s", p, pool_open_error ());
        pool_bytes_t in = { "nonsense", 8 };
        pool_result_t result;
        rc = pool_map (pool, &in, 1, &result);
        H_CHECK (rc == 0 && result.status != 0 && strstr (result.error, "unknown input"),
                 "pool %d does not run jobs", p);
        pool_results_release (pool, &result, 1);
        pool_close (&pool);
        long long bytes = s_dir_bytes (cache, true);
        h_log ("after pool %d: %lld bytes in %s", p, bytes, cache);
        H_CHECK (bytes <= 4LL << 20, "the cache holds %lld bytes, past its 4 MiB", bytes);
    }
    free (init);
}

int
main (void)
{
    return h_main ("test_cache_libraries_on_disk_bounded", s_body);
}
