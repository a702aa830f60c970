/*  test/unit/test_shm.c - big payloads through shared memory (proto/shm.c)
    and how messages mark them (the "m" header key of proto/msg.c).

    A reference survives its 32 bytes; a memfd opened back through /proc is
    the same bytes; every reference that names the wrong thing (an fd not
    open, another file, bytes past the end) is refused with its own code;
    appends land on disjoint page-aligned ranges; nobody can shrink a
    payload's memfd; shared flags survive encode and decode; and a SUBMIT
    that marks a payload shared which is not a reference, or marks jobs
    that are not there, is malformed.
*/
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>

#include "msg.h"
#include "shm.h"

static void
test_reference_round_trips_in_32_bytes (void **state)
{
    (void)state;
    proto_shm_ref_t ref
        = { 4000000, 17, 0x1122334455667788ULL, 1 << 20, (uint64_t)5 << 30 },
        back;
    uint8_t wire[PROTO_SHM_REF_SIZE];
    proto_shm_ref_encode (&ref, wire);
    assert_int_equal (proto_shm_ref_decode (wire, sizeof wire, &back), 0);
    assert_memory_equal (&ref, &back, sizeof ref);
    assert_int_equal (proto_shm_ref_decode (wire, sizeof wire - 1, &back), -1);
    assert_int_equal (proto_shm_ref_decode (NULL, sizeof wire, &back), -1);
    ref.pid = 0;
    proto_shm_ref_encode (&ref, wire);
    assert_int_equal (proto_shm_ref_decode (wire, sizeof wire, &back), -1);
}

static void
test_memfd_opened_back_holds_the_bytes (void **state)
{
    (void)state;
    enum { SIZE = 300000 };
    uint8_t *data = malloc (SIZE);
    for (size_t i = 0; i < SIZE; i++)
        data[i] = (uint8_t)(i * 13 + 5);
    int fd, back;
    proto_shm_ref_t ref;
    assert_int_equal (proto_shm_create (data, SIZE, &fd, &ref), 0);
    assert_int_equal (ref.pid, (uint32_t)getpid ());
    assert_int_equal (ref.size, SIZE);
    assert_int_equal (proto_shm_open (&ref, &back), 0);
    void *at, *base;
    size_t length;
    assert_int_equal (proto_shm_map (back, 0, SIZE, false, &at, &base, &length), 0);
    assert_memory_equal (at, data, SIZE);
    munmap (base, length);
    /* Sealed: nobody shrinks it under someone's mapping. */
    assert_int_not_equal (ftruncate (back, 10), 0);
    assert_int_equal (errno, EPERM);
    close (back);
    close (fd);
    free (data);
}

static void
test_wrong_references_are_refused (void **state)
{
    (void)state;
    int fd, other, back = 123;
    proto_shm_ref_t ref, other_ref, bad;
    assert_int_equal (proto_shm_create ("0123456789", 10, &fd, &ref), 0);
    assert_int_equal (proto_shm_create ("abc", 3, &other, &other_ref), 0);
    bad = ref;
    bad.fd = 1000; /* not open */
    assert_int_equal (proto_shm_open (&bad, &back), -ENOENT);
    assert_int_equal (back, -1);
    bad = ref;
    bad.fd = other_ref.fd; /* open, but another file */
    assert_int_equal (proto_shm_open (&bad, &back), -ESTALE);
    bad = ref;
    bad.size = 11; /* past the end */
    assert_int_equal (proto_shm_open (&bad, &back), -EINVAL);
    bad = ref;
    bad.fd = 0; /* stdin: not a memfd */
    assert_true (proto_shm_open (&bad, &back) < 0);
    close (fd);
    close (other);
}

static void
test_appends_get_disjoint_page_aligned_ranges (void **state)
{
    (void)state;
    int fd;
    proto_shm_ref_t ref;
    assert_int_equal (proto_shm_create ("in", 2, &fd, &ref), 0);
    uint64_t a, b;
    char first[5000], second[100];
    memset (first, 'x', sizeof first);
    memset (second, 'y', sizeof second);
    assert_int_equal (proto_shm_append (fd, first, sizeof first, &a), 0);
    assert_int_equal (proto_shm_append (fd, second, sizeof second, &b), 0);
    long page = sysconf (_SC_PAGESIZE);
    assert_int_equal (a % (uint64_t)page, 0);
    assert_int_equal (b % (uint64_t)page, 0);
    assert_true (a >= 2);
    assert_true (b >= a + sizeof first);
    void *at, *base;
    size_t length;
    assert_int_equal (proto_shm_map (fd, b, sizeof second, false, &at, &base, &length),
                      0);
    assert_memory_equal (at, second, sizeof second);
    munmap (base, length);
    assert_int_equal (proto_shm_map (fd, a + 1, 10, false, &at, &base, &length), 0);
    assert_memory_equal (at, first + 1, 10); /* mapping from mid-page */
    munmap (base, length);
    close (fd);
}

static void
test_host_key_is_stable_and_can_be_turned_off (void **state)
{
    (void)state;
    char a[PROTO_HOST_KEY_SIZE + 1], b[PROTO_HOST_KEY_SIZE + 1];
    assert_int_equal (proto_host_key (a), 0);
    assert_int_equal (strlen (a), PROTO_HOST_KEY_SIZE);
    assert_int_equal (proto_host_key (b), 0);
    assert_string_equal (a, b);
    setenv ("DCPOOL_NO_SHM", "1", 1);
    assert_int_equal (proto_host_key (b), -1);
    assert_string_equal (b, "");
    unsetenv ("DCPOOL_NO_SHM");
}

static void
test_shared_flags_survive_encode_and_decode (void **state)
{
    (void)state;
    proto_msg_t msg, out;
    proto_msg_init (&msg, PROTO_SUBMIT);
    proto_msg_set_pool (&msg, 9);
    uint8_t ref[PROTO_SHM_REF_SIZE];
    proto_shm_ref_t r = { 42, 7, 99, 0, 1 << 20 };
    proto_shm_ref_encode (&r, ref);
    /* Ids 0..3 are a run: the short form of "j" keeps the marks too. */
    for (int j = 0; j < 4; j++) {
        proto_job_t *job = proto_msg_add_job (&msg);
        job->id = (uint64_t)j;
        job->flags = j % 2 ? PROTO_JOB_SHARED : 0;
        if (j % 2)
            assert_int_equal (proto_msg_add_borrowed (&msg, ref, sizeof ref), PROTO_OK);
        else
            assert_int_equal (proto_msg_add_borrowed (&msg, "plain", 5), PROTO_OK);
    }
    zmsg_t *wire = NULL;
    assert_int_equal (proto_msg_encode (&msg, &wire), PROTO_OK);
    proto_msg_init (&out, 0);
    char reason[256] = "";
    assert_int_equal (proto_msg_decode (&out, &wire, reason, sizeof reason), PROTO_OK);
    assert_int_equal (out.njobs, 4);
    for (size_t j = 0; j < 4; j++) {
        const void *data;
        size_t size;
        assert_int_equal (proto_msg_payload (&out, j, &data, &size), 0);
        assert_int_equal (out.jobs[j].flags, j % 2 ? PROTO_JOB_SHARED : 0);
        assert_int_equal (size, j % 2 ? sizeof ref : 5);
    }
    proto_msg_reset (&out);
    proto_msg_reset (&msg);

    /* A HELLO keeps its host key. */
    proto_msg_init (&msg, PROTO_HELLO);
    proto_msg_set_role (&msg, PROTO_ROLE_CLIENT);
    proto_msg_set_id (&msg, "c");
    assert_int_equal (proto_msg_set_host (&msg, "0123456789abcdef0123456789abcdef"),
                      PROTO_OK);
    assert_int_equal (proto_msg_encode (&msg, &wire), PROTO_OK);
    assert_int_equal (proto_msg_decode (&out, &wire, reason, sizeof reason), PROTO_OK);
    assert_true (out.present & PROTO_F_HOST);
    assert_string_equal (out.host, "0123456789abcdef0123456789abcdef");
    proto_msg_reset (&out);
    proto_msg_reset (&msg);
}

/* A SUBMIT of two jobs, frames of the given sizes, "m" as given. */
static int
s_decode_marked (const uint32_t *marks, size_t nmarks, size_t size0, size_t size1)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 5);
    msgpack_pack_str (&pk, 1);
    msgpack_pack_str_body (&pk, "v", 1);
    msgpack_pack_uint32 (&pk, PROTO_VERSION);
    msgpack_pack_str (&pk, 1);
    msgpack_pack_str_body (&pk, "t", 1);
    msgpack_pack_uint32 (&pk, PROTO_SUBMIT);
    msgpack_pack_str (&pk, 1);
    msgpack_pack_str_body (&pk, "p", 1);
    msgpack_pack_uint32 (&pk, 1);
    uint8_t jobs[2 * PROTO_JOB_WIRE_SIZE] = { 0 };
    jobs[0] = 1;
    jobs[PROTO_JOB_WIRE_SIZE] = 2;
    msgpack_pack_str (&pk, 1);
    msgpack_pack_str_body (&pk, "j", 1);
    msgpack_pack_bin (&pk, sizeof jobs);
    msgpack_pack_bin_body (&pk, jobs, sizeof jobs);
    uint8_t le[16];
    for (size_t i = 0; i < nmarks; i++)
        for (int b = 0; b < 4; b++)
            le[4 * i + (size_t)b] = (uint8_t)(marks[i] >> (8 * b));
    msgpack_pack_str (&pk, 1);
    msgpack_pack_str_body (&pk, "m", 1);
    msgpack_pack_bin (&pk, 4 * nmarks);
    msgpack_pack_bin_body (&pk, le, 4 * nmarks);
    zmsg_t *wire = zmsg_new ();
    zmsg_addmem (wire, sbuf.data, sbuf.size);
    uint8_t payload[64] = { 1 };
    zmsg_addmem (wire, payload, size0);
    zmsg_addmem (wire, payload, size1);
    msgpack_sbuffer_destroy (&sbuf);
    proto_msg_t out;
    proto_msg_init (&out, 0);
    char reason[256] = "";
    int rc = proto_msg_decode (&out, &wire, reason, sizeof reason);
    proto_msg_reset (&out);
    return rc;
}

static void
test_bad_shared_marks_are_malformed (void **state)
{
    (void)state;
    const uint32_t one[] = { 1 }, both[] = { 0, 1 }, down[] = { 1, 0 }, past[] = { 2 },
                   twice[] = { 1, 1 };
    assert_int_equal (s_decode_marked (one, 1, 5, PROTO_SHM_REF_SIZE), PROTO_OK);
    assert_int_equal (s_decode_marked (both, 2, PROTO_SHM_REF_SIZE, PROTO_SHM_REF_SIZE),
                      PROTO_OK);
    /* the marked payload is not a reference */
    assert_int_equal (s_decode_marked (one, 1, PROTO_SHM_REF_SIZE, 5), PROTO_EMALFORMED);
    assert_int_equal (s_decode_marked (down, 2, PROTO_SHM_REF_SIZE, PROTO_SHM_REF_SIZE),
                      PROTO_EMALFORMED);
    assert_int_equal (s_decode_marked (past, 1, PROTO_SHM_REF_SIZE, PROTO_SHM_REF_SIZE),
                      PROTO_EMALFORMED);
    assert_int_equal (s_decode_marked (twice, 2, PROTO_SHM_REF_SIZE, PROTO_SHM_REF_SIZE),
                      PROTO_EMALFORMED);
    assert_int_equal (s_decode_marked (one, 0, 5, 5), PROTO_EMALFORMED); /* empty */
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_reference_round_trips_in_32_bytes),
        cmocka_unit_test (test_memfd_opened_back_holds_the_bytes),
        cmocka_unit_test (test_wrong_references_are_refused),
        cmocka_unit_test (test_appends_get_disjoint_page_aligned_ranges),
        cmocka_unit_test (test_host_key_is_stable_and_can_be_turned_off),
        cmocka_unit_test (test_shared_flags_survive_encode_and_decode),
        cmocka_unit_test (test_bad_shared_marks_are_malformed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
