/*  node/lock.c - the data directory lock (flock on DATA/node.lock). */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct node_lock {
    int fd;
    char path[4096];
};

/* The pid written in the lock file, or 0 when it cannot be read. */
static long
s_holder_pid (int fd)
{
    char text[32] = "";
    ssize_t n = pread (fd, text, sizeof text - 1, 0);
    if (n <= 0)
        return 0;
    text[n] = 0;
    char *end;
    long pid = strtol (text, &end, 10);
    return end != text && pid > 0 ? pid : 0;
}

int
node_lock_acquire (node_lock_t **lock, const char *data_dir, char *error,
                   size_t error_size)
{
    *lock = NULL;
    node_lock_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    self->fd = -1;
    int n = snprintf (self->path, sizeof self->path, "%s/node.lock", data_dir);
    if (n < 0 || (size_t)n >= sizeof self->path) {
        snprintf (error, error_size, "data directory path too long");
        goto failed;
    }
    /*  The owner unlinks the file on exit; whoever opened the old file just
        before that must not keep a lock on a name nobody can see, so take
        the lock and check the name still points at the locked file. */
    for (int tries = 0; tries < 10; tries++) {
        self->fd = open (self->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (self->fd < 0) {
            snprintf (error, error_size, "cannot open %s: %s", self->path,
                      strerror (errno));
            goto failed;
        }
        if (flock (self->fd, LOCK_EX | LOCK_NB)) {
            if (errno == EWOULDBLOCK) {
                long pid = s_holder_pid (self->fd);
                if (pid)
                    snprintf (error, error_size,
                              "another start_node is running with data "
                              "directory %s (pid %ld)",
                              data_dir, pid);
                else
                    snprintf (error, error_size,
                              "another start_node is running with data "
                              "directory %s",
                              data_dir);
            } else
                snprintf (error, error_size, "cannot lock %s: %s", self->path,
                          strerror (errno));
            goto failed;
        }
        struct stat by_fd, by_name;
        if (fstat (self->fd, &by_fd) == 0 && stat (self->path, &by_name) == 0
            && by_fd.st_ino == by_name.st_ino && by_fd.st_dev == by_name.st_dev)
            break;
        close (self->fd);
        self->fd = -1;
    }
    if (self->fd < 0) {
        snprintf (error, error_size, "cannot lock %s: it keeps changing", self->path);
        goto failed;
    }
    char text[32];
    int len = snprintf (text, sizeof text, "%ld\n", (long)getpid ());
    if (ftruncate (self->fd, 0) || pwrite (self->fd, text, len, 0) != len) {
        snprintf (error, error_size, "cannot write %s: %s", self->path, strerror (errno));
        goto failed;
    }
    *lock = self;
    return 0;
failed:
    if (self->fd >= 0)
        close (self->fd);
    free (self);
    return -1;
}

void
node_lock_release (node_lock_t **lock)
{
    if (!lock || !*lock)
        return;
    node_lock_t *self = *lock;
    /* Unlink while still holding the lock, so nobody takes it on a name
       that is about to vanish. */
    unlink (self->path);
    close (self->fd);
    free (self);
    *lock = NULL;
}
