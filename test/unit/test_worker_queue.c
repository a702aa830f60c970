/*  test/unit/test_worker_queue.c - the order in which a worker runs what
    it holds (node/worker_queue.c): updates and jobs in arrival order,
    except that a job run again (attempt above 0) jumps the jobs queued,
    never an update queued before it, nor an earlier job run again; and
    every job's input is its own.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "worker_queue.h"

/* A JOB message of count jobs, ids and attempts given, inputs "in:ID". */
static void
s_push_jobs (worker_queue_t *queue, const uint64_t *ids, const uint32_t *attempts,
             size_t count)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_JOB);
    proto_msg_set_pool (&msg, 1);
    for (size_t i = 0; i < count; i++) {
        proto_job_t *job = proto_msg_add_job (&msg);
        assert_non_null (job);
        job->id = ids[i];
        job->attempt = attempts[i];
        char in[32];
        snprintf (in, sizeof in, "in:%llu", (unsigned long long)ids[i]);
        assert_int_equal (proto_msg_add_bytes (&msg, in, strlen (in)), PROTO_OK);
    }
    /* Through the codec, as from the head: the inputs arrive packed. */
    zmsg_t *wire = NULL;
    assert_int_equal (proto_msg_encode (&msg, &wire), PROTO_OK);
    char reason[128];
    assert_int_equal (proto_msg_decode (&msg, &wire, reason, sizeof reason), PROTO_OK);
    assert_int_equal (worker_queue_push_jobs (queue, &msg), 0);
    proto_msg_reset (&msg);
}

static void
s_push_update (worker_queue_t *queue, uint64_t seq)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_UPDATE);
    proto_msg_set_seq (&msg, seq);
    assert_int_equal (proto_msg_add_bytes (&msg, "u", 1), PROTO_OK);
    assert_int_equal (worker_queue_push_update (queue, &msg), 0);
    proto_msg_reset (&msg);
}

/* Pops everything as "J<id>" and "U<seq>" words; checks each input. */
static void
s_drain (worker_queue_t *queue, char *out, size_t size)
{
    out[0] = 0;
    size_t jobs = worker_queue_jobs (queue);
    worker_action_t *action;
    while ((action = worker_queue_pop (queue))) {
        char word[32];
        if (action->kind == WORKER_ACTION_JOB) {
            char in[32];
            snprintf (in, sizeof in, "in:%llu", (unsigned long long)action->id);
            assert_int_equal (action->size, strlen (in));
            assert_memory_equal (action->data, in, action->size);
            snprintf (word, sizeof word, "%sJ%llu", out[0] ? " " : "",
                      (unsigned long long)action->id);
            jobs--;
        } else
            snprintf (word, sizeof word, "%sU%llu", out[0] ? " " : "",
                      (unsigned long long)action->seq);
        assert_true (strlen (out) + strlen (word) < size);
        strcat (out, word);
        assert_int_equal (worker_queue_jobs (queue), jobs);
        worker_action_destroy (&action);
    }
    assert_true (worker_queue_empty (queue));
}

static void
test_jobs_and_updates_run_in_arrival_order (void **state)
{
    (void)state;
    worker_queue_t *queue = worker_queue_new ();
    assert_non_null (queue);
    s_push_jobs (queue, (uint64_t[]){ 1, 2 }, (uint32_t[]){ 0, 0 }, 2);
    s_push_update (queue, 1);
    s_push_jobs (queue, (uint64_t[]){ 3 }, (uint32_t[]){ 0 }, 1);
    assert_int_equal (worker_queue_jobs (queue), 3);
    char order[256];
    s_drain (queue, order, sizeof order);
    assert_string_equal (order, "J1 J2 U1 J3");
    worker_queue_destroy (&queue);
}

/*  A job run again (its first worker died) goes before the jobs queued,
    in the order such jobs came. */
static void
test_a_job_run_again_jumps_the_queued_jobs (void **state)
{
    (void)state;
    worker_queue_t *queue = worker_queue_new ();
    s_push_jobs (queue, (uint64_t[]){ 1, 2, 3 }, (uint32_t[]){ 0, 0, 0 }, 3);
    s_push_jobs (queue, (uint64_t[]){ 4, 9, 5, 8 }, (uint32_t[]){ 0, 1, 0, 2 }, 4);
    s_push_jobs (queue, (uint64_t[]){ 7 }, (uint32_t[]){ 1 }, 1);
    char order[256];
    s_drain (queue, order, sizeof order);
    assert_string_equal (order, "J9 J8 J7 J1 J2 J3 J4 J5");
    /* Into an empty queue, and then behind it, as any job. */
    s_push_jobs (queue, (uint64_t[]){ 10 }, (uint32_t[]){ 1 }, 1);
    s_push_jobs (queue, (uint64_t[]){ 11 }, (uint32_t[]){ 0 }, 1);
    s_drain (queue, order, sizeof order);
    assert_string_equal (order, "J10 J11");
    worker_queue_destroy (&queue);
}

/*  It never passes an update that came before it: jobs sent after an
    update must see it applied. */
static void
test_a_job_run_again_stays_behind_the_updates_before_it (void **state)
{
    (void)state;
    worker_queue_t *queue = worker_queue_new ();
    s_push_jobs (queue, (uint64_t[]){ 1, 2 }, (uint32_t[]){ 0, 0 }, 2);
    s_push_update (queue, 1);
    s_push_jobs (queue, (uint64_t[]){ 3, 4 }, (uint32_t[]){ 0, 0 }, 2);
    s_push_update (queue, 2);
    s_push_jobs (queue, (uint64_t[]){ 5 }, (uint32_t[]){ 0 }, 1);
    s_push_jobs (queue, (uint64_t[]){ 9 }, (uint32_t[]){ 1 }, 1);
    s_push_update (queue, 3);
    s_push_jobs (queue, (uint64_t[]){ 8 }, (uint32_t[]){ 1 }, 1);
    char order[256];
    s_drain (queue, order, sizeof order);
    assert_string_equal (order, "J1 J2 U1 J3 J4 U2 J9 J5 U3 J8");
    worker_queue_destroy (&queue);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_jobs_and_updates_run_in_arrival_order),
        cmocka_unit_test (test_a_job_run_again_jumps_the_queued_jobs),
        cmocka_unit_test (test_a_job_run_again_stays_behind_the_updates_before_it),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
