/*  node/node_workers.c - the node's worker slots.  See node_workers.h. */
#include "node_workers.h"
#include "node_log.h"
#include "scoreboard.h"
#include "spawn.h"
#include "worker_output.h"
#include "gpu/discover.h"
#include "proto/link.h"
#include "views.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define BACKOFF_FIRST_MS 100 /* first delay of a slot that dies young */
#define BACKOFF_MAX_MS 5000
#define YOUNG_MS 1000 /* dying sooner than this means backoff */

/*  Every few seconds a node with GPU workers adds to its heartbeat the
    device memory in use behind each worker slot (nums [K] for slot K, from
    NVML through the same discovery as at start), for `start_node --status`.
    Slots past PROTO_NUMS_MAX, and simulated devices, are not reported. */
#define GPU_USAGE_EVERY_MS 5000

/*  How often a worker's dropped output lines are looked at, to report
    them when its output has stopped (worker_output_tick). */
#define OUTPUT_TICK_MS 1000

typedef struct {
    node_workers_t *owner; /* for its respawn timer */
    int slot;              /* 0, 1, ... */
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
    /* A cancelled job it was running when its node heard (pid, pool, id,
       attempt): killed if still running it when cancel_timer fires. */
    int cancel_timer; /* or -1 */
    pid_t cancel_pid;
    uint64_t cancel_pool;
    uint64_t cancel_job;
    uint32_t cancel_attempt;
    uint64_t cancel_grace_ms;
    worker_output_t *output; /* its stdout and stderr */
} node_worker_t;

struct node_workers {
    const supervisor_config_t *config; /* borrowed */
    zloop_t *loop;                     /* borrowed */
    node_link_t *link;                 /* borrowed */
    node_log_t *log;
    node_worker_t *workers;
    int count;
    int kill_timer;   /* -1 unless draining */
    int output_timer; /* worker_output_tick, or -1 */
    bool stopping;
    int64_t gpu_usage_at; /* zclock_mono of the last GPU memory report */
};

/*  The slot's command line and environment, and its scoreboard page:
    0, or -1 when out of memory. */
static int
s_prepare (node_workers_t *self, node_worker_t *worker, const char *keys,
           const char *endpoint)
{
    const supervisor_config_t *config = self->config;
    snprintf (worker->id, sizeof worker->id, "%s/w%d", config->node_id, worker->slot);
    worker->respawn_timer = -1;
    worker->cancel_timer = -1;
    worker->board_fd = -1;
    worker->backoff_ms = BACKOFF_FIRST_MS;
    worker->env = spawn_env_new ();
    worker->argv = calloc (24, sizeof (char *));
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
    worker->output
        = worker_output_new (self->loop, self->link, worker->id, node_log_fd (self->log));
    if (!worker->output)
        return -1;
    char index[32], memory[32];
    snprintf (index, sizeof index, "%d", worker->plan.index);
    snprintf (memory, sizeof memory, "%llu", (unsigned long long)worker->plan.memory);
    const char *args[] = { config->worker_bin, "--server", endpoint, "--node",
                           config->node_id, "--id", worker->id, "--data-dir",
                           config->data_dir, "--scoreboard-fd", "3", "--log-fd", "4",
                           /* GPU slots only, from here */
                           "--gpu", index, "--gpu-name", worker->plan.name, "--gpu-uuid",
                           worker->plan.uuid, "--gpu-memory", memory };
    size_t count = sizeof args / sizeof args[0];
    if (!worker->plan.gpu)
        count -= 8;
    assert (count < 24);
    for (size_t i = 0; i < count; i++)
        if (!(worker->argv[i] = strdup (args[i])))
            return -1;
    return 0;
}

/*  Every OUTPUT_TICK_MS: each worker's dropped lines, reported when the
    rate allows. */
static int
s_output_tick (zloop_t *loop, int timer_id, void *arg)
{
    node_workers_t *self = arg;
    for (int i = 0; i < self->count; i++)
        if (self->workers[i].output)
            worker_output_tick (self->workers[i].output);
    return 0;
}

node_workers_t *
node_workers_new (const supervisor_config_t *config, zloop_t *loop, node_link_t *link,
                  char *error, size_t error_size)
{
    node_workers_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->config = config;
    self->loop = loop;
    self->link = link;
    self->kill_timer = -1;
    self->output_timer = -1;
    self->count = config->nslots;
    self->workers = calloc (self->count ? self->count : 1, sizeof *self->workers);
    char keys[256];
    char endpoint[300];
    if (!self->workers || proto_keys_export (config->keys, keys, sizeof keys)
        || proto_endpoint (config->server, endpoint, sizeof endpoint)) {
        snprintf (error, error_size, "cannot prepare the workers");
        goto failed;
    }
    self->log = node_log_new (config->data_dir, config->log_max, loop, error, error_size);
    if (!self->log)
        goto failed;
    for (int i = 0; i < self->count; i++) {
        self->workers[i].owner = self;
        self->workers[i].slot = i;
        self->workers[i].plan = config->slots[i];
        if (s_prepare (self, &self->workers[i], keys, endpoint)) {
            snprintf (error, error_size, "out of memory");
            goto failed;
        }
    }
    self->output_timer = zloop_timer (loop, OUTPUT_TICK_MS, 0, s_output_tick, self);
    if (self->output_timer < 0) {
        snprintf (error, error_size, "cannot arm a timer");
        goto failed;
    }
    return self;
failed:
    node_workers_destroy (&self);
    return NULL;
}

void
node_workers_destroy (node_workers_t **self_p)
{
    if (!*self_p)
        return;
    node_workers_t *self = *self_p;
    for (int i = 0; self->workers && i < self->count; i++) {
        node_worker_t *worker = &self->workers[i];
        if (worker->cancel_timer >= 0)
            zloop_timer_end (self->loop, worker->cancel_timer);
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
        worker_output_destroy (&worker->output);
    }
    if (self->output_timer >= 0)
        zloop_timer_end (self->loop, self->output_timer);
    free (self->workers);
    node_log_destroy (&self->log);
    free (self);
    *self_p = NULL;
}

static void
s_spawn (node_workers_t *self, node_worker_t *worker)
{
    node_scoreboard_leave (worker->board); /* nothing runs in a new process */
    worker->killed = false;
    /*  Its stdout and stderr: pipes the node reads (worker_output.h); its
        own log lines: node.log, as fd 4 (--log-fd). */
    int log_fd = node_log_fd (self->log);
    spawn_io_t io = { .out_fd = log_fd,
                      .err_fd = log_fd,
                      .pass_fds = { worker->board_fd, log_fd } };
    int pipes[2];
    if (worker_output_open (worker->output, pipes) == 0) {
        io.out_fd = pipes[0];
        io.err_fd = pipes[1];
    }
    worker->pid = spawn_start_io (self->config->worker_bin, worker->argv,
                                  spawn_env_array (worker->env), &io);
    worker_output_started (worker->output, worker->pid);
    worker->started = zclock_mono ();
    if (worker->pid < 0) {
        /* fork failed (out of processes?): count it as a young death. */
        zsys_error ("cannot start worker %s: %s", worker->id, strerror (errno));
        worker->pid = 0;
    } else if (self->config->verbose)
        zsys_debug ("worker %s started (pid %d)", worker->id, (int)worker->pid);
}

/*  Starts the worker again now, or after its backoff when it died young. */
static int s_respawn (zloop_t *loop, int timer_id, void *arg);

static void
s_schedule_respawn (node_workers_t *self, node_worker_t *worker, int64_t lived, bool own)
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
        s_spawn (self, worker);
        if (worker->pid)
            return;
        delay = worker->backoff_ms; /* fork failed: try later */
    }
    if (lived < YOUNG_MS && own)
        zsys_info ("worker %s died %lld ms after its start: restarts in %d ms (back-off)",
                   worker->id, (long long)lived, delay);
    else if (self->config->verbose)
        zsys_info ("worker %s restarts in %d ms", worker->id, delay);
    worker->respawn_timer = zloop_timer (self->loop, (size_t)delay, 1, s_respawn, worker);
}

static int
s_respawn (zloop_t *loop, int timer_id, void *arg)
{
    node_worker_t *worker = arg;
    node_workers_t *self = worker->owner;
    worker->respawn_timer = -1;
    if (self->stopping || worker->pid)
        return 0;
    s_spawn (self, worker);
    if (!worker->pid)
        s_schedule_respawn (self, worker, 0, true);
    return 0;
}

void
node_workers_start (node_workers_t *self)
{
    for (int i = 0; i < self->count; i++)
        s_spawn (self, &self->workers[i]);
    for (int i = 0; i < self->count; i++)
        if (!self->workers[i].pid)
            s_schedule_respawn (self, &self->workers[i], 0, true);
    zsys_info ("%d worker(s) started, logging to %s", self->count,
               node_log_path (self->log));
}

/*  The worker left: report it to the head.  Returns true when it died on
    its own (a crash, a failed load, an exit in the middle of user code),
    false when it left as asked: an exit 0 between jobs (its pool closed,
    SIGTERM), a job timeout (its own alarm, armed on purpose) or a kill on
    the head's word.  Only the first backs off before the slot restarts. */
static bool
s_exited (node_workers_t *self, node_worker_t *worker, int status)
{
    int64_t lived = zclock_mono () - worker->started;
    /* Its last lines go before the news of its end. */
    worker_output_ended (worker->output);
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
    /*  The process id tells the head which process of the slot died, so a
        late report never retires the slot's next process.  Where it was,
        from the scoreboard: only the job it was running is charged an
        attempt; none when it died between jobs. */
    uint64_t pool = 0, job_id = 0;
    uint32_t attempt = 0;
    int running = node_scoreboard_read (worker->board, &pool, &job_id, &attempt);
    proto_died_t died = { .pid = (uint64_t)pid, .code = code, .pool = pool };
    snprintf (died.id, sizeof died.id, "%s", worker->id);
    died.where = running == 1   ? PROTO_DIED_JOB
                 : running == 2 ? PROTO_DIED_UPDATE
                 : running == 3 ? PROTO_DIED_INIT
                                : PROTO_DIED_IDLE;
    died.job.id = job_id;
    died.job.attempt = attempt;
    died.update_seq = job_id; /* the scoreboard's slot for an update's seq */
    char text[512];
    snprintf (text, sizeof text, "worker %s %s%s", worker->id, how,
              running == 1   ? " while running a job"
              : running == 2 ? " in handle_update"
              : running == 3 ? " while loading its pool"
                             : "");
    died.text = text;
    proto_died_set (&msg, &died);
    node_link_send (self->link, &msg);
    if (worker->killed || self->stopping)
        return false;
    if (WIFSIGNALED (status))
        return WTERMSIG (status) != SIGALRM;
    return !(WIFEXITED (status) && WEXITSTATUS (status) == 0 && running == 0);
}

static node_worker_t *
s_find (node_workers_t *self, pid_t pid)
{
    for (int i = 0; i < self->count; i++)
        if (self->workers[i].pid == pid)
            return &self->workers[i];
    return NULL;
}

bool
node_workers_kill_group (node_workers_t *self, pid_t pid)
{
    if (!s_find (self, pid))
        return false;
    kill (-pid, SIGKILL);
    return true;
}

void
node_workers_reaped (node_workers_t *self, pid_t pid, int status)
{
    node_worker_t *worker = s_find (self, pid);
    if (!worker)
        return;
    int64_t lived = zclock_mono () - worker->started;
    bool own = s_exited (self, worker, status);
    if (!self->stopping)
        s_schedule_respawn (self, worker, lived, own);
}

/*  SIGKILL to a worker's process group and to the worker. */
static void
s_kill (const node_worker_t *worker)
{
    kill (-worker->pid, SIGKILL);
    kill (worker->pid, SIGKILL);
}

/*  WORKER_KILL: the head closed the worker's pool and the worker did not
    leave within the grace (its code is stuck in init, run or
    handle_update, or ignores the close).  Its whole process group goes:
    nothing of one pool's code outlives the pool.  Only the process the
    head named (seq: its pid): a late request never hits the slot's next
    process. */
void
node_workers_kill (node_workers_t *self, const proto_msg_t *msg)
{
    proto_kill_t kill;
    proto_kill_get (msg, &kill);
    for (int i = 0; i < self->count; i++) {
        node_worker_t *worker = &self->workers[i];
        if (!streq (worker->id, kill.id))
            continue;
        if (worker->pid <= 0 || (uint64_t)worker->pid != kill.pid)
            return;
        zsys_warning ("worker %s (pid %d): %s; killing it", worker->id, (int)worker->pid,
                      kill.why[0] ? kill.why : "the head asked");
        worker->killed = true;
        s_kill (worker);
        return;
    }
}

/*  The grace of a cancelled run is over: a worker still running that job
    (same process, same pool, id and attempt on its scoreboard) is killed
    like on WORKER_KILL; its WORKER_DIED names the cancelled job, which
    the head charges nothing, and the slot restarts at once. */
static int
s_cancel_due (zloop_t *loop, int timer_id, void *arg)
{
    node_worker_t *worker = arg;
    worker->cancel_timer = -1;
    uint64_t pool = 0, id = 0;
    uint32_t attempt = 0;
    if (worker->pid <= 0 || worker->pid != worker->cancel_pid
        || node_scoreboard_read (worker->board, &pool, &id, &attempt) != 1
        || pool != worker->cancel_pool || id != worker->cancel_job
        || attempt != worker->cancel_attempt)
        return 0; /* it returned in time */
    zsys_warning ("worker %s (pid %d): job %llu of pool %llu was cancelled and still "
                  "runs after the grace of %llu ms; killing it",
                  worker->id, (int)worker->pid, (unsigned long long)id,
                  (unsigned long long)pool, (unsigned long long)worker->cancel_grace_ms);
    worker->killed = true;
    s_kill (worker);
    return 0;
}

void
node_workers_cancel (node_workers_t *self, const proto_msg_t *msg)
{
    proto_cancel_t cancel;
    char reason[128];
    if (proto_cancel_get (msg, &cancel, reason, sizeof reason) != PROTO_OK
        || !cancel.id[0]) {
        zsys_warning ("bad CANCEL from the head ignored");
        return;
    }
    for (int i = 0; i < self->count; i++) {
        node_worker_t *worker = &self->workers[i];
        if (!streq (worker->id, cancel.id))
            continue;
        if (worker->pid <= 0 || (uint64_t)worker->pid != cancel.pid)
            return; /* that process is gone already */
        uint64_t pool = 0, id = 0;
        uint32_t attempt = 0;
        int running = node_scoreboard_cancel (worker->board, cancel.pool, cancel.from,
                                              cancel.to, &pool, &id, &attempt);
        if (running != 1 || pool != cancel.pool || id < cancel.from || id >= cancel.to)
            return; /* it will not start a job of the range (it looks first) */
        if (worker->cancel_timer >= 0) {
            if (worker->cancel_pid == worker->pid && worker->cancel_pool == pool
                && worker->cancel_job == id && worker->cancel_attempt == attempt)
                return; /* that run's grace is counting already */
            zloop_timer_end (self->loop, worker->cancel_timer);
        }
        if (self->config->verbose)
            zsys_info ("worker %s: job %llu of pool %llu cancelled while it runs: "
                       "%llu ms to return",
                       worker->id, (unsigned long long)id, (unsigned long long)pool,
                       (unsigned long long)cancel.grace_ms);
        worker->cancel_pid = worker->pid;
        worker->cancel_pool = pool;
        worker->cancel_job = id;
        worker->cancel_attempt = attempt;
        worker->cancel_grace_ms = cancel.grace_ms;
        worker->cancel_timer
            = zloop_timer (self->loop, (size_t)cancel.grace_ms, 1, s_cancel_due, worker);
        return;
    }
}

int
node_workers_live (const node_workers_t *self)
{
    int live = 0;
    for (int i = 0; i < self->count; i++)
        live += self->workers[i].pid > 0;
    return live;
}

void
node_workers_kill_all (node_workers_t *self)
{
    for (int i = 0; i < self->count; i++)
        if (self->workers[i].pid > 0)
            s_kill (&self->workers[i]);
}

static int
s_kill_stragglers (zloop_t *loop, int timer_id, void *arg)
{
    node_workers_t *self = arg;
    self->kill_timer = -1;
    for (int i = 0; i < self->count; i++)
        if (self->workers[i].pid > 0) {
            zsys_warning ("worker %s did not stop within %d ms: SIGKILL",
                          self->workers[i].id, NODE_WORKERS_DRAIN_MS);
            s_kill (&self->workers[i]);
        }
    return 0;
}

void
node_workers_stop (node_workers_t *self)
{
    self->stopping = true;
    for (int i = 0; i < self->count; i++) {
        node_worker_t *worker = &self->workers[i];
        if (worker->respawn_timer >= 0) {
            zloop_timer_end (self->loop, worker->respawn_timer);
            worker->respawn_timer = -1;
        }
        if (worker->pid > 0)
            kill (worker->pid, SIGTERM);
    }
    if (node_workers_live (self))
        self->kill_timer
            = zloop_timer (self->loop, NODE_WORKERS_DRAIN_MS, 1, s_kill_stragglers, self);
}

void
node_workers_gpu_usage (node_workers_t *self, proto_msg_t *msg)
{
    int64_t now = zclock_mono ();
    if (now - self->gpu_usage_at < GPU_USAGE_EVERY_MS)
        return;
    self->gpu_usage_at = now;
    bool any = false;
    for (int i = 0; i < self->count && !any; i++)
        any = self->workers[i].plan.gpu;
    if (!any)
        return;
    gpu_device_t devices[PROTO_NUMS_MAX];
    char error[256];
    int found = gpu_discover (devices, PROTO_NUMS_MAX, error, sizeof error);
    if (found <= 0)
        return;
    uint64_t used[PROTO_NUMS_MAX];
    int n = self->count < PROTO_NUMS_MAX ? self->count : PROTO_NUMS_MAX;
    for (int i = 0; i < n; i++) {
        used[i] = UINT64_MAX; /* unknown */
        for (int d = 0; d < found && d < PROTO_NUMS_MAX; d++)
            if (self->workers[i].plan.gpu
                && streq (devices[d].uuid, self->workers[i].plan.uuid))
                used[i] = devices[d].memory_total - devices[d].memory_free;
    }
    proto_gpu_usage_set (msg, used, (size_t)n);
}
