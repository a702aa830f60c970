/*  node/supervisor.c - worker slots, the head link and signals, in one zloop. */
#include "supervisor.h"
#include "scoreboard.h"
#include "gpu/discover.h"

#include <sys/mman.h>
#include "spawn.h"
#include "proto/link.h"
#include "proto/msg.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BACKOFF_FIRST_MS 100 /* first delay of a slot that dies young */
#define BACKOFF_MAX_MS 5000
#define YOUNG_MS 1000     /* dying sooner than this means backoff */
#define DRAIN_MS 5000     /* SIGTERM to SIGKILL of workers */
#define RECONNECT_MS 1000 /* between attempts when the head is gone */
#define LOG_CHECK_MS 500  /* how often node.log's size is looked at */
#define LOG_MAX_DEFAULT (64ULL << 20)

typedef struct {
    int slot; /* 0, 1, ... */
    node_slot_t plan;
    char id[PROTO_ID_MAX + 1]; /* NODEID/wK, stable over respawns */
    char **argv;
    spawn_env_t *env;
    pid_t pid;       /* 0 when not running */
    int64_t started; /* zclock_mono at spawn */
    int backoff_ms;
    int respawn_timer; /* pending respawn, or -1 */
    int board_fd;      /* the scoreboard page it gets as fd 3, or -1 */
    node_scoreboard_t *board;
    bool killed; /* this process was killed on the head's word */
} s_worker_t;

struct supervisor {
    supervisor_config_t config; /* strings borrowed from the caller */
    zloop_t *loop;
    int sigfd;
    zmq_pollitem_t sig_item;
    proto_link_t *link; /* NULL while the head is away */
    int heartbeat_ms;
    int liveness;
    int64_t last_heard; /* zclock_mono of the last message */
    const char *forgot; /* why the head must be joined again, or NULL */
    int heartbeat_timer;
    int reconnect_timer; /* -1 unless reconnecting */
    int kill_timer;      /* -1 unless draining */
    char reconnect_error[512];
    bool stopping;
    int exit_code;
    int log_fd; /* DATA/node.log for the workers */
    char log_path[4200];
    s_worker_t *workers;
    int nworkers;
    int64_t gpu_usage_at;   /* zclock_mono of the last GPU memory report */
    int restarts;           /* of pool-head / redis-server ... */
    int64_t restarts_since; /* ... since this zclock_mono */
};

static void s_begin_stop (supervisor_t *self, int exit_code);
static void s_restart_service (supervisor_t *self, const char *name, const char *how);

void
supervisor_block_signals (void)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGCHLD);
    pthread_sigmask (SIG_BLOCK, &set, NULL);
}

/* ---------------------------------------------------------------------- */
/* The link to the head                                                    */

/*  One connection attempt: HELLO as a node, WELCOME.  0, or a
    PROTO_LINK_E* code with the reason in error. */
static int
s_connect (supervisor_t *self, double timeout, char *error, size_t error_size)
{
    char hostname[256] = "localhost";
    gethostname (hostname, sizeof hostname - 1);
    hostname[sizeof hostname - 1] = 0;

    proto_msg_t hello;
    proto_msg_init (&hello, PROTO_HELLO);
    proto_msg_set_role (&hello, PROTO_ROLE_NODE);
    proto_msg_set_id (&hello, self->config.node_id);
    proto_msg_set_text (&hello, "%s", hostname);
    proto_msg_add_num (&hello, (uint64_t)self->nworkers);
    int rc = proto_link_connect (&self->link, self->config.server, self->config.keys,
                                 &hello, timeout, NULL, error, error_size);
    proto_msg_reset (&hello);
    if (rc != PROTO_OK)
        return rc;
    self->heartbeat_ms = proto_link_heartbeat_ms (self->link);
    self->liveness = proto_link_liveness (self->link);
    self->last_heard = zclock_mono ();
    return 0;
}

static void
s_send (supervisor_t *self, proto_msg_t *msg)
{
    if (self->link
        && proto_msg_send (msg, zsock_resolve (proto_link_sock (self->link))) != PROTO_OK)
        zsys_warning ("cannot send %s to the head", proto_type_name (msg->type));
    proto_msg_reset (msg);
}

static int s_head_message (zloop_t *loop, zsock_t *sock, void *arg);
static int s_heartbeat (zloop_t *loop, int timer_id, void *arg);

/*  Arms the reader and the heartbeat timer for a fresh link. */
static int
s_link_up (supervisor_t *self)
{
    if (zloop_reader (self->loop, proto_link_sock (self->link), s_head_message, self))
        return -1;
    zloop_reader_set_tolerant (self->loop, proto_link_sock (self->link));
    if (self->heartbeat_timer >= 0)
        zloop_timer_end (self->loop, self->heartbeat_timer);
    self->heartbeat_timer
        = zloop_timer (self->loop, (size_t)self->heartbeat_ms, 0, s_heartbeat, self);
    return self->heartbeat_timer >= 0 ? 0 : -1;
}

static void
s_link_down (supervisor_t *self)
{
    if (!self->link)
        return;
    zloop_reader_end (self->loop, proto_link_sock (self->link));
    zsock_set_linger (proto_link_sock (self->link), 0);
    proto_link_destroy (&self->link);
}

static int
s_reconnect (zloop_t *loop, int timer_id, void *arg)
{
    supervisor_t *self = arg;
    if (self->stopping || self->link)
        return 0;
    char error[512];
    /* A short attempt: the loop is blocked meanwhile, and we retry anyway. */
    double timeout = self->config.connect_timeout > 0 && self->config.connect_timeout < 1
                         ? self->config.connect_timeout
                         : 1;
    int rc = s_connect (self, timeout, error, sizeof error);
    if (rc != PROTO_OK) {
        /* Log once per kind of failure, not once a second. */
        if (strcmp (error, self->reconnect_error)) {
            zsys_warning ("head still unreachable: %s; retrying every %d ms", error,
                          RECONNECT_MS);
            snprintf (self->reconnect_error, sizeof self->reconnect_error, "%s", error);
        }
        return 0;
    }
    if (s_link_up (self)) {
        zsys_error ("cannot watch the head link");
        s_link_down (self);
        return 0;
    }
    zsys_info ("reconnected to the head at %s", self->config.server);
    zloop_timer_end (loop, self->reconnect_timer);
    self->reconnect_timer = -1;
    self->reconnect_error[0] = 0;
    return 0;
}

/*  The head went quiet: drop the link and try again every second. */
static void
s_lost_head (supervisor_t *self, const char *why)
{
    zsys_warning ("lost the head at %s (%s); reconnecting in the background "
                  "(workers keep running and reconnect on their own)",
                  self->config.server, why);
    s_link_down (self);
    if (self->reconnect_timer < 0)
        self->reconnect_timer
            = zloop_timer (self->loop, RECONNECT_MS, 0, s_reconnect, self);
}

/*  Every few seconds a node with GPU workers adds to its heartbeat the
    device memory in use behind each worker slot (nums [K] for slot K, from
    NVML through the same discovery as at start), for `start_node --status`.
    Slots past PROTO_NUMS_MAX, and simulated devices, are not reported. */
#define GPU_USAGE_EVERY_MS 5000

static void
s_gpu_usage (supervisor_t *self, proto_msg_t *msg)
{
    int64_t now = zclock_mono ();
    if (now - self->gpu_usage_at < GPU_USAGE_EVERY_MS)
        return;
    self->gpu_usage_at = now;
    bool any = false;
    for (int i = 0; i < self->nworkers && !any; i++)
        any = self->workers[i].plan.gpu;
    if (!any)
        return;
    gpu_device_t devices[PROTO_NUMS_MAX];
    char error[256];
    int found = gpu_discover (devices, PROTO_NUMS_MAX, error, sizeof error);
    if (found <= 0)
        return;
    for (int i = 0; i < self->nworkers && i < PROTO_NUMS_MAX; i++) {
        uint64_t used = UINT64_MAX; /* unknown */
        for (int d = 0; d < found && d < PROTO_NUMS_MAX; d++)
            if (self->workers[i].plan.gpu
                && streq (devices[d].uuid, self->workers[i].plan.uuid))
                used = devices[d].memory_total - devices[d].memory_free;
        proto_msg_add_num (msg, used);
    }
}

static int
s_heartbeat (zloop_t *loop, int timer_id, void *arg)
{
    supervisor_t *self = arg;
    if (!self->link)
        return 0;
    int64_t quiet = zclock_mono () - self->last_heard;
    if (self->forgot || quiet > (int64_t)self->liveness * self->heartbeat_ms) {
        char why[128];
        if (self->forgot)
            snprintf (why, sizeof why, "%s", self->forgot);
        else
            snprintf (why, sizeof why, "nothing heard for %d ms", (int)quiet);
        self->forgot = NULL;
        s_lost_head (self, why);
        return 0;
    }
    if (!self->stopping) {
        proto_msg_t msg;
        proto_msg_init (&msg, PROTO_HEARTBEAT);
        s_gpu_usage (self, &msg);
        s_send (self, &msg);
    }
    return 0;
}

/*  WORKER_KILL: the head closed the worker's pool and the worker did not
    leave within the grace (its code is stuck in init, run or
    handle_update, or ignores the close).  Its whole process group goes:
    nothing of one pool's code outlives the pool.  Only the process the
    head named (seq: its pid): a late request never hits the slot's next
    process. */
static void
s_kill_worker (supervisor_t *self, const proto_msg_t *msg)
{
    for (int i = 0; i < self->nworkers; i++) {
        s_worker_t *worker = &self->workers[i];
        if (!streq (worker->id, msg->id))
            continue;
        if (worker->pid <= 0 || (uint64_t)worker->pid != msg->seq)
            return;
        zsys_warning ("worker %s (pid %d): %s; killing it", worker->id, (int)worker->pid,
                      msg->text ? msg->text : "the head asked");
        worker->killed = true;
        kill (-worker->pid, SIGKILL);
        kill (worker->pid, SIGKILL);
        return;
    }
}

static int
s_head_message (zloop_t *loop, zsock_t *sock, void *arg)
{
    supervisor_t *self = arg;
    proto_msg_t msg;
    proto_msg_init (&msg, 0);
    char reason[256];
    int rc = proto_msg_recv (&msg, zsock_resolve (sock), reason, sizeof reason);
    if (rc == PROTO_EIO) {
        proto_msg_reset (&msg);
        return 0;
    }
    self->last_heard = zclock_mono ();
    if (rc != PROTO_OK) {
        zsys_warning ("bad message from the head: %s", reason);
        proto_msg_reset (&msg);
        return 0;
    }
    switch (msg.type) {
    case PROTO_HEARTBEAT:
    case PROTO_WELCOME:
        break;
    case PROTO_DENIED:
        zsys_warning ("the head refused us: %s", msg.text ? msg.text : "");
        /* The heartbeat timer reconnects. */
        self->forgot = "the head refused us";
        break;
    case PROTO_ERROR:
        zsys_warning ("the head answered ERROR %lld: %s", (long long)msg.code,
                      msg.text ? msg.text : "");
        /* It restarted or declared us dead: the heartbeat timer reconnects
           and says HELLO again. */
        if (msg.code == PROTO_CODE_UNKNOWN_PEER)
            self->forgot = "the head no longer knows us (it restarted, or "
                           "declared us lost)";
        break;
    case PROTO_WORKER_KILL:
        s_kill_worker (self, &msg);
        break;
    default:
        if (self->config.verbose)
            zsys_debug ("ignoring %s from the head", proto_type_name (msg.type));
        break;
    }
    proto_msg_reset (&msg);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Workers                                                                 */

static void
s_worker_spawn (supervisor_t *self, s_worker_t *worker)
{
    node_scoreboard_leave (worker->board); /* nothing runs in a new process */
    worker->killed = false;
    worker->pid
        = spawn_start (self->config.worker_bin, worker->argv,
                       spawn_env_array (worker->env), self->log_fd, worker->board_fd);
    worker->started = zclock_mono ();
    if (worker->pid < 0) {
        /* fork failed (out of processes?): count it as a young death. */
        zsys_error ("cannot start worker %s: %s", worker->id, strerror (errno));
        worker->pid = 0;
    } else if (self->config.verbose)
        zsys_debug ("worker %s started (pid %d)", worker->id, (int)worker->pid);
}

/*  The worker left: report it to the head.  Returns true when it died on
    its own (a crash, a failed load, an exit in the middle of user code),
    false when it left as asked: an exit 0 between jobs (its pool closed,
    SIGTERM), a job timeout (its own alarm, armed on purpose) or a kill on
    the head's word.  Only the first backs off before the slot restarts. */
static bool
s_worker_exited (supervisor_t *self, s_worker_t *worker, int status)
{
    int64_t lived = zclock_mono () - worker->started;
    pid_t pid = worker->pid;
    worker->pid = 0;
    char how[160];
    spawn_describe (status, how, sizeof how);
    int64_t code = WIFSIGNALED (status) ? WTERMSIG (status)
                   : WIFEXITED (status) ? -(int64_t)WEXITSTATUS (status)
                                        : 0;
    if (self->stopping || (WIFEXITED (status) && WEXITSTATUS (status) == 0))
        zsys_info ("worker %s %s", worker->id, how);
    else
        zsys_warning ("worker %s %s after %lld ms", worker->id, how, (long long)lived);

    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_WORKER_DIED);
    proto_msg_set_id (&msg, worker->id);
    proto_msg_set_node (&msg, self->config.node_id);
    proto_msg_set_code (&msg, code);
    /*  The process id tells the head which process of the slot died, so a
        late report never retires the slot's next process. */
    proto_msg_set_seq (&msg, (uint64_t)pid);
    /*  The job it was running, from the scoreboard: only that one is
        charged an attempt; none when it died between jobs. */
    uint64_t pool, job_id;
    uint32_t attempt;
    int running = node_scoreboard_read (worker->board, &pool, &job_id, &attempt);
    if (running == 2) {
        /* it died in handle_update: nums [2, seq] */
        proto_msg_add_num (&msg, 2);
        proto_msg_add_num (&msg, job_id);
        proto_msg_set_pool (&msg, pool);
    } else if (running == 3) {
        /* it died loading the pool (dlopen, init): nums [3] */
        proto_msg_add_num (&msg, 3);
        proto_msg_set_pool (&msg, pool);
    } else if (running == 1) {
        proto_job_t *job = proto_msg_add_job (&msg);
        if (job) {
            job->id = job_id;
            job->attempt = attempt;
            proto_msg_set_pool (&msg, pool);
        }
    } else
        proto_msg_add_num (&msg, 0); /* says: it was running nothing */
    proto_msg_set_text (&msg, "worker %s %s%s", worker->id, how,
                        running == 1   ? " while running a job"
                        : running == 2 ? " in handle_update"
                        : running == 3 ? " while loading its pool"
                                       : "");
    if (self->link)
        s_send (self, &msg);
    else
        proto_msg_reset (&msg);
    if (worker->killed || self->stopping)
        return false;
    if (WIFSIGNALED (status))
        return WTERMSIG (status) != SIGALRM;
    return !(WIFEXITED (status) && WEXITSTATUS (status) == 0 && running == 0);
}

/*  Starts the worker again now, or after its backoff when it died young. */
static int s_respawn (zloop_t *loop, int timer_id, void *arg);

static void
s_schedule_respawn (supervisor_t *self, s_worker_t *worker, int64_t lived, bool own)
{
    int delay = 0;
    if (lived >= YOUNG_MS || !own)
        worker->backoff_ms = BACKOFF_FIRST_MS;
    else {
        delay = worker->backoff_ms;
        worker->backoff_ms *= 2;
        if (worker->backoff_ms > BACKOFF_MAX_MS)
            worker->backoff_ms = BACKOFF_MAX_MS;
    }
    if (delay == 0) {
        s_worker_spawn (self, worker);
        if (worker->pid)
            return;
        delay = worker->backoff_ms; /* fork failed: try later */
    }
    if (lived < YOUNG_MS && own)
        zsys_info ("worker %s died %lld ms after its start: restarts in %d ms (back-off)",
                   worker->id, (long long)lived, delay);
    else if (self->config.verbose)
        zsys_info ("worker %s restarts in %d ms", worker->id, delay);
    worker->respawn_timer = zloop_timer (self->loop, (size_t)delay, 1, s_respawn, worker);
}

static supervisor_t *s_self; /* the one supervisor, for timer callbacks
                                whose arg is the worker */

static int
s_respawn (zloop_t *loop, int timer_id, void *arg)
{
    s_worker_t *worker = arg;
    worker->respawn_timer = -1;
    if (s_self->stopping || worker->pid)
        return 0;
    s_worker_spawn (s_self, worker);
    if (!worker->pid)
        s_schedule_respawn (s_self, worker, 0, true);
    return 0;
}

static int
s_live_workers (supervisor_t *self)
{
    int live = 0;
    for (int i = 0; i < self->nworkers; i++)
        live += self->workers[i].pid > 0;
    return live;
}

/*  Workers write their stdout and stderr (and their log lines) straight
    into node.log, through descriptors opened O_APPEND.  Past log_max bytes
    its last log_max / 2 bytes (from a line start) become node.log.1 and
    node.log starts again from empty: the workers' next writes land at the
    new end, and the disk holds at most about 1.5 x log_max plus what is
    written between two looks.  Lines written while the copy is made are
    lost. */
static int
s_trim_log (zloop_t *loop, int timer_id, void *arg)
{
    supervisor_t *self = arg;
    uint64_t max = self->config.log_max ? self->config.log_max : LOG_MAX_DEFAULT;
    struct stat st;
    if (self->log_fd < 0 || fstat (self->log_fd, &st) || (uint64_t)st.st_size <= max)
        return 0;
    char old_path[4300];
    snprintf (old_path, sizeof old_path, "%s.1", self->log_path);
    int in = open (self->log_path, O_RDONLY | O_CLOEXEC);
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
    if (ftruncate (self->log_fd, 0) == 0)
        zsys_info ("%s reached %lld bytes: its last part is in %s", self->log_path,
                   (long long)st.st_size, old_path);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Signals                                                                 */

static int
s_kill_stragglers (zloop_t *loop, int timer_id, void *arg)
{
    supervisor_t *self = arg;
    self->kill_timer = -1;
    for (int i = 0; i < self->nworkers; i++)
        if (self->workers[i].pid > 0) {
            zsys_warning ("worker %s did not stop within %d ms: SIGKILL",
                          self->workers[i].id, DRAIN_MS);
            kill (-self->workers[i].pid, SIGKILL);
            kill (self->workers[i].pid, SIGKILL);
        }
    return 0;
}

static void
s_begin_stop (supervisor_t *self, int exit_code)
{
    if (exit_code > self->exit_code)
        self->exit_code = exit_code;
    if (self->stopping)
        return;
    self->stopping = true;
    if (self->link) {
        proto_msg_t bye;
        proto_msg_init (&bye, PROTO_BYE);
        s_send (self, &bye);
    }
    for (int i = 0; i < self->nworkers; i++) {
        s_worker_t *worker = &self->workers[i];
        if (worker->respawn_timer >= 0) {
            zloop_timer_end (self->loop, worker->respawn_timer);
            worker->respawn_timer = -1;
        }
        if (worker->pid > 0)
            kill (worker->pid, SIGTERM);
    }
    if (s_live_workers (self))
        self->kill_timer = zloop_timer (self->loop, DRAIN_MS, 1, s_kill_stragglers, self);
}

/*  Reaps every child that exited.  Returns -1 when the loop must end. */
static int
s_reap (supervisor_t *self)
{
    int status;
    pid_t pid;
    siginfo_t info;
    /*  Look before reaping: while the worker is a zombie its pid still
        names its process group, so whatever it forked (in that group) is
        killed with it, and the number cannot have gone to anyone else. */
    while ((info.si_pid = 0, waitid (P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT)) == 0
           && info.si_pid > 0) {
        pid = info.si_pid;
        s_worker_t *worker = NULL;
        for (int i = 0; i < self->nworkers && !worker; i++)
            if (self->workers[i].pid == pid)
                worker = &self->workers[i];
        if (worker)
            kill (-pid, SIGKILL);
        if (waitpid (pid, &status, 0) != pid)
            break;
        if (worker) {
            int64_t lived = zclock_mono () - worker->started;
            bool own = s_worker_exited (self, worker, status);
            if (!self->stopping)
                s_schedule_respawn (self, worker, lived, own);
            continue;
        }
        const char *name = launch_reaped (self->config.launch, pid);
        if (name) {
            char how[160];
            spawn_describe (status, how, sizeof how);
            if (self->stopping)
                zsys_info ("%s %s", name, how);
            else
                s_restart_service (self, name, how);
        }
    }
    return self->stopping && s_live_workers (self) == 0 ? -1 : 0;
}

/*  pool-head or redis-server died on its own: start it again, so that a
    crash costs the cluster a pause, not its head.  One that keeps dying
    (5 times within a minute) stops the node instead. */
static void
s_restart_service (supervisor_t *self, const char *name, const char *how)
{
    int64_t now = zclock_mono ();
    if (now - self->restarts_since > 60000) {
        self->restarts_since = now;
        self->restarts = 0;
    }
    if (++self->restarts > 5) {
        zsys_error ("%s %s on its own again, %d times within a minute (see %s/head.log); "
                    "stopping",
                    name, how, self->restarts - 1, self->config.data_dir);
        s_begin_stop (self, 1);
        return;
    }
    zsys_warning ("%s %s on its own (see %s/head.log); starting it again", name, how,
                  self->config.data_dir);
    char error[512];
    if (launch_restart (self->config.launch, name, error, sizeof error)) {
        zsys_error ("cannot restart %s: %s; stopping", name, error);
        s_begin_stop (self, 1);
        return;
    }
    zsys_info ("%s is back", name);
}

static int
s_signal (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    supervisor_t *self = arg;
    struct signalfd_siginfo info;
    while (read (self->sigfd, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGCHLD)
            continue; /* reaped below */
        if (self->stopping) {
            zsys_warning ("%s again: killing the workers now",
                          strsignal (info.ssi_signo));
            for (int i = 0; i < self->nworkers; i++)
                if (self->workers[i].pid > 0) {
                    kill (-self->workers[i].pid, SIGKILL);
                    kill (self->workers[i].pid, SIGKILL);
                }
        } else {
            zsys_info ("%s: stopping (workers get %d s)", strsignal (info.ssi_signo),
                       DRAIN_MS / 1000);
            s_begin_stop (self, 0);
        }
    }
    /*  Always reap: SIGCHLDs merge, one may stand for many exits. */
    return s_reap (self);
}

/* ---------------------------------------------------------------------- */
/* Life cycle                                                              */

#define FIRST_ATTEMPT_S 2.0 /* one connection attempt while waiting */
#define WAITING_LOG_MS 10000

/*  True when SIGTERM or SIGINT is pending (read from the signalfd). */
static bool
s_stop_pending (supervisor_t *self)
{
    struct signalfd_siginfo info;
    bool stop = false;
    while (read (self->sigfd, &info, sizeof info) == sizeof info)
        stop |= info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT;
    return stop;
}

/*  The first connection to the head.  Machines boot in any order: with no
    connect_timeout (0) this waits for the head as long as it takes,
    saying every 10 s or so that it is still waiting and why, and stops on
    SIGTERM or SIGINT; a refused handshake (wrong password) ends it at
    once.  PROTO_OK, or a PROTO_LINK_E* code with the reason in error. */
static int
s_first_connect (supervisor_t *self, char *error, size_t error_size)
{
    double limit = self->config.connect_timeout;
    int64_t started = zclock_mono ();
    int64_t logged = started - WAITING_LOG_MS; /* say it at once */
    while (true) {
        double attempt = FIRST_ATTEMPT_S;
        if (limit > 0) {
            double left = limit - (zclock_mono () - started) / 1000.0;
            if (left < attempt)
                attempt = left > 0.1 ? left : 0.1;
        }
        int rc = s_connect (self, attempt, error, error_size);
        if (rc == PROTO_OK || (rc != PROTO_LINK_ECONNECT && rc != PROTO_LINK_EREFUSED))
            return rc;
        int64_t now = zclock_mono ();
        if (limit > 0 && now - started >= (int64_t)(limit * 1000))
            return rc;
        if (s_stop_pending (self)) {
            snprintf (error, error_size, "stopped while waiting for the head at %s",
                      self->config.server);
            return PROTO_LINK_ECONNECT;
        }
        if (now - logged >= WAITING_LOG_MS) {
            zsys_info ("still waiting for the head at %s (%.0f s so far): %s",
                       self->config.server, (now - started) / 1000.0, error);
            logged = now;
        }
        if (rc == PROTO_LINK_EREFUSED)
            zclock_sleep (500); /* refused at once: do not spin */
    }
}

static int
s_worker_prepare (supervisor_t *self, s_worker_t *worker, const char *keys,
                  const char *endpoint)
{
    snprintf (worker->id, sizeof worker->id, "%s/w%d", self->config.node_id,
              worker->slot);
    worker->respawn_timer = -1;
    worker->board_fd = -1;
    worker->backoff_ms = BACKOFF_FIRST_MS;
    worker->env = spawn_env_new ();
    worker->argv = calloc (20, sizeof (char *));
    if (!worker->env || !worker->argv)
        return -1;
    /* Workers run user code: they get the keys, never the password. */
    spawn_env_unset (worker->env, "DCPOOL_PASSWORD");
    if (spawn_env_set (worker->env, PROTO_KEYS_ENV, keys))
        return -1;
    if (worker->plan.gpu) {
        if (spawn_env_set (worker->env, "CUDA_VISIBLE_DEVICES", worker->plan.uuid)
            || spawn_env_set (worker->env, "CUDA_DEVICE_ORDER", "PCI_BUS_ID"))
            return -1;
    } else if (spawn_env_set (worker->env, "CUDA_VISIBLE_DEVICES", ""))
        return -1;

    worker->board_fd = node_scoreboard_create (&worker->board);
    if (worker->board_fd < 0)
        return -1;
    char index[32], memory[32];
    snprintf (index, sizeof index, "%d", worker->plan.index);
    snprintf (memory, sizeof memory, "%llu", (unsigned long long)worker->plan.memory);
    const char *args[] = { self->config.worker_bin, "--server", endpoint, "--node",
                           self->config.node_id, "--id", worker->id, "--data-dir",
                           self->config.data_dir, "--scoreboard-fd", "3",
                           /* GPU slots only, from here */
                           "--gpu", index, "--gpu-name", worker->plan.name, "--gpu-uuid",
                           worker->plan.uuid, "--gpu-memory", memory };
    size_t count = sizeof args / sizeof args[0];
    if (!worker->plan.gpu)
        count -= 8;
    assert (count < 20);
    for (size_t i = 0; i < count; i++)
        if (!(worker->argv[i] = strdup (args[i])))
            return -1;
    return 0;
}

supervisor_t *
supervisor_new (const supervisor_config_t *config, char *error, size_t error_size)
{
    assert (config && config->node_id && config->data_dir);
    assert (!s_self); /* one per process: signals are global */
    supervisor_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->config = *config;
    self->sigfd = -1;
    self->log_fd = -1;
    self->heartbeat_timer = -1;
    self->reconnect_timer = -1;
    self->kill_timer = -1;
    self->heartbeat_ms = 1000;
    self->liveness = 3;
    s_self = self;

    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGCHLD);
    self->sigfd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    self->loop = zloop_new ();
    if (self->sigfd < 0 || !self->loop) {
        snprintf (error, error_size, "cannot watch signals: %s", strerror (errno));
        goto failed;
    }
    zloop_set_nonstop (self->loop, true);
    self->sig_item
        = (zmq_pollitem_t){ .socket = NULL, .fd = self->sigfd, .events = ZMQ_POLLIN };
    if (zloop_poller (self->loop, &self->sig_item, s_signal, self)) {
        snprintf (error, error_size, "cannot watch signals");
        goto failed;
    }
    if (config->server_only)
        return self;

    self->nworkers = config->nslots;
    self->workers = calloc (self->nworkers ? self->nworkers : 1, sizeof *self->workers);
    char keys[256];
    char endpoint[300];
    if (!self->workers || proto_keys_export (config->keys, keys, sizeof keys)
        || proto_endpoint (config->server, endpoint, sizeof endpoint)) {
        snprintf (error, error_size, "cannot prepare the workers");
        goto failed;
    }
    for (int i = 0; i < self->nworkers; i++) {
        self->workers[i].slot = i;
        self->workers[i].plan = config->slots[i];
        if (s_worker_prepare (self, &self->workers[i], keys, endpoint)) {
            snprintf (error, error_size, "out of memory");
            goto failed;
        }
    }
    char *log_path = self->log_path;
    snprintf (log_path, sizeof self->log_path, "%s/node.log", config->data_dir);
    self->log_fd = spawn_open_log (log_path);
    if (self->log_fd < 0) {
        snprintf (error, error_size, "cannot open %s: %s", log_path, strerror (errno));
        goto failed;
    }
    if (zloop_timer (self->loop, LOG_CHECK_MS, 0, s_trim_log, self) < 0) {
        snprintf (error, error_size, "cannot arm a timer");
        goto failed;
    }
    if (s_first_connect (self, error, error_size) != PROTO_OK || s_link_up (self))
        goto failed;
    zsys_info ("node %s joined the head at %s (heartbeat %d ms, liveness %d)",
               config->node_id, config->server, self->heartbeat_ms, self->liveness);
    for (int i = 0; i < self->nworkers; i++)
        s_worker_spawn (self, &self->workers[i]);
    for (int i = 0; i < self->nworkers; i++)
        if (!self->workers[i].pid)
            s_schedule_respawn (self, &self->workers[i], 0, true);
    zsys_info ("%d worker(s) started, logging to %s", self->nworkers, log_path);
    return self;
failed:
    supervisor_destroy (&self);
    return NULL;
}

int
supervisor_run (supervisor_t *self)
{
    /*  A signal that came before the loop (while the head started, say) is
        waiting on the signalfd: the first poll sees it.  A SIGCHLD read
        while waiting for the head (s_stop_pending) is not: reap now. */
    s_reap (self);
    zloop_start (self->loop);
    s_link_down (self);
    return self->exit_code;
}

void
supervisor_destroy (supervisor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    supervisor_t *self = *self_p;
    for (int i = 0; i < self->nworkers; i++) {
        s_worker_t *worker = &self->workers[i];
        if (worker->pid > 0) {
            kill (worker->pid, SIGKILL);
            int status;
            spawn_wait (worker->pid, 2000, &status);
        }
        if (worker->argv)
            for (char **arg = worker->argv; *arg; arg++)
                free (*arg);
        free (worker->argv);
        spawn_env_destroy (&worker->env);
        if (worker->board)
            munmap (worker->board, sizeof *worker->board);
        if (worker->board_fd >= 0)
            close (worker->board_fd);
    }
    free (self->workers);
    if (self->loop)
        s_link_down (self);
    zloop_destroy (&self->loop);
    if (self->sigfd >= 0)
        close (self->sigfd);
    if (self->log_fd >= 0)
        close (self->log_fd);
    s_self = NULL;
    free (self);
    *self_p = NULL;
}
