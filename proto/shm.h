/*  proto/shm.h - big payloads through shared memory on one host.

    When a client and the worker that runs its job are on the same host, a
    big input need not cross two sockets and four CURVE passes: the client
    writes it once into a memfd and sends a 32-byte reference instead; the
    worker opens the memfd through /proc/<client pid>/fd/<fd>, maps the
    input, and appends its output to the same memfd.  The head only moves
    references.  Opening another process' fd in /proc needs the same access
    as reading its memory (same user, same pid namespace), so nothing is
    exposed that was not already; every refusal falls back to the socket.

    "Same host" is decided by comparing host keys: a hash of the boot id,
    the pid namespace and the user id.  The memfd's inode number travels
    in the reference, so a reference whose fd was closed and reused is
    refused instead of read.
*/
#ifndef DCPOOL_PROTO_SHM_H
#define DCPOOL_PROTO_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_SHM_REF_SIZE 32  /* bytes of a reference on the wire */
#define PROTO_HOST_KEY_SIZE 32 /* hex characters of a host key */

/*  Outputs at least this big go back through the input's memfd. */
#define PROTO_SHM_OUTPUT_MIN (64u << 10)

/*  Where a payload lies: bytes [offset, offset + size) of the memfd that
    process pid holds as fd, whose inode is ino. */
typedef struct {
    uint32_t pid;
    uint32_t fd;
    uint64_t ino;
    uint64_t offset;
    uint64_t size;
} proto_shm_ref_t;

/*  The reference as 32 little-endian bytes, and back: 0, or -1 when data
    is not a reference. */
void proto_shm_ref_encode (const proto_shm_ref_t *ref, uint8_t out[PROTO_SHM_REF_SIZE]);
int proto_shm_ref_decode (const void *data, size_t size, proto_shm_ref_t *ref);

/*  This process' host key, PROTO_HOST_KEY_SIZE hex characters and a NUL:
    0, or -1 when /proc cannot tell (then nothing is shared). */
int proto_host_key (char out[PROTO_HOST_KEY_SIZE + 1]);

/*  A new memfd holding size bytes of data; *fd (owned by the caller) and
 *ref describe it.  0, or -errno. */
int proto_shm_create (const void *data, size_t size, int *fd, proto_shm_ref_t *ref);

/*  Opens the memfd another process of this host holds, read-write, and
    checks it is the one ref names and is big enough: 0 with *fd, or
    -errno (-ESTALE: another file, -EINVAL: too small). */
int proto_shm_open (const proto_shm_ref_t *ref, int *fd);

/*  Appends size bytes to the memfd at the next page boundary, in a range no
    other writer gets: 0 with *offset, or -errno. */
int proto_shm_append (int fd, const void *data, size_t size, uint64_t *offset);

/*  Maps bytes [offset, offset + size) of fd (read-only when !writable):
    0 with *data at the first byte and *base, *length to give munmap, or
    -errno.  size 0 gives *data = NULL and nothing to unmap. */
int proto_shm_map (int fd, uint64_t offset, size_t size, bool writable, void **data,
                   void **base, size_t *length);

#endif
