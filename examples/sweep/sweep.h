/*  sweep.h - the messages of the sweep example, shared by the client
    (sweep.c) and the worker library (sweep_worker.c).

    Every message is a fixed sequence of little-endian fields, so a client
    and workers on different machines read the same bytes the same way.
    Doubles travel as their IEEE-754 bit pattern.

    init data (32 bytes):  u64 seed, u64 points, f64 slope, f64 intercept
                           (noise sigma is fixed at SWEEP_NOISE)
    input     (24 bytes):  f64 learning_rate, u64 epochs, f64 l2
    output    (40 bytes):  f64 validation MSE, u64 epochs run,
                           u64 flags (SWEEP_STOPPED_EARLY, SWEEP_DIVERGED,
                           SWEEP_ON_GPU), f64 w, f64 b (the fitted line)
    update     (8 bytes):  f64 best validation MSE so far
*/
#ifndef SWEEP_H
#define SWEEP_H

#include <stdint.h>
#include <string.h>

#define SWEEP_INIT_SIZE 32
#define SWEEP_INPUT_SIZE 24
#define SWEEP_OUTPUT_SIZE 40
#define SWEEP_UPDATE_SIZE 8

#define SWEEP_NOISE 0.1

enum {
    SWEEP_STOPPED_EARLY = 1, /* could not beat the best score: gave up */
    SWEEP_DIVERGED = 2,      /* the loss blew up (learning rate too high) */
    SWEEP_ON_GPU = 4,        /* ran on a worker that has a GPU */
};

static inline void
sweep_put_u64 (unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static inline uint64_t
sweep_get_u64 (const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline void
sweep_put_f64 (unsigned char *p, double d)
{
    uint64_t v;
    memcpy (&v, &d, 8);
    sweep_put_u64 (p, v);
}

static inline double
sweep_get_f64 (const unsigned char *p)
{
    uint64_t v = sweep_get_u64 (p);
    double d;
    memcpy (&d, &v, 8);
    return d;
}

#endif
