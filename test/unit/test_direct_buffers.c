/*  test/unit/test_direct_buffers.c - the data endpoint's reused send
    buffers (libpool/direct_buffers.c).

    A buffer libzmq lets go of serves the next message (its pages stay
    mapped); no more than the kept number wait idle; a message longer
    than a buffer is refused; bytes sent through a real socket arrive as
    written and the buffer comes back once the receiver is done with
    them; buffers still lent when the owner lets go are freed when libzmq
    lets go of them (ASan and valgrind see any left).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "direct_buffers.h"

enum { SIZE = 4096, KEEP = 2 };

/*  A buffer freed rather than kept would be handed out again by malloc:
    decoys of the same size take whatever was freed first. */
static void *
s_decoy (void)
{
    void *decoy = malloc (SIZE);
    assert_non_null (decoy);
    return decoy;
}

static void *
s_take (direct_buffers_t *buffers, zmq_msg_t *msg, size_t length)
{
    void *data = NULL;
    assert_int_equal (direct_buffers_msg (buffers, msg, length, &data), 0);
    assert_non_null (data);
    assert_int_equal (zmq_msg_size (msg), length);
    assert_ptr_equal (zmq_msg_data (msg), data);
    return data;
}

static void
test_a_closed_message_buffer_serves_the_next (void **state)
{
    (void)state;
    direct_buffers_t *buffers = direct_buffers_new (SIZE, KEEP);
    assert_non_null (buffers);
    zmq_msg_t msg;
    void *first = s_take (buffers, &msg, 100);
    memset (first, 7, 100);
    zmq_msg_close (&msg);
    void *decoy = s_decoy ();
    void *again = s_take (buffers, &msg, SIZE);
    assert_ptr_equal (again, first);
    zmq_msg_close (&msg);
    free (decoy);
    direct_buffers_release (&buffers);
    assert_null (buffers);
}

static void
test_no_more_than_keep_wait_idle (void **state)
{
    (void)state;
    direct_buffers_t *buffers = direct_buffers_new (SIZE, KEEP);
    zmq_msg_t msgs[KEEP + 2];
    void *data[KEEP + 2];
    for (int i = 0; i < KEEP + 2; i++)
        data[i] = s_take (buffers, &msgs[i], SIZE);
    for (int i = 0; i < KEEP + 2; i++)
        zmq_msg_close (&msgs[i]);
    /* the first KEEP given back were kept, the others freed: the decoys
       take those, the next takes reuse the kept ones */
    void *decoys[2] = { s_decoy (), s_decoy () };
    for (int i = 0; i < 2; i++)
        assert_true (decoys[i] != data[0] && decoys[i] != data[1]);
    for (int i = 0; i < KEEP; i++) {
        void *reused = s_take (buffers, &msgs[i], SIZE);
        assert_true (reused == data[0] || reused == data[1]);
    }
    for (int i = 0; i < KEEP; i++)
        zmq_msg_close (&msgs[i]);
    free (decoys[0]);
    free (decoys[1]);
    direct_buffers_release (&buffers);
}

static void
test_longer_than_a_buffer_is_refused (void **state)
{
    (void)state;
    direct_buffers_t *buffers = direct_buffers_new (SIZE, KEEP);
    zmq_msg_t msg;
    void *data = NULL;
    assert_int_equal (direct_buffers_msg (buffers, &msg, SIZE + 1, &data), -1);
    assert_null (data);
    direct_buffers_release (&buffers);
}

static void
test_sent_bytes_arrive_and_the_buffer_comes_back (void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new ();
    void *out = zmq_socket (ctx, ZMQ_PAIR);
    void *in = zmq_socket (ctx, ZMQ_PAIR);
    assert_int_equal (zmq_bind (in, "inproc://direct-buffers"), 0);
    assert_int_equal (zmq_connect (out, "inproc://direct-buffers"), 0);
    direct_buffers_t *buffers = direct_buffers_new (SIZE, KEEP);
    zmq_msg_t msg;
    unsigned char *data = s_take (buffers, &msg, SIZE);
    for (size_t i = 0; i < SIZE; i++)
        data[i] = (unsigned char)(i * 31);
    assert_int_equal (zmq_msg_send (&msg, out, 0), SIZE);
    zmq_msg_t got;
    zmq_msg_init (&got);
    assert_int_equal (zmq_msg_recv (&got, in, 0), SIZE);
    const unsigned char *bytes = zmq_msg_data (&got);
    for (size_t i = 0; i < SIZE; i++)
        assert_int_equal (bytes[i], (unsigned char)(i * 31));
    zmq_msg_close (&got); /* libzmq lets go: the buffer is idle again */
    void *decoy = s_decoy ();
    void *again = s_take (buffers, &msg, 10);
    assert_ptr_equal (again, data);
    zmq_msg_close (&msg);
    free (decoy);
    direct_buffers_release (&buffers);
    zmq_close (out);
    zmq_close (in);
    zmq_ctx_term (ctx);
}

static void
test_buffers_lent_at_release_go_when_given_back (void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new ();
    void *out = zmq_socket (ctx, ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt (out, ZMQ_LINGER, &linger, sizeof linger);
    /* queued for a peer that never comes */
    assert_int_equal (zmq_connect (out, "tcp://127.0.0.1:9"), 0);
    direct_buffers_t *buffers = direct_buffers_new (SIZE, KEEP);
    zmq_msg_t queued, held;
    s_take (buffers, &queued, SIZE);
    s_take (buffers, &held, SIZE);
    assert_int_equal (zmq_msg_send (&queued, out, ZMQ_DONTWAIT), SIZE);
    direct_buffers_release (&buffers); /* two still lent */
    zmq_msg_close (&held);
    zmq_close (out);
    zmq_ctx_term (ctx); /* drops the queued one: the last, everything goes */
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_a_closed_message_buffer_serves_the_next),
        cmocka_unit_test (test_no_more_than_keep_wait_idle),
        cmocka_unit_test (test_longer_than_a_buffer_is_refused),
        cmocka_unit_test (test_sent_bytes_arrive_and_the_buffer_comes_back),
        cmocka_unit_test (test_buffers_lent_at_release_go_when_given_back),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
