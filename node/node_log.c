/*  node/node_log.c - DATA/node.log, where the workers' output goes.
    See node_log.h. */
#include "node_log.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_CHECK_MS 500 /* how often node.log's size is looked at */
#define LOG_MAX_DEFAULT (64ULL << 20)

struct node_log {
    int fd;
    char path[4200];
    uint64_t max;  /* bytes */
    zloop_t *loop; /* borrowed */
    int timer;     /* the look at its size, or -1 */
};

/*  Past max bytes, keeps the last max / 2 bytes (from a line start) as
    node.log.1 and empties node.log. */
static int
s_trim (zloop_t *loop, int timer_id, void *arg)
{
    node_log_t *self = arg;
    uint64_t max = self->max;
    struct stat st;
    if (self->fd < 0 || fstat (self->fd, &st) || (uint64_t)st.st_size <= max)
        return 0;
    char old_path[4300];
    snprintf (old_path, sizeof old_path, "%s.1", self->path);
    int in = open (self->path, O_RDONLY | O_CLOEXEC);
    int out = open (old_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (in >= 0 && out >= 0) {
        /* From the start of a line within the next 64 KiB, or mid-line
           when there is none (output without newlines). */
        off_t from = st.st_size - (off_t)(max / 2);
        char block[65536];
        ssize_t got = pread (in, block, sizeof block, from);
        const char *newline = got > 0 ? memchr (block, '\n', (size_t)got) : NULL;
        if (newline)
            from += newline - block + 1;
        off_t left = st.st_size - from;
        while (left > 0) {
            ssize_t n = copy_file_range (in, &from, out, NULL, (size_t)left, 0);
            if (n <= 0)
                break;
            left -= n;
        }
    }
    if (in >= 0)
        close (in);
    if (out >= 0)
        close (out);
    if (ftruncate (self->fd, 0) == 0)
        zsys_info ("%s reached %lld bytes: its last part is in %s", self->path,
                   (long long)st.st_size, old_path);
    return 0;
}

node_log_t *
node_log_new (const char *data_dir, uint64_t max, zloop_t *loop, char *error,
              size_t error_size)
{
    node_log_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->max = max ? max : LOG_MAX_DEFAULT;
    self->loop = loop;
    self->timer = -1;
    snprintf (self->path, sizeof self->path, "%s/node.log", data_dir);
    self->fd = spawn_open_log (self->path);
    if (self->fd < 0) {
        snprintf (error, error_size, "cannot open %s: %s", self->path, strerror (errno));
        goto failed;
    }
    self->timer = zloop_timer (loop, LOG_CHECK_MS, 0, s_trim, self);
    if (self->timer < 0) {
        snprintf (error, error_size, "cannot arm a timer");
        goto failed;
    }
    return self;
failed:
    node_log_destroy (&self);
    return NULL;
}

void
node_log_destroy (node_log_t **self)
{
    if (!*self)
        return;
    if ((*self)->timer >= 0)
        zloop_timer_end ((*self)->loop, (*self)->timer);
    if ((*self)->fd >= 0)
        close ((*self)->fd);
    free (*self);
    *self = NULL;
}

int
node_log_fd (const node_log_t *self)
{
    return self->fd;
}

const char *
node_log_path (const node_log_t *self)
{
    return self->path;
}
