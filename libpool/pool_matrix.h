/*  pool_matrix.h - distributed block matrices on a dcpool cluster.

    A block matrix is a rows x cols matrix of float32 or float64, cut into
    block_size x block_size blocks (smaller at the right and bottom edges),
    each stored in the cluster's block store and named by its hash.  The
    bytes live on the cluster: operations run as parallel jobs of dcpool's
    built-in matrix worker class (one job per result block; a multiply of
    n x n blocks runs n x n jobs, each summing its block products on one
    worker, on its GPU through cuBLAS when it has one, else OpenBLAS), and
    their results are new block matrices left on the cluster.  Only
    pool_matrix_create and pool_matrix_get move a whole matrix between the
    host and the cluster.

        pool_t *pool;
        pool_options_t opt;
        pool_options_default (&opt);
        opt.password = "s3cret";
        pool_matrix_open (&pool, &opt);          // the built-in worker class
        pool_matrix_t *a, *b, *c;
        pool_matrix_create (pool, &a, host_a, n, n, POOL_FLOAT64, 0);
        pool_matrix_create (pool, &b, host_b, n, n, POOL_FLOAT64, 0);
        pool_matrix_multiply (pool, a, false, b, false, &c);
        pool_matrix_get (pool, c, host_c);       // row-major, n * n doubles
        pool_matrix_delete (&a); ...             // releases its blocks
        pool_close (&pool);

    A pool_matrix_t is the client's handle (shape, dtype, block hashes);
    matrices are immutable.  Functions return 0 or a negative POOL_E* code,
    with the detail in pool_last_error (pool): a failed job's error names
    the block and the worker's reason.  Shapes must agree (and block sizes,
    for operations on two matrices): POOL_EINVAL otherwise.
*/
#ifndef DCPOOL_POOL_MATRIX_H
#define DCPOOL_POOL_MATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pool_matrix pool_matrix_t;

typedef enum { POOL_FLOAT32 = 1, POOL_FLOAT64 = 2 } pool_dtype_t;

#define POOL_MATRIX_BLOCK_SIZE 1024 /* the default block size */

/*  The built-in matrix worker library: $DCPOOL_MATRIX_WORKER, else the
    build tree's when this libpool runs from the build tree, else the
    installed one (LIBDIR/dcpool/dcpool-matrix.so).  Borrowed. */
POOL_API const char *pool_matrix_worker_library (void);

/*  pool_open with options->worker_library set to the built-in class when
    it is NULL (other options as given). */
POOL_API int pool_matrix_open (pool_t **pool, const pool_options_t *options);

/*  Stores a host row-major array of rows x cols elements of dtype as a new
    block matrix (block_size 0: POOL_MATRIX_BLOCK_SIZE). */
POOL_API int pool_matrix_create (pool_t *pool, pool_matrix_t **matrix, const void *data,
                                 size_t rows, size_t cols, pool_dtype_t dtype,
                                 size_t block_size);
/*  Copies the matrix back into data (rows * cols elements, row-major). */
POOL_API int pool_matrix_get (pool_t *pool, const pool_matrix_t *matrix, void *data);
/*  Releases the matrix's blocks (pool_delete of each: a block another
    matrix or pool_put of this client still references, or another client
    holds, stays), frees the handle and nulls *matrix.  A matrix keeps the
    pool that made it: delete it before pool_close; after pool_close its
    blocks are released already and only the handle is freed. */
POOL_API void pool_matrix_delete (pool_matrix_t **matrix);

POOL_API size_t pool_matrix_rows (const pool_matrix_t *matrix);
POOL_API size_t pool_matrix_cols (const pool_matrix_t *matrix);
POOL_API size_t pool_matrix_block_size (const pool_matrix_t *matrix);
POOL_API pool_dtype_t pool_matrix_dtype (const pool_matrix_t *matrix);
/*  The hash of block (i, j) (row i, column j of the block grid), or NULL
    out of range.  Borrowed. */
POOL_API const uint8_t *pool_matrix_block (const pool_matrix_t *matrix, size_t i,
                                           size_t j);

/*  *c = op(a) * op(b), op transposing where the flag says so. */
POOL_API int pool_matrix_multiply (pool_t *pool, const pool_matrix_t *a, bool transpose_a,
                                   const pool_matrix_t *b, bool transpose_b,
                                   pool_matrix_t **c);
/*  Cellwise: *c = a + b, a - b, a .* b, a ./ b. */
POOL_API int pool_matrix_add (pool_t *pool, const pool_matrix_t *a,
                              const pool_matrix_t *b, pool_matrix_t **c);
POOL_API int pool_matrix_subtract (pool_t *pool, const pool_matrix_t *a,
                                   const pool_matrix_t *b, pool_matrix_t **c);
POOL_API int pool_matrix_multiply_cells (pool_t *pool, const pool_matrix_t *a,
                                         const pool_matrix_t *b, pool_matrix_t **c);
POOL_API int pool_matrix_divide (pool_t *pool, const pool_matrix_t *a,
                                 const pool_matrix_t *b, pool_matrix_t **c);
/*  With a scalar: *c = a + s, a * s, a / s. */
POOL_API int pool_matrix_scalar_add (pool_t *pool, const pool_matrix_t *a, double s,
                                     pool_matrix_t **c);
POOL_API int pool_matrix_scalar_multiply (pool_t *pool, const pool_matrix_t *a, double s,
                                          pool_matrix_t **c);
POOL_API int pool_matrix_scalar_divide (pool_t *pool, const pool_matrix_t *a, double s,
                                        pool_matrix_t **c);
/*  *c = a transposed. */
POOL_API int pool_matrix_transpose (pool_t *pool, const pool_matrix_t *a,
                                    pool_matrix_t **c);
/*  *c = the sums of a's rows (rows x 1) or columns (1 x cols), summed in
    double and stored in a's dtype. */
POOL_API int pool_matrix_row_sums (pool_t *pool, const pool_matrix_t *a,
                                   pool_matrix_t **c);
POOL_API int pool_matrix_col_sums (pool_t *pool, const pool_matrix_t *a,
                                   pool_matrix_t **c);
/*  Scalars (in double): the sum, the least and the greatest element. */
POOL_API int pool_matrix_sum (pool_t *pool, const pool_matrix_t *a, double *out);
POOL_API int pool_matrix_min (pool_t *pool, const pool_matrix_t *a, double *out);
POOL_API int pool_matrix_max (pool_t *pool, const pool_matrix_t *a, double *out);

#ifdef __cplusplus
}
#endif
#endif
