/*  node/launch.c - starting and stopping redis-server and pool-head. */
#include "launch.h"
#include "spawn.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define REDIS_READY_MS 15000 /* how long Redis may take to answer PING */
#define HEAD_READY_MS                                                                    \
    60000                   /* how long pool-head may take to listen                     \
                               (it may reload a large Redis first) */
#define STOP_GRACE_MS 10000 /* SIGTERM to SIGKILL */

struct launch {
    pid_t head_pid; /* 0 when not running */
    pid_t redis_pid;
    int port;
    launch_config_t config; /* as started; strings borrowed from the caller */
    char url[4600];         /* Redis URL given to pool-head (has the password) */
    char redis_conf[4200];  /* config file of our redis-server, or "" */
    char redis_socket[4200];
    char redis_password[64];
};

static int
s_write_file (const char *path, const char *text, char *error, size_t error_size)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf (error, error_size, "cannot create %s: %s", path, strerror (errno));
        return -1;
    }
    fchmod (fd, 0600); /* an older file may have had other bits */
    size_t len = strlen (text);
    ssize_t n = write (fd, text, len);
    int rc = (n == (ssize_t)len && close (fd) == 0) ? 0 : -1;
    if (n != (ssize_t)len)
        close (fd);
    if (rc)
        snprintf (error, error_size, "cannot write %s: %s", path, strerror (errno));
    return rc;
}

/*  Polls Redis on its socket until it answers PING with our password, or
    the process dies, or time runs out. */
static int
s_wait_redis (launch_t *self, const char *socket_path, const char *password, char *error,
              size_t error_size)
{
    char last[256] = "no answer";
    int64_t deadline = zclock_mono () + REDIS_READY_MS;
    while (zclock_mono () < deadline) {
        int status;
        if (waitpid (self->redis_pid, &status, WNOHANG) == self->redis_pid) {
            char how[128];
            spawn_describe (status, how, sizeof how);
            snprintf (error, error_size, "redis-server %s at start", how);
            self->redis_pid = 0;
            return -1;
        }
        struct timeval timeout = { 0, 500 * 1000 };
        redisContext *redis = redisConnectUnixWithTimeout (socket_path, timeout);
        if (redis && !redis->err) {
            redisReply *reply = redisCommand (redis, "AUTH %s", password);
            bool authed = reply && reply->type == REDIS_REPLY_STATUS;
            if (reply && reply->type == REDIS_REPLY_ERROR)
                snprintf (last, sizeof last, "AUTH: %s", reply->str);
            freeReplyObject (reply);
            if (authed) {
                reply = redisCommand (redis, "PING");
                bool pong = reply && reply->type == REDIS_REPLY_STATUS
                            && streq (reply->str, "PONG");
                if (reply && reply->type == REDIS_REPLY_ERROR)
                    snprintf (last, sizeof last, "PING: %s", reply->str);
                freeReplyObject (reply);
                if (pong) {
                    redisFree (redis);
                    return 0;
                }
            }
        } else if (redis)
            snprintf (last, sizeof last, "%s", redis->errstr);
        if (redis)
            redisFree (redis);
        zclock_sleep (50);
    }
    snprintf (error, error_size,
              "redis-server did not answer PING on %s within %d s (%s)", socket_path,
              REDIS_READY_MS / 1000, last);
    return -1;
}

unsigned long long
launch_redis_maxmemory (unsigned long long store_max)
{
    if (!store_max)
        return 0; /* no cap (the machine's memory unknown): no limit */
    return store_max + store_max / 8 + (32ULL << 20);
}

/*  A redis-server working in dir (Redis works in its `dir`; it rewrites
    its command line, so that cannot say): its pid, or 0.  A zombie has no
    working directory. */
static long
s_redis_in (const char *dir)
{
    struct stat want;
    DIR *proc = opendir ("/proc");
    if (!proc || stat (dir, &want)) {
        if (proc)
            closedir (proc);
        return 0;
    }
    long found = 0;
    struct dirent *entry;
    while (!found && (entry = readdir (proc))) {
        char *end;
        long pid = strtol (entry->d_name, &end, 10);
        if (pid <= 0 || *end)
            continue;
        char path[64], comm[32] = "";
        snprintf (path, sizeof path, "/proc/%ld/comm", pid);
        FILE *file = fopen (path, "re");
        if (!file)
            continue;
        bool named = fgets (comm, sizeof comm, file) && streq (comm, "redis-server\n");
        fclose (file);
        snprintf (path, sizeof path, "/proc/%ld/cwd", pid);
        struct stat cwd;
        if (named && stat (path, &cwd) == 0 && cwd.st_dev == want.st_dev
            && cwd.st_ino == want.st_ino)
            found = pid;
    }
    closedir (proc);
    return found;
}

/*  When a start_node dies (kill -9), its redis-server gets SIGTERM and
    writes out what it acknowledged (spawn.h); a second redis-server on
    the same files must not start before that one is gone (it would also
    remove the new one's socket as it leaves).  0 once none runs in dir,
    or -1 with a message. */
static int
s_wait_old_redis (const char *dir, char *error, size_t error_size)
{
    int64_t deadline = zclock_mono () + STOP_GRACE_MS;
    bool told = false, killed = false;
    long pid;
    while ((pid = s_redis_in (dir))) {
        if (!told)
            zsys_info ("the redis-server of the last start_node here (pid %ld) is "
                       "still writing out its data: waiting for it",
                       pid);
        told = true;
        if (zclock_mono () >= deadline && killed) {
            snprintf (error, error_size,
                      "the redis-server of the last start_node here (pid %ld) "
                      "does not stop, even on SIGKILL",
                      pid);
            return -1;
        }
        if (zclock_mono () >= deadline) {
            zsys_warning ("redis-server (pid %ld) still runs after %d s: killing it", pid,
                          STOP_GRACE_MS / 1000);
            kill ((pid_t)pid, SIGKILL);
            killed = true;
            deadline = zclock_mono () + 5000;
        }
        zclock_sleep (20);
    }
    return 0;
}

/*  Starts redis-server on conf_path: its pid, or -1 with errno set. */
static pid_t
s_spawn_redis (const char *redis_bin, const char *conf_path, int log_fd)
{
    char *argv[] = { (char *)redis_bin, (char *)conf_path, NULL };
    spawn_env_t *env = spawn_env_new ();
    if (!env) {
        errno = ENOMEM;
        return -1;
    }
    spawn_env_unset (env, "DCPOOL_PASSWORD");
    spawn_io_t io = { .out_fd = log_fd,
                      .err_fd = log_fd,
                      .pass_fds = { -1, -1 },
                      .death_signal = SIGTERM };
    pid_t pid = spawn_start_io (redis_bin, argv, spawn_env_array (env), &io);
    int saved = errno;
    spawn_env_destroy (&env);
    errno = saved;
    return pid;
}

static int
s_start_redis (launch_t *self, const launch_config_t *config, int log_fd, char *url,
               size_t url_size, char *error, size_t error_size)
{
    int rc = -1;
    char dir[4096], conf_path[4200], socket_path[4200], pass_path[4200];
    char conf[8192];
    unsigned char random[16];
    char password[2 * sizeof random + 1];

    snprintf (dir, sizeof dir, "%s/redis", config->data_dir);
    snprintf (conf_path, sizeof conf_path, "%s/redis.conf", dir);
    snprintf (socket_path, sizeof socket_path, "%s/redis.sock", dir);
    snprintf (pass_path, sizeof pass_path, "%s/redis.pass", config->data_dir);
    if (strlen (socket_path) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
        snprintf (error, error_size,
                  "the Redis socket path %s is too long for a unix socket; "
                  "use a shorter --data-dir",
                  socket_path);
        return -1;
    }
    if (mkdir (dir, 0700) && errno != EEXIST) {
        snprintf (error, error_size, "cannot create %s: %s", dir, strerror (errno));
        return -1;
    }
    if (s_wait_old_redis (dir, error, error_size))
        return -1;
    randombytes_buf (random, sizeof random);
    sodium_bin2hex (password, sizeof password, random, sizeof random);

    /*  Loopback and a unix socket only: port 0 turns TCP off altogether;
        the bind line keeps it loopback should someone turn it on.  The
        append-only file is the only persistence: no RDB snapshots, so no
        fork of a large store and nothing to save when it stops. */
    snprintf (conf, sizeof conf,
              "# generated by start_node at each start; edits are lost\n"
              "daemonize no\n"
              "port 0\n"
              "bind 127.0.0.1\n"
              "protected-mode yes\n"
              "unixsocket %s\n"
              "unixsocketperm 700\n"
              "requirepass %s\n"
              "appendonly yes\n"
              "save \"\"\n"
              "dir %s\n"
              "logfile \"\"\n"
              "maxmemory %llu\n"
              "maxmemory-policy noeviction\n",
              socket_path, password, dir,
              launch_redis_maxmemory (config->store_max_memory));
    if (s_write_file (conf_path, conf, error, error_size)
        || s_write_file (pass_path, password, error, error_size))
        goto cleanup;

    self->redis_pid = s_spawn_redis (config->redis_bin, conf_path, log_fd);
    if (self->redis_pid < 0) {
        self->redis_pid = 0;
        snprintf (error, error_size, "cannot start redis-server: %s", strerror (errno));
        goto cleanup;
    }
    if (s_wait_redis (self, socket_path, password, error, error_size))
        goto cleanup;
    snprintf (url, url_size, "unix://%s?password=%s", socket_path, password);
    snprintf (self->redis_conf, sizeof self->redis_conf, "%s", conf_path);
    snprintf (self->redis_socket, sizeof self->redis_socket, "%s", socket_path);
    snprintf (self->redis_password, sizeof self->redis_password, "%s", password);
    rc = 0;
cleanup:
    sodium_memzero (password, sizeof password);
    sodium_memzero (conf, sizeof conf);
    return rc;
}

/*  Reads the port pool-head writes on its ready pipe once it listens. */
static int
s_read_port (launch_t *self, int fd, char *error, size_t error_size)
{
    char text[32];
    size_t len = 0;
    int64_t deadline = zclock_mono () + HEAD_READY_MS;
    while (len < sizeof text - 1) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0) {
            snprintf (error, error_size, "pool-head did not report ready within %d s",
                      HEAD_READY_MS / 1000);
            return -1;
        }
        struct pollfd item = { .fd = fd, .events = POLLIN };
        int ready = poll (&item, 1, (int)left);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue;
        ssize_t n = read (fd, text + len, sizeof text - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += n;
        if (memchr (text, '\n', len))
            break;
    }
    text[len] = 0;
    char *end;
    long port = strtol (text, &end, 10);
    if (len > 0 && end != text && (*end == '\n' || *end == 0) && port > 0
        && port < 65536) {
        self->port = (int)port;
        return 0;
    }
    /* No port: pool-head most likely died; say how. */
    int status;
    if (spawn_wait (self->head_pid, 2000, &status) == 1) {
        char how[128];
        spawn_describe (status, how, sizeof how);
        snprintf (error, error_size, "pool-head %s before it was ready", how);
        self->head_pid = 0;
    } else
        snprintf (error, error_size, "pool-head wrote '%s' on its ready pipe, not a port",
                  text);
    return -1;
}

static int
s_start_head (launch_t *self, const launch_config_t *config, const char *redis_url,
              bool restart, int log_fd, char *error, size_t error_size)
{
    int rc = -1;
    int pipe_fds[2] = { -1, -1 };
    spawn_env_t *env = NULL;
    char port[16], heartbeat[16], liveness[16];
    snprintf (port, sizeof port, "%d", config->port);
    snprintf (heartbeat, sizeof heartbeat, "%d", config->heartbeat_ms);
    snprintf (liveness, sizeof liveness, "%d", config->liveness);
    char max_message[24], max_pools[24], max_pending[24], max_frames[24], grace[24],
        store_max[24];
    char http[16];
    snprintf (http, sizeof http, "%d", config->http_port);
    snprintf (store_max, sizeof store_max, "%llu", config->store_max_memory);
    char locality[24];
    snprintf (locality, sizeof locality, "%lld", config->locality_wait);
    snprintf (grace, sizeof grace, "%lld", config->block_grace);
    snprintf (max_frames, sizeof max_frames, "%lld", config->max_frames);
    snprintf (max_message, sizeof max_message, "%lld", config->max_message);
    snprintf (max_pools, sizeof max_pools, "%lld", config->max_pools);
    snprintf (max_pending, sizeof max_pending, "%lld", config->max_pending);

    char *argv[40];
    int argc = 0;
    argv[argc++] = (char *)config->head_bin;
    argv[argc++] = "--port";
    argv[argc++] = port;
    argv[argc++] = "--data-dir";
    argv[argc++] = (char *)config->data_dir;
    argv[argc++] = "--ready-fd";
    argv[argc++] = "3";
    if (config->heartbeat_ms > 0) {
        argv[argc++] = "--heartbeat";
        argv[argc++] = heartbeat;
    }
    if (config->liveness > 0) {
        argv[argc++] = "--liveness";
        argv[argc++] = liveness;
    }
    if (config->max_message > 0) {
        argv[argc++] = "--max-message";
        argv[argc++] = max_message;
    }
    if (config->max_pools > 0) {
        argv[argc++] = "--max-pools";
        argv[argc++] = max_pools;
    }
    if (config->max_pending > 0) {
        argv[argc++] = "--max-pending";
        argv[argc++] = max_pending;
    }
    if (config->max_frames > 0) {
        argv[argc++] = "--max-frames";
        argv[argc++] = max_frames;
    }
    if (config->block_grace >= 0) {
        argv[argc++] = "--block-grace";
        argv[argc++] = grace;
    }
    if (config->http_port > 0) {
        argv[argc++] = "--http";
        argv[argc++] = http;
    }
    if (config->http_bind) {
        argv[argc++] = "--http-bind";
        argv[argc++] = (char *)config->http_bind;
    }
    if (config->store_max_memory > 0) {
        argv[argc++] = "--store-max-memory";
        argv[argc++] = store_max;
    }
    if (restart)
        argv[argc++] = "--restarted";
    if (config->locality_wait >= 0) {
        argv[argc++] = "--locality-wait";
        argv[argc++] = locality;
    }
    if (config->insecure)
        argv[argc++] = "--insecure";
    if (config->verbose)
        argv[argc++] = "-v";
    argv[argc] = NULL;

    env = spawn_env_new ();
    if (!env || spawn_env_set (env, "DCPOOL_REDIS_URL", redis_url)) {
        snprintf (error, error_size, "out of memory");
        goto cleanup;
    }
    spawn_env_unset (env, "DCPOOL_BLOCK_STORE");
    if (config->block_store
        && spawn_env_set (env, "DCPOOL_BLOCK_STORE", config->block_store)) {
        snprintf (error, error_size, "out of memory");
        goto cleanup;
    }
    /* The password travels in the environment, never on a command line. */
    spawn_env_unset (env, "DCPOOL_PASSWORD");
    if (config->password && spawn_env_set (env, "DCPOOL_PASSWORD", config->password)) {
        snprintf (error, error_size, "out of memory");
        goto cleanup;
    }
    if (pipe2 (pipe_fds, O_CLOEXEC)) {
        snprintf (error, error_size, "cannot create a pipe: %s", strerror (errno));
        goto cleanup;
    }
    self->head_pid = spawn_start (config->head_bin, argv, spawn_env_array (env), log_fd,
                                  pipe_fds[1]);
    if (self->head_pid < 0) {
        self->head_pid = 0;
        snprintf (error, error_size, "cannot start pool-head: %s", strerror (errno));
        goto cleanup;
    }
    close (pipe_fds[1]);
    pipe_fds[1] = -1;
    rc = s_read_port (self, pipe_fds[0], error, error_size);
cleanup:
    for (int i = 0; i < 2; i++)
        if (pipe_fds[i] >= 0)
            close (pipe_fds[i]);
    spawn_env_destroy (&env);
    return rc;
}

/*  The last line pool-head wrote to the log after offset ("pool-head: ..."
    or a zsys line naming it), into out; "" when none. */
static void
s_head_said (const char *log_path, off_t offset, char *out, size_t size)
{
    out[0] = 0;
    FILE *log = fopen (log_path, "r");
    if (!log)
        return;
    if (fseeko (log, offset, SEEK_SET) == 0) {
        char line[1024];
        while (fgets (line, sizeof line, log)) {
            if (strncmp (line, "pool-head: ", 11) && !strstr (line, " pool-head: "))
                continue;
            line[strcspn (line, "\n")] = 0;
            snprintf (out, size, "%s", line);
        }
    }
    fclose (log);
}

int
launch_start (launch_t **self_p, const launch_config_t *config, char *error,
              size_t error_size)
{
    *self_p = NULL;
    launch_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    char log_path[4200];
    snprintf (log_path, sizeof log_path, "%s/head.log", config->data_dir);
    int log_fd = spawn_open_log (log_path);
    if (log_fd < 0) {
        snprintf (error, error_size, "cannot open %s: %s", log_path, strerror (errno));
        free (self);
        return -1;
    }
    off_t log_start = lseek (log_fd, 0, SEEK_END);
    char url[4600];
    int rc = 0;
    if (config->redis_url)
        snprintf (url, sizeof url, "%s", config->redis_url);
    else {
        rc = s_start_redis (self, config, log_fd, url, sizeof url, error, error_size);
        if (rc == 0)
            zsys_info ("redis-server running (pid %d), logging to %s",
                       (int)self->redis_pid, log_path);
    }
    if (rc == 0)
        rc = s_start_head (self, config, url, false, log_fd, error, error_size);
    self->config = *config;
    snprintf (self->url, sizeof self->url, "%s", url);
    sodium_memzero (url, sizeof url);
    close (log_fd);
    if (rc) {
        /* Say what pool-head said ("Address already in use"), not only
           where it said it. */
        char said[1024];
        s_head_said (log_path, log_start < 0 ? 0 : log_start, said, sizeof said);
        char logged[5400];
        if (said[0])
            snprintf (logged, sizeof logged, ": %s (see %s)", said, log_path);
        else
            snprintf (logged, sizeof logged, " (see %s)", log_path);
        size_t used = strlen (error);
        if (used + strlen (logged) < error_size)
            strcat (error, logged);
        launch_stop (&self);
        return -1;
    }
    zsys_info ("pool-head running (pid %d) on port %d", (int)self->head_pid, self->port);
    *self_p = self;
    return 0;
}

int
launch_restart (launch_t *self, const char *name, char *error, size_t error_size)
{
    char log_path[4200];
    snprintf (log_path, sizeof log_path, "%s/head.log", self->config.data_dir);
    int log_fd = spawn_open_log (log_path);
    if (log_fd < 0) {
        snprintf (error, error_size, "cannot open %s: %s", log_path, strerror (errno));
        return -1;
    }
    int rc = -1;
    if (streq (name, "redis-server") && self->redis_conf[0]) {
        /* Same config file, same password: pool-head reconnects by itself
           and Redis reloads its append-only file. */
        self->redis_pid
            = s_spawn_redis (self->config.redis_bin, self->redis_conf, log_fd);
        if (self->redis_pid <= 0) {
            self->redis_pid = 0;
            snprintf (error, error_size, "cannot start redis-server: %s",
                      strerror (errno));
        } else
            rc = s_wait_redis (self, self->redis_socket, self->redis_password, error,
                               error_size);
    } else if (streq (name, "pool-head")) {
        /* The port it had, so that nodes and clients find it again. */
        launch_config_t config = self->config;
        config.port = self->port;
        rc = s_start_head (self, &config, self->url, true, log_fd, error, error_size);
    } else
        snprintf (error, error_size, "%s cannot be restarted", name);
    close (log_fd);
    return rc;
}

int
launch_port (launch_t *self)
{
    return self->port;
}

const char *
launch_reaped (launch_t *self, pid_t pid)
{
    if (!self || pid <= 0)
        return NULL;
    if (pid == self->head_pid) {
        self->head_pid = 0;
        return "pool-head";
    }
    if (pid == self->redis_pid) {
        self->redis_pid = 0;
        return "redis-server";
    }
    return NULL;
}

static void
s_stop_one (pid_t *pid, const char *name)
{
    if (*pid <= 0)
        return;
    int status;
    kill (*pid, SIGTERM);
    int rc = spawn_wait (*pid, STOP_GRACE_MS, &status);
    if (rc == 0) {
        zsys_warning ("%s (pid %d) ignored SIGTERM for %d s: killing it", name, (int)*pid,
                      STOP_GRACE_MS / 1000);
        kill (*pid, SIGKILL);
        rc = spawn_wait (*pid, 5000, &status);
    }
    if (rc == 1) {
        char how[128];
        spawn_describe (status, how, sizeof how);
        zsys_info ("%s stopped (%s)", name, how);
    }
    *pid = 0;
}

void
launch_stop (launch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    launch_t *self = *self_p;
    /* The head first: it may still flush to Redis as it leaves. */
    s_stop_one (&self->head_pid, "pool-head");
    s_stop_one (&self->redis_pid, "redis-server");
    free (self);
    *self_p = NULL;
}
