/*  sweep_worker.c - worker library of the sweep example: a hyper-parameter
    sweep shaped like a GPU training sweep, in plain C.

    init            builds the data set once per worker from the init data
                    (a seed and a size: the points of a noisy line, split
                    80/20 into training and validation), and notes whether
                    the worker has a GPU.
    run             "trains" a linear model y = w x + b by full-batch
                    gradient descent with the input's learning rate, epochs
                    and L2 penalty, and returns the validation MSE.
    handle_update   receives the best validation MSE found so far by any
                    worker; run uses it to give up early on a parameter set
                    that cannot beat it.

    The message layouts are in sweep.h.  On a GPU worker the data set would
    be copied to the device in init and the per-epoch sums in train_epoch
    would be cuBLAS calls (see there); the rest is unchanged.
*/
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pool_worker.h"
#include "sweep.h"

#define CHECK_EVERY 10 /* epochs between validation checks */
#define DIVERGE_FACTOR                                                                   \
    10.0 /* a loss this many times the untrained one                                     \
            has blown up (learning rate too high) */

typedef struct {
    double *x, *y; /* training points first, then validation */
    size_t n_train, n_valid;
    double best; /* best validation MSE so far (updates) */
    int on_gpu;
} sweep_t;

/*  xorshift64*: the same seed gives the same data set on every worker. */
static double
uniform (uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/*  Approximately N(0, 1): the sum of 12 uniforms, less 6. */
static double
gaussian (uint64_t *state)
{
    double s = 0;
    for (int i = 0; i < 12; i++)
        s += uniform (state);
    return s - 6.0;
}

static double
mse (const sweep_t *self, size_t from, size_t n, double w, double b)
{
    double sum = 0;
    for (size_t i = from; i < from + n; i++) {
        double e = w * self->x[i] + b - self->y[i];
        sum += e * e;
    }
    return sum / (double)n;
}

/*  One step of gradient descent on mean((w x + b - y)^2) + l2 w^2.
    On a GPU: the residual r = X [w b]^T - y is one cublasDgemv on the
    device-resident design matrix X = [x 1], the gradient X^T r another
    cublasDgemv; only the two gradient numbers come back to the host. */
static void
train_epoch (const sweep_t *self, double lr, double l2, double *w, double *b)
{
    double gw = 0, gb = 0;
    for (size_t i = 0; i < self->n_train; i++) {
        double r = *w * self->x[i] + *b - self->y[i];
        gw += r * self->x[i];
        gb += r;
    }
    double n = (double)self->n_train;
    *w -= lr * (2.0 * gw / n + 2.0 * l2 * *w);
    *b -= lr * (2.0 * gb / n);
}

static void *
sweep_init (pool_bytes_t init_data, pool_worker_ctx_t *ctx)
{
    if (init_data.size != SWEEP_INIT_SIZE) {
        pool_worker_error (ctx, "init data is %zu bytes, expected %d", init_data.size,
                           SWEEP_INIT_SIZE);
        return NULL;
    }
    const unsigned char *p = init_data.data;
    uint64_t seed = sweep_get_u64 (p);
    uint64_t points = sweep_get_u64 (p + 8);
    double slope = sweep_get_f64 (p + 16);
    double intercept = sweep_get_f64 (p + 24);
    if (points < 10 || points > 100000000) {
        pool_worker_error (ctx, "points must be 10..1e8, not %" PRIu64, points);
        return NULL;
    }

    sweep_t *self = calloc (1, sizeof *self);
    if (!self)
        goto nomem;
    self->x = malloc (points * sizeof (double));
    self->y = malloc (points * sizeof (double));
    if (!self->x || !self->y)
        goto nomem;
    self->n_valid = points / 5;
    self->n_train = points - self->n_valid;
    self->best = INFINITY;

    uint64_t state = seed ? seed : 0x9e3779b97f4a7c15ULL;
    for (uint64_t i = 0; i < points; i++) {
        self->x[i] = 4.0 * uniform (&state) - 2.0;
        self->y[i] = slope * self->x[i] + intercept + SWEEP_NOISE * gaussian (&state);
    }

    int index;
    const char *name;
    uint64_t memory;
    if (pool_worker_gpu (ctx, &index, &name, &memory) == 0) {
        /* Here a real sweep would cudaMalloc + cudaMemcpy x and y once. */
        self->on_gpu = 1;
        fprintf (stderr, "sweep worker %s: GPU %d (%s, %" PRIu64 " MiB)\n",
                 pool_worker_id (ctx), index, name ? name : "?", memory >> 20);
    }
    return self;

nomem:
    pool_worker_error (ctx, "out of memory for %" PRIu64 " points", points);
    if (self) {
        free (self->x);
        free (self->y);
        free (self);
    }
    return NULL;
}

static int
sweep_run (void *handle, pool_bytes_t input, pool_output_t *output,
           pool_worker_ctx_t *ctx)
{
    sweep_t *self = handle;
    if (input.size != SWEEP_INPUT_SIZE) {
        pool_worker_error (ctx, "input is %zu bytes, expected %d", input.size,
                           SWEEP_INPUT_SIZE);
        return -1;
    }
    const unsigned char *p = input.data;
    double lr = sweep_get_f64 (p);
    uint64_t epochs = sweep_get_u64 (p + 8);
    double l2 = sweep_get_f64 (p + 16);
    if (!(lr > 0 && isfinite (lr)) || !(l2 >= 0 && isfinite (l2)) || epochs > 10000000) {
        pool_worker_error (ctx, "bad parameters: lr=%g epochs=%" PRIu64 " l2=%g", lr,
                           epochs, l2);
        return -1;
    }

    double w = 0, b = 0;
    double start = mse (self, self->n_train, self->n_valid, w, b);
    double score = start, last_check = start;
    uint64_t flags = self->on_gpu ? SWEEP_ON_GPU : 0;
    uint64_t epoch = 0;
    while (epoch < epochs) {
        train_epoch (self, lr, l2, &w, &b);
        epoch++;
        if (epoch % CHECK_EVERY != 0 && epoch != epochs)
            continue;
        score = mse (self, self->n_train, self->n_valid, w, b);
        if (!isfinite (score) || score > DIVERGE_FACTOR * start) {
            flags |= SWEEP_DIVERGED;
            break;
        }
        /* Gradient descent on this convex loss slows down as it converges,
           so going on at the rate of the last CHECK_EVERY epochs is an
           optimistic guess.  If even that ends above the best score any
           worker has found, this parameter set cannot win: stop. */
        double rate = (last_check - score) / CHECK_EVERY;
        double projected = score - (rate > 0 ? rate : 0) * (double)(epochs - epoch);
        last_check = score;
        if (epoch < epochs && projected > self->best) {
            flags |= SWEEP_STOPPED_EARLY;
            break;
        }
    }

    unsigned char *out = pool_output_alloc (output, SWEEP_OUTPUT_SIZE);
    if (!out) {
        pool_worker_error (ctx, "out of memory");
        return -1;
    }
    sweep_put_f64 (out, (flags & SWEEP_DIVERGED) ? INFINITY : score);
    sweep_put_u64 (out + 8, epoch);
    sweep_put_u64 (out + 16, flags);
    sweep_put_f64 (out + 24, w);
    sweep_put_f64 (out + 32, b);
    return 0;
}

static int
sweep_update (void *handle, pool_bytes_t update, pool_worker_ctx_t *ctx)
{
    sweep_t *self = handle;
    if (update.size != SWEEP_UPDATE_SIZE) {
        pool_worker_error (ctx, "update is %zu bytes, expected %d", update.size,
                           SWEEP_UPDATE_SIZE);
        return -1;
    }
    double best = sweep_get_f64 (update.data);
    if (best < self->best)
        self->best = best;
    return 0;
}

static void
sweep_destroy (void *handle)
{
    sweep_t *self = handle;
    /* On a GPU: cudaFree the device copies here. */
    free (self->x);
    free (self->y);
    free (self);
}

const pool_worker_class_t pool_worker = {
    .abi_version = POOL_WORKER_ABI,
    .name = "sweep",
    .init = sweep_init,
    .run = sweep_run,
    .handle_update = sweep_update,
    .destroy = sweep_destroy,
};
