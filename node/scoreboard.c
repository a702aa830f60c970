/*  node/scoreboard.c - the shared page between a node and one worker. */
#include "scoreboard.h"

#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int
node_scoreboard_create (node_scoreboard_t **board)
{
    *board = NULL;
    int fd = memfd_create ("dcpool-scoreboard", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (ftruncate (fd, sizeof (node_scoreboard_t))) {
        close (fd);
        return -1;
    }
    *board = node_scoreboard_map (fd);
    if (!*board) {
        close (fd);
        return -1;
    }
    return fd;
}

node_scoreboard_t *
node_scoreboard_map (int fd)
{
    void *page = mmap (NULL, sizeof (node_scoreboard_t), PROT_READ | PROT_WRITE,
                       MAP_SHARED, fd, 0);
    return page == MAP_FAILED ? NULL : page;
}

static void
s_enter (node_scoreboard_t *board, uint64_t pool, uint64_t id, uint32_t attempt,
         uint32_t update)
{
    if (!board)
        return;
    __atomic_store_n (&board->running, 0, __ATOMIC_RELEASE);
    board->pool = pool;
    board->job_id = id;
    board->attempt = attempt;
    board->update = update;
    __atomic_store_n (&board->running, 1, __ATOMIC_RELEASE);
}

void
node_scoreboard_enter (node_scoreboard_t *board, uint64_t pool, uint64_t id,
                       uint32_t attempt)
{
    s_enter (board, pool, id, attempt, 0);
}

void
node_scoreboard_enter_update (node_scoreboard_t *board, uint64_t pool, uint64_t seq)
{
    s_enter (board, pool, seq, 0, 1);
}

void
node_scoreboard_enter_init (node_scoreboard_t *board, uint64_t pool)
{
    s_enter (board, pool, 0, 0, 2);
}

void
node_scoreboard_leave (node_scoreboard_t *board)
{
    if (board)
        __atomic_store_n (&board->running, 0, __ATOMIC_RELEASE);
}

int
node_scoreboard_read (const node_scoreboard_t *board, uint64_t *pool, uint64_t *id,
                      uint32_t *attempt)
{
    if (!board || !__atomic_load_n (&board->running, __ATOMIC_ACQUIRE))
        return 0;
    *pool = board->pool;
    *id = board->job_id;
    *attempt = board->attempt;
    return board->update == 2 ? 3 : board->update ? 2 : 1;
}

int
node_scoreboard_cancel (node_scoreboard_t *board, uint64_t pool, uint64_t from,
                        uint64_t to, uint64_t *running_pool, uint64_t *id,
                        uint32_t *attempt)
{
    if (!board)
        return 0;
    uint64_t seq = __atomic_load_n (&board->cancel_seq, __ATOMIC_RELAXED);
    __atomic_store_n (&board->cancel_seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence (__ATOMIC_RELEASE);
    uint64_t slot = board->cancels % SCOREBOARD_CANCELS;
    __atomic_store_n (&board->cancel[slot].pool, pool, __ATOMIC_RELAXED);
    __atomic_store_n (&board->cancel[slot].from, from, __ATOMIC_RELAXED);
    __atomic_store_n (&board->cancel[slot].to, to, __ATOMIC_RELAXED);
    __atomic_store_n (&board->cancels, board->cancels + 1, __ATOMIC_RELAXED);
    __atomic_store_n (&board->cancel_seq, seq + 2, __ATOMIC_RELEASE);
    /* The range is out before the job is read (see the header). */
    __atomic_thread_fence (__ATOMIC_SEQ_CST);
    return node_scoreboard_read (board, running_pool, id, attempt);
}

bool
node_scoreboard_cancelled (const node_scoreboard_t *board)
{
    if (!board)
        return false;
    /* The job is out before the range is read (see the header). */
    __atomic_thread_fence (__ATOMIC_SEQ_CST);
    if (!__atomic_load_n (&board->running, __ATOMIC_ACQUIRE) || board->update)
        return false;
    uint64_t before, after;
    bool hit;
    do {
        hit = false;
        before = __atomic_load_n (&board->cancel_seq, __ATOMIC_ACQUIRE);
        /* Each range written adds 2 to the sequence: only the slots
           written so far can hold one (none, for most workers' lives). */
        uint64_t written = before / 2;
        int slots = written < SCOREBOARD_CANCELS ? (int)written : SCOREBOARD_CANCELS;
        for (int k = 0; k < slots; k++) {
            uint64_t pool = __atomic_load_n (&board->cancel[k].pool, __ATOMIC_RELAXED);
            uint64_t from = __atomic_load_n (&board->cancel[k].from, __ATOMIC_RELAXED);
            uint64_t to = __atomic_load_n (&board->cancel[k].to, __ATOMIC_RELAXED);
            if (pool == board->pool && board->job_id >= from && board->job_id < to)
                hit = true;
        }
        __atomic_thread_fence (__ATOMIC_ACQUIRE);
        after = __atomic_load_n (&board->cancel_seq, __ATOMIC_RELAXED);
    } while (before != after || (before & 1));
    return hit;
}
