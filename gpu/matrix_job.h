/*  gpu/matrix_job.h - the job input of the built-in block-matrix worker.

    Shared by the client side (libpool/matrix.c) and the worker class
    (gpu/matrix_worker.c), never installed.  A job input is a header and
    ninputs block references, host byte order (a cluster runs one
    architecture: worker libraries are checked for it).  A job that makes
    a block answers with its POOL_HASH_SIZE-byte hash (the block is in the
    store); SUM, MIN and MAX answer with one double.

    Inputs by op (blocks are row-major, rows x cols, of the job's dtype):
      GEMM             A_i0, B_0j, A_i1, B_1j, ... : C = sum op(A) op(B)
                       (flags: MATRIX_JOB_TA, MATRIX_JOB_TB; A and B are the
                       stored blocks, before op)
      ADD SUB MUL DIV  A, B of the same shape
      SADD SMUL SDIV   A (scalar in the header)
      TRANSPOSE        A (the result is A's transpose)
      ROWSUM           the blocks of one block row: out is rows x 1
      COLSUM           the blocks of one block column: out is 1 x cols
      SUM MIN MAX      one block
*/
#ifndef DCPOOL_GPU_MATRIX_JOB_H
#define DCPOOL_GPU_MATRIX_JOB_H

#include <stdint.h>

#define MATRIX_JOB_MAGIC 0x31584d44u /* "DMX1" */
#define MATRIX_JOB_HASH 32
#define MATRIX_JOB_TA 1u
#define MATRIX_JOB_TB 2u

enum {
    MATRIX_OP_GEMM = 1,
    MATRIX_OP_ADD,
    MATRIX_OP_SUB,
    MATRIX_OP_MUL,
    MATRIX_OP_DIV,
    MATRIX_OP_SADD,
    MATRIX_OP_SMUL,
    MATRIX_OP_SDIV,
    MATRIX_OP_TRANSPOSE,
    MATRIX_OP_ROWSUM,
    MATRIX_OP_COLSUM,
    MATRIX_OP_SUM,
    MATRIX_OP_MIN,
    MATRIX_OP_MAX,
    MATRIX_OP_COUNT
};

typedef struct {
    uint32_t magic;
    uint32_t op;
    uint32_t dtype; /* 1 float32, 2 float64 (gpu_dtype_t, pool_dtype_t) */
    uint32_t flags;
    uint32_t out_rows;
    uint32_t out_cols;
    uint32_t ninputs;
    uint32_t reserved;
    double scalar;
} matrix_job_t;

typedef struct {
    uint8_t hash[MATRIX_JOB_HASH];
    uint32_t rows;
    uint32_t cols;
} matrix_job_block_t;

#endif
