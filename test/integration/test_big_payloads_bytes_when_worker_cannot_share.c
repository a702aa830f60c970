/*  When shared memory cannot carry a big input, it goes as bytes and
    nothing is lost:

    - a raw client on this host speaks the protocol itself: a good
      reference to its memfd is read by the worker, whose 1 MiB output
      comes back as a reference into that memfd; references to an fd
      that is not open, to another file, or past the end of the file come
      back PROTO_CODE_RESEND (never a crash, never a result), and the head
      and workers carry on;
    - workers started with DCPOOL_NO_SHM=1 (as if on another host): every
      big input of a map comes back from the head, goes again as bytes,
      and every result is right.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "sec_util.h"
#include "shm.h"

#define MIB ((size_t)1 << 20)

static uint8_t *
s_read (const char *path, size_t *size)
{
    FILE *f = fopen (path, "rb");
    H_CHECK (f, "open %s", path);
    fseek (f, 0, SEEK_END);
    long len = ftell (f);
    fseek (f, 0, SEEK_SET);
    uint8_t *data = malloc ((size_t)len);
    H_CHECK (data && fread (data, 1, (size_t)len, f) == (size_t)len, "read %s", path);
    fclose (f);
    *size = (size_t)len;
    return data;
}

/* Connects as a client of this host and opens a pool of the xor worker. */
static proto_link_t *
s_raw_client (const h_proc_t *head, uint64_t *pool_id)
{
    char host[PROTO_HOST_KEY_SIZE + 1];
    H_CHECK (proto_host_key (host) == 0, "this host has no host key");
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_HELLO);
    proto_msg_set_role (&msg, PROTO_ROLE_CLIENT);
    proto_msg_set_id (&msg, "raw-shm-client");
    proto_msg_set_host (&msg, host);
    proto_link_t *link = NULL;
    char error[512] = "";
    int rc = proto_link_connect (&link, head->server, sec_keys (h_password ()), &msg,
                                 h_timeout (10), NULL, error, sizeof error);
    proto_msg_reset (&msg);
    H_CHECK (rc == PROTO_OK, "raw client: %s", error);
    zsock_t *sock = proto_link_sock (link);

    size_t lib_size;
    uint8_t *lib = s_read (h_worker_path ("xor"), &lib_size);
    sec_send_pool_open (sock, "xor.so", lib, lib_size);
    free (lib);
    double deadline = h_now () + h_timeout (30);
    while (true) {
        char reason[256] = "";
        rc = sec_recv (sock, deadline - h_now (), &msg, reason, sizeof reason);
        H_CHECK (rc == PROTO_OK, "no POOL_READY: %s",
                 rc == PROTO_EIO ? "timeout" : reason);
        H_CHECK (msg.type != PROTO_ERROR, "POOL_OPEN refused: %s", msg.text);
        if (msg.type == PROTO_POOL_READY)
            break;
    }
    *pool_id = msg.pool;
    proto_msg_reset (&msg);
    return link;
}

/* Sends one job whose payload is ref (shared) or bytes; returns its entry
   and payload from the RESULT (payload copied into *out, caller frees). */
static proto_job_t
s_run_one (zsock_t *sock, uint64_t pool_id, uint64_t id, const void *payload, size_t size,
           bool shared, uint8_t **out, size_t *out_size)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_SUBMIT);
    proto_msg_set_pool (&msg, pool_id);
    proto_job_t *job = proto_msg_add_job (&msg);
    job->id = id;
    job->flags = shared ? PROTO_JOB_SHARED : 0;
    proto_msg_add_bytes (&msg, payload, size);
    H_CHECK (proto_msg_send (&msg, zsock_resolve (sock)) == PROTO_OK, "SUBMIT");
    double deadline = h_now () + h_timeout (30);
    while (true) {
        char reason[256] = "";
        int rc = sec_recv (sock, deadline - h_now (), &msg, reason, sizeof reason);
        H_CHECK (rc == PROTO_OK, "job %llu: no RESULT: %s", (unsigned long long)id,
                 rc == PROTO_EIO ? "timeout" : reason);
        H_CHECK (msg.type != PROTO_ERROR, "job %llu: ERROR %s", (unsigned long long)id,
                 msg.text);
        if (msg.type == PROTO_RESULT && msg.njobs == 1 && msg.jobs[0].id == id)
            break;
    }
    proto_job_t entry = msg.jobs[0];
    const void *data;
    size_t len = 0;
    H_CHECK (proto_msg_payload (&msg, 0, &data, &len) == 0, "RESULT without payload");
    *out = malloc (len + 1);
    memcpy (*out, data, len);
    (*out)[len] = 0;
    *out_size = len;
    proto_msg_reset (&msg);
    return entry;
}

static void
s_raw_references (void)
{
    h_proc_t *head = h_start_head (2, false);
    uint64_t pool_id;
    proto_link_t *link = s_raw_client (head, &pool_id);
    zsock_t *sock = proto_link_sock (link);

    /* A good reference: 1 MiB, mode 'A' (XOR 0x5A, built in place). */
    uint8_t *input = malloc (MIB);
    input[0] = 'A';
    for (size_t i = 1; i < MIB; i++)
        input[i] = (uint8_t)(i * 7 + (i >> 9));
    int fd;
    proto_shm_ref_t ref;
    H_CHECK (proto_shm_create (input, MIB, &fd, &ref) == 0, "memfd");
    uint8_t wire[PROTO_SHM_REF_SIZE];
    proto_shm_ref_encode (&ref, wire);
    uint8_t *out;
    size_t out_size;
    proto_job_t r
        = s_run_one (sock, pool_id, 1, wire, sizeof wire, true, &out, &out_size);
    H_CHECK (r.status == 0, "good reference: status %d: %s", r.status, out);
    H_CHECK (r.flags & PROTO_JOB_SHARED,
             "a 1 MiB output came back as %zu bytes, "
             "not in shared memory",
             out_size);
    proto_shm_ref_t back;
    H_CHECK (proto_shm_ref_decode (out, out_size, &back) == 0, "bad output reference");
    H_CHECK (back.fd == ref.fd && back.ino == ref.ino && back.size == MIB
                 && back.offset >= MIB,
             "output reference %u/%llu at %llu, %llu bytes", back.fd,
             (unsigned long long)back.ino, (unsigned long long)back.offset,
             (unsigned long long)back.size);
    void *at, *base;
    size_t length;
    H_CHECK (proto_shm_map (fd, back.offset, MIB, false, &at, &base, &length) == 0,
             "map the output");
    const uint8_t *o = at;
    for (size_t i = 0; i < MIB; i++)
        if (o[i] != (input[i] ^ 0x5A))
            H_CHECK (false, "output byte %zu is %u, want %u", i, o[i], input[i] ^ 0x5A);
    munmap (base, length);
    free (out);
    h_log ("a good reference: 1 MiB in and out through the memfd");

    /* Bad references: each comes back PROTO_CODE_RESEND. */
    int other;
    proto_shm_ref_t other_ref;
    H_CHECK (proto_shm_create (input, 100, &other, &other_ref) == 0, "memfd");
    proto_shm_ref_t bad[3] = { ref, ref, ref };
    bad[0].fd = 1000;         /* not open */
    bad[1].fd = other_ref.fd; /* another file */
    bad[2].size = 2 * MIB;    /* past the end */
    const char *what[3] = { "an fd not open", "another file", "past the end" };
    for (int k = 0; k < 3; k++) {
        proto_shm_ref_encode (&bad[k], wire);
        r = s_run_one (sock, pool_id, 10 + (uint64_t)k, wire, sizeof wire, true, &out,
                       &out_size);
        h_log ("reference to %s: status %d '%s'", what[k], r.status, out);
        H_CHECK (r.status == PROTO_CODE_RESEND,
                 "reference to %s: status %d, want "
                 "PROTO_CODE_RESEND (%d): %s",
                 what[k], r.status, PROTO_CODE_RESEND, out);
        free (out);
        /* The client sends it again as bytes: now it runs. */
        r = s_run_one (sock, pool_id, 10 + (uint64_t)k, "C\x01\x02", 3, false, &out,
                       &out_size);
        H_CHECK (r.status == 0 && out_size == 8 && out[0] == 'C' + 3,
                 "job sent again as bytes: status %d, %zu bytes", r.status, out_size);
        free (out);
    }
    int errors = 0;
    sec_expect_alive (sock, "bad shared-memory references", &errors);
    pid_t workers[8];
    H_CHECK (h_children (head->pid, "pool-worker", workers, 8) == 2,
             "a worker died over a bad reference");
    close (fd);
    close (other);
    free (input);
    proto_msg_t bye;
    proto_msg_init (&bye, PROTO_BYE);
    proto_msg_send (&bye, zsock_resolve (sock));
    proto_msg_reset (&bye);
    proto_link_destroy (&link);
    h_stop (head);
}

static void
s_workers_elsewhere (void)
{
    h_proc_t *head = h_start_head (0, true);
    setenv ("DCPOOL_NO_SHM", "1", 1);
    h_proc_t *node = h_start_node (head, 2);
    unsetenv ("DCPOOL_NO_SHM");
    pool_t *pool = h_open (head, "xor", 2);
    enum { N = 16 };
    pool_bytes_t inputs[N];
    pool_result_t results[N];
    for (size_t i = 0; i < N; i++) {
        uint8_t *p = malloc (MIB);
        p[0] = i == 0 ? 'P' : (i % 2 ? 'A' : 'S');
        for (size_t k = 1; k < MIB; k++)
            p[k] = (uint8_t)(k * 31 + i);
        inputs[i] = (pool_bytes_t){ p, MIB };
    }
    int rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    H_CHECK (results[0].status == 0 && results[0].value.size == 5
                 && memcmp (results[0].value.data, "bytes", 5) == 0,
             "a worker without shared memory says its input was '%.*s'",
             (int)results[0].value.size, (const char *)results[0].value.data);
    for (size_t i = 1; i < N; i++) {
        H_CHECK (results[i].status == 0 && results[i].value.size == MIB,
                 "input %zu: status %d (%s), %zu bytes", i, results[i].status,
                 results[i].error ? results[i].error : "", results[i].value.size);
        const uint8_t *in = inputs[i].data, *o = results[i].value.data;
        for (size_t k = 0; k < MIB; k++)
            if (o[k] != (in[k] ^ 0x5A))
                H_CHECK (false, "input %zu: byte %zu is %u, want %u", i, k, o[k],
                         in[k] ^ 0x5A);
    }
    h_log ("%d inputs of 1 MiB came back from the head and ran as bytes", N);
    pool_results_release (pool, results, N);
    pool_close (&pool);
    for (size_t i = 0; i < N; i++)
        free ((void *)inputs[i].data);
    h_stop (node);
    h_stop (head);
}

static void
s_body (void)
{
    s_raw_references ();
    s_workers_elsewhere ();
}

int
main (void)
{
    return h_main ("test_big_payloads_bytes_when_worker_cannot_share", s_body);
}
