/*  test/integration/fail_util.h - shared by the failure tests (test_fail_*):
    inputs, value checks, cluster status, exactly-once bookkeeping.  Built
    on harness.h; a failed check fails the test like H_CHECK.
*/
#ifndef DCPOOL_TEST_FAIL_UTIL_H
#define DCPOOL_TEST_FAIL_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"

/* Heartbeat settings for fast failure detection: dead after 3 x 300 ms.
   Nothing semantic changes with them; tests pass them to the head. */
#define FU_FAST_HEARTBEAT "--heartbeat", "300", "--liveness", "3"

/* count text inputs "<i><suffix>" (i = 0 .. count-1); the array and its
   bytes live until the process ends (caller frees nothing). */
pool_bytes_t *fu_inputs (size_t count, const char *suffix);

/* True when value is "<h_square(n)>" followed by its end, '@' or '#'. */
bool fu_value_is (const pool_result_t *result, long long n);

/* Fails the test unless result (of input index) is a value for n. */
void fu_check_value (const pool_result_t *result, long long n, const char *what);

/* Runs start_node --status against head and reads its counts line; -1 for
   a count it could not read.  Returns start_node's exit status. */
int fu_status (const h_proc_t *head, int *nodes, int *workers, int *pools);

/* Polls fu_status until every count that is >= 0 matches, or fails the
   test after timeout seconds (saying what it last saw). */
void fu_wait_status (const h_proc_t *head, int nodes, int workers, int pools,
                     double timeout);

/* The pool-worker processes of a start_node: count, pids into out[max]. */
int fu_workers (const h_proc_t *node, pid_t *out, int max);

/* Exactly-once bookkeeping of one map of count inputs. */
typedef struct {
    size_t count;
    unsigned *seen; /* results per index */
    size_t results;
} fu_once_t;

void fu_once_init (fu_once_t *once, size_t count);
/* Records a result; fails the test on an index out of range or seen
   twice. */
void fu_once_add (fu_once_t *once, const pool_result_t *result);
/* Fails the test unless every index got exactly one result. */
void fu_once_check (const fu_once_t *once);

/* Starts pool_imap_unordered over inputs "<i><suffix>" (i < count) and
   the exactly-once bookkeeping of its results in once; fails the test
   (saying `what`) when it cannot start. */
pool_iter_t *fu_imap_once (pool_t *pool, size_t count, const char *suffix,
                           fu_once_t *once, const char *what);

/* Maps inputs "<i><suffix>" (i < count) with pool_imap_unordered and
   fails the test unless every input gets exactly one right result; logs
   how long it took, as `what`. */
void fu_map_once (pool_t *pool, size_t count, const char *suffix, const char *what);

/* Maps 40 inputs "<i><suffix>" up to 20 times, checking every value
   (`what` names the maps in a failure), until a worker of node ran one:
   true when one did. */
bool fu_node_serves (pool_t *pool, const h_proc_t *node, const char *suffix,
                     const char *what);
/* Lines in the file at path (0 when it cannot be read): how often a
   counted init ran. */
int fu_count_lines (const char *path);
/* The worker id after '@' in a value ("" when none), into id[size]. */
void fu_worker_of (const pool_result_t *result, char *id, size_t size);
/* True when the worker id belongs to node (its id, then '/'). */
bool fu_on_node (const char *worker_id, const h_proc_t *node);

#endif
