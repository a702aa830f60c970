/*  node/worker_cache.c - blocks cached on disk by hash, written atomically. */
#include "worker_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
