/*  proto/shm.c - big payloads through shared memory on one host.
    See shm.h for the scheme. */
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void
s_put_le (uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
s_get_le (const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void
proto_shm_ref_encode (const proto_shm_ref_t *ref, uint8_t out[PROTO_SHM_REF_SIZE])
{
    s_put_le (out, ref->pid, 4);
    s_put_le (out + 4, ref->fd, 4);
    s_put_le (out + 8, ref->ino, 8);
    s_put_le (out + 16, ref->offset, 8);
    s_put_le (out + 24, ref->size, 8);
}

int
proto_shm_ref_decode (const void *data, size_t size, proto_shm_ref_t *ref)
{
    if (!data || size != PROTO_SHM_REF_SIZE)
        return -1;
    const uint8_t *p = data;
    ref->pid = (uint32_t)s_get_le (p, 4);
    ref->fd = (uint32_t)s_get_le (p + 4, 4);
    ref->ino = s_get_le (p + 8, 8);
    ref->offset = s_get_le (p + 16, 8);
    ref->size = s_get_le (p + 24, 8);
    if (ref->pid == 0 || ref->offset > UINT64_MAX - ref->size)
        return -1;
    return 0;
}

int
proto_host_key (char out[PROTO_HOST_KEY_SIZE + 1])
{
    out[0] = 0;
    const char *off = getenv ("DCPOOL_NO_SHM");
    if (off && *off && strcmp (off, "0") != 0)
        return -1;
    char boot[64] = "";
    FILE *file = fopen ("/proc/sys/kernel/random/boot_id", "r");
    if (!file)
        return -1;
    bool ok = fgets (boot, sizeof boot, file) != NULL;
    fclose (file);
    struct stat ns;
    if (!ok || stat ("/proc/self/ns/pid", &ns) != 0)
        return -1;
    char text[160];
    int len = snprintf (text, sizeof text, "%s/%llu/%llu/%u", boot,
                        (unsigned long long)ns.st_dev, (unsigned long long)ns.st_ino,
                        (unsigned)getuid ());
    uint8_t hash[PROTO_HOST_KEY_SIZE / 2];
    crypto_generichash (hash, sizeof hash, (const uint8_t *)text, (size_t)len, NULL, 0);
    sodium_bin2hex (out, PROTO_HOST_KEY_SIZE + 1, hash, sizeof hash);
    return 0;
}

/* pwrite until done: a big write may be cut short. */
static int
s_write_at (int fd, const void *data, size_t size, uint64_t offset)
{
    const uint8_t *p = data;
    while (size) {
        ssize_t n = pwrite (fd, p, size, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        size -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

int
proto_shm_create (const void *data, size_t size, int *fd, proto_shm_ref_t *ref)
{
    *fd = -1;
    int mfd = memfd_create ("dcpool-payload", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return -errno;
    int rc = s_write_at (mfd, data, size, 0);
    struct stat st;
    if (rc == 0 && fstat (mfd, &st) != 0)
        rc = -errno;
    /* Nobody may shrink it under a mapping (that would be SIGBUS). */
    if (rc == 0 && fcntl (mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
        rc = -errno;
    if (rc) {
        close (mfd);
        return rc;
    }
    *ref = (proto_shm_ref_t){ .pid = (uint32_t)getpid (),
                              .fd = (uint32_t)mfd,
                              .ino = st.st_ino,
                              .offset = 0,
                              .size = size };
    *fd = mfd;
    return 0;
}

int
proto_shm_open (const proto_shm_ref_t *ref, int *fd)
{
    *fd = -1;
    char path[64];
    snprintf (path, sizeof path, "/proc/%u/fd/%u", ref->pid, ref->fd);
    int sfd = open (path, O_RDWR | O_CLOEXEC);
    if (sfd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    if (fstat (sfd, &st) != 0)
        rc = -errno;
    else if (st.st_ino != ref->ino || !S_ISREG (st.st_mode))
        rc = -ESTALE;
    else if ((uint64_t)st.st_size < ref->offset + ref->size)
        rc = -EINVAL;
    if (rc) {
        close (sfd);
        return rc;
    }
    *fd = sfd;
    return 0;
}

int
proto_shm_append (int fd, const void *data, size_t size, uint64_t *offset)
{
    /* Reserve the range under a lock on the open file description (two
       runs of one job may race here), then write outside it. */
    struct flock lock
        = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
    while (fcntl (fd, F_OFD_SETLKW, &lock) != 0)
        if (errno != EINTR)
            return -errno;
    struct stat st;
    int rc = fstat (fd, &st) == 0 ? 0 : -errno;
    uint64_t page = (uint64_t)sysconf (_SC_PAGESIZE);
    uint64_t at = rc ? 0 : ((uint64_t)st.st_size + page - 1) / page * page;
    if (rc == 0 && size && ftruncate (fd, (off_t)(at + size)) != 0)
        rc = -errno;
    lock.l_type = F_UNLCK;
    fcntl (fd, F_OFD_SETLK, &lock);
    if (rc == 0)
        rc = s_write_at (fd, data, size, at);
    if (rc == 0)
        *offset = at;
    return rc;
}

int
proto_shm_map (int fd, uint64_t offset, size_t size, bool writable, void **data,
               void **base, size_t *length)
{
    *data = *base = NULL;
    *length = 0;
    if (size == 0)
        return 0;
    uint64_t page = (uint64_t)sysconf (_SC_PAGESIZE);
    uint64_t start = offset / page * page;
    size_t len = (size_t)(offset - start) + size;
    void *map = mmap (NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                      MAP_SHARED | MAP_POPULATE, fd, (off_t)start);
    if (map == MAP_FAILED)
        return -errno;
    *base = map;
    *length = len;
    *data = (uint8_t *)map + (offset - start);
    return 0;
}
