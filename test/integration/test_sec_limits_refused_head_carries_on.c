/*  The head's limits (start_node --max-message, --max-frames, --max-pools, --max-pending,
    passed to pool-head) refuse what goes past them and the head carries
    on:
    - a map whose SUBMIT adds up to more than --max-message (1 MiB) fails
      with an error naming the limit;
    - one frame larger than --max-message: libzmq cuts that connection;
    - a third POOL_OPEN on one connection with --max-pools 2 gets ERROR;
    - a SUBMIT of more jobs than --max-pending gets ERROR.
    After each the head answers, and a new pool maps correctly.  The raw
    client leaves with two pools open (BYE): the head closes both.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_util.h"

#define MAX_MESSAGE (1 << 20)

static uint8_t *s_lib;
static size_t s_lib_size;

static void
s_load_square (void)
{
    FILE *f = fopen (h_worker_path ("square"), "rb");
    H_CHECK (f, "open square.so");
    fseek (f, 0, SEEK_END);
    s_lib_size = (size_t)ftell (f);
    fseek (f, 0, SEEK_SET);
    s_lib = malloc (s_lib_size);
    H_CHECK (s_lib && fread (s_lib, 1, s_lib_size, f) == s_lib_size, "read square.so");
    fclose (f);
}

static void
s_send_pool_open (zsock_t *sock)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_POOL_OPEN);
    uint8_t hash[PROTO_HASH_SIZE];
    proto_msg_set_text (&msg, "square");
    proto_hash (s_lib, s_lib_size, hash);
    proto_msg_add_hash (&msg, hash);
    proto_hash ("", 0, hash);
    proto_msg_add_hash (&msg, hash);
    const uint64_t nums[] = { 3, 0, 0, 0 };
    for (int i = 0; i < 4; i++)
        proto_msg_add_num (&msg, nums[i]);
    proto_msg_add_bytes (&msg, s_lib, s_lib_size);
    proto_msg_add_bytes (&msg, "", 0);
    H_CHECK (proto_msg_send (&msg, zsock_resolve (sock)) == PROTO_OK, "POOL_OPEN");
    proto_msg_reset (&msg);
}

/* The next POOL_READY or ERROR (other messages skipped); its type, and
   the pool id or the text. */
static int
s_answer (zsock_t *sock, uint64_t *pool, char *text, size_t text_size)
{
    proto_msg_t msg;
    proto_msg_init (&msg, 0);
    double deadline = h_now () + h_timeout (20);
    while (true) {
        char reason[256] = "";
        int rc = sec_recv (sock, deadline - h_now (), &msg, reason, sizeof reason);
        H_CHECK (rc != PROTO_EIO, "no answer from the head");
        H_CHECK (rc == PROTO_OK, "undecodable answer: %s", reason);
        if (msg.type == PROTO_POOL_READY || msg.type == PROTO_ERROR)
            break;
    }
    int type = msg.type;
    if (pool)
        *pool = msg.pool;
    if (text)
        snprintf (text, text_size, "%s", msg.text ? msg.text : "");
    proto_msg_reset (&msg);
    return type;
}

static void
s_map_too_big (const h_proc_t *head)
{
    pool_options_t options;
    h_options (&options, head, "other");
    /* Through the head's socket: shared memory (same host) and the data
       plane (client to worker) never meet the head's limit. */
    options.shared_memory_min = 0;
    options.direct_min = 0;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    enum { N = 4, SIZE = 400 * 1024 };
    static uint8_t data[N][SIZE];
    pool_bytes_t inputs[N];
    pool_result_t results[N];
    memset (results, 0, sizeof results);
    for (int i = 0; i < N; i++) {
        memset (data[i], 'a' + i, SIZE);
        inputs[i] = (pool_bytes_t){ data[i], SIZE };
    }
    double t0 = h_now ();
    rc = pool_map (pool, inputs, N, results);
    const char *error = pool_last_error (pool);
    h_log ("a map of %d x %d bytes: %s after %.2f s: %s", N, SIZE, pool_strerror (rc),
           h_now () - t0, error ? error : "(null)");
    H_CHECK (rc < 0, "a map whose SUBMIT is over --max-message succeeded");
    H_CHECK (error && strstr (error, "max-message"),
             "the error '%s' does not name the limit", error ? error : "(null)");
    pool_results_release (pool, results, N);
    pool_close (&pool);
}

static void
s_frame_too_big (const h_proc_t *head)
{
    proto_link_t *link
        = sec_raw_peer (head, h_password (), PROTO_ROLE_CLIENT, "big-frame-client");
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_SUBMIT);
    proto_msg_set_pool (&msg, 1);
    proto_msg_add_job (&msg)->id = 0;
    uint8_t *big = calloc (1, 2 * MAX_MESSAGE);
    proto_msg_add_bytes (&msg, big, 2 * MAX_MESSAGE);
    free (big);
    proto_msg_send (&msg, zsock_resolve (proto_link_sock (link)));
    proto_msg_reset (&msg);
    /* Not 0: the payload goes in 1 MiB pieces (frames of one message);
       libzmq 4.3.4 asserts when a pipe dropped at once by linger 0 holds
       the rest of a message whose connection the head then cuts. */
    zsock_set_linger (proto_link_sock (link), 200);
    proto_link_destroy (&link);
    /* A fresh peer is served. */
    link = sec_raw_peer (head, h_password (), PROTO_ROLE_CLIENT, "after-big-frame");
    sec_expect_alive (proto_link_sock (link), "a frame over --max-message", NULL);
    proto_link_destroy (&link);
}

static void
s_pools_and_pending (const h_proc_t *head)
{
    proto_link_t *link
        = sec_raw_peer (head, h_password (), PROTO_ROLE_CLIENT, "many-pools-client");
    zsock_t *sock = proto_link_sock (link);
    char text[1024];
    uint64_t pools[2];
    for (int i = 0; i < 2; i++) {
        s_send_pool_open (sock);
        int type = s_answer (sock, &pools[i], text, sizeof text);
        H_CHECK (type == PROTO_POOL_READY, "POOL_OPEN %d of 2: %s '%s'", i + 1,
                 proto_type_name (type), text);
    }
    s_send_pool_open (sock);
    int type = s_answer (sock, NULL, text, sizeof text);
    h_log ("third POOL_OPEN: %s '%s'", proto_type_name (type), text);
    H_CHECK (type == PROTO_ERROR && strstr (text, "pools"),
             "a third pool with --max-pools 2: %s '%s'", proto_type_name (type), text);

    /* 100 jobs at once with --max-pending 50. */
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_SUBMIT);
    proto_msg_set_pool (&msg, pools[0]);
    for (int i = 0; i < 100; i++) {
        proto_msg_add_job (&msg)->id = (uint64_t)i;
        proto_msg_add_bytes (&msg, "5", 1);
    }
    proto_msg_send (&msg, zsock_resolve (sock));
    proto_msg_reset (&msg);
    type = s_answer (sock, NULL, text, sizeof text);
    h_log ("100 jobs with --max-pending 50: %s '%s'", proto_type_name (type), text);
    H_CHECK (type == PROTO_ERROR && strstr (text, "50"),
             "SUBMIT over --max-pending: %s '%s'", proto_type_name (type), text);
    sec_expect_alive (sock, "the limits", NULL);
    proto_msg_init (&msg, PROTO_BYE);
    proto_msg_send (&msg, zsock_resolve (sock));
    proto_msg_reset (&msg);
    proto_link_destroy (&link);
}

/* 20 inputs of 5 KiB (too big to travel packed: a frame each) make a
   SUBMIT of 21 frames, over --max-frames 16: refused, and said so. */
static void
s_map_too_many_frames (const h_proc_t *head)
{
    pool_options_t options;
    h_options (&options, head, "other");
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    enum { N = 20, SIZE = 5 * 1024 };
    static uint8_t data[N][SIZE];
    pool_bytes_t inputs[N];
    pool_result_t results[N];
    memset (results, 0, sizeof results);
    for (int i = 0; i < N; i++) {
        memset (data[i], 'a' + i, SIZE);
        inputs[i] = (pool_bytes_t){ data[i], SIZE };
    }
    rc = pool_map (pool, inputs, N, results);
    const char *error = pool_last_error (pool);
    h_log ("a map of %d frames: %s: %s", N, pool_strerror (rc), error ? error : "(null)");
    H_CHECK (rc < 0, "a SUBMIT of more frames than --max-frames succeeded");
    H_CHECK (error && strstr (error, "max-frames"),
             "the error '%s' does not name the limit", error ? error : "(null)");
    pool_results_release (pool, results, N);
    pool_close (&pool);
}

static void
s_body (void)
{
    s_load_square ();
    const char *extra[]
        = { "--max-message", "1048576", "--max-pools", "2", "--max-pending", "50",
            "--max-frames",  "16",      NULL };
    h_proc_t *head = h_start_head_with (2, false, extra);
    s_map_too_big (head);
    sec_map_square_ok (head, 2, 40);
    s_map_too_many_frames (head);
    sec_map_square_ok (head, 2, 40);
    s_frame_too_big (head);
    sec_map_square_ok (head, 2, 40);
    s_pools_and_pending (head);
    sec_map_square_ok (head, 2, 40);
    free (s_lib);
}

int
main (void)
{
    return h_main ("test_sec_limits_refused_head_carries_on", s_body);
}
