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
