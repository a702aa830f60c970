/*  proto/elf_check.h - is this file a shared object this machine can load?

    Both the client (libpool, before it ships a worker library) and the
    worker host (before dlopen) ask; dlopen's own message for a library of
    another architecture ("wrong ELF class", "cannot open shared object
    file") does not say which architecture it is, this check does.
*/
#ifndef DCPOOL_PROTO_ELF_CHECK_H
#define DCPOOL_PROTO_ELF_CHECK_H

#include <stddef.h>
#include <stdint.h>

/*  Reads the ELF header of path and compares its class, byte order and
    machine with this process' own executable.  0 when it can be loaded
    here (or when this process' own header cannot be read: then dlopen
    decides); -1 with a message naming `shown` (the path when NULL) in
    error[error_size]: "not a shared object", "built for aarch64, this
    machine is x86_64", ... */
int proto_elf_check (const char *path, const char *shown, char *error, size_t error_size);

/*  The abi_version of the `pool_worker` table that the shared object at
    path defines, read from the file: its section headers, its dynamic
    symbol table and the first four bytes of the symbol in the section that
    holds it.  No dlopen: a library built for a newer pool_worker.h may
    refer to host functions this process lacks, and dlopen fails on those
    ("undefined symbol") before the version could be read.  0 and
    *abi_version; -1 when the file cannot be read, is not an ELF shared
    object of this process' class and byte order, has no section headers,
    or has no `pool_worker` whose bytes are in the file (a table a
    constructor fills): then dlopen and dlsym decide.  The file is not
    trusted: every offset and size in it is checked against its size. */
int proto_elf_worker_abi (const char *path, uint32_t *abi_version);

/*  The name of an ELF e_machine value ("x86_64", "aarch64", ...; "machine
    N" for one this table lacks) into out[size]. */
void proto_elf_machine_name (unsigned machine, char *out, size_t size);

/*  The refusal of a worker library whose table declares abi_version
    outside 1..supported (shown: how to name the library; who: the host
    that refuses it; upgrade: where dcpool must be upgraded), into
    error[error_size]. */
void proto_elf_abi_refusal (const char *shown, uint32_t abi_version, int supported,
                            const char *who, const char *upgrade, char *error,
                            size_t error_size);

#endif
