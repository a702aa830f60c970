/*  test/fuzz/fuzz_elf_abi.c - libFuzzer target for proto_elf_check and
    proto_elf_worker_abi, which read a worker library's file before any
    dlopen: on a worker, bytes that a client sent.  Any input: no crash,
    no overread, no leak.  The input becomes a memfd's contents, read back
    through /proc/self/fd.

    The seeds (corpus/elf_abi) are tiny worker libraries, made with
        cc -Os -shared -fPIC -nostdlib -Wl,-z,max-page-size=0x10 \
           -Wl,--build-id=none -Ilibpool -o newabi test/workers/newabi.c
        strip --strip-all newabi
    (and oldabi, badabi alike).
*/
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elf_check.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create ("fuzz_elf_abi", MFD_CLOEXEC);
        if (fd < 0)
            __builtin_trap ();
        snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate (fd, 0) || (size && pwrite (fd, data, size, 0) != (ssize_t)size))
        __builtin_trap ();
    char error[256];
    proto_elf_check (path, "fuzzed", error, sizeof error);
    uint32_t abi_version;
    proto_elf_worker_abi (path, &abi_version);
    return 0;
}
