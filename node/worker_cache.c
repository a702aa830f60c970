/*  node/worker_cache.c - blocks cached on disk by hash, written atomically,
    the least recently used going past the cap (worker_cache.h). */
#include "worker_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"

/* mkdir that accepts an existing directory. */
static int
s_mkdir (const char *path)
{
    if (mkdir (path, 0700) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

int
worker_cache_prepare (const char *dir, char *error, size_t error_size)
{
    int rc = -1;
    char *parent = strdup (dir);
    if (!parent) {
        snprintf (error, error_size, "out of memory");
        goto cleanup;
    }
    /* DATA/cache: DATA is normally made by start_node; make it if not. */
    char *slash = strrchr (parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        if (s_mkdir (parent)) {
            snprintf (error, error_size, "cannot create %s: %s", parent,
                      strerror (errno));
            goto cleanup;
        }
    }
    if (s_mkdir (dir)) {
        snprintf (error, error_size, "cannot create %s: %s", dir, strerror (errno));
        goto cleanup;
    }
    rc = 0;
cleanup:
    free (parent);
    return rc;
}

int
worker_cache_path (const char *dir, const uint8_t hash[PROTO_HASH_SIZE],
                   const char *suffix, char *out, size_t size)
{
    char hex[2 * PROTO_HASH_SIZE + 1];
    proto_hash_hex (hash, hex);
    int n = snprintf (out, size, "%s/%s%s", dir, hex, suffix ? suffix : "");
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int
worker_cache_read (const char *path, const uint8_t hash[PROTO_HASH_SIZE],
                   zframe_t **bytes, char *error, size_t error_size)
{
    *bytes = NULL;
    int rc = -1;
    zframe_t *frame = NULL;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf (error, error_size, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    struct stat st;
    if (fstat (fd, &st) || !S_ISREG (st.st_mode)) {
        snprintf (error, error_size, "%s is not a readable file", path);
        goto cleanup;
    }
    frame = zframe_new (NULL, (size_t)st.st_size);
    if (!frame) {
        snprintf (error, error_size, "out of memory reading %s", path);
        goto cleanup;
    }
    size_t done = 0;
    while (done < zframe_size (frame)) {
        ssize_t n = read (fd, zframe_data (frame) + done, zframe_size (frame) - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf (error, error_size, "cannot read %s: %s", path,
                      n < 0 ? strerror (errno) : "file shrank");
            goto cleanup;
        }
        done += (size_t)n;
    }
    uint8_t actual[PROTO_HASH_SIZE];
    proto_hash (zframe_data (frame), zframe_size (frame), actual);
    if (memcmp (actual, hash, PROTO_HASH_SIZE) != 0) {
        /* Damaged (disk, a crash of an older version): fetch it again. */
        zsys_warning ("cache file %s does not match its hash; removing it", path);
        unlink (path);
        rc = 1;
        goto cleanup;
    }
    /* Used now: the last to go when the directory is pruned (best
       effort: a file we cannot touch is only pruned sooner). */
    (void)futimens (fd, NULL);
    *bytes = frame;
    frame = NULL;
    rc = 0;
cleanup:
    zframe_destroy (&frame);
    close (fd);
    return rc;
}

int
worker_cache_write (const char *path, const void *data, size_t size, char *error,
                    size_t error_size)
{
    int rc = -1;
    int fd = -1;
    char temp[4200];
    int n = snprintf (temp, sizeof temp, "%s.tmp-XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof temp) {
        snprintf (error, error_size, "cache path too long: %s", path);
        return -1;
    }
    fd = mkostemp (temp, O_CLOEXEC);
    if (fd < 0) {
        snprintf (error, error_size, "cannot create %s: %s", temp, strerror (errno));
        return -1;
    }
    const unsigned char *bytes = data;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write (fd, bytes + done, size - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf (error, error_size, "cannot write %s: %s", temp,
                      w < 0 ? strerror (errno) : "no space");
            goto cleanup;
        }
        done += (size_t)w;
    }
    /* No fsync: a file cut short by a power loss fails the hash check on
       the next read and is fetched again. */
    if (close (fd)) {
        fd = -1;
        snprintf (error, error_size, "cannot close %s: %s", temp, strerror (errno));
        goto cleanup;
    }
    fd = -1;
    if (rename (temp, path)) {
        snprintf (error, error_size, "cannot rename %s to %s: %s", temp, path,
                  strerror (errno));
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (fd >= 0)
        close (fd);
    if (rc)
        unlink (temp);
    return rc;
}

uint64_t
worker_cache_max_bytes (void)
{
    long long mb = 0;
    const char *env = getenv ("DCPOOL_LIBRARY_CACHE_MB");
    if (env && *env && proto_parse_int (env, 1, 1LL << 30, &mb) == 0)
        return (uint64_t)mb << 20;
    return (uint64_t)WORKER_CACHE_DEFAULT_MB << 20;
}

typedef struct {
    char name[NAME_MAX + 1];
    uint64_t size;
    struct timespec used;
} s_entry_t;

/* Oldest first. */
static int
s_by_age (const void *a, const void *b)
{
    const s_entry_t *x = a, *y = b;
    if (x->used.tv_sec != y->used.tv_sec)
        return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    if (x->used.tv_nsec != y->used.tv_nsec)
        return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
    return 0;
}

int
worker_cache_prune (const char *dir, uint64_t max_bytes, const char *const *keep,
                    size_t nkeep, char *error, size_t error_size)
{
    DIR *d = opendir (dir);
    if (!d) {
        snprintf (error, error_size, "cannot read %s: %s", dir, strerror (errno));
        return -1;
    }
    s_entry_t *entries = NULL;
    size_t count = 0, cap = 0;
    uint64_t total = 0;
    struct dirent *ent;
    time_t now = time (NULL);
    while ((ent = readdir (d))) {
        struct stat st;
        if (ent->d_name[0] == '.'
            || fstatat (dirfd (d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW)
            || !S_ISREG (st.st_mode))
            continue;
        if (strstr (ent->d_name, ".tmp-")) {
            /* A writer's, or left by one that died: gone after an hour. */
            if (st.st_mtim.tv_sec < now - WORKER_CACHE_STALE_TMP_S)
                (void)unlinkat (dirfd (d), ent->d_name, 0);
            continue;
        }
        if (count == cap) {
            size_t more = cap ? 2 * cap : 64;
            s_entry_t *grown = realloc (entries, more * sizeof *grown);
            if (!grown) {
                snprintf (error, error_size, "out of memory reading %s", dir);
                free (entries);
                closedir (d);
                return -1;
            }
            entries = grown;
            cap = more;
        }
        snprintf (entries[count].name, sizeof entries[count].name, "%s", ent->d_name);
        entries[count].size = (uint64_t)st.st_size;
        entries[count].used = st.st_mtim;
        count++;
        total += (uint64_t)st.st_size;
    }
    closedir (d);
    if (total > max_bytes && count)
        qsort (entries, count, sizeof *entries, s_by_age);
    time_t fresh = now - WORKER_CACHE_FRESH_S;
    for (size_t i = 0; i < count && total > max_bytes; i++) {
        if (entries[i].used.tv_sec >= fresh)
            break; /* the rest are newer still */
        char path[PATH_MAX];
        int n = snprintf (path, sizeof path, "%s/%s", dir, entries[i].name);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        bool kept = false;
        for (size_t k = 0; k < nkeep && !kept; k++)
            kept = keep[k] && streq (keep[k], path);
        if (kept || unlink (path))
            continue;
        total -= entries[i].size;
    }
    free (entries);
    return 0;
}
